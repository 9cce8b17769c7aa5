//! The HTTP adapter: `POST /auth/register` and `POST /auth/login`, as the seed had them.

use crate::domain::User;
use crate::service::{Session, UsersService};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::{Deserialize, Serialize};
use service_kit::http::{error_response, json_config};

/// Largest request body accepted: credentials are small.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig, service: UsersService) {
    cfg.app_data(web::Data::new(service))
        .app_data(json_config(MAX_BODY_BYTES))
        .route("/auth/register", web::post().to(register))
        .route("/auth/login", web::post().to(login));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    id: String,
    username: String,
    role: &'static str,
    created_at: String,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.clone(),
            role: user.role.as_str(),
            created_at: user.created_at.to_rfc3339(),
        }
    }
}

fn session(status: StatusCode, session: &Session) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({
        "token": session.token.as_str(),
        "user": UserBody::from(&session.user),
    }))
}

/// The client's address: the peer's, or what a trusted reverse proxy (`TRUSTED_PROXIES`)
/// forwarded; a forwarding header from anyone else is ignored.
fn client_address(request: &HttpRequest) -> Option<std::net::IpAddr> {
    service_kit::http::client_address(request)
}

async fn register(
    request: HttpRequest,
    service: web::Data<UsersService>,
    body: web::Json<Credentials>,
) -> HttpResponse {
    match service.register(&body.username, &body.password, client_address(&request)).await {
        Ok(s) => session(StatusCode::CREATED, &s),
        Err(e) => error_response(&e),
    }
}

async fn login(request: HttpRequest, service: web::Data<UsersService>, body: web::Json<Credentials>) -> HttpResponse {
    match service.login(&body.username, &body.password, client_address(&request)).await {
        Ok(s) => session(StatusCode::OK, &s),
        Err(e) => error_response(&e),
    }
}
