//! Typed settings from environment variables. Each service has its own `Config` struct built
//! from these helpers; every setting has a default that runs on a developer's machine.

use crate::http::AllowedOrigins;
use crate::secret::Secret;
use anyhow::{Context as _, anyhow};
use std::str::FromStr;

/// The variable's value, or `default` when it is unset or empty.
pub fn env_or(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => default.to_owned(),
    }
}

/// The variable parsed as `T`, or `default` when it is unset; a value that does not parse is an
/// error naming the variable (never a silent fallback).
pub fn env_parse<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|e| anyhow!("environment variable {name}={value:?} is invalid: {e}"))
        }
        _ => Ok(default),
    }
}

/// Where the database is. `DATABASE_URL` takes a URL (`postgresql://user@host/db`) or libpq
/// key-value pairs (`host=/var/run/postgresql user=me dbname=restaurant`).
#[derive(Clone)]
pub struct DatabaseSettings {
    pub pg: tokio_postgres::Config,
    /// Connections in the pool.
    pub max_connections: usize,
}

impl DatabaseSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        let default = format!("host=/var/run/postgresql user={} dbname=restaurant", env_or("USER", "postgres"));
        let url = env_or("DATABASE_URL", &default);
        Ok(Self { pg: parse_database_url(&url)?, max_connections: env_parse("DATABASE_MAX_CONNECTIONS", 16)? })
    }

    /// The same server and credentials, another database (tests make one per test).
    pub fn with_database(&self, dbname: &str) -> Self {
        let mut pg = self.pg.clone();
        pg.dbname(dbname);
        Self { pg, max_connections: self.max_connections }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("hosts", &self.pg.get_hosts())
            .field("user", &self.pg.get_user())
            .field("dbname", &self.pg.get_dbname())
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

pub fn parse_database_url(url: &str) -> anyhow::Result<tokio_postgres::Config> {
    // The error text of a URL that fails to parse could echo a password: keep it out.
    tokio_postgres::Config::from_str(url).context("DATABASE_URL is not a valid connection string")
}

/// Where the broker is and what this process calls itself there.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port[,host:port]`, from `KAFKA_BROKERS`.
    pub brokers: String,
    /// The order events topic, from `ORDERS_TOPIC` (tests use one topic each).
    pub orders_topic: String,
    /// Partitions when this process has to create the topic (`ORDERS_TOPIC_PARTITIONS`).
    pub orders_topic_partitions: i32,
}

impl KafkaSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            brokers: env_or("KAFKA_BROKERS", "127.0.0.1:9092"),
            orders_topic: env_or("ORDERS_TOPIC", crate::kafka::ORDERS_TOPIC_DEFAULT),
            orders_topic_partitions: env_parse("ORDERS_TOPIC_PARTITIONS", 3)?,
        })
    }
}

/// `ALLOWED_ORIGINS` (comma-separated), or `default`: the browser origins of the web UI.
pub fn allowed_origins(default: &str) -> AllowedOrigins {
    AllowedOrigins::parse(&env_or("ALLOWED_ORIGINS", default))
}

/// The web UI's origins in local runs: served by the gateway, or by a dev server on 3000.
pub const LOCAL_ORIGINS: &str =
    "http://127.0.0.1:8082,http://localhost:8082,http://127.0.0.1:3000,http://localhost:3000";

/// The address to bind: `BIND_HOST` (default loopback) and the given port variable.
pub fn bind_addr(port_var: &str, default_port: u16) -> anyhow::Result<std::net::SocketAddr> {
    let host: std::net::IpAddr = env_parse("BIND_HOST", std::net::IpAddr::from([127, 0, 0, 1]))?;
    let port: u16 = env_parse(port_var, default_port)?;
    Ok(std::net::SocketAddr::new(host, port))
}

/// The internal ops address: `OPS_BIND_HOST` (default `BIND_HOST`, itself default loopback)
/// and the given port variable. Prometheus and operators reach it; it is never published.
pub fn ops_addr(port_var: &str, default_port: u16) -> anyhow::Result<std::net::SocketAddr> {
    let host: std::net::IpAddr = env_parse("BIND_HOST", std::net::IpAddr::from([127, 0, 0, 1]))?;
    let host: std::net::IpAddr = env_parse("OPS_BIND_HOST", host)?;
    let port: u16 = env_parse(port_var, default_port)?;
    Ok(std::net::SocketAddr::new(host, port))
}

/// `TRUSTED_PROXIES` (comma-separated addresses and CIDR blocks; default none): the reverse
/// proxies whose `X-Forwarded-For` / `X-Real-IP` name the client.
pub fn trusted_proxies() -> anyhow::Result<crate::http::TrustedProxies> {
    crate::http::TrustedProxies::parse(&env_or("TRUSTED_PROXIES", "")).context("TRUSTED_PROXIES")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_accepts_urls_and_key_value_pairs() {
        let url = parse_database_url("postgresql://alice:secret@db.example:5433/restaurant").expect("a URL parses");
        assert_eq!(url.get_dbname(), Some("restaurant"));
        assert_eq!(url.get_ports(), &[5433]);
        let kv = parse_database_url("host=/var/run/postgresql user=bob dbname=x").expect("kv parses");
        assert_eq!(kv.get_user(), Some("bob"));
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let settings = DatabaseSettings {
            pg: parse_database_url("postgresql://alice:hunter2@localhost/restaurant").expect("a URL parses"),
            max_connections: 4,
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("restaurant"));
    }
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (the form container secrets
/// take). `None` when neither is set. The value is trimmed and never logged.
pub fn secret(name: &str) -> anyhow::Result<Option<Secret>> {
    if let Ok(value) = std::env::var(name)
        && !value.trim().is_empty()
    {
        return Ok(Some(Secret::new(value.trim())));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var(&file_var) {
        Ok(path) if !path.trim().is_empty() => {
            let value = std::fs::read_to_string(path.trim())
                .with_context(|| format!("reading the file named by {file_var}"))?;
            Ok(Some(Secret::new(value.trim())))
        }
        _ => Ok(None),
    }
}

/// Like [`secret`], but required.
pub fn required_secret(name: &str) -> anyhow::Result<Secret> {
    secret(name)?.with_context(|| format!("set {name} or {name}_FILE (ci/dev generates local ones in .state/keys)"))
}

/// What a service that verifies tokens needs: the platform's public key, its own service
/// token (for gRPC calls, including following revocations), and where the users service is.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `TOKEN_PUBLIC_KEY` or `TOKEN_PUBLIC_KEY_FILE` (hex). Public, but read like the secrets.
    pub token_public_key: String,
    /// `SERVICE_TOKEN` or `SERVICE_TOKEN_FILE`: minted by `users mint-service-token`.
    pub service_token: Secret,
    /// `USERS_GRPC_URL` (`http://127.0.0.1:9001`).
    pub users_url: String,
}

impl AuthSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            token_public_key: required_secret("TOKEN_PUBLIC_KEY")?.expose().to_owned(),
            service_token: required_secret("SERVICE_TOKEN")?,
            users_url: env_or("USERS_GRPC_URL", "http://127.0.0.1:9001"),
        })
    }
}
