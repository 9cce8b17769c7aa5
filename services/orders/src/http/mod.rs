//! The HTTP adapter: `POST /order/create` (the seed's REST endpoint, for a customer's bearer
//! token) and the ops endpoints.

mod dto;

use crate::actors::Placed;
use crate::domain::{CartLineInput, CustomerId, OrderType};
use crate::service::OrdersService;
use actix_web::{HttpRequest, HttpResponse, web};
use service_kit::ErrorKind;
use service_kit::http::{error_response, json_config, kind_response};
use tokens::{Access, Principal, Role, TokenError, TokenVerifier};

/// Largest request body accepted: a full 100-line cart with notes fits well within it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig, service: OrdersService, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(service))
        .app_data(web::Data::new(verifier))
        .app_data(json_config(MAX_BODY_BYTES))
        .route("/order/create", web::post().to(create_order));
}

/// The customer whose bearer token came with the request.
fn customer(request: &HttpRequest, verifier: &TokenVerifier) -> Result<CustomerId, TokenError> {
    let header = request.headers().get("authorization").ok_or(TokenError::Missing)?;
    let token = header.to_str().ok().and_then(tokens::bearer).ok_or(TokenError::Invalid)?;
    match verifier.authorize(&token, &Access::write("order").for_roles(&[Role::Customer]))? {
        Principal::User(user) => Ok(CustomerId::from_uuid(user.user_id)),
        Principal::Service(_) => Err(TokenError::Forbidden("orders are placed by customers".into())),
    }
}

#[tracing::instrument(skip_all)]
async fn create_order(
    request: HttpRequest,
    service: web::Data<OrdersService>,
    verifier: web::Data<TokenVerifier>,
    body: web::Json<dto::CreateOrderBody>,
) -> HttpResponse {
    let customer = match customer(&request, &verifier) {
        Ok(customer) => customer,
        Err(e) => return error_response(&e),
    };
    let key = match request.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(_)) => {
            return kind_response(ErrorKind::InvalidInput, "the Idempotency-Key header is not plain text");
        }
    };
    let lines = body
        .into_inner()
        .items
        .into_iter()
        .map(|i| CartLineInput { menu_item_id: i.menu_item_id, quantity: i.quantity, note: i.note })
        .collect();
    let trace = request
        .headers()
        .get(service_kit::trace::HEADER)
        .and_then(|h| h.to_str().ok())
        .and_then(service_kit::trace::TraceParent::parse)
        .map(|t| t.child());
    // The seed's REST shape: no order type or table (GraphQL's checkout has them).
    match service.create_order(customer, lines, key, (OrderType::Unspecified, None), trace).await {
        Ok(Placed::New(order)) => HttpResponse::Created().json(dto::OrderBody::from(&order)),
        Ok(Placed::Replayed(order)) => HttpResponse::Ok().json(dto::OrderBody::from(&order)),
        Err(e) => error_response(&e),
    }
}
