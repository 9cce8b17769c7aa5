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
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: bind_addr("GATEWAY_HTTP_PORT", 8082)?,
            orders_url: env_or("ORDERS_GRPC_URL", "http://127.0.0.1:9000"),
            auth: AuthSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
        })
    }
}
