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
    let mut extensions = juniper::Object::with_capacity(1);
    extensions.add_field("code", Value::scalar(kind.code().to_owned()));
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
    /// A batch-loaded item the backend no longer returned.
    #[error("{what} {id} no longer exists")]
    Vanished { what: &'static str, id: String },
}

impl Classified for Refusal {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::PageSize(_) | Self::SearchLength { .. } | Self::OneOrderOnly => ErrorKind::InvalidInput,
            Self::KitchenStaffOnly => ErrorKind::Forbidden,
            Self::FellBehind => ErrorKind::Unavailable,
            Self::Vanished { .. } => ErrorKind::NotFound,
        }
    }
}

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
    fn a_refusal_says_what_to_fix() {
        let (code, message) = seen(&field_error(&Refusal::PageSize(0)));
        assert_eq!(
            (code.as_str(), message.as_str()),
            (ErrorKind::InvalidInput.code(), "first must be at least 1, not 0")
        );
    }
}
