//! The kitchen's REST endpoints: `GET /tickets?status=&first=&after=` (paged),
//! `GET /ticket/{orderId}`,
//! `POST /order/{orderId}/done`, `GET /speed` (today's speed of service) and the SSE feed
//! `GET /stream`. Each checks the caller's token,
//! calls the kitchen core and maps the result; errors go through `service_kit`'s one mapping.

use crate::domain::CookCommand;
use crate::service::Kitchen;
use crate::wire::TicketView;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service_kit::http::{error_response, query_config};
use tokens::{Access, Token, TokenError};

mod stream;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(query_config())
        .route("/tickets", web::get().to(list_tickets))
        .route("/ticket/{order_id}", web::get().to(get_ticket))
        .route("/order/{order_id}/done", web::post().to(complete_order))
        .route("/stream", web::get().to(stream::new_tickets))
        .route("/speed", web::get().to(speed));
}

/// The request's `Authorization: Bearer` token.
fn bearer_token(request: &HttpRequest) -> Result<Token, TokenError> {
    let header = request.headers().get("authorization").ok_or(TokenError::Missing)?;
    header.to_str().ok().and_then(tokens::bearer).ok_or(TokenError::Invalid)
}

/// Checks the request's bearer token against `access` (kitchen staff only).
fn authorize(request: &HttpRequest, kitchen: &Kitchen, access: Access) -> Result<(), TokenError> {
    bearer_token(request).and_then(|token| kitchen.authorize(&token, access)).map(drop)
}

/// `POST /order/{orderId}/done`: completes a READY order through the orders service (the ticket
/// follows through the event log).
async fn complete_order(
    request: HttpRequest,
    kitchen: web::Data<Kitchen>,
    order_id: web::Path<String>,
) -> HttpResponse {
    let token = match bearer_token(&request) {
        Ok(token) => token,
        Err(e) => return error_response(&e),
    };
    match kitchen.command(&token, &order_id, CookCommand::Complete).await {
        Ok(status) => {
            HttpResponse::Ok().json(serde_json::json!({ "orderId": order_id.as_str(), "status": status.as_str() }))
        }
        Err(e) => error_response(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsQuery {
    status: Option<String>,
    /// Page size (`service::DEFAULT_PAGE` when absent, at most `service::MAX_PAGE`).
    first: Option<i64>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

async fn list_tickets(
    request: HttpRequest,
    kitchen: web::Data<Kitchen>,
    query: web::Query<TicketsQuery>,
) -> HttpResponse {
    if let Err(e) = authorize(&request, &kitchen, Access::read("ticket")) {
        return error_response(&e);
    }
    match kitchen.tickets(query.status.as_deref(), query.first, query.after.as_deref()).await {
        Ok(page) => {
            let tickets: Vec<_> = page.tickets.iter().map(TicketView::from).collect();
            // The last page keeps the unpaged answer's shape: `next` only when there is more.
            HttpResponse::Ok().json(match page.next {
                Some(next) => serde_json::json!({ "tickets": tickets, "next": next }),
                None => serde_json::json!({ "tickets": tickets }),
            })
        }
        Err(e) => error_response(&e),
    }
}

/// `GET /speed`: today's speed of service, for the manager's page.
async fn speed(request: HttpRequest, kitchen: web::Data<Kitchen>) -> HttpResponse {
    if let Err(e) = authorize(&request, &kitchen, Access::read("ticket")) {
        return error_response(&e);
    }
    match kitchen.speed_today().await {
        Ok(report) => HttpResponse::Ok().json(crate::wire::SpeedView::from(&report)),
        Err(e) => error_response(&e),
    }
}

async fn get_ticket(request: HttpRequest, kitchen: web::Data<Kitchen>, order_id: web::Path<String>) -> HttpResponse {
    if let Err(e) = authorize(&request, &kitchen, Access::read("ticket").of(order_id.as_str())) {
        return error_response(&e);
    }
    match kitchen.ticket(&order_id).await {
        Ok(ticket) => HttpResponse::Ok().json(TicketView::from(&ticket)),
        Err(e) => error_response(&e),
    }
}
