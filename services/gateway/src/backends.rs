//! gRPC clients of the backends, with deadlines and one reused connection each. The only
//! module that names Protobuf types; it converts them to [`crate::model`].

use crate::model::{
    MenuCategory, MenuItem, MenuPage, NewOrderLine, Order, OrderChange, OrderEvent, OrderLine, OrderPage, OrderStatus,
    Role, Session, User,
};
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use restaurant_proto::v1::user_service_client::UserServiceClient;
use tokens::Token;
use tonic::transport::Channel;

/// A backend's answer that is not the data: carries the gRPC status, which the GraphQL layer
/// maps to an error code once.
pub type BackendResult<T> = Result<T, tonic::Status>;

tokio::task_local! {
    /// The trace of the GraphQL request being served; every backend call made for it carries
    /// a child of it in its `traceparent` metadata.
    pub static TRACE: service_kit::trace::TraceParent;
}

/// Every call carries the gateway's service token, the user's token when made on a user's
/// behalf, and the request's trace context.
fn request<T>(message: T, service: &Token, user: Option<&Token>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    tokens::grpc::attach(&mut request, service, user);
    if let Ok(Ok(value)) = TRACE.try_with(|trace| trace.child().header().parse()) {
        request.metadata_mut().insert(service_kit::trace::HEADER, value);
    }
    request
}

/// Backend calls made, by backend: what the dataloader test counts.
pub fn calls_metric(registry: &prometheus::Registry) -> anyhow::Result<prometheus::IntCounterVec> {
    let calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("gateway_backend_calls_total", "gRPC calls made to the backends"),
        &["backend"],
    )?;
    registry.register(Box::new(calls.clone()))?;
    Ok(calls)
}

#[derive(Clone)]
pub struct OrdersBackend {
    client: OrderServiceClient<Channel>,
    service_token: Token,
    calls: prometheus::IntCounter,
}

impl OrdersBackend {
    pub fn new(url: &str, service_token: Token, calls: &prometheus::IntCounterVec) -> anyhow::Result<Self> {
        Ok(Self {
            client: OrderServiceClient::new(service_kit::grpc::channel(url)?),
            service_token,
            calls: calls.with_label_values(&["orders"]),
        })
    }

    fn request<T>(&self, message: T, user: Option<&Token>) -> tonic::Request<T> {
        self.calls.inc();
        request(message, &self.service_token, user)
    }

    pub async fn create_order(
        &self,
        user: &Token,
        lines: Vec<NewOrderLine>,
        idempotency_key: Option<String>,
    ) -> BackendResult<Order> {
        let message = pb::CreateOrderRequest {
            items: lines
                .into_iter()
                .map(|l| pb::OrderItemInput { menu_item_id: l.menu_item_id, quantity: l.quantity, note: l.note })
                .collect(),
            idempotency_key,
        };
        let response = self.client.clone().create_order(self.request(message, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn get_order(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::GetOrderRequest { id };
        let response = self.client.clone().get_order(self.request(message, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn get_orders(&self, user: &Token, ids: Vec<String>) -> BackendResult<Vec<Order>> {
        let response = self.client.clone().get_orders(self.request(pb::GetOrdersRequest { ids }, Some(user))).await?;
        response.into_inner().orders.into_iter().map(|o| order(Some(o))).collect()
    }

    pub async fn list_orders(
        &self,
        user: &Token,
        first: i32,
        after: Option<String>,
        status: Option<OrderStatus>,
    ) -> BackendResult<OrderPage> {
        let message =
            pb::ListOrdersRequest { first, after, status: status.map(|s| pb_status(s).into()), customer_id: None };
        let response = self.client.clone().list_orders(self.request(message, Some(user))).await?.into_inner();
        Ok(OrderPage {
            orders: response
                .edges
                .into_iter()
                .map(|e| Ok((order(e.order)?, e.cursor)))
                .collect::<BackendResult<_>>()?,
            has_next_page: response.has_next_page,
        })
    }

    pub async fn search_orders(&self, user: &Token, query: String) -> BackendResult<Vec<Order>> {
        let message = pb::SearchOrdersRequest { query, first: 0 };
        let response = self.client.clone().search_orders(self.request(message, Some(user))).await?;
        response.into_inner().edges.into_iter().map(|e| order(e.order)).collect()
    }

    pub async fn update_status(&self, user: &Token, id: String, status: OrderStatus) -> BackendResult<Order> {
        let message = pb::UpdateOrderStatusRequest { id, status: pb_status(status).into() };
        let response = self.client.clone().update_order_status(self.request(message, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn cancel(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::CancelOrderRequest { id, reason: None };
        let response = self.client.clone().cancel_order(self.request(message, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn complete(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::CompleteOrderRequest { id };
        let response = self.client.clone().complete_order(self.request(message, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn menu_items(&self, ids: Vec<String>) -> BackendResult<Vec<MenuItem>> {
        let message = pb::GetMenuItemsRequest { ids };
        let response = self.client.clone().get_menu_items(self.request(message, None)).await?;
        response.into_inner().items.into_iter().map(menu_item).collect()
    }

    pub async fn search_menu(&self, query: String) -> BackendResult<Vec<MenuItem>> {
        let message = pb::SearchMenuRequest { query, first: 0 };
        let response = self.client.clone().search_menu(self.request(message, None)).await?;
        response.into_inner().items.into_iter().map(menu_item).collect()
    }

    /// Every order event from now on (the gateway's one upstream stream, on its own account).
    pub async fn watch_all(&self) -> BackendResult<impl futures::Stream<Item = BackendResult<OrderEvent>> + use<>> {
        let message = pb::WatchOrdersRequest { filter: Some(pb::watch_orders_request::Filter::All(true)) };
        let stream = self.client.clone().watch_orders(self.request(message, None)).await?.into_inner();
        Ok(futures::StreamExt::map(stream, |event| event.and_then(order_event)))
    }

    pub async fn menu(
        &self,
        first: i32,
        after: Option<String>,
        category: Option<MenuCategory>,
    ) -> BackendResult<MenuPage> {
        let message = pb::ListMenuItemsRequest { first, after, category: category.map(|c| pb_category(c).into()) };
        let response = self.client.clone().list_menu_items(self.request(message, None)).await?.into_inner();
        Ok(MenuPage {
            items: response
                .edges
                .into_iter()
                .map(|e| Ok((menu_item(e.item.ok_or_else(|| malformed("menu edge without item"))?)?, e.cursor)))
                .collect::<BackendResult<_>>()?,
            has_next_page: response.has_next_page,
        })
    }
}

#[derive(Clone)]
pub struct UsersBackend {
    client: UserServiceClient<Channel>,
    service_token: Token,
    calls: prometheus::IntCounter,
}

impl UsersBackend {
    pub fn new(url: &str, service_token: Token, calls: &prometheus::IntCounterVec) -> anyhow::Result<Self> {
        Ok(Self {
            client: UserServiceClient::new(service_kit::grpc::channel(url)?),
            service_token,
            calls: calls.with_label_values(&["users"]),
        })
    }

    fn request<T>(&self, message: T, user: Option<&Token>) -> tonic::Request<T> {
        self.calls.inc();
        request(message, &self.service_token, user)
    }

    pub async fn register(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::RegisterRequest { username, password };
        session(self.client.clone().register(self.request(message, None)).await?.into_inner())
    }

    pub async fn login(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::LoginRequest { username, password };
        session(self.client.clone().login(self.request(message, None)).await?.into_inner())
    }

    pub async fn logout(&self, user: &Token) -> BackendResult<()> {
        self.client.clone().logout(self.request(pb::LogoutRequest {}, Some(user))).await?;
        Ok(())
    }

    pub async fn get_users(&self, user: &Token, ids: Vec<String>) -> BackendResult<Vec<User>> {
        let response = self.client.clone().get_users(self.request(pb::GetUsersRequest { ids }, Some(user))).await?;
        response.into_inner().users.into_iter().map(|u| self::user(Some(u))).collect()
    }

    pub async fn search_users(&self, user: &Token, query: String) -> BackendResult<Vec<User>> {
        let message = pb::SearchUsersRequest { query, first: 0 };
        let response = self.client.clone().search_users(self.request(message, Some(user))).await?;
        response.into_inner().users.into_iter().map(|u| self::user(Some(u))).collect()
    }

    pub async fn get_user(&self, user: &Token, id: String) -> BackendResult<User> {
        let message = pb::GetUserRequest { id };
        let response = self.client.clone().get_user(self.request(message, Some(user))).await?;
        self::user(response.into_inner().user)
    }
}

fn session(answer: pb::AuthResponse) -> BackendResult<Session> {
    Ok(Session { token: Token::new(answer.token), user: user(answer.user)? })
}

fn user(user: Option<pb::User>) -> BackendResult<User> {
    let user = user.ok_or_else(|| malformed("no user"))?;
    Ok(User {
        role: match pb::Role::try_from(user.role) {
            Ok(pb::Role::Customer) => Role::Customer,
            Ok(pb::Role::KitchenStaff) => Role::KitchenStaff,
            _ => return Err(malformed("user role")),
        },
        created_at: timestamp(user.created_at.as_ref()),
        id: user.id,
        username: user.username,
    })
}

fn malformed(what: &str) -> tonic::Status {
    tonic::Status::internal(format!("malformed backend answer: {what}"))
}

fn order(order: Option<pb::Order>) -> BackendResult<Order> {
    let order = order.ok_or_else(|| malformed("no order"))?;
    Ok(Order {
        status: status(order.status)?,
        lines: order
            .lines
            .into_iter()
            .map(|l| OrderLine {
                menu_item_id: l.menu_item_id,
                name: l.name,
                station: l.station,
                quantity: l.quantity,
                unit_price_cents: l.unit_price_cents,
                note: l.note,
            })
            .collect(),
        created_at: timestamp(order.created_at.as_ref()),
        updated_at: timestamp(order.updated_at.as_ref()),
        timeline: order
            .timeline
            .iter()
            .map(|t| Ok((status(t.status)?, timestamp(t.at.as_ref()))))
            .collect::<BackendResult<_>>()?,
        id: order.id,
        customer_id: order.customer_id,
        version: order.version,
        total_cents: order.total_cents,
    })
}

fn order_event(event: pb::OrderEvent) -> BackendResult<OrderEvent> {
    use pb::order_event::Change;
    let change = match event.change {
        Some(Change::Created(_)) => OrderChange::Created,
        Some(Change::StatusChanged(c)) => OrderChange::StatusChanged { from: status(c.from)? },
        Some(Change::Cancelled(c)) => OrderChange::Cancelled { from: status(c.from)? },
        None => return Err(malformed("event without a change")),
    };
    Ok(OrderEvent { change, order: order(event.order)? })
}

fn pb_status(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Placed => pb::OrderStatus::Placed,
        OrderStatus::Accepted => pb::OrderStatus::Accepted,
        OrderStatus::Preparing => pb::OrderStatus::Preparing,
        OrderStatus::Ready => pb::OrderStatus::Ready,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
    }
}

fn menu_item(item: pb::MenuItem) -> BackendResult<MenuItem> {
    Ok(MenuItem {
        category: category(item.category)?,
        id: item.id,
        name: item.name,
        description: item.description,
        price_cents: item.price_cents,
        available: item.available,
        station: item.station,
    })
}

fn status(value: i32) -> BackendResult<OrderStatus> {
    Ok(match pb::OrderStatus::try_from(value) {
        Ok(pb::OrderStatus::Placed) => OrderStatus::Placed,
        Ok(pb::OrderStatus::Accepted) => OrderStatus::Accepted,
        Ok(pb::OrderStatus::Preparing) => OrderStatus::Preparing,
        Ok(pb::OrderStatus::Ready) => OrderStatus::Ready,
        Ok(pb::OrderStatus::Completed) => OrderStatus::Completed,
        Ok(pb::OrderStatus::Cancelled) => OrderStatus::Cancelled,
        Ok(pb::OrderStatus::Unspecified) | Err(_) => return Err(malformed("order status")),
    })
}

fn category(value: i32) -> BackendResult<MenuCategory> {
    Ok(match pb::MenuCategory::try_from(value) {
        Ok(pb::MenuCategory::Starter) => MenuCategory::Starter,
        Ok(pb::MenuCategory::Main) => MenuCategory::Main,
        Ok(pb::MenuCategory::Side) => MenuCategory::Side,
        Ok(pb::MenuCategory::Dessert) => MenuCategory::Dessert,
        Ok(pb::MenuCategory::Drink) => MenuCategory::Drink,
        Ok(pb::MenuCategory::Unspecified) | Err(_) => return Err(malformed("menu category")),
    })
}

fn pb_category(category: MenuCategory) -> pb::MenuCategory {
    match category {
        MenuCategory::Starter => pb::MenuCategory::Starter,
        MenuCategory::Main => pb::MenuCategory::Main,
        MenuCategory::Side => pb::MenuCategory::Side,
        MenuCategory::Dessert => pb::MenuCategory::Dessert,
        MenuCategory::Drink => pb::MenuCategory::Drink,
    }
}

fn timestamp(value: Option<&restaurant_proto::prost_types::Timestamp>) -> String {
    value
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
