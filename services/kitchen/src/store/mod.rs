//! PostgreSQL persistence of the `kitchen` schema, and which of its refusals are for good.

pub mod devices;
pub mod speed;
pub mod tickets;

/// The refinery migrations of `sql/kitchen`.
pub mod migrations {
    refinery::embed_migrations!("../../sql/kitchen");
}

/// The schema this service owns.
pub const SCHEMA: &str = "kitchen";

use tokio_postgres::error::SqlState;

/// Why PostgreSQL refused a write *for good*, if it did: the data itself is unacceptable, so the
/// same write would be refused again however often it is tried. `None` for everything else —
/// the connection lost (08…), a serialization failure or deadlock (40…), the server shutting
/// down (57P…), a pool that cannot connect — which a retry may get past.
pub fn refused_for_good(error: &anyhow::Error) -> Option<String> {
    let refusal = error.chain().find_map(|cause| cause.downcast_ref::<tokio_postgres::Error>())?.as_db_error()?;
    refuses_data(refusal.code())
        .then(|| format!("PostgreSQL refused it ({}): {}", refusal.code().code(), refusal.message()))
}

/// SQLSTATE classes about the data written, not the database's state: 22 data exception (a NUL
/// in text, a timestamp out of range, a string too long for its column, bad input syntax), 23
/// integrity constraint violation, 54 program limit exceeded (a value too large to store or
/// index). Anything else (connection, transaction rollback, operator intervention, resources,
/// a missing table) is the database's state and worth retrying.
fn refuses_data(code: &SqlState) -> bool {
    matches!(code.code().get(..2), Some("22" | "23" | "54"))
}

#[cfg(test)]
mod tests {
    use super::refuses_data;
    use tokio_postgres::error::SqlState;

    #[test]
    fn data_refusals_are_permanent_and_outages_transient() {
        for permanent in [
            SqlState::UNTRANSLATABLE_CHARACTER,
            SqlState::CHARACTER_NOT_IN_REPERTOIRE,
            SqlState::DATETIME_FIELD_OVERFLOW,
            SqlState::DATETIME_VALUE_OUT_OF_RANGE,
            SqlState::STRING_DATA_RIGHT_TRUNCATION,
            SqlState::INVALID_TEXT_REPRESENTATION,
            SqlState::NOT_NULL_VIOLATION,
            SqlState::PROGRAM_LIMIT_EXCEEDED,
        ] {
            assert!(refuses_data(&permanent), "{permanent:?} is about the data");
        }
        for transient in [
            SqlState::CONNECTION_EXCEPTION,
            SqlState::CONNECTION_FAILURE,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::UNDEFINED_TABLE,
        ] {
            assert!(!refuses_data(&transient), "{transient:?} is the database's state");
        }
    }
}
