//! The orders service's client: the menu, orders and their lifecycle, and the one stream of
//! every order event.

use super::{BackendResult, Requests, convert};
use crate::model::{
    MenuCategory, MenuItem, MenuPage, NewOrderLine, Order, OrderEvent, OrderPage, OrderStatus, OrderType,
};
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use service_kit::UpstreamError;
use service_kit::grpc::within_deadline;
use tokens::Token;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct OrdersBackend {
    client: OrderServiceClient<Channel>,
    requests: Requests,
}

impl OrdersBackend {
    pub fn new(
        url: &str,
        service_token: tokens::ServiceToken,
        calls: &prometheus::IntCounterVec,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: OrderServiceClient::new(service_kit::grpc::channel(url)?),
            requests: Requests::new(service_token, calls, "orders"),
        })
    }

    pub async fn create_order(
        &self,
        user: &Token,
        lines: Vec<NewOrderLine>,
        idempotency_key: Option<String>,
        (order_type, table): (Option<OrderType>, Option<String>),
    ) -> BackendResult<Order> {
        let message = pb::CreateOrderRequest {
            items: lines.into_iter().map(convert::new_order_line).collect(),
            idempotency_key,
            order_type: convert::pb_order_type(order_type).into(),
            table_label: table,
        };
        let response =
            within_deadline(self.client.clone().create_order(self.requests.make(message, Some(user)))).await?;
        convert::order(response.into_inner().order)
    }

    pub async fn get_order(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::GetOrderRequest { id };
        let response = within_deadline(self.client.clone().get_order(self.requests.make(message, Some(user)))).await?;
        convert::order(response.into_inner().order)
    }

    pub async fn get_orders(&self, user: &Token, ids: Vec<String>) -> BackendResult<Vec<Order>> {
        let message = pb::GetOrdersRequest { ids };
        let response = within_deadline(self.client.clone().get_orders(self.requests.make(message, Some(user)))).await?;
        response.into_inner().orders.into_iter().map(|o| convert::order(Some(o))).collect()
    }

    pub async fn list_orders(
        &self,
        user: &Token,
        first: i32,
        after: Option<String>,
        status: Option<OrderStatus>,
    ) -> BackendResult<OrderPage> {
        let status = status.map(|s| convert::pb_status(s).into());
        let message = pb::ListOrdersRequest { first, after, status, customer_id: None };
        let response =
            within_deadline(self.client.clone().list_orders(self.requests.make(message, Some(user)))).await?;
        convert::order_page(response.into_inner())
    }

    pub async fn search_orders(&self, user: &Token, query: String) -> BackendResult<Vec<Order>> {
        let message = pb::SearchOrdersRequest { query, first: 0 };
        let response =
            within_deadline(self.client.clone().search_orders(self.requests.make(message, Some(user)))).await?;
        response.into_inner().edges.into_iter().map(|e| convert::order(e.order)).collect()
    }

    pub async fn update_status(&self, user: &Token, id: String, status: OrderStatus) -> BackendResult<Order> {
        let message = pb::UpdateOrderStatusRequest { id, status: convert::pb_status(status).into() };
        let response =
            within_deadline(self.client.clone().update_order_status(self.requests.make(message, Some(user)))).await?;
        convert::order(response.into_inner().order)
    }

    pub async fn cancel(&self, user: &Token, id: String, reason: Option<String>) -> BackendResult<Order> {
        let message = pb::CancelOrderRequest { id, reason };
        let response =
            within_deadline(self.client.clone().cancel_order(self.requests.make(message, Some(user)))).await?;
        convert::order(response.into_inner().order)
    }

    pub async fn complete(&self, user: &Token, id: String) -> BackendResult<Order> {
        let message = pb::CompleteOrderRequest { id };
        let response =
            within_deadline(self.client.clone().complete_order(self.requests.make(message, Some(user)))).await?;
        convert::order(response.into_inner().order)
    }

    pub async fn menu(
        &self,
        first: i32,
        after: Option<String>,
        category: Option<MenuCategory>,
    ) -> BackendResult<MenuPage> {
        let category = category.map(|c| convert::pb_category(c).into());
        let message = pb::ListMenuItemsRequest { first, after, category };
        let response = within_deadline(self.client.clone().list_menu_items(self.requests.make(message, None))).await?;
        convert::menu_page(response.into_inner())
    }

    pub async fn menu_items(&self, ids: Vec<String>) -> BackendResult<Vec<MenuItem>> {
        let message = pb::GetMenuItemsRequest { ids };
        let response = within_deadline(self.client.clone().get_menu_items(self.requests.make(message, None))).await?;
        response.into_inner().items.into_iter().map(convert::menu_item).collect()
    }

    pub async fn search_menu(&self, query: String) -> BackendResult<Vec<MenuItem>> {
        let message = pb::SearchMenuRequest { query, first: 0 };
        let response = within_deadline(self.client.clone().search_menu(self.requests.make(message, None))).await?;
        response.into_inner().items.into_iter().map(convert::menu_item).collect()
    }

    /// Every order event from now on (the gateway's one upstream stream, on its own account).
    /// An event that fails to arrive or to convert is an error item.
    pub async fn watch_all(&self) -> BackendResult<impl futures::Stream<Item = BackendResult<OrderEvent>> + use<>> {
        let message = pb::WatchOrdersRequest { filter: Some(pb::watch_orders_request::Filter::All(true)) };
        let stream =
            within_deadline(self.client.clone().watch_orders(self.requests.make(message, None))).await?.into_inner();
        Ok(futures::StreamExt::map(stream, |event| event.map_err(UpstreamError::from).and_then(convert::order_event)))
    }

    /// When these dishes would be ready if ordered now (public, on the gateway's own account).
    pub async fn estimate_ready_by(&self, lines: Vec<NewOrderLine>) -> BackendResult<chrono::DateTime<chrono::Utc>> {
        let message = pb::EstimateReadyByRequest { items: lines.into_iter().map(convert::new_order_line).collect() };
        let response = self.client.clone().estimate_ready_by(self.requests.make(message, None)).await?;
        convert::time_answer(response.into_inner().ready_by)
    }

    /// Kitchen staff 86 a dish (`available` false) or bring it back.
    pub async fn set_menu_item_available(&self, user: &Token, id: String, available: bool) -> BackendResult<MenuItem> {
        let message = pb::SetMenuItemAvailabilityRequest { id, available };
        let response = self.client.clone().set_menu_item_availability(self.requests.make(message, Some(user))).await?;
        convert::menu_item_answer(response.into_inner().item)
    }

    /// Every menu item whose availability changes from now on (on the gateway's own account).
    pub async fn watch_menu(&self) -> BackendResult<impl futures::Stream<Item = BackendResult<MenuItem>> + use<>> {
        let stream =
            self.client.clone().watch_menu(self.requests.make(pb::WatchMenuRequest {}, None)).await?.into_inner();
        Ok(futures::StreamExt::map(stream, |item| item.map_err(UpstreamError::from).and_then(convert::menu_item)))
    }
}
