//! The kitchen's REST endpoints: `GET /tickets?status=`, `GET /ticket/{orderId}`,
//! `POST /order/{orderId}/done` and the SSE feed `GET /stream`.

use crate::domain::TicketStatus;
use crate::store;
use crate::ws::protocol::TicketView;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Deserialize;
use service_kit::http::{json_error, query_config};
use tokens::{Access, Principal, Role, TokenError, TokenVerifier};

/// Every kitchen endpoint is for kitchen staff.
pub const STAFF: &[Role] = &[Role::KitchenStaff];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(query_config())
        .route("/tickets", web::get().to(list_tickets))
        .route("/ticket/{order_id}", web::get().to(get_ticket))
        .route("/order/{order_id}/done", web::post().to(complete_order))
        .route("/stream", web::get().to(stream::new_tickets));
}

mod stream;

/// `POST /order/{orderId}/done`: completes the order through the orders service (the ticket
/// follows through the event log).
async fn complete_order(
    request: HttpRequest,
    deps: web::Data<crate::ws::Deps>,
    order_id: web::Path<String>,
) -> HttpResponse {
    let order_id = order_id.into_inner();
    let token = match request.headers().get("authorization").and_then(|h| h.to_str().ok()).and_then(tokens::bearer) {
        Some(token) => token,
        None => return token_error(&TokenError::Missing),
    };
    if let Err(refusal) = authorize(&request, &deps.verifier, Access::write("ticket").of(&order_id)) {
        return refusal;
    }
    let Ok(id) = uuid::Uuid::parse_str(&order_id) else {
        return json_error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "the order id is not a UUID");
    };
    let ticket = async {
        let client = deps.pool.get().await?;
        store::tickets::by_order(&client, id).await
    }
    .await;
    let ticket = match ticket {
        Ok(Some(ticket)) => ticket,
        Ok(None) => {
            return json_error(StatusCode::NOT_FOUND, "NOT_FOUND", format!("there is no ticket for order {id}"));
        }
        Err(e) => return unexpected(&e),
    };
    match deps.orders.apply(&token, &order_id, ticket.status, crate::grpc::OrderCommand::Complete).await {
        Ok(status) => HttpResponse::Ok().json(serde_json::json!({ "orderId": order_id, "status": status })),
        Err(refused) => {
            let status = match refused.code {
                "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
                "NOT_FOUND" => StatusCode::NOT_FOUND,
                "CONFLICT" => StatusCode::CONFLICT,
                "FORBIDDEN" => StatusCode::FORBIDDEN,
                "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
                "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            json_error(status, refused.code, refused.message)
        }
    }
}

/// Checks the request's bearer token against `access` (kitchen staff only).
pub fn authorize(
    request: &HttpRequest,
    verifier: &TokenVerifier,
    access: Access,
) -> Result<tokens::UserClaims, HttpResponse> {
    let verdict = (|| {
        let header = request.headers().get("authorization").ok_or(TokenError::Missing)?;
        let token = header.to_str().ok().and_then(tokens::bearer).ok_or(TokenError::Invalid)?;
        match verifier.authorize(&token, &access.for_roles(STAFF))? {
            Principal::User(user) => Ok(user),
            Principal::Service(_) => Err(TokenError::Forbidden("kitchen endpoints are for kitchen staff".into())),
        }
    })();
    verdict.map_err(|e| token_error(&e))
}

/// The one mapping from a token refusal to an HTTP answer.
pub fn token_error(error: &TokenError) -> HttpResponse {
    if error.is_unauthenticated() {
        json_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", error)
    } else {
        json_error(StatusCode::FORBIDDEN, "FORBIDDEN", error)
    }
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "error": { "code": code, "message": message } })
}

fn unexpected(e: &anyhow::Error) -> HttpResponse {
    tracing::error!(error = format!("{e:#}"), "request failed");
    HttpResponse::InternalServerError().json(error_body("INTERNAL", "internal error"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsQuery {
    status: Option<String>,
}

async fn list_tickets(
    request: HttpRequest,
    deps: web::Data<crate::ws::Deps>,
    query: web::Query<TicketsQuery>,
) -> HttpResponse {
    if let Err(refusal) = authorize(&request, &deps.verifier, Access::read("ticket")) {
        return refusal;
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(value) => {
            match TicketStatus::parse(value) {
                Some(status) => Some(status),
                None => {
                    return HttpResponse::BadRequest().json(error_body(
                    "BAD_USER_INPUT",
                    &format!("unknown status {:?}; expected one of PLACED, ACCEPTED, PREPARING, READY, COMPLETED, CANCELLED", value.chars().take(40).collect::<String>()),
                ));
                }
            }
        }
    };
    let result = async {
        let client = deps.pool.get().await?;
        store::tickets::by_status(&client, status).await
    }
    .await;
    match result {
        Ok(tickets) => HttpResponse::Ok().json(serde_json::json!({
            "tickets": tickets.iter().map(TicketView::from).collect::<Vec<_>>()
        })),
        Err(e) => unexpected(&e),
    }
}

async fn get_ticket(
    request: HttpRequest,
    deps: web::Data<crate::ws::Deps>,
    order_id: web::Path<String>,
) -> HttpResponse {
    if let Err(refusal) = authorize(&request, &deps.verifier, Access::read("ticket").of(order_id.as_str())) {
        return refusal;
    }
    let Ok(order_id) = uuid::Uuid::parse_str(&order_id) else {
        return HttpResponse::BadRequest().json(error_body("BAD_USER_INPUT", "the order id is not a UUID"));
    };
    let result = async {
        let client = deps.pool.get().await?;
        store::tickets::by_order(&client, order_id).await
    }
    .await;
    match result {
        Ok(Some(ticket)) => HttpResponse::Ok().json(TicketView::from(&ticket)),
        Ok(None) => {
            HttpResponse::NotFound().json(error_body("NOT_FOUND", &format!("there is no ticket for order {order_id}")))
        }
        Err(e) => unexpected(&e),
    }
}
