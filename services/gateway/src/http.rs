//! The HTTP adapter: `POST /graphql` (JSON GraphQL), `GET /graphql` (GraphiQL), ops endpoints.

use crate::backends::{OrdersBackend, UsersBackend};
use crate::graphql::{Caller, Context, Schema};
use actix_web::{HttpRequest, HttpResponse, web};
use tokens::{Access, Principal, TokenError, TokenVerifier};

/// What every request's [`Context`] is made from.
#[derive(Clone)]
pub struct Backends {
    pub orders: OrdersBackend,
    pub users: UsersBackend,
    pub verifier: TokenVerifier,
}

/// Who sent the request, from its `Authorization: Bearer` header.
fn caller(request: &HttpRequest, verifier: &TokenVerifier) -> Result<Option<Caller>, TokenError> {
    let Some(header) = request.headers().get("authorization") else { return Ok(None) };
    let token = header.to_str().ok().and_then(tokens::bearer).ok_or(TokenError::Invalid)?;
    match verifier.authorize(&token, &Access::read("api"))? {
        Principal::User(claims) => Ok(Some(Caller { claims, token })),
        Principal::Service(_) => Err(TokenError::Forbidden("service tokens are not for the public API".into())),
    }
}

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphiql));
}

async fn graphql(
    request: HttpRequest,
    payload: web::Payload,
    schema: web::Data<Schema>,
    backends: web::Data<Backends>,
) -> Result<HttpResponse, actix_web::Error> {
    let context = Context {
        orders: backends.orders.clone(),
        users: backends.users.clone(),
        caller: caller(&request, &backends.verifier),
    };
    juniper_actix::graphql_handler(&schema, &context, request, payload).await
}

async fn graphiql() -> Result<HttpResponse, actix_web::Error> {
    juniper_actix::graphiql_handler("/graphql", None).await
}
