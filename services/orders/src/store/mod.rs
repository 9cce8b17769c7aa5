//! PostgreSQL persistence of the `orders` schema. Functions take a connection or a
//! transaction, so the caller decides what commits together.

pub mod menu;
pub mod menu_feed;
pub mod orders;
pub mod outbox;
pub mod promises;

/// The refinery migrations of `sql/orders`.
pub mod migrations {
    refinery::embed_migrations!("../../sql/orders");
}

/// The schema this service owns.
pub const SCHEMA: &str = "orders";
