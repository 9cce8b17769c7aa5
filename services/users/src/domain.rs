//! Accounts in the restaurant's words: usernames and passwords parsed once, at the edge.

use chrono::{DateTime, Utc};
use service_kit::Secret;
pub use tokens::Role;
use uuid::Uuid;

/// Characters in a username: at least, at most.
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
/// Characters in a password: at least, at most (an upper bound keeps hashing cheap to refuse).
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

/// A username: 3 to 32 letters, digits, `.`, `_` or `-`; unique whatever its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let length = value.chars().count();
        if !USERNAME_CHARS.contains(&length) {
            return Err(format!(
                "a username has {} to {} characters, not {length}",
                USERNAME_CHARS.start(),
                USERNAME_CHARS.end()
            ));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err("a username may only contain letters, digits, '.', '_' and '-'".to_owned());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 to 128 characters, for customers and kitchen staff alike (a staff
/// account opens every order, so its password is no weaker than a customer's). Never logged (a
/// [`Secret`]).
#[derive(Debug, Clone)]
pub struct Password(Secret);

impl Password {
    pub fn parse(value: &str) -> Result<Self, String> {
        let length = value.chars().count();
        if !PASSWORD_CHARS.contains(&length) {
            return Err(format!("a password has {} to {} characters", PASSWORD_CHARS.start(), PASSWORD_CHARS.end()));
        }
        Ok(Self(Secret::new(value)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_once() {
        assert!(Username::parse("ada").is_ok());
        assert!(Username::parse("  grace.h-1_ ").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("robert'); DROP TABLE").is_err());
        assert!(Username::parse("émile").is_err());
    }

    #[test]
    fn passwords_have_bounds_and_stay_hidden() {
        assert!(Password::parse("short").is_err());
        // The old local default for the kitchen account is one character short.
        assert!(Password::parse("kitchen").is_err());
        assert!(Password::parse(&"p".repeat(129)).is_err());
        let password = Password::parse("correct horse").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }
}
