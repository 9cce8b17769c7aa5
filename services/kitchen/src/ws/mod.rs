//! The tablet WebSocket adapter: `GET /ws`, one [`TabletSession`] actor per socket. The message
//! format is in `services/kitchen/PROTOCOL.md` and [`protocol`].

pub mod protocol;
pub mod session;

pub use session::TabletSession;

use crate::service::Kitchen;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service_kit::ErrorKind;
use service_kit::http::{AllowedOrigins, error_response, kind_response};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(connect));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectQuery {
    /// A reconnecting tablet's last sequence number (tablets that authenticate by message put
    /// it in the `auth` message instead).
    last_seq: Option<i64>,
    /// The tablet's name, under which the kitchen remembers its stations.
    device: Option<String>,
    /// The stations it shows, comma-separated (absent: what the device showed last).
    stations: Option<String>,
}

/// A tablet may authenticate in the upgrade request (`Authorization: Bearer`), or, when it
/// cannot set headers (a browser), with a first message `{"type":"auth","token":"…"}`.
async fn connect(
    request: HttpRequest,
    stream: web::Payload,
    kitchen: web::Data<Kitchen>,
    origins: web::Data<AllowedOrigins>,
    query: web::Query<ConnectQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    // Browsers always send Origin on a WebSocket upgrade; other clients may not.
    if let Some(origin) = request.headers().get("origin") {
        let allowed = origin.to_str().is_ok_and(|o| origins.allows(o.trim_end_matches('/')));
        if !allowed {
            return Ok(kind_response(ErrorKind::Forbidden, "this origin may not open the kitchen socket"));
        }
    }
    let token = match request.headers().get("authorization") {
        None => None,
        Some(header) => {
            let token = header.to_str().ok().and_then(tokens::bearer).ok_or(tokens::TokenError::Invalid);
            match token.and_then(|t| Ok((session::check(&kitchen, &t)?, t))) {
                Ok((lease, token)) => Some((token, lease)),
                Err(e) => return Ok(error_response(&e)),
            }
        }
    };
    let query = query.into_inner();
    let wants = session::Wants {
        device: query.device,
        stations: query.stations.map(|s| s.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
    };
    let session = TabletSession::new(kitchen.get_ref().clone(), token, query.last_seq, wants);
    actix_web_actors::ws::start(session, &request, stream)
}
