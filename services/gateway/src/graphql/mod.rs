//! The GraphQL schema (Juniper): types, queries, mutations, and the one mapping from a backend's
//! gRPC status to a GraphQL error with a stable `extensions.code`.

mod mutation;
mod query;
mod types;

pub use mutation::Mutation;
pub use query::Query;

use crate::backends::OrdersBackend;
use juniper::{EmptySubscription, FieldError, RootNode, Value};

/// Nesting deeper than this is refused before execution.
pub const MAX_QUERY_DEPTH: usize = 12;
/// Tokens in one document, at most.
pub const MAX_QUERY_TOKENS: usize = 5_000;
/// Fields in one document, at most.
pub const MAX_QUERY_FIELDS: usize = 500;

pub type Schema = RootNode<Query, Mutation, EmptySubscription<Context>>;

pub fn schema() -> Schema {
    Schema::new(Query, Mutation, EmptySubscription::new())
        .limit_depth(MAX_QUERY_DEPTH)
        .limit_tokens(MAX_QUERY_TOKENS)
        .limit_fields(MAX_QUERY_FIELDS)
}

/// Per-request context: the backends.
#[derive(Clone)]
pub struct Context {
    pub orders: OrdersBackend,
}

impl juniper::Context for Context {}

/// The stable error codes of the API (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

pub fn error(code: ErrorCode, message: impl std::fmt::Display) -> FieldError {
    let mut extensions = juniper::Object::with_capacity(1);
    extensions.add_field("code", Value::scalar(code.as_str().to_owned()));
    FieldError::new(message, Value::Object(extensions))
}

/// The one mapping from a backend's status to a GraphQL error. Backend messages for the
/// caller's mistakes are passed on (they say what to fix); internal ones are not.
pub fn backend_error(status: tonic::Status) -> FieldError {
    use tonic::Code;
    let code = match status.code() {
        Code::InvalidArgument | Code::OutOfRange => ErrorCode::BadUserInput,
        Code::NotFound => ErrorCode::NotFound,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => ErrorCode::Conflict,
        Code::Unauthenticated => ErrorCode::Unauthenticated,
        Code::PermissionDenied => ErrorCode::Forbidden,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Cancelled => {
            tracing::warn!(code = ?status.code(), message = status.message(), "backend unavailable");
            return error(ErrorCode::Unavailable, "a backend service is unavailable; try again shortly");
        }
        _ => {
            tracing::error!(code = ?status.code(), message = status.message(), "backend failed");
            return error(ErrorCode::Internal, "internal error");
        }
    };
    error(code, status.message())
}
