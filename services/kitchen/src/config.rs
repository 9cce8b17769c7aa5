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
}

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
        })
    }
}
