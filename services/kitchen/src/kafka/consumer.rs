use crate::actors::{PublishChange, TicketHub};
use crate::metrics::KitchenMetrics;
use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use rdkafka::Message as _;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use std::sync::Arc;
use std::time::Duration;

/// After a failed database write, wait this long before trying the same event again.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// Consumes `orders.events` and turns each event into a ticket change: the change is committed
/// in PostgreSQL first, then pushed to the tablets, then the offset is committed. A crash
/// between the two commits redelivers the event, which then changes nothing (its version is
/// no longer newer), so no ticket is lost or doubled.
pub struct TicketConsumer {
    consumer: Arc<StreamConsumer>,
    pool: Pool,
    hub: Addr<TicketHub>,
    metrics: KitchenMetrics,
}

impl TicketConsumer {
    pub fn new(
        brokers: &str,
        group: &str,
        topic: &str,
        pool: Pool,
        hub: Addr<TicketHub>,
        metrics: KitchenMetrics,
    ) -> anyhow::Result<Self> {
        let consumer: StreamConsumer = service_kit::kafka::consumer_config(brokers, group)
            .create()
            .context("creating the Kafka consumer")?;
        consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
        Ok(Self { consumer: Arc::new(consumer), pool, hub, metrics })
    }
}

impl Actor for TicketConsumer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let work = consume(self.consumer.clone(), self.pool.clone(), self.hub.clone(), self.metrics.clone());
        ctx.spawn(work.into_actor(self));
    }
}

/// Stop consuming (shutdown). The event in hand, if any, is not committed and will come again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopConsuming;

impl Handler<StopConsuming> for TicketConsumer {
    type Result = ();

    fn handle(&mut self, _: StopConsuming, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

async fn consume(consumer: Arc<StreamConsumer>, pool: Pool, hub: Addr<TicketHub>, metrics: KitchenMetrics) {
    loop {
        let message = match consumer.recv().await {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "receiving from the broker");
                tokio::time::sleep(RETRY_BACKOFF).await;
                continue;
            }
        };
        handle(&message, &pool, &hub, &metrics).await;
        if let Err(e) = consumer.commit_message(&message, CommitMode::Async) {
            tracing::warn!(error = %e, "committing the offset; the event will be delivered again");
        }
    }
}

/// Applies one record; returns only once it is durably applied or known to be unusable.
async fn handle(message: &BorrowedMessage<'_>, pool: &Pool, hub: &Addr<TicketHub>, metrics: &KitchenMetrics) {
    let decoded = order_events::decode(message.key(), message.payload())
        .map_err(|e| e.to_string())
        .and_then(|event| super::convert::ticket(&event).map_err(|e| e.to_string()));
    let ticket = match decoded {
        Ok(ticket) => ticket,
        Err(reason) => {
            metrics.malformed_events.inc();
            tracing::warn!(
                partition = message.partition(),
                offset = message.offset(),
                reason,
                "skipping a malformed order event"
            );
            return;
        }
    };
    loop {
        let applied = async {
            let mut client = pool.get().await.context("connecting to PostgreSQL")?;
            store::tickets::apply(&mut client, &ticket).await
        }
        .await;
        match applied {
            Ok(Some(change)) => {
                metrics.ticket_changes.inc();
                hub.do_send(PublishChange(change));
                return;
            }
            Ok(None) => {
                metrics.stale_events.inc();
                return;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), order = %ticket.order_id, "storing a ticket failed; retrying");
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
        }
    }
}
