//! # The kitchen service
//!
//! Turns order events into tickets, idempotently and by version, and pushes every ticket
//! change live to the kitchen tablets.
//!
//! Map (core first, adapters last):
//! - [`domain`]: tickets, their statuses and changes, and the cooks' commands with the one
//!   rule for where each takes a ticket (`TicketStatus::after`) — plain Rust, no wire types.
//! - [`service`]: the core, [`Kitchen`]: applying an order event, reading the board and the
//!   tickets, a cook's command; one error enum per operation, classified by `ErrorKind`.
//! - [`store`]: PostgreSQL (`kitchen` schema: tickets, and the tablet change log whose insert
//!   trigger `NOTIFY`s every instance) and its migrations (`sql/kitchen`); which refusals are for
//!   good (SQLSTATE classes 22, 23, 54).
//! - [`actors`]: `ChangeLogFollower`, which reads every committed change from the change log
//!   (whichever instance's consumer wrote it) in sequence order and prunes the log, and
//!   `TicketHub`, which fans those changes out to tablet sessions and SSE listeners.
//! - [`wire`]: the JSON form of a ticket, the same on every HTTP adapter.
//! - adapters, which call the core and never each other: [`kafka`] (`TicketConsumer`, the
//!   consumer actor, which only writes tickets, and the dead-letter topic for undecodable and
//!   refused records), [`ws`] (`GET /ws`, one `TabletSession` actor per tablet, ended when its
//!   token's lease does), [`http`] (REST with paged `GET /tickets`, and SSE, also ended with its
//!   token), [`grpc`] (the orders client the core sends cooks' commands through).
//! - [`Application`]: builds all of it from a [`Config`] and runs it until shutdown.

pub mod actors;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod service;
pub mod store;
pub mod wire;
pub mod ws;

pub use config::Config;
pub use service::Kitchen;

use actix::{Actor as _, Addr};
use actix_web::web;
use anyhow::Context as _;
use service_kit::{db, http::HttpServer, kafka::Topics, ops::Ops, shutdown::Shutdown};
use std::net::SocketAddr;

/// The running service: its bound address, and what to stop at shutdown.
pub struct Application {
    http: HttpServer,
    hub: Addr<actors::TicketHub>,
    /// Stops the consumer, first: it finishes the record in hand and commits its offsets.
    consuming: Shutdown,
    /// Stops the other background actors, last.
    shutdown: Shutdown,
}

impl Application {
    /// Migrates the schema, starts the hub, the change-log follower that feeds it and the
    /// consumer (which reads once the topics exist), and binds the port (0 picks one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(&config.database)?;
        db::migrate(&pool, store::SCHEMA, store::migrations::migrations::runner()).await?;
        let shutdown = Shutdown::new();
        // Created in the background: a broken broker keeps the kitchen not ready, not down
        // (tablets still get their board).
        let topics = if config.create_topics {
            let dead_letters = format!("{}{}", config.kafka.orders_topic, service_kit::kafka::ORDERS_DLQ_SUFFIX);
            Topics::create(
                &config.kafka,
                vec![(config.kafka.orders_topic.clone(), config.kafka.orders_topic_partitions), (dead_letters, 1)],
                shutdown.listener(),
            )
        } else {
            Topics::existing()
        };
        let ops = Ops::new("kitchen").with_database(&pool).with_broker(&config.kafka).with_topics(&topics);
        let metrics = metrics::KitchenMetrics::register(ops.registry())?;
        let tokens::revocation::ServiceAuth { verifier, service_token } =
            tokens::revocation::ServiceAuth::start(&config.auth, shutdown.listener()).await?;

        let hub = actors::TicketHub::new(metrics.clone()).start();
        // Read before the port is bound: every change after it reaches the hub, and no tablet
        // can have taken a snapshot older than it.
        let pushed = {
            let client = pool.get().await.context("connecting to PostgreSQL")?;
            store::tickets::last_seq(&client).await?
        };
        let orders = grpc::OrdersClient::new(&config.orders_url, service_token)?;
        let keeper =
            actors::PromiseKeeper::new(pool.clone(), orders.clone(), config.promises.clone(), shutdown.listener())
                .start();
        actors::ChangeLogFollower::new(
            pool.clone(),
            config.database.pg.clone(),
            hub.clone(),
            config.change_log,
            pushed,
            shutdown.listener(),
        )
        .telling(keeper)
        .start();
        let kitchen = Kitchen::new(pool, hub.clone(), orders, verifier, metrics.clone());
        let consuming = Shutdown::new();
        // The consumer is made once the topics exist: a client made while the broker was down
        // kept reporting every broker down after it came back, and a topic created after a
        // subscription is noticed only at the next metadata refresh, minutes later.
        let (kafka_settings, group, failpoint) =
            (config.kafka.clone(), config.consumer_group.clone(), config.failpoint.clone());
        let (consumer_kitchen, mut consumer_shutdown) = (kitchen.clone(), consuming.listener());
        actix::spawn(async move {
            tokio::select! {
                created = topics.created() => if !created { return },
                () = consumer_shutdown.recv() => return,
            }
            let consumer = kafka::TicketConsumer::new(
                &kafka_settings,
                &group,
                &kafka_settings.orders_topic,
                consumer_kitchen,
                metrics,
                failpoint.as_deref(),
                consumer_shutdown,
            );
            match consumer {
                Ok(consumer) => drop(consumer.start()),
                Err(e) => tracing::error!(error = format!("{e:#}"), "the ticket consumer cannot start"),
            }
        });
        let origins = config.allowed_origins.clone();
        let http = service_kit::http::serve(&config.http_settings(), ops, move |cfg| {
            cfg.app_data(web::Data::new(kitchen.clone())).app_data(web::Data::new(origins.clone()));
            http::configure(cfg);
            ws::configure(cfg);
        })?;
        Ok(Self { http, hub, consuming, shutdown })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// The internal ops address: `/metrics` and the detailed `/readyz`.
    pub fn ops_addr(&self) -> SocketAddr {
        self.http.ops_addr()
    }

    /// Stops consuming (the record in hand is applied and every stored offset committed before
    /// this goes on), closes the tablets' sockets (they reconnect to another instance), lets
    /// in-flight requests finish and waits for every background task.
    pub async fn stop(self) {
        self.consuming.complete().await;
        let _ = self.hub.send(actors::CloseAll).await;
        self.http.stop().await;
        self.shutdown.complete().await;
        tracing::info!("kitchen stopped");
    }
}
