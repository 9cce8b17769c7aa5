//! # The users service
//!
//! Accounts, passwords (argon2id) and biscuit tokens: the only holder of the root private key.
//!
//! Map (core first, adapters last):
//! - [`domain`]: usernames, passwords, users — parsed once.
//! - [`service`]: register, login, lookups, logout, staff accounts; one error enum each.
//! - [`passwords`]: the `PasswordHasher` actors (a `SyncArbiter`, one per core) behind a
//!   bounded queue; [`store`]: the `users` schema.
//! - adapters: [`http`] (`/auth/register`, `/auth/login`, port 8083), [`grpc`] (port 9001).
//! - [`throttle`]: sign-in attempts per account and per client address (`governor`).
//! - [`admin`]: the binary's operator commands (keys, staff accounts, service tokens).
//! - [`Application`]: builds it from a [`Config`] and runs it until shutdown.

pub mod admin;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod http;
pub mod passwords;
pub mod service;
pub mod store;
pub mod throttle;

pub use config::Config;

use actix::Actor as _;
use anyhow::Context as _;
use service_kit::{db, http::HttpServer, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;
use std::sync::Arc;
use tokens::TokenIssuer;

/// How often idle sign-in throttle buckets are forgotten and expired revocations deleted.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The running service: its bound addresses, and what to stop at shutdown.
pub struct Application {
    http: HttpServer,
    grpc_addr: SocketAddr,
    shutdown: Shutdown,
}

impl Application {
    /// Migrates the schema and binds both ports (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let issuer = Arc::new(
            TokenIssuer::from_private_key_hex(config.token_private_key.expose()).context("TOKEN_PRIVATE_KEY")?,
        );
        let verifier = issuer.verifier();
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        let ops = Ops::new("users").with_database(&pool);
        let service = service::UsersService::new(
            pool,
            issuer,
            config.token_ttl,
            passwords::Passwords::start_default(),
            config.sign_in_limits,
        )
        .with_service_token_ttl(config.service_token_ttl);
        let shutdown = Shutdown::new();

        // This service's own verifier follows revocations straight from its database.
        let follower_service = service.clone();
        tokens::revocation::RevocationFollower::new(
            verifier.revocations().clone(),
            move |after| {
                let service = follower_service.clone();
                async move { service.revocations_after(after).await.map_err(|e| format!("{e:#}")) }
            },
            shutdown.listener(),
        )
        .start();

        shutdown.run_until_shutdown("housekeeping", {
            let service = service.clone();
            async move {
                // The first round after one interval: nothing has grown at start.
                let start = tokio::time::Instant::now() + HOUSEKEEPING_INTERVAL;
                let mut every = tokio::time::interval_at(start, HOUSEKEEPING_INTERVAL);
                loop {
                    every.tick().await;
                    match service.housekeeping().await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "pruned expired revocations"),
                        Err(e) => tracing::warn!(error = format!("{e:#}"), "housekeeping failed"),
                    }
                }
            }
        });

        let grpc_addr = service_kit::grpc::serve(
            config.grpc_addr,
            grpc::services(service.clone(), verifier),
            &ops,
            shutdown.listener(),
        )
        .await?;
        let http =
            service_kit::http::serve(&config.http_settings(), ops, move |cfg| http::configure(cfg, service.clone()))?;
        Ok(Self { http, grpc_addr, shutdown })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// The internal ops address: `/metrics` and the detailed `/readyz`.
    pub fn ops_addr(&self) -> SocketAddr {
        self.http.ops_addr()
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub async fn stop(self) {
        self.http.stop().await;
        self.shutdown.complete().await;
        tracing::info!("users stopped");
    }
}
