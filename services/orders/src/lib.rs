//! # The orders service
//!
//! Keeps the menu and every order; each live order is owned by one actor that serialises its
//! commands and writes each change together with its event (transactional outbox); a relay
//! publishes the outbox to `orders.events`.
//!
//! Map (core first, adapters last):
//! - [`domain`]: ids, carts, the menu, orders and their lifecycle — plain Rust, no wire types.
//! - [`service`]: the operations adapters call, each with its own error enum.
//! - [`actors`]: `OrderRegistry` → one `OrderActor` per live order; `OutboxRelay`.
//! - [`store`]: PostgreSQL (`orders` schema) and its migrations (`sql/orders`).
//! - [`caller`]: who is calling (from a verified token), and what they may see.
//! - [`wire`]: domain ↔ Protobuf, shared by the two Protobuf adapters.
//! - adapters: [`grpc`] (port 9000), [`http`] (port 8080), [`kafka`] (the producer).
//! - [`Application`]: builds all of it from a [`Config`] and runs it until shutdown.

pub mod actors;
pub mod caller;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod service;
pub mod store;
pub mod wire;

pub use config::Config;

use actix::{Actor as _, Addr};
use actix_web::{App, HttpServer, dev::ServerHandle};
use anyhow::Context as _;
use service_kit::{db, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;

/// Seconds the HTTP server waits for in-flight requests at shutdown.
const HTTP_SHUTDOWN_SECONDS: u64 = 5;

/// The running service: its bound addresses, and what to stop at shutdown.
pub struct Application {
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    http: ServerHandle,
    shutdown: Shutdown,
    registry: Addr<actors::OrderRegistry>,
}

impl Application {
    /// Migrates the schema, starts the actors and binds both ports (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        if config.create_topics {
            service_kit::kafka::ensure_topics(
                &config.kafka.brokers,
                &[(&config.kafka.orders_topic, config.kafka.orders_topic_partitions)],
            )
            .await?;
        }

        let verifier = tokens::TokenVerifier::from_public_key_hex(&config.auth.token_public_key)
            .context("TOKEN_PUBLIC_KEY")?;
        let ops = Ops::new("orders");
        let grpc_metrics = service_kit::grpc_metrics::GrpcMetricsLayer::register(ops.registry())?;
        let metrics = metrics::OrdersMetrics::register(ops.registry())?;
        let shutdown = Shutdown::new();
        let publisher = kafka::EventPublisher::new(&config.kafka.brokers, &config.kafka.orders_topic)?;
        let registry = actors::OrderRegistry::new(pool.clone(), metrics.clone()).start();
        actors::OutboxRelay::new(
            pool.clone(),
            config.database.pg.clone(),
            publisher,
            metrics,
            shutdown.listener(),
        )
        .start();
        let service = service::OrdersService::new(registry.clone(), pool.clone());
        let feed = kafka::OrderFeed::start(&config.kafka.brokers, &config.kafka.orders_topic, shutdown.listener())?;
        let follower = tokens::revocation::follow_users_service(
            verifier.revocations().clone(),
            config.auth.users_url.clone(),
            tokens::Token::new(config.auth.service_token.clone()),
        );
        let mut follow_shutdown = shutdown.listener();
        actix_rt::spawn(async move {
            tokio::select! {
                () = follower => {}
                () = follow_shutdown.recv() => {}
            }
        });

        let ops = ops
            .with_check("database", {
                let pool = pool.clone();
                move || {
                    let pool = pool.clone();
                    async move { db::ping(&pool).await }
                }
            })
            .with_check("broker", {
                let brokers = config.kafka.brokers.clone();
                move || {
                    let brokers = brokers.clone();
                    async move { service_kit::kafka::ping(&brokers).await }
                }
            });

        let listener = std::net::TcpListener::bind(config.http_addr)
            .with_context(|| format!("binding HTTP on {}", config.http_addr))?;
        let http_addr = listener.local_addr().context("reading the HTTP address")?;
        let http_service = service.clone();
        let http_verifier = verifier.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(service_kit::ops::observe_http))
                .wrap(service_kit::ops::access_log())
                .configure(|cfg| ops.configure(cfg))
                .configure(|cfg| http::configure(cfg, http_service.clone(), http_verifier.clone()))
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
            if let Err(e) = grpc::serve(grpc_listener, service, verifier, feed, grpc_metrics, grpc_shutdown).await {
                tracing::error!(error = format!("{e:#}"), "gRPC server failed");
            }
        });

        Ok(Self { http_addr, grpc_addr, http, shutdown, registry })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Runs until SIGTERM or Ctrl-C, then stops gracefully.
    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        service_kit::shutdown::os_signal().await;
        self.stop().await;
        Ok(())
    }

    /// Stops taking requests, lets in-flight ones finish, stops the relay and waits for every
    /// component to finish.
    pub async fn stop(self) {
        self.http.stop(true).await;
        drop(self.registry);
        self.shutdown.complete().await;
        tracing::info!("orders stopped");
    }
}
