//! PostgreSQL persistence of the `kitchen` schema.

pub mod tickets;

/// The refinery migrations of `sql/kitchen`.
pub mod migrations {
    refinery::embed_migrations!("../../sql/kitchen");
}

/// The schema this service owns.
pub const SCHEMA: &str = "kitchen";
