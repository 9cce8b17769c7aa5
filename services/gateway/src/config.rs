//! The gateway's settings, from environment variables (see `README.md`).

use crate::sockets::{DEFAULT_SOCKETS_PER_USER, DEFAULT_SUBSCRIPTIONS_PER_SOCKET, SocketLimits};
use service_kit::config::{AuthSettings, LOCAL_ORIGINS, allowed_origins, bind_addr, env_or, env_parse};
use service_kit::http::{AllowedOrigins, HttpSettings, TrustedProxies};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `GATEWAY_HTTP_PORT` (8082) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `GATEWAY_OPS_PORT` (9182) on `OPS_BIND_HOST`: `/metrics` and the detailed `/readyz`.
    pub ops_addr: SocketAddr,
    /// `TRUSTED_PROXIES` (none): the reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// `ORDERS_GRPC_URL` (`http://127.0.0.1:9000`).
    pub orders_url: String,
    /// The users service (`USERS_GRPC_URL`), the public key and this service's token.
    pub auth: AuthSettings,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// `ALLOWED_ORIGINS` (comma-separated): browser origins allowed to call the API (CORS).
    pub allowed_origins: AllowedOrigins,
    /// `WEB_ASSETS_DIR`: the built web UI (`services/web/dist`), served at `/`; none, no UI.
    pub web_assets_dir: Option<std::path::PathBuf>,
    /// `KITCHEN_PUBLIC_URL` (`http://127.0.0.1:8081`): where browsers reach the kitchen service
    /// (the tablet board talks to it directly); told to the UI at `/config.json`.
    pub kitchen_public_url: String,
    /// `SUBSCRIPTIONS_PER_SOCKET` (10) and `SOCKETS_PER_USER` (5): see [`crate::sockets`] for
    /// why these defaults.
    pub socket_limits: SocketLimits,
    /// `REQUESTS_IN_FLIGHT` (256): GraphQL POSTs served at once; one more is answered
    /// `UNAVAILABLE` at once ([`crate::http::RequestsInFlight`]).
    pub requests_in_flight: usize,
}

/// GraphQL POSTs one gateway serves at once, by default: at the 200 orders/s measured (a few
/// milliseconds each) a handful are in hand; 256 is room for every one of them to wait out a
/// backend's whole call deadline at 50 requests a second.
pub const DEFAULT_REQUESTS_IN_FLIGHT: usize = 256;

impl Config {
    /// Port 0 for the server and its ops port (the test reads the real ones), no trusted proxy, one HTTP worker, the local web origins and no web
    /// UI: what every test starts from; it then overrides what it needs.
    pub fn for_tests(orders_url: String, auth: AuthSettings, kitchen_public_url: String) -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ops_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted_proxies: TrustedProxies::default(),
            orders_url,
            auth,
            http_workers: 1,
            allowed_origins: AllowedOrigins::parse(LOCAL_ORIGINS),
            web_assets_dir: None,
            kitchen_public_url,
            socket_limits: SocketLimits::default(),
            requests_in_flight: DEFAULT_REQUESTS_IN_FLIGHT,
        }
    }

    /// GraphQL, subscriptions and the web UI: called from browsers (CORS).
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            addr: self.http_addr,
            ops_addr: self.ops_addr,
            workers: self.http_workers,
            allowed_origins: self.allowed_origins.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            ops_addr: service_kit::config::ops_addr("GATEWAY_OPS_PORT", 9182)?,
            trusted_proxies: service_kit::config::trusted_proxies()?,
            http_addr: bind_addr("GATEWAY_HTTP_PORT", 8082)?,
            orders_url: env_or("ORDERS_GRPC_URL", "http://127.0.0.1:9000"),
            auth: AuthSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            allowed_origins: allowed_origins(LOCAL_ORIGINS),
            web_assets_dir: std::env::var_os("WEB_ASSETS_DIR").filter(|d| !d.is_empty()).map(Into::into),
            kitchen_public_url: env_or("KITCHEN_PUBLIC_URL", "http://127.0.0.1:8081"),
            socket_limits: SocketLimits {
                subscriptions_per_socket: env_parse("SUBSCRIPTIONS_PER_SOCKET", DEFAULT_SUBSCRIPTIONS_PER_SOCKET)?,
                sockets_per_user: env_parse("SOCKETS_PER_USER", DEFAULT_SOCKETS_PER_USER)?,
            },
            requests_in_flight: env_parse("REQUESTS_IN_FLIGHT", DEFAULT_REQUESTS_IN_FLIGHT)?,
        })
    }
}
