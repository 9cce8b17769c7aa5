//! The tablet WebSocket adapter: `GET /ws`, one [`TabletSession`] actor per socket. The message
//! format is in `services/kitchen/PROTOCOL.md` and [`protocol`].

pub mod protocol;
pub mod session;

pub use session::TabletSession;

use crate::actors::TicketHub;
use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use deadpool_postgres::Pool;
use tokens::TokenVerifier;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(connect));
}

/// A tablet may authenticate in the upgrade request (`Authorization: Bearer`), or, when it
/// cannot set headers (a browser), with a first message `{"type":"auth","token":"…"}`.
async fn connect(
    request: HttpRequest,
    stream: web::Payload,
    hub: web::Data<Addr<TicketHub>>,
    pool: web::Data<Pool>,
    verifier: web::Data<TokenVerifier>,
) -> Result<HttpResponse, actix_web::Error> {
    let token = match request.headers().get("authorization") {
        None => None,
        Some(header) => {
            let token = header.to_str().ok().and_then(tokens::bearer);
            let verdict = token
                .clone()
                .ok_or(tokens::TokenError::Invalid)
                .and_then(|t| session::check(&verifier, &t));
            if let Err(e) = verdict {
                return Ok(crate::http::token_error(&e));
            }
            token
        }
    };
    let session = TabletSession::new(hub.get_ref().clone(), pool.get_ref().clone(), verifier.get_ref().clone(), token);
    actix_web_actors::ws::start(session, &request, stream)
}
