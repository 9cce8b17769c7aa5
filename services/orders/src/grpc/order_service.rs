//! `OrderApi`: `restaurant.v1.OrderService` over the core. Each call checks the calling
//! service's and the user's tokens, converts Protobuf at the edge and maps errors once.

use super::status;
use crate::actors::Placed;
use crate::caller::Caller;
use crate::domain::{CartLineInput, CustomerId, OrderStatus};
use crate::kafka::OrderFeed;
use crate::service::OrdersService;
use crate::store::menu_feed::MenuFeed;
use crate::wire;
use restaurant_proto::v1 as pb;
use service_kit::shutdown::ShutdownListener;
use service_kit::trace::{HEADER as TRACE_HEADER, TraceParent};
use tokens::{Access, Role, TokenVerifier, grpc as auth};
use tonic::{Request, Response, Status};

pub struct OrderApi {
    service: OrdersService,
    verifier: TokenVerifier,
    feed: OrderFeed,
    menu_feed: MenuFeed,
    /// Ends every watch stream at shutdown, so watchers reconnect to another instance.
    shutdown: ShutdownListener,
}

impl OrderApi {
    pub fn new(
        service: OrdersService,
        verifier: TokenVerifier,
        feed: OrderFeed,
        menu_feed: MenuFeed,
        shutdown: ShutdownListener,
    ) -> Self {
        Self { service, verifier, feed, menu_feed, shutdown }
    }

    /// The user on whose behalf the call is made, as the core's [`Caller`].
    fn caller(&self, metadata: &tonic::metadata::MetadataMap, access: Access) -> Result<Caller, Status> {
        let (claims, _) = auth::calling_user(metadata, &self.verifier, &access)?;
        Ok(Caller::from(&claims))
    }

    async fn change(
        &self,
        caller: Caller,
        id: &str,
        to: OrderStatus,
        reason: Option<&str>,
        trace: Option<TraceParent>,
    ) -> Result<Response<pb::OrderResponse>, Status> {
        let order = self.service.change_status(&caller, id, to, reason, trace).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::OrderResponse { order: Some(wire::order(&order)) }))
    }
}

/// The caller's trace context, continued one hop (None when the call brings none).
fn trace(metadata: &tonic::metadata::MetadataMap) -> Option<TraceParent> {
    metadata.get(TRACE_HEADER).and_then(|v| v.to_str().ok()).and_then(TraceParent::parse).map(|t| t.child())
}

/// Kitchen staff only.
const KITCHEN: &[Role] = &[Role::KitchenStaff];
/// The services that call each operation (least privilege: a leaked kitchen token cannot
/// place orders or read the menu's customers' data).
const GATEWAY: &[&str] = &["gateway"];
/// The kitchen service reports its plan of the queue.
const KITCHEN_SERVICE: &[&str] = &["kitchen"];
/// Status changes come from the gateway (staff in the web UI) and the kitchen (tablets).
const GATEWAY_AND_KITCHEN: &[&str] = &["gateway", "kitchen"];

fn page_size(first: i32) -> Option<i64> {
    (first != 0).then_some(i64::from(first))
}

fn order_status(value: i32) -> Result<OrderStatus, Status> {
    wire::status_from(value).ok_or_else(|| Status::invalid_argument(format!("unknown order status {value}")))
}

type EventStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::OrderEvent, Status>> + Send>>;
type MenuStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::MenuItem, Status>> + Send>>;

/// Only customers place orders.
const CUSTOMERS: &[Role] = &[Role::Customer];

#[tonic::async_trait]
impl pb::order_service_server::OrderService for OrderApi {
    type WatchOrdersStream = EventStream;
    type WatchMenuStream = MenuStream;

    /// The kitchen service's plan of its queue (its own account: no user behind it).
    #[tracing::instrument(skip_all)]
    async fn keep_promises(
        &self,
        request: Request<pb::KeepPromisesRequest>,
    ) -> Result<Response<pb::KeepPromisesResponse>, Status> {
        auth::calling_service(
            request.metadata(),
            &self.verifier,
            &Access::write("promise").from_services(KITCHEN_SERVICE),
        )?;
        let body = request.into_inner();
        let promises = body
            .promises
            .iter()
            .map(|p| {
                let at = wire::time(p.ready_by.as_ref())
                    .ok_or_else(|| Status::invalid_argument(format!("the promise of {} has no time", p.order_id)))?;
                Ok((p.order_id.clone(), at))
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let planned_at =
            wire::time(body.planned_at.as_ref()).ok_or_else(|| Status::invalid_argument("a plan needs its time"))?;
        let prep_minute = u64::try_from(body.prep_minute_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map(std::time::Duration::from_millis)
            .ok_or_else(|| Status::invalid_argument("a prep minute lasts a positive number of milliseconds"))?;
        let stations = body
            .stations
            .iter()
            .map(|s| {
                let free = s.cook_free_at.iter().map(|t| wire::time(Some(t))).collect::<Option<Vec<_>>>();
                free.map(|free| (s.station.clone(), free))
                    .ok_or_else(|| Status::invalid_argument(format!("station {:?} has an impossible time", s.station)))
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let load = crate::domain::KitchenLoad { planned_at, prep_minute, stations };
        self.service.keep_promises(&promises, &load).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::KeepPromisesResponse {}))
    }

    /// Public, like the menu: the gateway asks on its own account.
    #[tracing::instrument(skip_all)]
    async fn estimate_ready_by(
        &self,
        request: Request<pb::EstimateReadyByRequest>,
    ) -> Result<Response<pb::EstimateReadyByResponse>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu").from_services(GATEWAY))?;
        let lines = request
            .into_inner()
            .items
            .into_iter()
            .map(|i| CartLineInput { menu_item_id: i.menu_item_id, quantity: i64::from(i.quantity), note: i.note })
            .collect();
        let ready_by = self.service.estimate_ready_by(lines).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::EstimateReadyByResponse { ready_by: Some(wire::timestamp(ready_by)) }))
    }

    /// Kitchen staff, through the gateway (the board's sold-out control).
    #[tracing::instrument(skip_all)]
    async fn set_menu_item_availability(
        &self,
        request: Request<pb::SetMenuItemAvailabilityRequest>,
    ) -> Result<Response<pb::MenuItemResponse>, Status> {
        let id = request.get_ref().id.clone();
        let caller =
            self.caller(request.metadata(), Access::write("menu").of(&id).for_roles(KITCHEN).from_services(GATEWAY))?;
        let item = self
            .service
            .set_menu_item_available(&caller, &id, request.get_ref().available)
            .await
            .map_err(|e| status(&e))?;
        Ok(Response::new(pb::MenuItemResponse { item: Some(wire::menu_item(&item)) }))
    }

    /// The menu is public: the gateway watches on its own account and fans out.
    #[tracing::instrument(skip_all)]
    async fn watch_menu(
        &self,
        request: Request<pb::WatchMenuRequest>,
    ) -> Result<Response<Self::WatchMenuStream>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu").from_services(GATEWAY))?;
        let changes = tokio_stream::wrappers::BroadcastStream::new(self.menu_feed.subscribe());
        let stream = futures::StreamExt::map(changes, |change| match change {
            Ok(item) => Ok(wire::menu_item(&item)),
            Err(_) => Err(Status::resource_exhausted(format!(
                "this watcher fell more than {} menu changes behind; watch again",
                crate::store::menu_feed::MENU_BUFFER
            ))),
        });
        let mut shutdown = self.shutdown.clone();
        let stream = futures::StreamExt::take_until(stream, async move { shutdown.recv().await });
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_orders(
        &self,
        request: Request<pb::GetOrdersRequest>,
    ) -> Result<Response<pb::GetOrdersResponse>, Status> {
        let caller = self.caller(request.metadata(), Access::read("order").from_services(GATEWAY))?;
        let orders = self.service.get_orders(&caller, &request.get_ref().ids).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetOrdersResponse { orders: orders.iter().map(wire::order).collect() }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = self.caller(request.metadata(), Access::read("order").from_services(GATEWAY))?;
        let body = request.into_inner();
        let status_filter = body.status.map(order_status).transpose()?;
        let page = self
            .service
            .list_orders(
                &caller,
                page_size(body.first),
                body.after.as_deref(),
                status_filter,
                body.customer_id.as_deref(),
            )
            .await
            .map_err(|e| status(&e))?;
        Ok(Response::new(pb::ListOrdersResponse {
            edges: page
                .orders
                .iter()
                .map(|(order, cursor)| pb::OrderEdge { order: Some(wire::order(order)), cursor: cursor.clone() })
                .collect(),
            has_next_page: page.has_next_page,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn search_orders(
        &self,
        request: Request<pb::SearchOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = self.caller(request.metadata(), Access::read("order").from_services(GATEWAY))?;
        let body = request.into_inner();
        let orders =
            self.service.search_orders(&caller, &body.query, page_size(body.first)).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::ListOrdersResponse {
            edges: orders
                .iter()
                .map(|order| pb::OrderEdge { order: Some(wire::order(order)), cursor: String::new() })
                .collect(),
            has_next_page: false,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_order_status(
        &self,
        request: Request<pb::UpdateOrderStatusRequest>,
    ) -> Result<Response<pb::OrderResponse>, Status> {
        let id = request.get_ref().id.clone();
        let caller = self.caller(
            request.metadata(),
            Access::write("order").of(&id).for_roles(KITCHEN).from_services(GATEWAY_AND_KITCHEN),
        )?;
        let to = order_status(request.get_ref().status)?;
        self.change(caller, &id, to, None, trace(request.metadata())).await
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::OrderResponse>, Status> {
        let id = request.get_ref().id.clone();
        // The gateway (a customer's cancel, or staff's) and the kitchen (a cook's rejection).
        let caller =
            self.caller(request.metadata(), Access::write("order").of(&id).from_services(GATEWAY_AND_KITCHEN))?;
        let reason = request.get_ref().reason.clone();
        self.change(caller, &id, OrderStatus::Cancelled, reason.as_deref(), trace(request.metadata())).await
    }

    #[tracing::instrument(skip_all)]
    async fn complete_order(
        &self,
        request: Request<pb::CompleteOrderRequest>,
    ) -> Result<Response<pb::OrderResponse>, Status> {
        let id = request.get_ref().id.clone();
        let caller = self.caller(
            request.metadata(),
            Access::write("order").of(&id).for_roles(KITCHEN).from_services(GATEWAY_AND_KITCHEN),
        )?;
        self.change(caller, &id, OrderStatus::Completed, None, trace(request.metadata())).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_menu_items(
        &self,
        request: Request<pb::GetMenuItemsRequest>,
    ) -> Result<Response<pb::GetMenuItemsResponse>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu").from_services(GATEWAY))?;
        let items = self.service.menu_items(&request.get_ref().ids).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetMenuItemsResponse { items: items.iter().map(wire::menu_item).collect() }))
    }

    #[tracing::instrument(skip_all)]
    async fn search_menu(
        &self,
        request: Request<pb::SearchMenuRequest>,
    ) -> Result<Response<pb::GetMenuItemsResponse>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu").from_services(GATEWAY))?;
        let body = request.into_inner();
        let items = self.service.search_menu(&body.query, page_size(body.first)).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetMenuItemsResponse { items: items.iter().map(wire::menu_item).collect() }))
    }

    /// A service token watches anything; with a customer's token forwarded, only their orders.
    #[tracing::instrument(skip_all)]
    async fn watch_orders(
        &self,
        request: Request<pb::WatchOrdersRequest>,
    ) -> Result<Response<Self::WatchOrdersStream>, Status> {
        use pb::watch_orders_request::Filter;
        let user = auth::calling_service_or_user(
            request.metadata(),
            &self.verifier,
            &Access::read("order").from_services(GATEWAY),
        )?;
        let caller = user.as_ref().map(Caller::from);
        let filter = request.into_inner().filter.unwrap_or(Filter::All(true));
        let own = match &caller {
            Some(Caller::Customer(me)) => Some(me.to_string()),
            _ => None,
        };
        let filter = match (filter, own) {
            (Filter::All(_), Some(me)) => Filter::CustomerId(me),
            (Filter::CustomerId(asked), Some(me)) if asked != me => {
                return Err(Status::permission_denied("customers may only watch their own orders"));
            }
            (Filter::OrderId(id), Some(_)) => {
                let caller = caller.as_ref().expect("unwrap: `own` is set only for a caller");
                self.service.get_order(caller, &id).await.map_err(|e| status(&e))?;
                Filter::OrderId(id)
            }
            (filter, _) => filter,
        };
        let events = tokio_stream::wrappers::BroadcastStream::new(self.feed.subscribe());
        let stream = futures::StreamExt::filter_map(events, move |event| {
            let answer = match event {
                Ok(event) => {
                    let wanted = match &filter {
                        Filter::All(_) => true,
                        Filter::CustomerId(customer) => {
                            event.order.as_ref().is_some_and(|o| &o.customer_id == customer)
                        }
                        Filter::OrderId(id) => &event.order_id == id,
                    };
                    wanted.then(|| Ok(event.as_ref().clone()))
                }
                Err(_) => Some(Err(Status::resource_exhausted(format!(
                    "this watcher fell more than {} events behind; watch again",
                    crate::kafka::WATCH_BUFFER
                )))),
            };
            std::future::ready(answer)
        });
        let mut shutdown = self.shutdown.clone();
        let stream = futures::StreamExt::take_until(stream, async move { shutdown.recv().await });
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all)]
    async fn create_order(
        &self,
        request: Request<pb::CreateOrderRequest>,
    ) -> Result<Response<pb::CreateOrderResponse>, Status> {
        let (claims, _) = auth::calling_user(
            request.metadata(),
            &self.verifier,
            &Access::write("order").for_roles(CUSTOMERS).from_services(GATEWAY),
        )?;
        let customer = CustomerId::from_uuid(claims.user_id);
        let trace = trace(request.metadata());
        let request = request.into_inner();
        let lines = request
            .items
            .into_iter()
            .map(|i| CartLineInput { menu_item_id: i.menu_item_id, quantity: i64::from(i.quantity), note: i.note })
            .collect();
        let placed = self
            .service
            .create_order(
                customer,
                lines,
                request.idempotency_key.as_deref(),
                (wire::order_type_of(request.order_type), request.table_label.as_deref()),
                trace,
            )
            .await
            .map_err(|e| status(&e))?;
        let (Placed::New(order) | Placed::Replayed(order)) = placed;
        Ok(Response::new(pb::CreateOrderResponse { order: Some(wire::order(&order)) }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_order(&self, request: Request<pb::GetOrderRequest>) -> Result<Response<pb::GetOrderResponse>, Status> {
        let id = request.get_ref().id.clone();
        let (claims, _) = auth::calling_user(
            request.metadata(),
            &self.verifier,
            &Access::read("order").of(&id).from_services(GATEWAY),
        )?;
        let order = self.service.get_order(&Caller::from(&claims), &id).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetOrderResponse { order: Some(wire::order(&order)) }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_menu_items(
        &self,
        request: Request<pb::ListMenuItemsRequest>,
    ) -> Result<Response<pb::ListMenuItemsResponse>, Status> {
        // The menu is public, but only platform services call this API.
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu").from_services(GATEWAY))?;
        let request = request.into_inner();
        let category = match request.category {
            None => None,
            Some(value) => Some(
                wire::category_from(value)
                    .ok_or_else(|| Status::invalid_argument(format!("unknown menu category {value}")))?,
            ),
        };
        let first = (request.first != 0).then_some(i64::from(request.first));
        let page = self.service.menu(first, request.after.as_deref(), category).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::ListMenuItemsResponse {
            edges: page
                .items
                .iter()
                .map(|(item, cursor)| pb::MenuItemEdge { item: Some(wire::menu_item(item)), cursor: cursor.clone() })
                .collect(),
            has_next_page: page.has_next_page,
        }))
    }
}
