//! The kitchen service's settings, from environment variables (see `README.md`).

use crate::actors::{ChangeLogRetention, PromiseSettings};
use service_kit::config::{
    AuthSettings, DatabaseSettings, KafkaSettings, LOCAL_ORIGINS, allowed_origins, bind_addr, env_or, env_parse,
};
use service_kit::http::{AllowedOrigins, HttpSettings, TrustedProxies};
use std::net::SocketAddr;
use std::time::Duration;

/// The tablet change log keeps ten times what a reconnecting tablet may be replayed
/// (`service::MAX_REPLAY`): replays never miss, and a follower that lags has a wide margin.
pub const CHANGE_LOG_KEPT: i64 = 10 * crate::service::MAX_REPLAY;
/// Each instance prunes the change log this often.
pub const CHANGE_LOG_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Config {
    /// `KITCHEN_HTTP_PORT` (8081) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `KITCHEN_OPS_PORT` (9181) on `OPS_BIND_HOST`: `/metrics` and the detailed `/readyz`.
    pub ops_addr: SocketAddr,
    /// `TRUSTED_PROXIES` (none): the reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    pub database: DatabaseSettings,
    pub kafka: KafkaSettings,
    pub auth: AuthSettings,
    /// `KITCHEN_CONSUMER_GROUP` (`kitchen-service`).
    pub consumer_group: String,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// `CREATE_TOPICS` (true): create the events topic if it is missing, in the
    /// background (not ready until it exists).
    pub create_topics: bool,
    /// `ORDERS_GRPC_URL` (`http://127.0.0.1:9000`): where tablet commands go.
    pub orders_url: String,
    /// `ALLOWED_ORIGINS` (comma-separated): the web UI origins that may call the kitchen from a
    /// browser (CORS) and open its WebSocket (Origin check).
    pub allowed_origins: AllowedOrigins,
    /// `KITCHEN_FAILPOINT`: for fault tests only. `exit_after_ticket_commit` stops the consumer
    /// after a ticket is committed in PostgreSQL and before its offset is, as a crash would.
    pub failpoint: Option<String>,
    /// How many of the latest tablet changes are kept for reconnecting tablets
    /// ([`CHANGE_LOG_KEPT`]; tests keep fewer), pruned every [`CHANGE_LOG_PRUNE_INTERVAL`].
    pub change_log: ChangeLogRetention,
    /// `KITCHEN_COOKS` (`grill=2,fry=1`; 1 per station not named) and `KITCHEN_PREP_MINUTE_MS`
    /// (60000; a simulation runs the kitchen's clock faster): what the promises are planned with.
    pub promises: PromiseSettings,
}

impl Config {
    /// Port 0 for the server and its ops port (the test reads the real ones), one HTTP worker, a fresh consumer group, topics
    /// created, no orders service and the local web origins: what every test starts from; it
    /// then overrides what it needs.
    pub fn for_tests(
        database: DatabaseSettings,
        kafka: KafkaSettings,
        auth: AuthSettings,
        consumer_group: String,
    ) -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ops_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted_proxies: TrustedProxies::default(),
            database,
            kafka,
            auth,
            consumer_group,
            http_workers: 1,
            create_topics: true,
            // Nothing listens on the discard port: tablet commands fail as "unavailable".
            orders_url: "http://127.0.0.1:9".into(),
            allowed_origins: AllowedOrigins::parse(LOCAL_ORIGINS),
            failpoint: None,
            // Pruned often, so that a test that keeps few changes sees it soon.
            change_log: ChangeLogRetention { kept: CHANGE_LOG_KEPT, prune_interval: Duration::from_millis(200) },
            promises: PromiseSettings::default(),
        }
    }

    /// REST, SSE and the tablet socket: called from the web UI's pages (CORS).
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
            ops_addr: service_kit::config::ops_addr("KITCHEN_OPS_PORT", 9181)?,
            trusted_proxies: service_kit::config::trusted_proxies()?,
            http_addr: bind_addr("KITCHEN_HTTP_PORT", 8081)?,
            database: DatabaseSettings::from_env()?,
            kafka: KafkaSettings::from_env()?,
            auth: AuthSettings::from_env()?,
            consumer_group: env_or("KITCHEN_CONSUMER_GROUP", "kitchen-service"),
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            create_topics: env_parse("CREATE_TOPICS", true)?,
            orders_url: env_or("ORDERS_GRPC_URL", "http://127.0.0.1:9000"),
            allowed_origins: allowed_origins(LOCAL_ORIGINS),
            failpoint: std::env::var("KITCHEN_FAILPOINT").ok().filter(|f| !f.is_empty()),
            change_log: ChangeLogRetention { kept: CHANGE_LOG_KEPT, prune_interval: CHANGE_LOG_PRUNE_INTERVAL },
            promises: PromiseSettings {
                prep_minute: Duration::from_millis(env_parse("KITCHEN_PREP_MINUTE_MS", 60_000u64)?.max(1)),
                cooks: ready_by::Cooks::parse(&env_or("KITCHEN_COOKS", ""))
                    .map_err(|pair| anyhow::anyhow!("KITCHEN_COOKS: {pair:?} is not station=cooks (at least 1)"))?,
            },
        })
    }
}
