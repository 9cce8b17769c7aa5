//! The HTTP side every service shares: [`serve`] starts a service's actix-web server with the
//! platform's middleware (access log without query strings, request histograms, CORS for the
//! allowed browser origins), the ops endpoints, and a graceful stop; [`errors`] is the JSON
//! error body and extractor settings of every REST endpoint.

mod errors;

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
    pub addr: SocketAddr,
    /// actix-web worker threads.
    pub workers: usize,
    /// Browser origins answered with CORS headers; none, no CORS (server-to-server only).
    pub allowed_origins: AllowedOrigins,
}

/// A running HTTP server.
pub struct HttpServer {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl HttpServer {
    /// The bound address (tests bind port 0 and read the real one here).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, and waits for in-flight requests (at most
    /// [`SHUTDOWN_TIMEOUT_SECONDS`]).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Binds `settings.addr` and serves `routes` beside `/healthz`, `/readyz` and `/metrics`.
/// Signals are the caller's to handle (every service stops through its own shutdown).
pub fn serve<F>(settings: &HttpSettings, ops: Ops, routes: F) -> anyhow::Result<HttpServer>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener =
        std::net::TcpListener::bind(settings.addr).with_context(|| format!("binding HTTP on {}", settings.addr))?;
    let addr = listener.local_addr().context("reading the HTTP address")?;
    let origins = settings.allowed_origins.clone();
    let server = actix_web::HttpServer::new(move || {
        let routes = routes.clone();
        App::new()
            .wrap(actix_web::middleware::Condition::new(!origins.is_empty(), origins.cors()))
            .wrap(actix_web::middleware::from_fn(crate::ops::observe_http))
            .wrap(crate::ops::access_log())
            .configure(|cfg| ops.configure(cfg))
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
    let handle = server.handle();
    tokio::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    Ok(HttpServer { addr, handle })
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

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
