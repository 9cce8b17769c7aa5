//! The HTTP adapter: `POST /order/create` (the seed's REST endpoint) and the ops endpoints.

mod dto;

use crate::actors::Placed;
use crate::domain::CartLineInput;
use crate::service::{ErrorKind, OrdersService};
use actix_web::{HttpRequest, HttpResponse, error, web};

/// Largest request body accepted: a full 100-line cart with notes fits well within it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig, service: OrdersService) {
    cfg.app_data(web::Data::new(service))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY_BYTES)
                .error_handler(|err, _| json_error(err)),
        )
        .route("/order/create", web::post().to(create_order));
}

/// Malformed, oversized or mistyped JSON: a 4xx that says what is wrong.
fn json_error(err: error::JsonPayloadError) -> actix_web::Error {
    let (status, code) = match &err {
        error::JsonPayloadError::Overflow { .. } | error::JsonPayloadError::OverflowKnownLength { .. } => {
            (actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
        }
        error::JsonPayloadError::ContentType => {
            (actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
        }
        _ => (actix_web::http::StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
    };
    let body = dto::ErrorBody::new(code, &err.to_string());
    error::InternalError::from_response(err, HttpResponse::build(status).json(body)).into()
}

/// The one mapping from an error to an HTTP answer.
fn error_response(kind: ErrorKind, error: &dyn std::fmt::Display) -> HttpResponse {
    match kind {
        ErrorKind::InvalidInput => HttpResponse::BadRequest().json(dto::ErrorBody::new("BAD_USER_INPUT", error)),
        ErrorKind::NotFound => HttpResponse::NotFound().json(dto::ErrorBody::new("NOT_FOUND", error)),
        ErrorKind::Conflict => HttpResponse::Conflict().json(dto::ErrorBody::new("CONFLICT", error)),
        ErrorKind::Unexpected => {
            tracing::error!(error = %error, "request failed");
            HttpResponse::InternalServerError().json(dto::ErrorBody::new("INTERNAL", &"internal error"))
        }
    }
}

#[tracing::instrument(skip_all)]
async fn create_order(
    request: HttpRequest,
    service: web::Data<OrdersService>,
    body: web::Json<dto::CreateOrderBody>,
) -> HttpResponse {
    let key = match request.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(_)) => {
            return error_response(ErrorKind::InvalidInput, &"the Idempotency-Key header is not plain text");
        }
    };
    let lines = body
        .into_inner()
        .items
        .into_iter()
        .map(|i| CartLineInput { menu_item_id: i.menu_item_id, quantity: i.quantity, note: i.note })
        .collect();
    match service.create_order(crate::caller::walk_in_customer(), lines, key).await {
        Ok(Placed::New(order)) => HttpResponse::Created().json(dto::OrderBody::from(&order)),
        Ok(Placed::Replayed(order)) => HttpResponse::Ok().json(dto::OrderBody::from(&order)),
        Err(e) => error_response(e.kind(), &e),
    }
}
