use super::status;
use crate::actors::Placed;
use crate::caller::Caller;
use crate::domain::{CartLineInput, CustomerId};
use tokens::{Access, Role, TokenVerifier, grpc as auth};
use crate::service::OrdersService;
use crate::wire;
use restaurant_proto::v1 as pb;
use tonic::{Request, Response, Status};

pub struct OrderApi {
    service: OrdersService,
    verifier: TokenVerifier,
}

impl OrderApi {
    pub fn new(service: OrdersService, verifier: TokenVerifier) -> Self {
        Self { service, verifier }
    }
}

/// Only customers place orders.
const CUSTOMERS: &[Role] = &[Role::Customer];

#[tonic::async_trait]
impl pb::order_service_server::OrderService for OrderApi {
    #[tracing::instrument(skip_all)]
    async fn create_order(
        &self,
        request: Request<pb::CreateOrderRequest>,
    ) -> Result<Response<pb::CreateOrderResponse>, Status> {
        let (claims, _) = auth::calling_user(request.metadata(), &self.verifier, &Access::write("order").for_roles(CUSTOMERS))?;
        let customer = CustomerId::from_uuid(claims.user_id);
        let request = request.into_inner();
        let lines = request
            .items
            .into_iter()
            .map(|i| CartLineInput { menu_item_id: i.menu_item_id, quantity: i64::from(i.quantity), note: i.note })
            .collect();
        let placed = self
            .service
            .create_order(customer, lines, request.idempotency_key.as_deref())
            .await
            .map_err(|e| status(e.kind(), &e))?;
        let (Placed::New(order) | Placed::Replayed(order)) = placed;
        Ok(Response::new(pb::CreateOrderResponse { order: Some(wire::order(&order)) }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_order(&self, request: Request<pb::GetOrderRequest>) -> Result<Response<pb::GetOrderResponse>, Status> {
        let id = request.get_ref().id.clone();
        let (claims, _) = auth::calling_user(request.metadata(), &self.verifier, &Access::read("order").of(&id))?;
        let order = self.service.get_order(&Caller::from(&claims), &id).await.map_err(|e| status(e.kind(), &e))?;
        Ok(Response::new(pb::GetOrderResponse { order: Some(wire::order(&order)) }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_menu_items(
        &self,
        request: Request<pb::ListMenuItemsRequest>,
    ) -> Result<Response<pb::ListMenuItemsResponse>, Status> {
        // The menu is public, but only platform services call this API.
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("menu"))?;
        let request = request.into_inner();
        let category = match request.category {
            None => None,
            Some(value) => Some(
                wire::category_from(value)
                    .ok_or_else(|| Status::invalid_argument(format!("unknown menu category {value}")))?,
            ),
        };
        let first = (request.first != 0).then_some(i64::from(request.first));
        let page = self
            .service
            .menu(first, request.after.as_deref(), category)
            .await
            .map_err(|e| status(e.kind(), &e))?;
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
