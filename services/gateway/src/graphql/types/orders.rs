//! Orders: their statuses, lines, timeline, and a page of them. An order's customer and its
//! lines' menu items are batch-loaded per request (`crate::loaders`).

use super::menu::MenuItem;
use super::page::PageInfo;
use super::scalars::{int, rfc3339};
use super::users::User;
use crate::graphql::{Context, Refusal, field_error};
use crate::model;
use juniper::{FieldResult, GraphQLEnum, GraphQLObject, ID, graphql_object};

#[derive(GraphQLEnum, Clone, Copy)]
pub enum OrderStatus {
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Cancelled,
}

/// How an order is served, chosen at checkout.
#[derive(GraphQLEnum, Clone, Copy)]
pub enum OrderType {
    DineIn,
    Takeaway,
}

impl From<model::OrderType> for OrderType {
    fn from(kind: model::OrderType) -> Self {
        match kind {
            model::OrderType::DineIn => Self::DineIn,
            model::OrderType::Takeaway => Self::Takeaway,
        }
    }
}

impl From<OrderType> for model::OrderType {
    fn from(kind: OrderType) -> Self {
        match kind {
            OrderType::DineIn => Self::DineIn,
            OrderType::Takeaway => Self::Takeaway,
        }
    }
}

impl From<model::OrderStatus> for OrderStatus {
    fn from(status: model::OrderStatus) -> Self {
        match status {
            model::OrderStatus::Placed => Self::Placed,
            model::OrderStatus::Accepted => Self::Accepted,
            model::OrderStatus::Preparing => Self::Preparing,
            model::OrderStatus::Ready => Self::Ready,
            model::OrderStatus::Completed => Self::Completed,
            model::OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<OrderStatus> for model::OrderStatus {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Placed => Self::Placed,
            OrderStatus::Accepted => Self::Accepted,
            OrderStatus::Preparing => Self::Preparing,
            OrderStatus::Ready => Self::Ready,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

pub struct OrderItem(pub model::OrderLine);

#[graphql_object(context = Context)]
impl OrderItem {
    /// The menu item as it is now (name and price at order time are on this line).
    async fn menu_item(&self, context: &Context) -> FieldResult<MenuItem> {
        let id = &self.0.menu_item_id;
        let item = context.loaders.menu_items.load(id.clone()).await.map_err(|e| field_error(&e))?;
        item.map(MenuItem).ok_or_else(|| field_error(&Refusal::Vanished { what: "menu item", id: id.clone() }))
    }

    fn menu_item_id(&self) -> ID {
        ID::new(&self.0.menu_item_id)
    }
    /// The item's name when it was ordered.
    fn name(&self) -> &str {
        &self.0.name
    }
    fn station(&self) -> &str {
        &self.0.station
    }
    /// The dish's prep minutes when it was ordered (the kitchen's ready-by is planned with them).
    fn prep_minutes(&self) -> i32 {
        self.0.prep_minutes
    }
    fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// The price when it was ordered.
    fn unit_price_cents(&self) -> i32 {
        int(self.0.unit_price_cents)
    }
    fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

pub struct Order(pub model::Order);

#[graphql_object(context = Context)]
impl Order {
    fn id(&self) -> ID {
        ID::new(&self.0.id)
    }
    fn customer_id(&self) -> ID {
        ID::new(&self.0.customer_id)
    }
    /// The order's short number of the day (from 1, UTC days), what people say at the counter;
    /// shown as `#042`. 0: an order placed before numbers existed.
    fn number(&self) -> i32 {
        int(i64::from(self.0.number))
    }
    /// Who placed it (batched per request).
    async fn customer(&self, context: &Context) -> FieldResult<User> {
        context.user()?;
        // (A signed-in caller always has a users loader.)
        let loader = context.loaders.users.as_ref().ok_or_else(|| field_error(&tokens::TokenError::Missing))?;
        let id = &self.0.customer_id;
        let user = loader.load(id.clone()).await.map_err(|e| field_error(&e))?;
        user.map(User).ok_or_else(|| field_error(&Refusal::Vanished { what: "user", id: id.clone() }))
    }
    /// When the order reached each status, in order.
    fn timeline(&self) -> Vec<StatusReached> {
        let timeline = self.0.timeline.iter();
        timeline.map(|(status, at)| StatusReached { status: (*status).into(), at: rfc3339(at) }).collect()
    }
    fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    fn items(&self) -> Vec<OrderItem> {
        self.0.lines.iter().cloned().map(OrderItem).collect()
    }
    fn total_cents(&self) -> i32 {
        int(self.0.total_cents)
    }
    /// Bumped by every change.
    fn version(&self) -> i32 {
        int(self.0.version)
    }
    fn created_at(&self) -> String {
        rfc3339(&self.0.created_at)
    }
    fn updated_at(&self) -> String {
        rfc3339(&self.0.updated_at)
    }
    /// How it is served (null: not said).
    fn order_type(&self) -> Option<OrderType> {
        self.0.order_type.map(Into::into)
    }
    /// A table number or a name to call, chosen at checkout.
    fn table(&self) -> Option<&str> {
        self.0.table.as_deref()
    }
    /// Why it was cancelled (by its customer) or rejected (by the kitchen), when someone said.
    fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// When the kitchen promises it ready, from the work queued in the kitchen (RFC 3339); null
    /// until the kitchen has planned it. It moves as the queue does, without a new `version`.
    fn ready_by(&self) -> Option<String> {
        self.0.ready_by.as_ref().map(rfc3339)
    }
    /// Counts the moves of `readyBy`: of two states with one `version`, the higher revision is
    /// newer.
    fn promise_revision(&self) -> i32 {
        int(self.0.promise_revision)
    }
}

#[derive(GraphQLObject)]
pub struct StatusReached {
    pub status: OrderStatus,
    pub at: String,
}

pub struct OrderEdge {
    pub cursor: String,
    pub node: Order,
}

#[graphql_object(context = Context)]
impl OrderEdge {
    fn cursor(&self) -> &str {
        &self.cursor
    }
    fn node(&self) -> &Order {
        &self.node
    }
}

pub struct OrderConnection {
    pub edges: Vec<OrderEdge>,
    pub page_info: PageInfo,
}

#[graphql_object(context = Context)]
impl OrderConnection {
    fn edges(&self) -> &[OrderEdge] {
        &self.edges
    }
    fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}
