//! The HTTP adapter: `POST /graphql` (one JSON GraphQL request: batches are refused, and a
//! request's cost is checked before it runs), `GET /graphql` (GraphiQL, or the subscription
//! socket: [`crate::sockets`]), `/config.json` and the web UI.

use crate::backends::{OrdersBackend, UsersBackend};
use crate::graphql::{Caller, Context, Refusal, Schema, cost};
use crate::live::LiveOrders;
use crate::live_menu::LiveMenu;
use crate::loaders::Loaders;
use crate::sockets::{OpenSockets, SocketLimits};
use actix_web::{HttpRequest, HttpResponse, web};
use juniper::http::{GraphQLBatchRequest, GraphQLRequest};
use service_kit::Classified;
use service_kit::trace::{HEADER as TRACE_HEADER, TraceParent};
use std::sync::Arc;
use tokens::{Access, Principal, TokenError, TokenVerifier};

/// What every request's [`Context`] is made from.
#[derive(Clone)]
pub struct Backends {
    pub orders: OrdersBackend,
    pub users: UsersBackend,
    pub verifier: TokenVerifier,
    pub live: LiveOrders,
    pub menu: LiveMenu,
    /// Signed-in subscription sockets, by user (at most `socket_limits.sockets_per_user` each).
    pub open_sockets: OpenSockets,
    pub socket_limits: SocketLimits,
    /// GraphQL POSTs being served (at most `REQUESTS_IN_FLIGHT`).
    pub in_flight: RequestsInFlight,
}

/// GraphQL POSTs being served, at most a fixed number at once: one more is turned away at once
/// (503, `UNAVAILABLE`, `retryAfter`) instead of queued. Under overload a queue only makes
/// every answer late: each waiting request holds its client's socket and memory after the
/// client gave up, and is still sent to the backends, which keeps them overloaded (a soak's
/// gateway reached 20,000 sockets with requests 90 s old). How many are being served is the
/// gauge `gateway_requests_in_flight`.
#[derive(Clone)]
pub struct RequestsInFlight {
    places: Arc<tokio::sync::Semaphore>,
    served: prometheus::IntGauge,
}

/// One request's place among [`RequestsInFlight`], given back when dropped (answered, or
/// abandoned by its client).
pub struct Place {
    _permit: tokio::sync::OwnedSemaphorePermit,
    served: prometheus::IntGauge,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.served.dec();
    }
}

impl RequestsInFlight {
    pub fn new(max: usize, registry: &prometheus::Registry) -> anyhow::Result<Self> {
        let served = prometheus::IntGauge::new("gateway_requests_in_flight", "GraphQL POSTs being served")?;
        registry.register(Box::new(served.clone()))?;
        Ok(Self { places: Arc::new(tokio::sync::Semaphore::new(max.max(1))), served })
    }

    /// A place for one request, held until dropped; none when every place is taken.
    fn admit(&self) -> Option<Place> {
        let permit = self.places.clone().try_acquire_owned().ok()?;
        self.served.inc();
        Some(Place { _permit: permit, served: self.served.clone() })
    }
}

/// The longest a GraphQL POST is worked on: a request still unanswered then is answered
/// `UNAVAILABLE` and its backend calls are dropped. Each backend call has
/// `service_kit::grpc::CALL_DEADLINE` (5 s); a request makes at most a couple in a row.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

impl Backends {
    /// The context of one request (or socket) from `client_address`.
    pub fn context(
        &self,
        caller: Result<Option<Caller>, TokenError>,
        client_address: Option<std::net::IpAddr>,
    ) -> Context {
        let token = caller.as_ref().ok().and_then(Option::as_ref).map(|c| &c.token);
        Context {
            loaders: Loaders::new(&self.orders, &self.users, token),
            orders: self.orders.clone(),
            users: self.users.clone(),
            live: self.live.clone(),
            menu: self.menu.clone(),
            caller,
            client_address,
            socket: None,
            session: None,
            verifier: self.verifier.clone(),
        }
    }
}

/// Who a bearer token is, for the public API.
pub fn verify(header: &str, verifier: &TokenVerifier) -> Result<Option<Caller>, TokenError> {
    let token = tokens::bearer(header).ok_or(TokenError::Invalid)?;
    match verifier.authorize(&token, &Access::read("api"))? {
        Principal::User(claims) => Ok(Some(Caller { claims, token })),
        Principal::Service(_) => Err(TokenError::Forbidden("service tokens are not for the public API".into())),
    }
}

/// Who sent the request, from its `Authorization: Bearer` header.
fn caller(request: &HttpRequest, verifier: &TokenVerifier) -> Result<Option<Caller>, TokenError> {
    let Some(header) = request.headers().get("authorization") else { return Ok(None) };
    verify(header.to_str().map_err(|_| TokenError::Invalid)?, verifier)
}

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql))
        .route(
            "/graphql",
            web::get().guard(actix_web::guard::Header("upgrade", "websocket")).to(crate::sockets::subscriptions),
        )
        .route("/graphql", web::get().to(graphiql));
}

/// A refusal as a GraphQL answer (400): `errors[0].extensions.code` is its kind's code.
fn refused(refusal: &dyn Classified) -> HttpResponse {
    let message: &dyn std::fmt::Display = refusal;
    HttpResponse::BadRequest().json(serde_json::json!({
        "errors": [{ "message": message.to_string(), "extensions": { "code": refusal.kind().code() } }]
    }))
}

/// A request turned away or given up by the gateway (503 with `Retry-After`): the GraphQL
/// error says `UNAVAILABLE` and when to ask again.
fn unavailable(refusal: &Refusal) -> HttpResponse {
    let wait = service_kit::error::retry_after_seconds(refusal.retry_after().unwrap_or_default());
    HttpResponse::ServiceUnavailable().insert_header(("retry-after", wait.to_string())).json(serde_json::json!({
        "errors": [{
            "message": refusal.to_string(),
            "extensions": { "code": refusal.kind().code(), "retryAfter": wait },
        }]
    }))
}

/// The body of a POST: one request (JSON, or the query alone as `application/graphql`).
fn one_request(request: &HttpRequest, body: &[u8]) -> Result<GraphQLRequest, Refusal> {
    let content_type = request.headers().get("content-type").and_then(|h| h.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type {
        "application/json" => match serde_json::from_slice::<GraphQLBatchRequest>(body) {
            Ok(GraphQLBatchRequest::Single(one)) => Ok(one),
            Ok(GraphQLBatchRequest::Batch(_)) => Err(Refusal::Batch),
            Err(e) => Err(Refusal::NotGraphQL(format!("the body is not a GraphQL request: {e}"))),
        },
        "application/graphql" => match std::str::from_utf8(body) {
            Ok(query) => Ok(GraphQLRequest::new(query.to_owned(), None, None)),
            Err(_) => Err(Refusal::NotGraphQL("the query is not UTF-8".to_owned())),
        },
        _ => Err(Refusal::NotGraphQL("send application/json (or application/graphql)".to_owned())),
    }
}

async fn graphql(
    request: HttpRequest,
    body: web::Bytes,
    schema: web::Data<Schema>,
    backends: web::Data<Backends>,
) -> HttpResponse {
    use tracing::Instrument as _;
    // Turned away before anything else, while it costs nothing.
    let Some(_place) = backends.in_flight.admit() else {
        return unavailable(&Refusal::Busy);
    };
    // Continue the caller's trace, or start one: it follows the order to the tablet.
    let trace = request
        .headers()
        .get(TRACE_HEADER)
        .and_then(|h| h.to_str().ok())
        .and_then(TraceParent::parse)
        .unwrap_or_else(TraceParent::generate);
    let span = tracing::info_span!("graphql", trace_id = %trace.trace_id());
    let started = std::time::Instant::now();
    // Refused before anything runs: not one request, or one that costs too much.
    let one = one_request(&request, &body)
        .and_then(|one| cost::check(&schema, &one.query, one.operation_name.as_deref()).map(|()| one));
    let one = match one {
        Ok(one) => one,
        Err(refusal) => {
            span.in_scope(|| tracing::info!(error = %refusal, "graphql refused"));
            return refused(&refusal);
        }
    };
    // The peer, or the client a trusted reverse proxy names (`TRUSTED_PROXIES`).
    let client_address = service_kit::http::client_address(&request);
    let context = backends.context(caller(&request, &backends.verifier), client_address);
    let execution = crate::backends::TRACE.scope(trace, one.execute(&schema, &context)).instrument(span.clone());
    let Ok(answer) = tokio::time::timeout(REQUEST_DEADLINE, execution).await else {
        let refusal = Refusal::TooSlow(REQUEST_DEADLINE);
        span.in_scope(|| tracing::warn!(error = %refusal, "graphql given up"));
        return unavailable(&refusal);
    };
    let status =
        if answer.is_ok() { actix_web::http::StatusCode::OK } else { actix_web::http::StatusCode::BAD_REQUEST };
    // One line per request, with the trace id that the services after this one log too.
    span.in_scope(|| tracing::info!(status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "graphql"));
    HttpResponse::build(status).json(answer)
}

async fn graphiql() -> Result<HttpResponse, actix_web::Error> {
    juniper_actix::graphiql_handler("/graphql", Some("/graphql")).await
}

/// What the web UI needs to know at run time.
#[derive(Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebConfig {
    pub kitchen_url: String,
}

/// `/config.json` and, when a build of the web UI is there, the UI itself at `/`
/// ([`crate::web_ui`]: pre-compressed, cached by kind, the UI's own routes get the page).
pub fn configure_web(cfg: &mut web::ServiceConfig, config: WebConfig, assets: Option<std::path::PathBuf>) {
    cfg.route(
        "/config.json",
        web::get().to(move || {
            let config = config.clone();
            async move { HttpResponse::Ok().json(config) }
        }),
    );
    if let Some(dir) = assets {
        crate::web_ui::configure(cfg, dir);
    }
}
