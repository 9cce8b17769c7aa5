//! The kitchen service's settings, from environment variables (see `README.md`).

use service_kit::config::{AuthSettings, DatabaseSettings, KafkaSettings, bind_addr, env_or, env_parse};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `KITCHEN_HTTP_PORT` (8081) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub kafka: KafkaSettings,
    pub auth: AuthSettings,
    /// `KITCHEN_CONSUMER_GROUP` (`kitchen-service`).
    pub consumer_group: String,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// `CREATE_TOPICS` (true): create the events topic at start if it is missing.
    pub create_topics: bool,
    /// `ORDERS_GRPC_URL` (`http://127.0.0.1:9000`): where tablet commands go.
    pub orders_url: String,
    /// `ALLOWED_ORIGINS` (comma-separated): the web UI origins that may call the kitchen from a
    /// browser (CORS) and open its WebSocket (Origin check).
    pub allowed_origins: Vec<String>,
    /// `KITCHEN_FAILPOINT`: for fault tests only. `exit_after_ticket_commit` stops the consumer
    /// after a ticket is committed in PostgreSQL and before its offset is, as a crash would.
    pub failpoint: Option<String>,
}

/// The web UI's origins in local runs: served by the gateway, or by a dev server on 3000.
pub const LOCAL_ORIGINS: &str =
    "http://127.0.0.1:8082,http://localhost:8082,http://127.0.0.1:3000,http://localhost:3000";

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: bind_addr("KITCHEN_HTTP_PORT", 8081)?,
            database: DatabaseSettings::from_env()?,
            kafka: KafkaSettings::from_env()?,
            auth: AuthSettings::from_env()?,
            consumer_group: env_or("KITCHEN_CONSUMER_GROUP", "kitchen-service"),
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            create_topics: env_parse("CREATE_TOPICS", true)?,
            orders_url: env_or("ORDERS_GRPC_URL", "http://127.0.0.1:9000"),
            allowed_origins: env_or("ALLOWED_ORIGINS", LOCAL_ORIGINS)
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            failpoint: std::env::var("KITCHEN_FAILPOINT").ok().filter(|f| !f.is_empty()),
        })
    }
}
