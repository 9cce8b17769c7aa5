//! The users service's settings, from environment variables (see `README.md`).

use service_kit::config::{DatabaseSettings, bind_addr, env_parse};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_HTTP_PORT` (8083) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    pub database: DatabaseSettings,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: bind_addr("USERS_HTTP_PORT", 8083)?,
            database: DatabaseSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
        })
    }
}
