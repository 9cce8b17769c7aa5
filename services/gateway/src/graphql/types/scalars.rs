//! How the model's numbers and times become GraphQL scalars.

use chrono::{DateTime, SecondsFormat, Utc};

/// Cents and versions: 64 bits in the model, a GraphQL Int here (no real price or version
/// comes near its limit; one that did would read as the largest Int).
pub fn int(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A time as the API writes it: RFC 3339 in UTC, with milliseconds and `Z`
/// (`2024-05-01T12:30:45.123Z`).
pub fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_they_always_have() {
        let at = DateTime::from_timestamp(1_714_566_645, 123_456_789).expect("unwrap: a valid time");
        assert_eq!(rfc3339(&at), "2024-05-01T12:30:45.123Z");
        let whole = DateTime::from_timestamp(1_714_566_645, 0).expect("unwrap: a valid time");
        assert_eq!(rfc3339(&whole), "2024-05-01T12:30:45.000Z");
    }

    #[test]
    fn ints_saturate() {
        assert_eq!((int(1250), int(i64::MAX)), (1250, i32::MAX));
    }
}
