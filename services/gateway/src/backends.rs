//! gRPC clients of the backends, with deadlines and one reused connection each. The only
//! module that names Protobuf types; it converts them to [`crate::model`].

use crate::model::{MenuCategory, MenuItem, MenuPage, NewOrderLine, Order, OrderLine, OrderStatus};
use anyhow::Context as _;
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// How long any backend call may take.
pub const BACKEND_DEADLINE: Duration = Duration::from_secs(5);
/// How long connecting to a backend may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend's answer that is not the data: carries the gRPC status, which the GraphQL layer
/// maps to an error code once.
pub type BackendResult<T> = Result<T, tonic::Status>;

#[derive(Clone)]
pub struct OrdersBackend {
    client: OrderServiceClient<Channel>,
}

impl OrdersBackend {
    /// Connects lazily: the gateway starts even when orders is not up yet.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let channel = Endpoint::from_shared(url.to_owned())
            .with_context(|| format!("invalid orders URL {url:?}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(BACKEND_DEADLINE)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self { client: OrderServiceClient::new(channel) })
    }

    pub async fn create_order(&self, lines: Vec<NewOrderLine>, idempotency_key: Option<String>) -> BackendResult<Order> {
        let request = pb::CreateOrderRequest {
            items: lines
                .into_iter()
                .map(|l| pb::OrderItemInput { menu_item_id: l.menu_item_id, quantity: l.quantity, note: l.note })
                .collect(),
            idempotency_key,
        };
        let response = self.client.clone().create_order(request).await?.into_inner();
        order(response.order)
    }

    pub async fn get_order(&self, id: String) -> BackendResult<Order> {
        let response = self.client.clone().get_order(pb::GetOrderRequest { id }).await?.into_inner();
        order(response.order)
    }

    pub async fn menu(&self, first: i32, after: Option<String>, category: Option<MenuCategory>) -> BackendResult<MenuPage> {
        let request = pb::ListMenuItemsRequest {
            first,
            after,
            category: category.map(|c| pb_category(c).into()),
        };
        let response = self.client.clone().list_menu_items(request).await?.into_inner();
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
