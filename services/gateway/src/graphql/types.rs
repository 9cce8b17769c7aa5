//! GraphQL object and input types (names fixed by the API contract in SPEC.md).

use super::Context;
use crate::model;
use juniper::{GraphQLEnum, GraphQLInputObject, GraphQLObject, ID, graphql_object};

#[derive(GraphQLEnum, Clone, Copy)]
pub enum OrderStatus {
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Cancelled,
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

#[derive(GraphQLEnum, Clone, Copy)]
pub enum MenuCategory {
    Starter,
    Main,
    Side,
    Dessert,
    Drink,
}

impl From<model::MenuCategory> for MenuCategory {
    fn from(category: model::MenuCategory) -> Self {
        match category {
            model::MenuCategory::Starter => Self::Starter,
            model::MenuCategory::Main => Self::Main,
            model::MenuCategory::Side => Self::Side,
            model::MenuCategory::Dessert => Self::Dessert,
            model::MenuCategory::Drink => Self::Drink,
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

impl From<MenuCategory> for model::MenuCategory {
    fn from(category: MenuCategory) -> Self {
        match category {
            MenuCategory::Starter => Self::Starter,
            MenuCategory::Main => Self::Main,
            MenuCategory::Side => Self::Side,
            MenuCategory::Dessert => Self::Dessert,
            MenuCategory::Drink => Self::Drink,
        }
    }
}

/// Money is in cents; a GraphQL Int holds any real price.
fn cents(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub struct MenuItem(pub model::MenuItem);

#[graphql_object(context = Context)]
impl MenuItem {
    fn id(&self) -> ID {
        ID::new(&self.0.id)
    }
    fn name(&self) -> &str {
        &self.0.name
    }
    fn description(&self) -> &str {
        &self.0.description
    }
    fn category(&self) -> MenuCategory {
        self.0.category.into()
    }
    fn price_cents(&self) -> i32 {
        cents(self.0.price_cents)
    }
    fn available(&self) -> bool {
        self.0.available
    }
    /// The kitchen station that prepares it.
    fn station(&self) -> &str {
        &self.0.station
    }
}

pub struct MenuItemEdge {
    pub cursor: String,
    pub node: MenuItem,
}

#[graphql_object(context = Context)]
impl MenuItemEdge {
    fn cursor(&self) -> &str {
        &self.cursor
    }
    fn node(&self) -> &MenuItem {
        &self.node
    }
}

#[derive(GraphQLObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

pub struct MenuItemConnection {
    pub edges: Vec<MenuItemEdge>,
    pub page_info: PageInfo,
}

#[graphql_object(context = Context)]
impl MenuItemConnection {
    fn edges(&self) -> &[MenuItemEdge] {
        &self.edges
    }
    fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}

/// A loaded item that the backend did not return.
fn vanished(what: &str, id: &str) -> juniper::FieldError {
    super::error(super::ErrorCode::NotFound, format!("{what} {id} no longer exists"))
}

pub struct OrderItem(pub model::OrderLine);

#[graphql_object(context = Context)]
impl OrderItem {
    /// The menu item as it is now (name and price at order time are on this line).
    async fn menu_item(&self, context: &Context) -> juniper::FieldResult<MenuItem> {
        let loaded = context.loaders.menu_items.load(self.0.menu_item_id.clone()).await;
        let item = loaded.map_err(|e| super::backend_error(e.into()))?;
        item.map(MenuItem).ok_or_else(|| vanished("menu item", &self.0.menu_item_id))
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
    fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// The price when it was ordered.
    fn unit_price_cents(&self) -> i32 {
        cents(self.0.unit_price_cents)
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
    /// Who placed it (batched per request).
    async fn customer(&self, context: &Context) -> juniper::FieldResult<User> {
        context.user()?;
        let loader = context.loaders.users.as_ref().ok_or_else(|| super::token_error(&tokens::TokenError::Missing))?;
        let loaded = loader.load(self.0.customer_id.clone()).await;
        let user = loaded.map_err(|e| super::backend_error(e.into()))?;
        user.map(User).ok_or_else(|| vanished("user", &self.0.customer_id))
    }
    /// When the order reached each status, in order.
    fn timeline(&self) -> Vec<StatusReached> {
        self.0.timeline.iter().map(|(status, at)| StatusReached { status: (*status).into(), at: at.clone() }).collect()
    }
    fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    fn items(&self) -> Vec<OrderItem> {
        self.0.lines.iter().cloned().map(OrderItem).collect()
    }
    fn total_cents(&self) -> i32 {
        cents(self.0.total_cents)
    }
    /// Bumped by every change.
    fn version(&self) -> i32 {
        i32::try_from(self.0.version).unwrap_or(i32::MAX)
    }
    fn created_at(&self) -> &str {
        &self.0.created_at
    }
    fn updated_at(&self) -> &str {
        &self.0.updated_at
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

/// What `search` finds.
#[derive(juniper::GraphQLUnion)]
#[graphql(context = Context)]
pub enum SearchResult {
    MenuItem(MenuItem),
    User(User),
    Order(Order),
}

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
}

#[derive(GraphQLEnum, Clone, Copy)]
pub enum Role {
    Customer,
    KitchenStaff,
}

pub struct User(pub model::User);

#[graphql_object(context = Context)]
impl User {
    fn id(&self) -> ID {
        ID::new(&self.0.id)
    }
    fn username(&self) -> &str {
        &self.0.username
    }
    fn role(&self) -> Role {
        match self.0.role {
            model::Role::Customer => Role::Customer,
            model::Role::KitchenStaff => Role::KitchenStaff,
        }
    }
    fn created_at(&self) -> &str {
        &self.0.created_at
    }
}

pub struct AuthPayload(pub model::Session);

#[graphql_object(context = Context)]
impl AuthPayload {
    /// A biscuit token: send it as `Authorization: Bearer <token>`.
    fn token(&self) -> &str {
        self.0.token.as_str()
    }
    fn user(&self) -> User {
        User(self.0.user.clone())
    }
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
