//! The users service's settings, from environment variables (see `README.md`).

use service_kit::config::{DatabaseSettings, bind_addr, env_parse, required_secret};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone)]
pub struct Config {
    /// `USERS_HTTP_PORT` (8083) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `USERS_GRPC_PORT` (9001) on `BIND_HOST`.
    pub grpc_addr: SocketAddr,
    pub database: DatabaseSettings,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// The root private key, hex (`TOKEN_PRIVATE_KEY` or `TOKEN_PRIVATE_KEY_FILE`; required).
    pub token_private_key: String,
    /// `TOKEN_TTL_SECONDS` (86400): how long a user token lives.
    pub token_ttl: Duration,
}

impl std::fmt::Debug for Config {
    // The private key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("http_addr", &self.http_addr)
            .field("grpc_addr", &self.grpc_addr)
            .field("database", &self.database)
            .field("token_ttl", &self.token_ttl)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: bind_addr("USERS_HTTP_PORT", 8083)?,
            grpc_addr: bind_addr("USERS_GRPC_PORT", 9001)?,
            database: DatabaseSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            token_private_key: required_secret("TOKEN_PRIVATE_KEY")?,
            token_ttl: Duration::from_secs(env_parse("TOKEN_TTL_SECONDS", 86_400)?),
        })
    }
}
