//! The GraphQL schema (Juniper): types, queries, mutations, and the one mapping from a backend's
//! gRPC status to a GraphQL error with a stable `extensions.code`.

mod mutation;
mod query;
mod subscription;
mod types;

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

use crate::backends::{OrdersBackend, UsersBackend};
use crate::live::LiveOrders;
use crate::loaders::Loaders;
use juniper::{FieldError, FieldResult, RootNode, Value};
use tokens::{Token, TokenError, UserClaims};

/// Nesting deeper than this is refused before execution.
pub const MAX_QUERY_DEPTH: usize = 12;
/// Tokens in one document, at most.
pub const MAX_QUERY_TOKENS: usize = 5_000;
/// Fields in one document, at most.
pub const MAX_QUERY_FIELDS: usize = 500;

pub type Schema = RootNode<Query, Mutation, Subscription>;

pub fn schema() -> Schema {
    Schema::new(Query, Mutation, Subscription)
        .limit_depth(MAX_QUERY_DEPTH)
        .limit_tokens(MAX_QUERY_TOKENS)
        .limit_fields(MAX_QUERY_FIELDS)
}

/// Per-request context: the backends and who is calling.
#[derive(Clone)]
pub struct Context {
    pub orders: OrdersBackend,
    pub users: UsersBackend,
    /// `Ok(None)`: anonymous; `Ok(Some)`: a verified user; `Err`: a token was sent and refused
    /// (every field that needs a user then says why).
    pub caller: Result<Option<Caller>, TokenError>,
    pub loaders: Loaders,
    pub live: LiveOrders,
}

/// A verified user and the token to forward on their behalf.
#[derive(Clone, Debug)]
pub struct Caller {
    pub claims: UserClaims,
    pub token: Token,
}

impl juniper::Context for Context {}

impl Context {
    /// The signed-in caller, or UNAUTHENTICATED.
    pub fn user(&self) -> FieldResult<&Caller> {
        match &self.caller {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(token_error(&TokenError::Missing)),
            Err(e) => Err(token_error(e)),
        }
    }
}

/// The one mapping from a token refusal to a GraphQL error.
pub fn token_error(error: &TokenError) -> FieldError {
    let code = if error.is_unauthenticated() { ErrorCode::Unauthenticated } else { ErrorCode::Forbidden };
    self::error(code, error)
}

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
