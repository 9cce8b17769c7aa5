//! The users service's settings, from environment variables (see `README.md`).

use crate::throttle::{Limit, SignInLimits};
use service_kit::Secret;
use service_kit::config::{DatabaseSettings, bind_addr, env_parse, required_secret};
use service_kit::http::{AllowedOrigins, HttpSettings, TrustedProxies};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_HTTP_PORT` (8083) on `BIND_HOST`.
    pub http_addr: SocketAddr,
    /// `USERS_OPS_PORT` (9183) on `OPS_BIND_HOST`: `/metrics` and the detailed `/readyz`.
    pub ops_addr: SocketAddr,
    /// `TRUSTED_PROXIES` (none): the reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// `USERS_GRPC_PORT` (9001) on `BIND_HOST`.
    pub grpc_addr: SocketAddr,
    pub database: DatabaseSettings,
    /// `HTTP_WORKERS` (2).
    pub http_workers: usize,
    /// The root private key, hex (`TOKEN_PRIVATE_KEY` or `TOKEN_PRIVATE_KEY_FILE`; required).
    pub token_private_key: Secret,
    /// `TOKEN_TTL_SECONDS` (86400): how long a user token lives.
    pub token_ttl: Duration,
    /// `SERVICE_TOKEN_TTL_SECONDS` (900): how long a service token handed out for a credential
    /// lives (services renew at half-life; see `tokens::renewal`).
    pub service_token_ttl: Duration,
    /// `SIGN_IN_ACCOUNT_BURST` (5) and `SIGN_IN_ACCOUNT_REFILL_SECONDS` (12); likewise
    /// `SIGN_IN_ADDRESS_*` (20, 3): see `throttle.rs` for why these defaults.
    pub sign_in_limits: SignInLimits,
}

impl Config {
    /// Port 0 for every server (the test reads the real ones), one HTTP worker, hour-long
    /// tokens: what every test starts from; it then overrides what it needs.
    pub fn for_tests(database: DatabaseSettings, token_private_key: Secret) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            http_addr: any_port,
            ops_addr: any_port,
            trusted_proxies: TrustedProxies::default(),
            grpc_addr: any_port,
            database,
            http_workers: 1,
            token_private_key,
            token_ttl: Duration::from_secs(3600),
            service_token_ttl: tokens::SERVICE_TOKEN_TTL,
            sign_in_limits: SignInLimits::default(),
        }
    }

    /// The REST server: `/auth/*` is called through the gateway or by tools, not by browsers
    /// directly (no CORS).
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
            ops_addr: service_kit::config::ops_addr("USERS_OPS_PORT", 9183)?,
            trusted_proxies: service_kit::config::trusted_proxies()?,
            http_addr: bind_addr("USERS_HTTP_PORT", 8083)?,
            grpc_addr: bind_addr("USERS_GRPC_PORT", 9001)?,
            database: DatabaseSettings::from_env()?,
            http_workers: env_parse("HTTP_WORKERS", 2)?,
            token_private_key: required_secret("TOKEN_PRIVATE_KEY")?,
            token_ttl: Duration::from_secs(env_parse("TOKEN_TTL_SECONDS", 86_400)?),
            service_token_ttl: Duration::from_secs(env_parse(
                "SERVICE_TOKEN_TTL_SECONDS",
                tokens::SERVICE_TOKEN_TTL.as_secs(),
            )?),
            sign_in_limits: SignInLimits {
                per_account: limit("ACCOUNT", SignInLimits::default().per_account)?,
                per_address: limit("ADDRESS", SignInLimits::default().per_address)?,
            },
        })
    }
}

/// `SIGN_IN_<WHO>_BURST` and `SIGN_IN_<WHO>_REFILL_SECONDS`.
fn limit(who: &str, default: Limit) -> anyhow::Result<Limit> {
    let burst = env_parse(&format!("SIGN_IN_{who}_BURST"), default.burst)?;
    let refill = env_parse(&format!("SIGN_IN_{who}_REFILL_SECONDS"), default.refill.as_secs_f64())?;
    anyhow::ensure!(burst > 0 && refill > 0.0, "SIGN_IN_{who}_* must be positive");
    Ok(Limit { burst, refill: Duration::from_secs_f64(refill) })
}
