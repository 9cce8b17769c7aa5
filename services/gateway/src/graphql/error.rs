//! GraphQL errors: [`field_error`] makes every one of them, from an error that knows its
//! [`ErrorKind`], so `extensions.code` is always the kind's stable code (the same on every
//! transport of the platform); [`Refusal`] is what the gateway refuses by itself.

use juniper::{FieldError, Value};
use service_kit::{Classified, ErrorKind};

/// The one mapping from an error to a GraphQL error: `extensions.code` is its kind's code, the
/// message its own words. Those are written for the caller: an [`service_kit::UpstreamError`]
/// has already replaced (and logged) what a backend must not show, a token refusal and a
/// [`Refusal`] say what to fix. Only an unexpected error's words are withheld here too.
pub fn field_error(error: &dyn Classified) -> FieldError {
    let kind = error.kind();
    // Trait upcasting: a `Classified` is a `Display`.
    let shown: &dyn std::fmt::Display = error;
    let message = if kind == ErrorKind::Unexpected { kind.public_message(shown) } else { shown.to_string() };
    let mut extensions = juniper::Object::with_capacity(2);
    extensions.add_field("code", Value::scalar(kind.code().to_owned()));
    // A refusal to ask again so soon says when asking again may succeed, in whole seconds.
    if let Some(wait) = error.retry_after() {
        let seconds = i32::try_from(service_kit::error::retry_after_seconds(wait)).unwrap_or(i32::MAX);
        extensions.add_field("retryAfter", Value::scalar(seconds));
    }
    FieldError::new(message, Value::Object(extensions))
}

/// What the gateway refuses without a backend's say.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("first must be at least 1, not {0}")]
    PageSize(i32),
    #[error("a search needs 1 to {max} characters")]
    SearchLength { max: usize },
    #[error("only kitchen staff follow new orders")]
    KitchenStaffOnly,
    #[error("customers subscribe to one order: give its orderId")]
    OneOrderOnly,
    /// A subscriber too slow for the live events: its stream ends with this.
    #[error("this subscription fell behind; subscribe again")]
    FellBehind,
    /// An order id that does not parse as a UUID (any spelling of one is accepted).
    #[error("{0:?} is not an order id")]
    NotAnOrderId(String),
    /// One socket asked for more live subscriptions than it may hold at once.
    #[error("at most {max} subscriptions at once on one connection; complete one first")]
    TooManySubscriptions { max: usize },
    /// A request whose expensive fields (aliases included) cost more than one request may.
    #[error(
        "this request costs {cost}, more than the {max} one request may (login and register cost {max}, \
         createOrder 5, orders, search and menuItems 4 each, other root fields 1): split it"
    )]
    TooCostly { cost: u32, max: u32 },
    /// A POST whose body is not one GraphQL request.
    #[error("{0}")]
    NotGraphQL(String),
    /// A JSON array of requests in one POST.
    #[error("send one GraphQL request per POST: batches are not accepted")]
    Batch,
    /// A batch-loaded item the backend no longer returned.
    #[error("{what} {id} no longer exists")]
    Vanished { what: &'static str, id: String },
    /// The gateway already has as many requests in hand as it may (`REQUESTS_IN_FLIGHT`).
    #[error("the service is busy; try again in a moment")]
    Busy,
    /// A request not answered within the gateway's deadline; what it asked may or may not
    /// have happened (a `createOrder` retried with its idempotency key is placed once).
    #[error("no answer within {}s; try again", .0.as_secs())]
    TooSlow(std::time::Duration),
}

impl Classified for Refusal {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::PageSize(_)
            | Self::SearchLength { .. }
            | Self::OneOrderOnly
            | Self::NotAnOrderId(_)
            | Self::TooCostly { .. }
            | Self::NotGraphQL(_)
            | Self::Batch => ErrorKind::InvalidInput,
            Self::TooManySubscriptions { .. } => ErrorKind::RateLimited,
            Self::KitchenStaffOnly => ErrorKind::Forbidden,
            Self::FellBehind | Self::Busy | Self::TooSlow(_) => ErrorKind::Unavailable,
            Self::Vanished { .. } => ErrorKind::NotFound,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        matches!(self, Self::Busy | Self::TooSlow(_)).then_some(RETRY_BUSY_AFTER)
    }
}

/// When a client turned away by a busy or slow gateway may ask again.
pub const RETRY_BUSY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;
    use service_kit::UpstreamError;

    /// `extensions.code` and the message, as a client reads them.
    fn seen(error: &FieldError) -> (String, String) {
        let extensions = serde_json::to_value(error.extensions()).expect("unwrap: a GraphQL value is JSON");
        (extensions["code"].as_str().unwrap_or_default().to_owned(), error.message().to_owned())
    }

    #[test]
    fn the_code_is_the_kinds_code_and_the_words_are_the_errors() {
        for kind in ErrorKind::ALL.into_iter().filter(|k| *k != ErrorKind::Unexpected) {
            let error = field_error(&UpstreamError::new(kind, "words for the caller"));
            assert_eq!(seen(&error), (kind.code().to_owned(), "words for the caller".to_owned()), "{kind:?}");
        }
    }

    #[test]
    fn unexpected_details_are_withheld() {
        let error = field_error(&UpstreamError::new(ErrorKind::Unexpected, "relation orders.secret does not exist"));
        let (code, message) = seen(&error);
        assert_eq!(code, ErrorKind::Unexpected.code());
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn token_refusals_keep_their_kind() {
        let (code, message) = seen(&field_error(&tokens::TokenError::Expired));
        assert_eq!((code.as_str(), message.as_str()), (ErrorKind::Unauthenticated.code(), "the token has expired"));
        let (code, _) = seen(&field_error(&tokens::TokenError::Forbidden("service tokens are not for the API".into())));
        assert_eq!(code, ErrorKind::Forbidden.code());
    }

    #[test]
    fn a_rate_limited_error_says_how_long_to_wait() {
        let error = UpstreamError {
            kind: ErrorKind::RateLimited,
            message: "too many attempts".into(),
            retry_after: Some(std::time::Duration::from_millis(11_200)),
        };
        let extensions = serde_json::to_value(field_error(&error).extensions()).expect("unwrap: JSON");
        assert_eq!(extensions, serde_json::json!({ "code": "RATE_LIMITED", "retryAfter": 12 }));
    }

    #[test]
    fn a_refusal_says_what_to_fix() {
        let (code, message) = seen(&field_error(&Refusal::PageSize(0)));
        assert_eq!(
            (code.as_str(), message.as_str()),
            (ErrorKind::InvalidInput.code(), "first must be at least 1, not 0")
        );
    }
}
