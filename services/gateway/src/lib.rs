//! # The gateway
//!
//! The public GraphQL API (Juniper) over the gRPC backends.
//!
//! Map:
//! - [`graphql`]: the schema — queries, mutations, types, and the error-code mapping.
//! - [`model`]: the backends' data as the gateway sees it (no Protobuf).
//! - [`backends`]: gRPC clients with deadlines; the only module that knows Protobuf.
//! - [`loaders`]: per-request dataloaders that batch nested lookups.
//! - [`live`]: the one upstream order-events stream, fanned out to subscriptions.
//! - [`http`]: `/graphql` and GraphiQL.
//! - [`Application`]: builds it from a [`Config`] and runs it until shutdown.
//!
//! **Only this crate depends on juniper.**

pub mod backends;
pub mod config;
pub mod graphql;
pub mod http;
pub mod live;
pub mod loaders;
pub mod model;

pub use config::Config;

use actix_web::{App, HttpServer, dev::ServerHandle, web};
use anyhow::Context as _;
use service_kit::ops::Ops;
use std::net::SocketAddr;

/// How long a client may take to send a request's head.
const CLIENT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Seconds the HTTP server waits for in-flight requests at shutdown.
const HTTP_SHUTDOWN_SECONDS: u64 = 5;

pub struct Application {
    http_addr: SocketAddr,
    http: ServerHandle,
    /// Keeps the revocation list current; aborted at stop.
    follow_task: actix_rt::task::JoinHandle<()>,
    /// The one upstream order-events stream; aborted at stop.
    live_task: actix_rt::task::JoinHandle<()>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let service_token = tokens::Token::new(config.auth.service_token.clone());
        let verifier = tokens::TokenVerifier::from_public_key_hex(&config.auth.token_public_key)
            .context("TOKEN_PUBLIC_KEY")?;
        let ops = Ops::new("gateway");
        let calls = backends::calls_metric(ops.registry())?;
        let orders = backends::OrdersBackend::new(&config.orders_url, service_token.clone(), &calls)?;
        let open = prometheus::IntGauge::new("gateway_subscriptions_open", "Open GraphQL subscriptions")?;
        ops.registry().register(Box::new(open.clone()))?;
        let (live, live_task) = live::LiveOrders::start(orders.clone(), open);
        let backends = http::Backends {
            orders,
            users: backends::UsersBackend::new(&config.auth.users_url, service_token.clone(), &calls)?,
            verifier: verifier.clone(),
            live,
        };
        let follower = tokens::revocation::follow_users_service(
            verifier.revocations().clone(),
            config.auth.users_url.clone(),
            service_token,
        );
        let follow_task = actix_rt::spawn(follower);
        let schema = web::Data::new(graphql::schema());
        let context = web::Data::new(backends);
        let listener = std::net::TcpListener::bind(config.http_addr)
            .with_context(|| format!("binding HTTP on {}", config.http_addr))?;
        let http_addr = listener.local_addr().context("reading the HTTP address")?;
        let origins = config.allowed_origins.clone();
        let web_config = http::WebConfig { kitchen_url: config.kitchen_public_url.clone() };
        let assets = config.web_assets_dir.clone();
        let server = HttpServer::new(move || {
            let cors = origins
                .iter()
                .fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
                .allowed_methods(["GET", "POST"])
                .allowed_headers(["authorization", "content-type"])
                .max_age(3600);
            App::new()
                .wrap(cors)
                .wrap(actix_web::middleware::from_fn(service_kit::ops::observe_http))
                .wrap(service_kit::ops::access_log())
                .app_data(schema.clone())
                .app_data(context.clone())
                .configure(|cfg| ops.configure(cfg))
                .configure(http::configure)
                .configure(|cfg| http::configure_web(cfg, web_config.clone(), assets.clone()))
        })
        .workers(config.http_workers)
        // Small writes (a ticket, an answer) leave at once instead of waiting for the ACK of
        // the previous one (Nagle with delayed ACKs adds up to 40 ms).
        .tcp_nodelay(true)
        .disable_signals()
        .shutdown_timeout(HTTP_SHUTDOWN_SECONDS)
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .listen(listener)
        .context("starting the HTTP server")?
        .run();
        let http = server.handle();
        actix_rt::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
        Ok(Self { http_addr, http, follow_task, live_task })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        service_kit::shutdown::os_signal().await;
        self.stop().await;
        Ok(())
    }

    pub async fn stop(self) {
        self.http.stop(true).await;
        self.follow_task.abort();
        self.live_task.abort();
        tracing::info!("gateway stopped");
    }
}
