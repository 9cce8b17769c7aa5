//! What mutations take: a new order's lines, and credentials.

use super::OrderType;
use juniper::{GraphQLInputObject, ID};

#[derive(GraphQLInputObject)]
pub struct OrderItemInput {
    pub menu_item_id: ID,
    pub quantity: i32,
    pub note: Option<String>,
}

#[derive(GraphQLInputObject)]
pub struct CreateOrderInput {
    pub items: Vec<OrderItemInput>,
    /// The same key with the same cart returns the first order instead of placing another.
    pub idempotency_key: Option<String>,
    /// How it is served (not said when absent).
    pub order_type: Option<OrderType>,
    /// A table number or a name to call (1 to 24 characters).
    pub table: Option<String>,
}

#[derive(GraphQLInputObject)]
pub struct RegisterInput {
    pub username: String,
    pub password: String,
}

#[derive(GraphQLInputObject)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}
