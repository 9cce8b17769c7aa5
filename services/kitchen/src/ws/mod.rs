//! The tablet WebSocket adapter: `GET /ws`, one [`TabletSession`] actor per socket. The message
//! format is in `services/kitchen/PROTOCOL.md` and [`protocol`].

pub mod protocol;
mod session;

pub use session::TabletSession;

use crate::actors::TicketHub;
use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use deadpool_postgres::Pool;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(connect));
}

async fn connect(
    request: HttpRequest,
    stream: web::Payload,
    hub: web::Data<Addr<TicketHub>>,
    pool: web::Data<Pool>,
) -> Result<HttpResponse, actix_web::Error> {
    let session = TabletSession::new(hub.get_ref().clone(), pool.get_ref().clone());
    actix_web_actors::ws::start(session, &request, stream)
}
