//! # The kitchen service
//!
//! Turns order events into tickets, idempotently and by version, and pushes every ticket
//! change live to the kitchen tablets.
//!
//! Map (core first, adapters last):
//! - [`domain`]: tickets, their statuses and changes — plain Rust, no wire types.
//! - [`store`]: PostgreSQL (`kitchen` schema: tickets and the tablet change log) and its
//!   migrations (`sql/kitchen`).
//! - [`actors`]: `TicketHub`, which fans changes out to tablet sessions.
//! - adapters: [`kafka`] (`TicketConsumer`, the consumer actor, and the dead-letter topic),
//!   [`ws`] (`GET /ws`, one `TabletSession` actor per tablet), [`http`] (REST and SSE),
//!   [`grpc`] (the orders client that tablet commands go through).
//! - [`Application`]: builds all of it from a [`Config`] and runs it until shutdown.

pub mod actors;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod store;
pub mod ws;

pub use config::Config;

use actix::{Actor as _, Addr};
use actix_web::{App, HttpServer, dev::ServerHandle, web};
use anyhow::Context as _;
use service_kit::{db, ops::Ops};
use std::net::SocketAddr;

/// Seconds the HTTP server waits for in-flight requests at shutdown.
const HTTP_SHUTDOWN_SECONDS: u64 = 5;

pub struct Application {
    http_addr: SocketAddr,
    http: ServerHandle,
    consumer: Addr<kafka::TicketConsumer>,
    hub: Addr<actors::TicketHub>,
    /// Keeps the revocation list current; aborted at stop.
    follow_task: actix_rt::task::JoinHandle<()>,
}

impl Application {
    /// Migrates the schema, starts the consumer and the hub and binds the port (0 picks one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        if config.create_topics {
            let dead_letters = format!("{}{}", config.kafka.orders_topic, service_kit::kafka::ORDERS_DLQ_SUFFIX);
            service_kit::kafka::ensure_topics(
                &config.kafka.brokers,
                &[(&config.kafka.orders_topic, config.kafka.orders_topic_partitions), (&dead_letters, 1)],
            )
            .await?;
        }
        let verifier = tokens::TokenVerifier::from_public_key_hex(&config.auth.token_public_key)
            .context("TOKEN_PUBLIC_KEY")?;
        let follow_task = actix_rt::spawn(tokens::revocation::follow_users_service(
            verifier.revocations().clone(),
            config.auth.users_url.clone(),
            tokens::Token::new(config.auth.service_token.clone()),
        ));
        let ops = Ops::new("kitchen");
        let metrics = metrics::KitchenMetrics::register(ops.registry())?;
        let hub = actors::TicketHub::new(metrics.clone()).start();
        let consumer = kafka::TicketConsumer::new(
            &config.kafka.brokers,
            &config.consumer_group,
            &config.kafka.orders_topic,
            pool.clone(),
            hub.clone(),
            metrics,
            config.failpoint.clone(),
        )?
        .start();
        let service_token = tokens::Token::new(config.auth.service_token.clone());
        let deps = ws::Deps {
            hub: hub.clone(),
            pool: pool.clone(),
            verifier: verifier.clone(),
            orders: grpc::OrdersClient::new(&config.orders_url, service_token)?,
        };
        let origins = ws::AllowedOrigins(config.allowed_origins.clone());

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
        let server = HttpServer::new(move || {
            let cors = origins.0.iter().fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
                .allowed_methods(["GET", "POST"])
                .allowed_headers(["authorization", "content-type"])
                .max_age(3600);
            App::new()
                .wrap(cors)
                .wrap(actix_web::middleware::from_fn(service_kit::ops::observe_http))
                .wrap(service_kit::ops::access_log())
                .app_data(web::Data::new(deps.clone()))
                .app_data(web::Data::new(origins.clone()))
                .configure(|cfg| ops.configure(cfg))
                .configure(http::configure)
                .configure(ws::configure)
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
        Ok(Self { http_addr, http, consumer, hub, follow_task })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Runs until SIGTERM or Ctrl-C, then stops gracefully.
    pub async fn run_until_signalled(self) -> anyhow::Result<()> {
        service_kit::shutdown::os_signal().await;
        self.stop().await;
        Ok(())
    }

    /// Stops consuming, closes the tablets' sockets (they reconnect to another instance) and
    /// lets in-flight requests finish.
    pub async fn stop(self) {
        let _ = self.consumer.send(kafka::StopConsuming).await;
        let _ = self.hub.send(actors::CloseAll).await;
        self.http.stop(true).await;
        self.follow_task.abort();
        tracing::info!("kitchen stopped");
    }
}
