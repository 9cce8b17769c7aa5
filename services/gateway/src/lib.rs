//! # The gateway
//!
//! The public GraphQL API (Juniper) over the gRPC backends.
//!
//! Map:
//! - [`graphql`]: the schema — queries, mutations, subscriptions, types by area,
//!   `field_error`, the one mapping from an error's `ErrorKind` to `extensions.code`, and
//!   `cost`, what one request may spend on expensive fields (aliases included).
//! - [`model`]: the backends' data as the gateway sees it (no Protobuf; times as times).
//! - [`backends`]: gRPC clients with deadlines, one file per backend, Protobuf ↔ model in
//!   `convert`; the only module that knows Protobuf and tonic (failures leave it as
//!   `UpstreamError`). Sign-ins carry the client's address for users' throttle.
//! - [`loaders`]: per-request dataloaders that batch nested lookups.
//! - [`live`]: `OrderEventsHub`, the actor that follows the one upstream order-events stream
//!   and fans it out to subscriptions (per order, or kitchen-wide), bounded and never waiting.
//! - [`live_menu`]: `LiveMenu`, the one upstream menu-changes stream fanned out to
//!   `menuItemChanged` subscriptions (dishes 86'd and back).
//! - [`sockets`]: the subscription sockets — sign-in, per-socket and per-user limits, costing,
//!   and closing a socket when its token is revoked or expires.
//! - [`http`]: `/graphql` (one request per POST, costed before it runs; the socket upgrade),
//!   GraphiQL, `/config.json` and the web UI.
//! - [`web_ui`]: the web UI's files — pre-compressed copies by `Accept-Encoding`, hashed
//!   assets cached for good, the page never stored, a missing file a 404.
//! - [`config`]: the settings, from the environment.
//! - [`Application`]: builds it from a [`Config`] and runs it until shutdown.
//!
//! **Only this crate depends on juniper.**

pub mod backends;
pub mod config;
pub mod graphql;
pub mod http;
pub mod live;
pub mod live_menu;
pub mod loaders;
pub mod model;
pub mod sockets;
pub mod web_ui;

pub use config::Config;

use actix::Actor as _;
use actix_web::web;
use service_kit::{http::HttpServer, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;

/// The running service: its bound address, and what to stop at shutdown.
pub struct Application {
    http: HttpServer,
    shutdown: Shutdown,
}

impl Application {
    /// Connects (lazily) to the backends, starts the order-events hub and binds the port.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let shutdown = Shutdown::new();
        let tokens::revocation::ServiceAuth { verifier, service_token } =
            tokens::revocation::ServiceAuth::start(&config.auth, shutdown.listener()).await?;
        let ops = Ops::new("gateway");
        let calls = backends::calls_metric(ops.registry())?;
        let orders = backends::OrdersBackend::new(&config.orders_url, service_token.clone(), &calls)?;
        let hub = live::OrderEventsHub::new(
            orders.clone(),
            live::LiveMetrics::register(ops.registry())?,
            shutdown.listener(),
        );
        let live = live::LiveOrders::new(hub.start());
        let menu = live_menu::LiveMenu::start(orders.clone(), shutdown.listener());
        let backends = http::Backends {
            orders,
            users: backends::UsersBackend::new(&config.auth.users_url, service_token, &calls)?,
            verifier,
            live,
            menu,
            open_sockets: sockets::OpenSockets::default(),
            socket_limits: config.socket_limits,
            in_flight: http::RequestsInFlight::new(config.requests_in_flight, ops.registry())?,
        };
        let schema = web::Data::new(graphql::schema());
        let context = web::Data::new(backends);
        let web_config = http::WebConfig { kitchen_url: config.kitchen_public_url.clone() };
        let assets = config.web_assets_dir.clone();
        let http = service_kit::http::serve(&config.http_settings(), ops, move |cfg| {
            cfg.app_data(schema.clone()).app_data(context.clone());
            http::configure(cfg);
            http::configure_web(cfg, web_config.clone(), assets.clone());
        })?;
        Ok(Self { http, shutdown })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// The internal ops address: `/metrics` and the detailed `/readyz`.
    pub fn ops_addr(&self) -> SocketAddr {
        self.http.ops_addr()
    }

    /// Stops taking requests, lets in-flight ones finish, then stops the order-events hub (which
    /// ends the remaining subscriptions) and the revocation follower.
    pub async fn stop(self) {
        self.http.stop().await;
        self.shutdown.complete().await;
        tracing::info!("gateway stopped");
    }
}
