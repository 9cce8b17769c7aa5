//! What the gateway knows of the backends' data, converted from Protobuf once, in
//! [`crate::backends`]. The GraphQL layer sees only these. Times are times here; they become
//! strings only in the GraphQL layer.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuCategory {
    Starter,
    Main,
    Side,
    Dessert,
    Drink,
}

#[derive(Debug, Clone)]
pub struct MenuItem {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: MenuCategory,
    pub price_cents: i64,
    pub available: bool,
    pub station: String,
    pub prep_minutes: i32,
}

#[derive(Debug, Clone)]
pub struct MenuPage {
    pub items: Vec<(MenuItem, String)>,
    pub has_next_page: bool,
}

#[derive(Debug, Clone)]
pub struct OrderLine {
    pub menu_item_id: String,
    pub name: String,
    pub station: String,
    pub prep_minutes: i32,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    /// The short number of the day (0: an order from before numbers).
    pub number: u32,
    pub status: OrderStatus,
    pub version: i64,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When each status was reached.
    pub timeline: Vec<(OrderStatus, DateTime<Utc>)>,
    /// How it is served (`None`: not said).
    pub order_type: Option<OrderType>,
    /// A table number or a name to call.
    pub table: Option<String>,
    /// Why it was cancelled or rejected, when someone said.
    pub cancel_reason: Option<String>,
    /// When the kitchen promises it ready (`None` until planned).
    pub ready_by: Option<DateTime<Utc>>,
    /// Counts the promise's moves, which leave `version` as it is.
    pub promise_revision: i64,
}

impl Order {
    /// Which of two states of one order is newer: by version, then by promise revision.
    pub fn freshness(&self) -> (i64, i64) {
        (self.version, self.promise_revision)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    DineIn,
    Takeaway,
}

#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<(Order, String)>,
    pub has_next_page: bool,
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderChange {
    Created,
    StatusChanged {
        from: OrderStatus,
    },
    Cancelled {
        from: OrderStatus,
    },
    /// The kitchen moved its ready-by promise (same version).
    Promised,
}

/// A change with the order as it is after it.
#[derive(Debug, Clone)]
pub struct OrderEvent {
    pub change: OrderChange,
    pub order: Order,
}

/// One line of a new order, as the client sent it.
#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub menu_item_id: String,
    pub quantity: i32,
    pub note: Option<String>,
}

pub use tokens::Role;

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A signed-in user and their token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: tokens::Token,
    pub user: User,
}
