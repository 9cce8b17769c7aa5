//! # The users service
//!
//! Accounts, passwords (argon2id) and biscuit tokens: the only holder of the root private key.
//!
//! Map (core first, adapters last):
//! - [`domain`]: usernames, passwords, users — parsed once.
//! - [`service`]: register, login, lookups, logout, staff accounts; one error enum each.
//! - [`passwords`]: hashing off the async threads; [`store`]: the `users` schema.
//! - adapters: [`http`] (`/auth/register`, `/auth/login`, port 8083), [`grpc`] (port 9001).
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

pub use config::Config;

use actix_web::{App, HttpServer, dev::ServerHandle};
use anyhow::Context as _;
use service_kit::{db, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;
use std::sync::Arc;
use tokens::TokenIssuer;

/// Seconds the HTTP server waits for in-flight requests at shutdown.
const HTTP_SHUTDOWN_SECONDS: u64 = 5;

pub struct Application {
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    http: ServerHandle,
    shutdown: Shutdown,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let issuer = Arc::new(TokenIssuer::from_private_key_hex(&config.token_private_key).context("TOKEN_PRIVATE_KEY")?);
        let verifier = issuer.verifier();
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        let service = service::UsersService::new(pool.clone(), issuer, config.token_ttl);
        let shutdown = Shutdown::new();

        // This service's own verifier follows revocations straight from its database.
        let follower = {
            let service = service.clone();
            tokens::revocation::follow(verifier.revocations().clone(), move |after| {
                let service = service.clone();
                async move { service.revocations_after(after).await.map_err(|e| format!("{e:#}")) }
            })
        };
        let mut follow_shutdown = shutdown.listener();
        actix_rt::spawn(async move {
            tokio::select! {
                () = follower => {}
                () = follow_shutdown.recv() => {}
            }
        });

        let ops = Ops::new("users");
        let grpc_metrics = service_kit::grpc_metrics::GrpcMetricsLayer::register(ops.registry())?;
        let ops = ops.with_check("database", {
            let pool = pool.clone();
            move || {
                let pool = pool.clone();
                async move { db::ping(&pool).await }
            }
        });
        let listener = std::net::TcpListener::bind(config.http_addr)
            .with_context(|| format!("binding HTTP on {}", config.http_addr))?;
        let http_addr = listener.local_addr().context("reading the HTTP address")?;
        let http_service = service.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(service_kit::ops::observe_http))
                .wrap(service_kit::ops::access_log())
                .configure(|cfg| ops.configure(cfg))
                .configure(|cfg| http::configure(cfg, http_service.clone()))
        })
        .workers(config.http_workers)
        // Small writes (a ticket, an answer) leave at once instead of waiting for the ACK of
        // the previous one (Nagle with delayed ACKs adds up to 40 ms).
        .tcp_nodelay(true)
        .disable_signals()
        .shutdown_timeout(HTTP_SHUTDOWN_SECONDS)
        .listen(listener)
        .context("starting the HTTP server")?
        .run();
        let http = server.handle();
        actix_rt::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });

        let grpc_listener = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("binding gRPC on {}", config.grpc_addr))?;
        let grpc_addr = grpc_listener.local_addr().context("reading the gRPC address")?;
        let grpc_shutdown = shutdown.listener();
        actix_rt::spawn(async move {
            if let Err(e) = grpc::serve(grpc_listener, service, verifier, grpc_metrics, grpc_shutdown).await {
                tracing::error!(error = format!("{e:#}"), "gRPC server failed");
            }
        });
        Ok(Self { http_addr, grpc_addr, http, shutdown })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        service_kit::shutdown::os_signal().await;
        self.stop().await;
        Ok(())
    }

    pub async fn stop(self) {
        self.http.stop(true).await;
        self.shutdown.complete().await;
        tracing::info!("users stopped");
    }
}
