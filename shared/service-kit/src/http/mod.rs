//! The HTTP side every service shares: [`serve`] starts a service's actix-web server with the
//! platform's middleware (access log without query strings, request histograms, CORS for the
//! allowed browser origins), its cheap `/healthz` and `/readyz`, and a second server on the
//! internal ops address with `/metrics` and the detailed `/readyz`; a graceful stop for both.
//! [`errors`] is the JSON error body and extractor settings of every REST endpoint;
//! [`client`] is who the client is behind the operator's reverse proxies.

mod client;
mod errors;

pub use client::{TrustedProxies, client_address};
pub use errors::{error_response, json_config, json_error, kind_response, query_config};

use crate::ops::Ops;
use actix_web::{App, dev::ServerHandle, web};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::time::Duration;

/// How long in-flight requests may take to finish once the server is told to stop.
pub const SHUTDOWN_TIMEOUT_SECONDS: u64 = 5;
/// How long a client may take to send a request's head (slow-loris protection).
pub const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a browser may cache a CORS preflight answer.
const CORS_MAX_AGE_SECONDS: usize = 3600;

/// Browser origins (`scheme://host[:port]`, no trailing slash) allowed to call a service from
/// a page of theirs: CORS, and the Origin check of WebSocket upgrades.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// A comma-separated list; blanks and trailing slashes are ignored.
    pub fn parse(list: &str) -> Self {
        Self(list.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect())
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    fn cors(&self) -> actix_cors::Cors {
        self.iter()
            .fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
            .allowed_methods(["GET", "POST"])
            .allowed_headers(["authorization", "content-type"])
            .max_age(CORS_MAX_AGE_SECONDS)
    }
}

/// Where and how a service's HTTP server runs.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The public address: the service's API, `/healthz` and a `/readyz` that says only yes or
    /// no.
    pub addr: SocketAddr,
    /// The internal ops address (`<SERVICE>_OPS_PORT` on `OPS_BIND_HOST`): `/metrics` and the
    /// detailed `/readyz`, for Prometheus and operators; never published or proxied.
    pub ops_addr: SocketAddr,
    /// actix-web worker threads.
    pub workers: usize,
    /// Browser origins answered with CORS headers; none, no CORS (server-to-server only).
    pub allowed_origins: AllowedOrigins,
    /// `TRUSTED_PROXIES`: whose `X-Forwarded-For` / `X-Real-IP` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// The ops server's one worker: it answers Prometheus and a probe a few times a minute.
const OPS_WORKERS: usize = 1;

/// A running HTTP server and its ops server.
pub struct HttpServer {
    addr: SocketAddr,
    ops_addr: SocketAddr,
    handles: [ServerHandle; 2],
}

impl HttpServer {
    /// The bound public address (tests bind port 0 and read the real one here).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound internal ops address (`/metrics`, the detailed `/readyz`).
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_addr
    }

    /// Stops accepting, and waits for in-flight requests (at most
    /// [`SHUTDOWN_TIMEOUT_SECONDS`]).
    pub async fn stop(&self) {
        futures::future::join_all(self.handles.iter().map(|handle| handle.stop(true))).await;
    }
}

/// Binds `settings.addr` and serves `routes` beside `/healthz` and the public `/readyz`, and
/// binds `settings.ops_addr` for `/metrics` and the detailed `/readyz`. Signals are the
/// caller's to handle (every service stops through its own shutdown).
pub fn serve<F>(settings: &HttpSettings, ops: Ops, routes: F) -> anyhow::Result<HttpServer>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener =
        std::net::TcpListener::bind(settings.addr).with_context(|| format!("binding HTTP on {}", settings.addr))?;
    let addr = listener.local_addr().context("reading the HTTP address")?;
    let ops_listener = std::net::TcpListener::bind(settings.ops_addr)
        .with_context(|| format!("binding the ops port on {}", settings.ops_addr))?;
    let ops_addr = ops_listener.local_addr().context("reading the ops address")?;
    let origins = settings.allowed_origins.clone();
    let proxies = settings.trusted_proxies.clone();
    let public_ops = ops.clone();
    let server = actix_web::HttpServer::new(move || {
        let routes = routes.clone();
        App::new()
            .app_data(proxies.clone())
            .wrap(actix_web::middleware::Condition::new(!origins.is_empty(), origins.cors()))
            .wrap(actix_web::middleware::from_fn(crate::ops::observe_http))
            .wrap(crate::ops::access_log())
            .configure(|cfg| public_ops.configure_public(cfg))
            .configure(move |cfg| routes(cfg))
    })
    .workers(settings.workers)
    // Small writes (a ticket, an answer) leave at once instead of waiting for the ACK of the
    // previous one: Nagle's algorithm with delayed ACKs added up to 40 ms to a ticket.
    .tcp_nodelay(true)
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS)
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .listen(listener)
    .context("starting the HTTP server")?
    .run();
    let ops_server = actix_web::HttpServer::new(move || App::new().configure(|cfg| ops.configure_internal(cfg)))
        .workers(OPS_WORKERS)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS)
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .listen(ops_listener)
        .context("starting the ops server")?
        .run();
    let handles = [server.handle(), ops_server.handle()];
    for (what, server) in [("HTTP", server), ("ops", ops_server)] {
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "{what} server failed");
            }
        });
    }
    Ok(HttpServer { addr, ops_addr, handles })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::READINESS_REUSED_FOR;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn any_port() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    /// A server whose one readiness check fails and counts its runs.
    fn failing_server(runs: Arc<AtomicUsize>) -> HttpServer {
        let ops = Ops::new("test").with_check("database", move || {
            runs.fetch_add(1, Ordering::SeqCst);
            async { Err(anyhow::anyhow!("connecting to db.internal:5432 refused")) }
        });
        let settings = HttpSettings {
            addr: any_port(),
            ops_addr: any_port(),
            workers: 1,
            allowed_origins: AllowedOrigins::default(),
            trusted_proxies: TrustedProxies::default(),
        };
        serve(&settings, ops, |_| {}).expect("unwrap: port 0 binds")
    }

    #[actix_web::test]
    async fn the_public_port_says_only_yes_or_no_and_the_ops_port_says_why() {
        let server = failing_server(Arc::default());
        let get = |addr: SocketAddr, path: &'static str| async move {
            let response = reqwest::get(format!("http://{addr}{path}")).await.expect("unwrap: the server answers");
            (response.status().as_u16(), response.text().await.expect("unwrap: a body"))
        };
        assert_eq!(get(server.addr(), "/readyz").await, (503, "not ready\n".to_owned()));
        assert_eq!(get(server.addr(), "/metrics").await.0, 404, "no metrics on the public port");
        assert_eq!(get(server.addr(), "/healthz").await.0, 200);
        let (status, detail) = get(server.ops_addr(), "/readyz").await;
        assert_eq!(status, 503);
        assert!(detail.contains("db.internal:5432 refused"), "{detail}");
        let (status, metrics) = get(server.ops_addr(), "/metrics").await;
        assert_eq!(status, 200);
        assert!(metrics.contains("http_request_duration_seconds"), "{metrics}");
        server.stop().await;
    }

    #[actix_web::test]
    async fn a_flood_of_readiness_probes_runs_the_checks_once_a_second_at_most() {
        let runs = Arc::new(AtomicUsize::new(0));
        let server = failing_server(Arc::clone(&runs));
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        let probes = (0..50).map(|_| client.get(format!("http://{}/readyz", server.addr())).send());
        for answer in futures::future::join_all(probes).await {
            assert_eq!(answer.expect("unwrap: the server answers").status().as_u16(), 503);
        }
        // Each second may start one run (plus the first): never one per probe.
        let allowed = 1 + started.elapsed().as_secs() as usize / READINESS_REUSED_FOR.as_secs() as usize;
        assert!(runs.load(Ordering::SeqCst) <= allowed, "{} runs for 50 probes", runs.load(Ordering::SeqCst));
        server.stop().await;
    }

    #[test]
    fn origins_ignore_blanks_and_trailing_slashes() {
        let origins = AllowedOrigins::parse(" http://a.example/, ,https://b.example:8443 ");
        assert!(origins.allows("http://a.example"));
        assert!(origins.allows("https://b.example:8443"));
        assert!(!origins.allows("http://c.example"));
        assert_eq!(origins.iter().count(), 2);
        assert!(AllowedOrigins::parse(" , ").is_empty());
    }
}
