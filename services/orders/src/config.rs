//! The orders service's settings, from environment variables (see `README.md`).

use service_kit::config::{AuthSettings, DatabaseSettings, KafkaSettings, bind_addr, env_parse};
use service_kit::http::{AllowedOrigins, HttpSettings, TrustedProxies};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `ORDERS_HTTP_PORT` (8080) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `ORDERS_OPS_PORT` (9180) on `OPS_BIND_HOST`: `/metrics` and the detailed `/readyz`.
    pub ops_addr: SocketAddr,
    /// `TRUSTED_PROXIES` (none): the reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// `ORDERS_GRPC_PORT` (9000) on `BIND_HOST`.
    pub grpc_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub kafka: KafkaSettings,
    pub auth: AuthSettings,
    /// `HTTP_WORKERS` (2): actix-web worker threads.
    pub http_workers: usize,
    /// `CREATE_TOPICS` (true): create the events topic if it is missing, in the background
    /// (not ready until it exists). Production creates topics with the cluster and sets this
    /// to false.
    pub create_topics: bool,
}

impl Config {
    /// Port 0 for every server (the test reads the real ones), one HTTP worker, topics
    /// created: what every test starts from; it then overrides what it needs.
    pub fn for_tests(database: DatabaseSettings, kafka: KafkaSettings, auth: AuthSettings) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            http_addr: any_port,
            ops_addr: any_port,
            trusted_proxies: TrustedProxies::default(),
            grpc_addr: any_port,
            database,
            kafka,
            auth,
            http_workers: 1,
            create_topics: true,
        }
    }

    /// The REST server: called by other services and operators, not by browsers (no CORS).
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            addr: self.http_addr,
            ops_addr: self.ops_addr,
            workers: self.http_workers,
            allowed_origins: AllowedOrigins::default(),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            ops_addr: service_kit::config::ops_addr("ORDERS_OPS_PORT", 9180)?,
            trusted_proxies: service_kit::config::trusted_proxies()?,
            http_addr: bind_addr("ORDERS_HTTP_PORT", 8080)?,
            grpc_addr: bind_addr("ORDERS_GRPC_PORT", 9000)?,
            database: DatabaseSettings::from_env()?,
            kafka: KafkaSettings::from_env()?,
            auth: AuthSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            create_topics: env_parse("CREATE_TOPICS", true)?,
        })
    }
}
