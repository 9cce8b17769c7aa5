//! `GET /stream?access_token=…`: the seed's Server-Sent Events feed of new orders, with their
//! item names. The token rides in the URL because `EventSource` cannot send headers; the
//! access log prints paths without query strings, so it never reaches a log. The stream ends
//! when the token does: revoked (its lease is looked up whenever the process's revocation list
//! grows) or expired.

use crate::actors::SubscribeStream;
use crate::service::{ErrorKind, Kitchen};
use crate::wire::TicketView;
use actix_web::{HttpResponse, web};
use futures::StreamExt as _;
use serde::Deserialize;
use service_kit::http::{error_response, kind_response};
use tokens::{Access, Token, TokenError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamQuery {
    access_token: Option<String>,
}

pub(super) async fn new_tickets(kitchen: web::Data<Kitchen>, query: web::Query<StreamQuery>) -> HttpResponse {
    let Some(token) = query.into_inner().access_token.filter(|t| !t.is_empty()) else {
        return error_response(&TokenError::Missing);
    };
    let lease = match kitchen.lease(&Token::new(token), Access::read("ticket")) {
        Ok(lease) => lease,
        Err(e) => return error_response(&e),
    };
    let Ok(changes) = kitchen.hub().send(SubscribeStream).await else {
        return kind_response(ErrorKind::Unavailable, "the kitchen is shutting down");
    };
    let token_ended = async move {
        let reason = lease.ended().await;
        tracing::info!(%reason, "closing an SSE stream: its token ended");
    };
    let events = tokio_stream::wrappers::BroadcastStream::new(changes).filter_map(|change| async move {
        // A listener that fell behind just misses those; new orders are what this feed shows.
        let change = change.ok()?;
        (change.ticket.order_version == 1).then(|| {
            let data = serde_json::json!({ "seq": change.seq, "ticket": TicketView::from(&change.ticket) });
            Ok::<_, actix_web::Error>(web::Bytes::from(format!("event: ticket\ndata: {data}\n\n")))
        })
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(events.take_until(token_ended))
}
