//! The platform's one error vocabulary. Every operation's error enum says which [`ErrorKind`]
//! each of its variants is; the kind alone decides the stable code clients see (REST bodies,
//! GraphQL `extensions.code`, tablet messages), the HTTP status and the gRPC code. An error
//! that comes back from another service's gRPC call is read back into a kind the same way
//! ([`UpstreamError`]), so a code survives every hop unchanged.

use actix_web::http::StatusCode;

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input is malformed or breaks a rule: fixing it and asking again helps.
    InvalidInput,
    /// No identity, or one the platform does not accept (missing, invalid, expired, revoked).
    Unauthenticated,
    /// A known caller asked for something it may not do.
    Forbidden,
    /// What was asked for does not exist (or the caller may not know it does).
    NotFound,
    /// The request clashes with the current state (a used idempotency key, a finished order).
    Conflict,
    /// The caller asked too often; waiting helps.
    RateLimited,
    /// A dependency is down or too slow: asking again later helps.
    Unavailable,
    /// A bug or an unexpected failure: logged where it happened, details withheld.
    Unexpected,
}

impl ErrorKind {
    pub const ALL: [Self; 8] = [
        Self::InvalidInput,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::RateLimited,
        Self::Unavailable,
        Self::Unexpected,
    ];

    /// The stable code clients see, the same on every transport.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Unexpected => "INTERNAL",
        }
    }

    pub fn http_status(self) -> StatusCode {
        match self {
            Self::InvalidInput => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn grpc_code(self) -> tonic::Code {
        match self {
            Self::InvalidInput => tonic::Code::InvalidArgument,
            Self::Unauthenticated => tonic::Code::Unauthenticated,
            Self::Forbidden => tonic::Code::PermissionDenied,
            Self::NotFound => tonic::Code::NotFound,
            Self::Conflict => tonic::Code::AlreadyExists,
            Self::RateLimited => tonic::Code::ResourceExhausted,
            Self::Unavailable => tonic::Code::Unavailable,
            Self::Unexpected => tonic::Code::Internal,
        }
    }

    /// The kind a gRPC code answered by another service stands for.
    pub fn from_grpc_code(code: tonic::Code) -> Self {
        use tonic::Code;
        match code {
            Code::InvalidArgument | Code::OutOfRange => Self::InvalidInput,
            Code::Unauthenticated => Self::Unauthenticated,
            Code::PermissionDenied => Self::Forbidden,
            Code::NotFound => Self::NotFound,
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => Self::Conflict,
            Code::ResourceExhausted => Self::RateLimited,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => Self::Unavailable,
            Code::Ok | Code::Unknown | Code::Internal | Code::Unimplemented | Code::DataLoss => Self::Unexpected,
        }
    }

    /// `true` when the message was written for the caller and may be shown to them; the
    /// others get a fixed sentence, so internals never leak.
    pub fn message_is_for_the_caller(self) -> bool {
        !matches!(self, Self::Unavailable | Self::Unexpected)
    }

    /// The words a caller sees for `error`: its own message for the caller's mistakes, a fixed
    /// sentence otherwise.
    pub fn public_message(self, error: &dyn std::fmt::Display) -> String {
        match self {
            Self::Unavailable => "a service this needs is unavailable; try again shortly".to_owned(),
            Self::Unexpected => "internal error".to_owned(),
            _ => error.to_string(),
        }
    }

    /// Logs what the caller will not see: unexpected errors (with their details) as errors,
    /// unavailable dependencies as warnings. Called once, where an error leaves a service.
    pub fn log(self, error: &dyn std::fmt::Display) {
        match self {
            // `:#` prints an `anyhow` error's whole chain of causes.
            Self::Unexpected => tracing::error!(error = format!("{error:#}"), "request failed"),
            Self::Unavailable => tracing::warn!(error = format!("{error:#}"), "a dependency is unavailable"),
            _ => {}
        }
    }
}

/// An operation's error that knows its [`ErrorKind`]; what every adapter maps from.
pub trait Classified: std::fmt::Display {
    fn kind(&self) -> ErrorKind;

    /// For [`ErrorKind::RateLimited`]: when asking again may succeed (HTTP `Retry-After`, gRPC
    /// `retry-after` metadata, in whole seconds rounded up).
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Whole seconds, rounded up, and at least one: what `Retry-After` carries.
pub fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

/// An `anyhow` error is, by the house rules, the unexpected — unless somewhere in its chain the
/// database could not be reached, which asking again later may cure.
impl Classified for anyhow::Error {
    fn kind(&self) -> ErrorKind {
        if self.chain().any(crate::db::is_unavailable) { ErrorKind::Unavailable } else { ErrorKind::Unexpected }
    }
}

/// The gRPC status for an error leaving this service (logged first if it is not the caller's
/// doing). Messages of unexpected errors are withheld.
pub fn grpc_status(error: &dyn Classified) -> tonic::Status {
    let kind = error.kind();
    // Trait upcasting: a `Classified` is a `Display`.
    let shown: &dyn std::fmt::Display = error;
    kind.log(shown);
    let mut status = tonic::Status::new(kind.grpc_code(), kind.public_message(shown));
    if let Some(wait) = error.retry_after() {
        status.metadata_mut().insert(RETRY_AFTER, retry_after_seconds(wait).into());
    }
    status
}

/// The gRPC metadata (and HTTP header) saying how many seconds to wait before asking again.
pub const RETRY_AFTER: &str = "retry-after";

/// An error another service answered a gRPC call with, read back into the vocabulary, with the
/// words fit to pass on to this service's own caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    pub kind: ErrorKind,
    pub message: String,
    /// Passed on from a rate-limited answer.
    pub retry_after: Option<std::time::Duration>,
}

impl UpstreamError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), retry_after: None }
    }
}

impl From<tonic::Status> for UpstreamError {
    /// Logs what the caller will not see (an unexpected or unavailable backend) here, once.
    fn from(status: tonic::Status) -> Self {
        let kind =
            if broken_connection(&status) { ErrorKind::Unavailable } else { ErrorKind::from_grpc_code(status.code()) };
        let shown = format!("{:?}: {}", status.code(), status.message());
        kind.log(&shown);
        let retry_after = status
            .metadata()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .map(std::time::Duration::from_secs);
        Self { kind, message: kind.public_message(&status.message()), retry_after }
    }
}

/// A call whose connection broke under it (the instance called died mid-call) comes back from
/// tonic as UNKNOWN "transport error", with the transport's error as its source: the caller may
/// try again — another instance, or this one restarted — as with UNAVAILABLE, not INTERNAL.
fn broken_connection(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>() {
            return status.code() == tonic::Code::Unknown;
        }
        source = error.source();
    }
    false
}

impl Classified for UpstreamError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_survives_a_grpc_hop() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_grpc_code(kind.grpc_code()), kind, "{kind:?}");
        }
    }

    #[test]
    fn codes_are_distinct_and_statuses_are_4xx_for_the_callers_mistakes() {
        let codes: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            let server_side = matches!(kind, ErrorKind::Unavailable | ErrorKind::Unexpected);
            assert_eq!(kind.http_status().is_server_error(), server_side, "{kind:?}");
            assert_eq!(kind.message_is_for_the_caller(), !server_side, "{kind:?}");
        }
    }

    #[test]
    fn a_wait_survives_a_grpc_hop_in_whole_seconds() {
        let error = UpstreamError {
            kind: ErrorKind::RateLimited,
            message: "slow down".into(),
            retry_after: Some(std::time::Duration::from_millis(2100)),
        };
        let passed_on = UpstreamError::from(grpc_status(&error));
        assert_eq!(passed_on.kind, ErrorKind::RateLimited);
        assert_eq!(passed_on.retry_after, Some(std::time::Duration::from_secs(3)));
        assert_eq!(retry_after_seconds(std::time::Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(std::time::Duration::from_secs(4)), 4);
    }

    #[test]
    fn an_unexpected_upstream_error_hides_its_details() {
        let error = UpstreamError::from(tonic::Status::internal("relation orders.secret does not exist"));
        assert_eq!(error.kind, ErrorKind::Unexpected);
        assert!(!error.message.contains("secret"), "{}", error.message);
        let refused = UpstreamError::from(tonic::Status::invalid_argument("quantity must be 1 to 99"));
        assert_eq!(refused.kind, ErrorKind::InvalidInput);
        assert_eq!(refused.message, "quantity must be 1 to 99");
    }
}
