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
        let mut pg = parse_database_url(&url)?;
        // A password apart from the URL (`DATABASE_PASSWORD` or a secret file): no escaping needed.
        if let Some(password) = secret("DATABASE_PASSWORD")? {
            pg.password(password.expose());
        }
        Ok(Self { pg, max_connections: env_parse("DATABASE_MAX_CONNECTIONS", 16)? })
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
    /// How this process signs in to the broker: nothing unless configured (local runs, tests).
    pub security: KafkaSecurity,
    /// How long the broker may hold a consumer's fetch while it has nothing new
    /// (`KAFKA_FETCH_WAIT_MS`, 5): the floor under an event's delay when the topic is quiet,
    /// and how often an idle consumer polls. `ci/bench` records the trade-off.
    pub fetch_wait_ms: u32,
    /// How many bytes a consumer's fetch asks the broker to gather before answering, unless
    /// the wait runs out (`KAFKA_FETCH_MIN_BYTES`, 1: answer with the first record). See
    /// `ci/BENCHMARKS.md` for what it does to the dev broker's polling.
    pub fetch_min_bytes: u32,
}

impl KafkaSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            brokers: env_or("KAFKA_BROKERS", "127.0.0.1:9092"),
            orders_topic: env_or("ORDERS_TOPIC", crate::kafka::ORDERS_TOPIC_DEFAULT),
            orders_topic_partitions: env_parse("ORDERS_TOPIC_PARTITIONS", 3)?,
            security: KafkaSecurity::from_env()?,
            fetch_wait_ms: env_parse("KAFKA_FETCH_WAIT_MS", DEFAULT_FETCH_WAIT_MS)?,
            fetch_min_bytes: env_parse("KAFKA_FETCH_MIN_BYTES", DEFAULT_FETCH_MIN_BYTES)?,
        })
    }

    /// The broker's address with no authentication: local runs, tests and tools.
    pub fn plaintext(brokers: &str) -> Self {
        Self {
            brokers: brokers.to_owned(),
            orders_topic: crate::kafka::ORDERS_TOPIC_DEFAULT.to_owned(),
            orders_topic_partitions: 3,
            security: KafkaSecurity::Plaintext,
            fetch_wait_ms: DEFAULT_FETCH_WAIT_MS,
            fetch_min_bytes: DEFAULT_FETCH_MIN_BYTES,
        }
    }
}

/// A fetch returns within 5 ms when the topic is quiet, instead of librdkafka's 500 ms: an
/// order reaches the kitchen in milliseconds, not half a second.
pub const DEFAULT_FETCH_WAIT_MS: u32 = 5;
/// librdkafka's own default: a fetch is answered as soon as it has a record.
pub const DEFAULT_FETCH_MIN_BYTES: u32 = 1;

/// How a client authenticates to the broker. SASL is opt-in: `KAFKA_SECURITY_PROTOCOL` unset
/// (or `plaintext`) is the local broker of `ci/dev` and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KafkaSecurity {
    #[default]
    Plaintext,
    Sasl(SaslSettings),
}

/// SASL credentials (`KAFKA_SASL_*`), e.g. a SCRAM user the compose `topics` job created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslSettings {
    /// librdkafka's `security.protocol`: `sasl_plaintext` or `sasl_ssl`.
    pub protocol: &'static str,
    /// librdkafka's `sasl.mechanism`: `SCRAM-SHA-256` (the default), `SCRAM-SHA-512` or `PLAIN`.
    pub mechanism: &'static str,
    pub username: String,
    pub password: Secret,
}

/// The security protocols a client may use; anything else is refused at start.
const SECURITY_PROTOCOLS: [&str; 3] = ["plaintext", "sasl_plaintext", "sasl_ssl"];
/// The SASL mechanisms a client may use.
const SASL_MECHANISMS: [&str; 3] = ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"];

impl KafkaSecurity {
    /// `KAFKA_SECURITY_PROTOCOL` (`plaintext`), `KAFKA_SASL_MECHANISM` (`SCRAM-SHA-256`),
    /// `KAFKA_SASL_USERNAME`, and `KAFKA_SASL_PASSWORD` or `KAFKA_SASL_PASSWORD_FILE`.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(&|name: &str| std::env::var(name).ok())
    }

    fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let setting = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let protocol = setting("KAFKA_SECURITY_PROTOCOL").unwrap_or_else(|| "plaintext".into()).to_ascii_lowercase();
        let protocol = SECURITY_PROTOCOLS
            .into_iter()
            .find(|p| *p == protocol)
            .with_context(|| format!("KAFKA_SECURITY_PROTOCOL={protocol:?} is not one of {SECURITY_PROTOCOLS:?}"))?;
        let username = setting("KAFKA_SASL_USERNAME");
        let password = secret_in("KAFKA_SASL_PASSWORD", lookup)?;
        if protocol == "plaintext" {
            // Credentials with no SASL would be ignored silently: say so instead.
            anyhow::ensure!(
                username.is_none() && password.is_none(),
                "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL is plaintext"
            );
            return Ok(Self::Plaintext);
        }
        let mechanism = setting("KAFKA_SASL_MECHANISM").unwrap_or_else(|| "SCRAM-SHA-256".into()).to_ascii_uppercase();
        let mechanism = SASL_MECHANISMS
            .into_iter()
            .find(|m| *m == mechanism)
            .with_context(|| format!("KAFKA_SASL_MECHANISM={mechanism:?} is not one of {SASL_MECHANISMS:?}"))?;
        Ok(Self::Sasl(SaslSettings {
            protocol,
            mechanism,
            username: username
                .with_context(|| format!("KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME"))?,
            password: password
                .with_context(|| format!("{protocol} needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE"))?,
        }))
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

    /// An environment of the test's own.
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_secret_comes_from_its_variable_or_from_the_file_its_file_variable_names() {
        let dir = tempfile::tempdir().expect("unwrap: a temp dir");
        let file = dir.path().join("password");
        // As `echo` writes it: the line ending goes, the spaces inside and around stay.
        std::fs::write(&file, " pass word \n").expect("unwrap: our temp dir");
        let path = file.to_str().expect("unwrap: a UTF-8 temp path");

        let from_file = secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD_FILE", path)])).expect("the file is read");
        assert_eq!(from_file.as_ref().map(Secret::expose), Some(" pass word "));
        let from_variable = secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD", "direct")])).expect("the variable");
        assert_eq!(from_variable.as_ref().map(Secret::expose), Some("direct"));
        assert!(secret_in("DB_PASSWORD", &env(&[])).expect("unset is fine").is_none());
        assert!(secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD", "  ")])).expect("blank is unset").is_none());

        let both = secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD", "direct"), ("DB_PASSWORD_FILE", path)]));
        let error = format!("{:#}", both.expect_err("two sources are refused"));
        assert!(error.contains("DB_PASSWORD_FILE") && !error.contains("direct"), "{error}");

        let missing = dir.path().join("missing");
        let missing = missing.to_str().expect("unwrap: a UTF-8 temp path");
        let error = secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD_FILE", missing)])).expect_err("no such file");
        assert!(format!("{error:#}").contains("DB_PASSWORD_FILE"), "{error:#}");

        std::fs::write(&file, "\n").expect("unwrap: our temp dir");
        assert!(secret_in("DB_PASSWORD", &env(&[("DB_PASSWORD_FILE", path)])).expect("read").is_none());
    }

    #[test]
    fn kafka_sasl_is_opt_in_and_complete_or_refused() {
        assert_eq!(KafkaSecurity::from_lookup(&env(&[])).expect("nothing set"), KafkaSecurity::Plaintext);
        assert_eq!(
            KafkaSecurity::from_lookup(&env(&[("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")])).expect("plaintext"),
            KafkaSecurity::Plaintext
        );

        let dir = tempfile::tempdir().expect("unwrap: a temp dir");
        let file = dir.path().join("kafka-password");
        std::fs::write(&file, "scram secret\n").expect("unwrap: our temp dir");
        let path = file.to_str().expect("unwrap: a UTF-8 temp path");
        let sasl = KafkaSecurity::from_lookup(&env(&[
            ("KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"),
            ("KAFKA_SASL_USERNAME", "orders"),
            ("KAFKA_SASL_PASSWORD_FILE", path),
        ]))
        .expect("a complete SASL setting");
        let KafkaSecurity::Sasl(sasl) = sasl else { panic!("SASL was configured: {sasl:?}") };
        assert_eq!(
            (sasl.protocol, sasl.mechanism, sasl.username.as_str()),
            ("sasl_plaintext", "SCRAM-SHA-256", "orders")
        );
        assert_eq!(sasl.password.expose(), "scram secret");
        assert!(!format!("{sasl:?}").contains("scram secret"), "the password in Debug output");

        for (broken, why) in [
            (vec![("KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"), ("KAFKA_SASL_PASSWORD", "x")], "KAFKA_SASL_USERNAME"),
            (vec![("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"), ("KAFKA_SASL_USERNAME", "orders")], "KAFKA_SASL_PASSWORD"),
            (vec![("KAFKA_SASL_USERNAME", "orders"), ("KAFKA_SASL_PASSWORD", "x")], "plaintext"),
            (vec![("KAFKA_SECURITY_PROTOCOL", "ssl")], "KAFKA_SECURITY_PROTOCOL"),
            (
                vec![
                    ("KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"),
                    ("KAFKA_SASL_MECHANISM", "GSSAPI"),
                    ("KAFKA_SASL_USERNAME", "orders"),
                    ("KAFKA_SASL_PASSWORD", "x"),
                ],
                "KAFKA_SASL_MECHANISM",
            ),
        ] {
            let error = KafkaSecurity::from_lookup(&env(&broken)).expect_err(why);
            assert!(format!("{error:#}").contains(why), "{broken:?}: {error:#}");
        }
    }
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (the form compose and container
/// secrets take). `None` when neither is set; setting both is an error (which one would win is
/// a guess). Trailing line endings are dropped (`echo value > file` writes one); other
/// whitespace is kept, since a password may hold it. The value is never logged, and an error
/// names the variable, never the content.
pub fn secret(name: &str) -> anyhow::Result<Option<Secret>> {
    secret_in(name, &|var: &str| std::env::var(var).ok())
}

/// [`secret`] with the environment given as a lookup (unit tests pass their own).
fn secret_in(name: &str, lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Secret>> {
    let file_var = format!("{name}_FILE");
    let value = lookup(name).filter(|v| !v.trim().is_empty());
    let path = lookup(&file_var).map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    let value = match (value, path) {
        (Some(_), Some(_)) => anyhow::bail!("set {name} or {file_var}, not both"),
        (Some(value), None) => value,
        (None, Some(path)) => {
            std::fs::read_to_string(&path).with_context(|| format!("reading the file named by {file_var} ({path})"))?
        }
        (None, None) => return Ok(None),
    };
    let value = value.trim_end_matches(['\r', '\n']);
    Ok((!value.trim().is_empty()).then(|| Secret::new(value)))
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
    /// Whether to follow the users service's revocations (always, from the environment): until
    /// the list has loaded once, user tokens are refused. Only tests of one service alone, with
    /// no users service to ask, turn it off; their list is then complete as it is.
    pub follow_revocations: bool,
}

impl AuthSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            token_public_key: required_secret("TOKEN_PUBLIC_KEY")?.expose().to_owned(),
            service_token: required_secret("SERVICE_TOKEN")?,
            users_url: env_or("USERS_GRPC_URL", "http://127.0.0.1:9001"),
            follow_revocations: true,
        })
    }
}
