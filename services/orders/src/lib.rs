//! # The orders service
//!
//! Keeps the menu and every order; each live order is owned by one actor that serialises its
//! commands and writes each change together with its event (transactional outbox); a relay
//! publishes the outbox to `orders.events`.
//!
//! Map (core first, adapters last):
//! - [`domain`]: ids, carts, the menu, orders and their lifecycle — plain Rust, no wire types.
//! - [`service`]: the operations adapters call, each with its own error enum.
//! - [`actors`]: `OrderRegistry` → one `OrderActor` per live order; `DayNumbers`; `OutboxRelay`.
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
use service_kit::{db, http::HttpServer, kafka::Topics, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;

/// The running service: its bound addresses, and what to stop at shutdown.
pub struct Application {
    http: HttpServer,
    grpc_addr: SocketAddr,
    shutdown: Shutdown,
    registry: Addr<actors::OrderRegistry>,
}

impl Application {
    /// Migrates the schema, starts the actors and binds both ports (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        let shutdown = Shutdown::new();
        // Created in the background: a broken broker keeps orders not ready, not down (orders
        // are still placed; the outbox holds their events until the broker takes them).
        let topics = if config.create_topics {
            Topics::create(
                &config.kafka,
                vec![(config.kafka.orders_topic.clone(), config.kafka.orders_topic_partitions)],
                shutdown.listener(),
            )
        } else {
            Topics::existing()
        };
        let ops = Ops::new("orders").with_database(&pool).with_broker(&config.kafka).with_topics(&topics);
        let metrics = metrics::OrdersMetrics::register(ops.registry())?;
        let tokens::revocation::ServiceAuth { verifier, .. } =
            tokens::revocation::ServiceAuth::start(&config.auth, shutdown.listener()).await?;

        let publisher = kafka::EventPublisher::new(&config.kafka, &config.kafka.orders_topic)?;
        let numbers = actors::DayNumbers::new(pool.clone()).start();
        let registry = actors::OrderRegistry::new(pool.clone(), numbers, metrics.clone()).start();
        let feed_skipped = metrics.feed_skipped.clone();
        actors::OutboxRelay::new(pool.clone(), config.database.pg.clone(), publisher, metrics, shutdown.listener())
            .start();
        let feed = kafka::OrderFeed::start(
            &config.kafka,
            &config.kafka.orders_topic,
            topics,
            feed_skipped,
            shutdown.listener(),
        )?;
        let menu_feed =
            store::menu_feed::MenuFeed::start(pool.clone(), config.database.pg.clone(), shutdown.listener()).await?;
        let service = service::OrdersService::new(registry.clone(), pool);

        let grpc_api = grpc::OrderApi::new(service.clone(), verifier.clone(), feed, menu_feed, shutdown.listener());
        let grpc_addr =
            service_kit::grpc::serve(config.grpc_addr, grpc::services(grpc_api), &ops, shutdown.listener()).await?;
        let http = service_kit::http::serve(&config.http_settings(), ops, move |cfg| {
            http::configure(cfg, service.clone(), verifier.clone())
        })?;
        Ok(Self { http, grpc_addr, shutdown, registry })
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

    /// Stops taking requests, lets in-flight ones finish, stops the relay and waits for every
    /// component to finish.
    pub async fn stop(self) {
        self.http.stop().await;
        drop(self.registry);
        self.shutdown.complete().await;
        tracing::info!("orders stopped");
    }
}
