//! The gateway's settings, from environment variables (see `README.md`).

use service_kit::config::{AuthSettings, bind_addr, env_or, env_parse};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `GATEWAY_HTTP_PORT` (8082) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `ORDERS_GRPC_URL` (`http://127.0.0.1:9000`).
    pub orders_url: String,
    /// The users service (`USERS_GRPC_URL`), the public key and this service's token.
    pub auth: AuthSettings,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// `ALLOWED_ORIGINS` (comma-separated): browser origins allowed to call the API (CORS).
    pub allowed_origins: Vec<String>,
    /// `WEB_ASSETS_DIR`: the built web UI (`services/web/dist`), served at `/`; none, no UI.
    pub web_assets_dir: Option<std::path::PathBuf>,
    /// `KITCHEN_PUBLIC_URL` (`http://127.0.0.1:8081`): where browsers reach the kitchen service
    /// (the tablet board talks to it directly); told to the UI at `/config.json`.
    pub kitchen_public_url: String,
}

/// The web UI's origins in local runs: served by the gateway, or by a dev server on 3000.
pub const LOCAL_ORIGINS: &str =
    "http://127.0.0.1:8082,http://localhost:8082,http://127.0.0.1:3000,http://localhost:3000";

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: bind_addr("GATEWAY_HTTP_PORT", 8082)?,
            orders_url: env_or("ORDERS_GRPC_URL", "http://127.0.0.1:9000"),
            auth: AuthSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            allowed_origins: env_or("ALLOWED_ORIGINS", LOCAL_ORIGINS)
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            web_assets_dir: std::env::var_os("WEB_ASSETS_DIR").filter(|d| !d.is_empty()).map(Into::into),
            kitchen_public_url: env_or("KITCHEN_PUBLIC_URL", "http://127.0.0.1:8081"),
        })
    }
}
