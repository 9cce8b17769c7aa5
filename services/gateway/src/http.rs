//! The HTTP adapter: `POST /graphql` (JSON GraphQL), `GET /graphql` (GraphiQL), ops endpoints.

use crate::graphql::{Context, Schema};
use actix_web::{HttpRequest, HttpResponse, web};

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
    context: web::Data<Context>,
) -> Result<HttpResponse, actix_web::Error> {
    juniper_actix::graphql_handler(&schema, &context, request, payload).await
}

async fn graphiql() -> Result<HttpResponse, actix_web::Error> {
    juniper_actix::graphiql_handler("/graphql", None).await
}
