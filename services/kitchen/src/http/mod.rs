//! The kitchen's REST endpoints: `GET /tickets?status=` and `GET /ticket/{orderId}`.

use crate::domain::TicketStatus;
use crate::store;
use crate::ws::protocol::TicketView;
use actix_web::{HttpResponse, web};
use deadpool_postgres::Pool;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _| {
        let response = HttpResponse::BadRequest().json(error_body("BAD_USER_INPUT", &err.to_string()));
        actix_web::error::InternalError::from_response(err, response).into()
    }))
    .route("/tickets", web::get().to(list_tickets))
    .route("/ticket/{order_id}", web::get().to(get_ticket));
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

async fn list_tickets(pool: web::Data<Pool>, query: web::Query<TicketsQuery>) -> HttpResponse {
    let status = match query.status.as_deref() {
        None => None,
        Some(value) => match TicketStatus::parse(value) {
            Some(status) => Some(status),
            None => {
                return HttpResponse::BadRequest().json(error_body(
                    "BAD_USER_INPUT",
                    &format!("unknown status {:?}; expected one of PLACED, ACCEPTED, PREPARING, READY, COMPLETED, CANCELLED", value.chars().take(40).collect::<String>()),
                ));
            }
        },
    };
    let result = async {
        let client = pool.get().await?;
        store::tickets::by_status(&**client, status).await
    }
    .await;
    match result {
        Ok(tickets) => HttpResponse::Ok().json(serde_json::json!({
            "tickets": tickets.iter().map(TicketView::from).collect::<Vec<_>>()
        })),
        Err(e) => unexpected(&e),
    }
}

async fn get_ticket(pool: web::Data<Pool>, order_id: web::Path<String>) -> HttpResponse {
    let Ok(order_id) = uuid::Uuid::parse_str(&order_id) else {
        return HttpResponse::BadRequest().json(error_body("BAD_USER_INPUT", "the order id is not a UUID"));
    };
    let result = async {
        let client = pool.get().await?;
        store::tickets::by_order(&**client, order_id).await
    }
    .await;
    match result {
        Ok(Some(ticket)) => HttpResponse::Ok().json(TicketView::from(&ticket)),
        Ok(None) => HttpResponse::NotFound().json(error_body("NOT_FOUND", &format!("there is no ticket for order {order_id}"))),
        Err(e) => unexpected(&e),
    }
}
