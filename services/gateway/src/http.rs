//! The HTTP adapter: `POST /graphql` (JSON GraphQL), `GET /graphql` (GraphiQL), ops endpoints.

use crate::backends::{OrdersBackend, UsersBackend};
use crate::graphql::{Caller, Context, Schema};
use crate::live::LiveOrders;
use crate::loaders::Loaders;
use actix_web::{HttpRequest, HttpResponse, web};
use juniper_graphql_ws::ConnectionConfig;
use service_kit::trace::{HEADER as TRACE_HEADER, TraceParent};
use tokens::{Access, Principal, TokenError, TokenVerifier};

/// What every request's [`Context`] is made from.
#[derive(Clone)]
pub struct Backends {
    pub orders: OrdersBackend,
    pub users: UsersBackend,
    pub verifier: TokenVerifier,
    pub live: LiveOrders,
}

impl Backends {
    fn context(&self, caller: Result<Option<Caller>, TokenError>) -> Context {
        let token = caller.as_ref().ok().and_then(Option::as_ref).map(|c| &c.token);
        Context {
            loaders: Loaders::new(&self.orders, &self.users, token),
            orders: self.orders.clone(),
            users: self.users.clone(),
            live: self.live.clone(),
            caller,
        }
    }
}

/// Who a bearer token is, for the public API.
fn verify(header: &str, verifier: &TokenVerifier) -> Result<Option<Caller>, TokenError> {
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

/// Keep-alives on subscription sockets: the gateway sends a `pong` this often, and closes a
/// connection whose client has not sent a `ping` within as long (graphql-ws clients need
/// `keepAlive` set below this; the web UI pings every 5 s).
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// `graphql-transport-ws` on `/graphql`: the token comes in `connection_init`'s payload as
/// `{"authorization": "Bearer <token>"}`; a refused token closes the socket (4403).
async fn subscriptions(
    request: HttpRequest,
    payload: web::Payload,
    schema: web::Data<Schema>,
    backends: web::Data<Backends>,
) -> Result<HttpResponse, actix_web::Error> {
    let backends = backends.get_ref().clone();
    let init = move |params: juniper::Variables| async move {
        let header = params.get("authorization").and_then(|v| v.convert::<String>().ok());
        let caller = match header {
            None => Ok(None),
            Some(header) => Some(verify(&header, &backends.verifier)).transpose().map(Option::flatten),
        };
        let caller = caller.map_err(|e| SubscriptionRefused(e.to_string()))?;
        Ok::<_, SubscriptionRefused>(
            ConnectionConfig::new(backends.context(Ok(caller))).with_keep_alive_interval(KEEP_ALIVE),
        )
    };
    juniper_actix::subscriptions::graphql_transport_ws_handler(request, payload, schema.into_inner(), init).await
}

#[derive(Debug)]
struct SubscriptionRefused(String);

impl std::fmt::Display for SubscriptionRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SubscriptionRefused {}

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().guard(actix_web::guard::Header("upgrade", "websocket")).to(subscriptions))
        .route("/graphql", web::get().to(graphiql));
}

async fn graphql(
    request: HttpRequest,
    payload: web::Payload,
    schema: web::Data<Schema>,
    backends: web::Data<Backends>,
) -> Result<HttpResponse, actix_web::Error> {
    use tracing::Instrument as _;
    let context = backends.context(caller(&request, &backends.verifier));
    // Continue the caller's trace, or start one: it follows the order to the tablet.
    let trace = request
        .headers()
        .get(TRACE_HEADER)
        .and_then(|h| h.to_str().ok())
        .and_then(TraceParent::parse)
        .unwrap_or_else(TraceParent::generate);
    let span = tracing::info_span!("graphql", trace_id = %trace.trace_id());
    let started = std::time::Instant::now();
    let answered = crate::backends::TRACE
        .scope(trace, juniper_actix::graphql_handler(&schema, &context, request, payload))
        .instrument(span.clone())
        .await;
    // One line per request, with the trace id that the services after this one log too.
    span.in_scope(|| match &answered {
        Ok(response) => {
            tracing::info!(status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "graphql")
        }
        Err(e) => tracing::info!(error = %e, "graphql refused"),
    });
    answered
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

/// `/config.json` and, when a build of the web UI is there, the UI itself at `/` (every path
/// that is not a file gets `index.html`, so the UI's own routes work on reload).
pub fn configure_web(cfg: &mut web::ServiceConfig, config: WebConfig, assets: Option<std::path::PathBuf>) {
    cfg.route(
        "/config.json",
        web::get().to(move || {
            let config = config.clone();
            async move { HttpResponse::Ok().json(config) }
        }),
    );
    if let Some(dir) = assets {
        let index = dir.join("index.html");
        cfg.service(actix_files::Files::new("/", dir).index_file("index.html").default_handler(web::to(
            move |request: HttpRequest| {
                let index = index.clone();
                async move { actix_files::NamedFile::open_async(index).await.map(|file| file.into_response(&request)) }
            },
        )));
    }
}
