//! # The users service
//!
//! Owns accounts and mints tokens. So far it owns its schema (`sql/users`, migrated at start)
//! and serves the ops endpoints; registration, login and biscuit tokens arrive with the
//! users-and-tokens issue.
//!
//! Map:
//! - [`store`]: the `users` schema's migrations.
//! - [`Application`]: builds it from a [`Config`] and runs it until shutdown.

pub mod config;
pub mod store;

pub use config::Config;

use actix_web::{App, HttpServer, dev::ServerHandle};
use anyhow::Context as _;
use service_kit::{db, ops::Ops};
use std::net::SocketAddr;

/// Seconds the HTTP server waits for in-flight requests at shutdown.
const HTTP_SHUTDOWN_SECONDS: u64 = 5;

pub struct Application {
    http_addr: SocketAddr,
    http: ServerHandle,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        let ops = Ops::new("users").with_check("database", move || {
            let pool = pool.clone();
            async move { db::ping(&pool).await }
        });
        let listener = std::net::TcpListener::bind(config.http_addr)
            .with_context(|| format!("binding HTTP on {}", config.http_addr))?;
        let http_addr = listener.local_addr().context("reading the HTTP address")?;
        let server = HttpServer::new(move || App::new().configure(|cfg| ops.configure(cfg)))
            .workers(config.http_workers)
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
        Ok(Self { http_addr, http })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        service_kit::shutdown::os_signal().await;
        self.stop().await;
        Ok(())
    }

    pub async fn stop(self) {
        self.http.stop(true).await;
        tracing::info!("users stopped");
    }
}
