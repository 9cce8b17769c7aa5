//! PostgreSQL persistence of the `users` schema.

/// The refinery migrations of `sql/users`.
pub mod migrations {
    refinery::embed_migrations!("../../sql/users");
}

/// The schema this service owns.
pub const SCHEMA: &str = "users";
