//! gRPC clients of the backends, with deadlines and one reused connection each. The only
//! module that names Protobuf types; it converts them to [`crate::model`].

use crate::model::{MenuCategory, MenuItem, MenuPage, NewOrderLine, Order, OrderLine, OrderStatus, Role, Session, User};
use anyhow::Context as _;
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use restaurant_proto::v1::user_service_client::UserServiceClient;
use tokens::Token;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// How long any backend call may take.
pub const BACKEND_DEADLINE: Duration = Duration::from_secs(5);
/// How long connecting to a backend may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend's answer that is not the data: carries the gRPC status, which the GraphQL layer
/// maps to an error code once.
pub type BackendResult<T> = Result<T, tonic::Status>;

/// Connects lazily: the gateway starts even when a backend is not up yet.
fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid backend URL {url:?}"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(BACKEND_DEADLINE)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// Every call carries the gateway's service token, and the user's token when made on a user's
/// behalf.
fn request<T>(message: T, service: &Token, user: Option<&Token>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    tokens::grpc::attach(&mut request, service, user);
    request
}

#[derive(Clone)]
pub struct OrdersBackend {
    client: OrderServiceClient<Channel>,
    service_token: Token,
}

impl OrdersBackend {
    pub fn new(url: &str, service_token: Token) -> anyhow::Result<Self> {
        Ok(Self { client: OrderServiceClient::new(channel(url)?), service_token })
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
        let response = self.client.clone().create_order(request(message, &self.service_token, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn get_order(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::GetOrderRequest { id };
        let response = self.client.clone().get_order(request(message, &self.service_token, Some(user))).await?;
        order(response.into_inner().order)
    }

    pub async fn menu(&self, first: i32, after: Option<String>, category: Option<MenuCategory>) -> BackendResult<MenuPage> {
        let message = pb::ListMenuItemsRequest {
            first,
            after,
            category: category.map(|c| pb_category(c).into()),
        };
        let response =
            self.client.clone().list_menu_items(request(message, &self.service_token, None)).await?.into_inner();
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
}

impl UsersBackend {
    pub fn new(url: &str, service_token: Token) -> anyhow::Result<Self> {
        Ok(Self { client: UserServiceClient::new(channel(url)?), service_token })
    }

    pub async fn register(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::RegisterRequest { username, password };
        session(self.client.clone().register(request(message, &self.service_token, None)).await?.into_inner())
    }

    pub async fn login(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::LoginRequest { username, password };
        session(self.client.clone().login(request(message, &self.service_token, None)).await?.into_inner())
    }

    pub async fn logout(&self, user: &Token) -> BackendResult<()> {
        self.client.clone().logout(request(pb::LogoutRequest {}, &self.service_token, Some(user))).await?;
        Ok(())
    }

    pub async fn get_user(&self, user: &Token, id: String) -> BackendResult<User> {
        let message = pb::GetUserRequest { id };
        let response = self.client.clone().get_user(request(message, &self.service_token, Some(user))).await?;
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
        id: order.id,
        customer_id: order.customer_id,
        version: order.version,
        total_cents: order.total_cents,
    })
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
