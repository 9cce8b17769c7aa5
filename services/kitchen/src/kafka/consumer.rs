use crate::actors::{PublishChange, TicketHub};
use crate::metrics::KitchenMetrics;
use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::Arc;
use std::time::Duration;

/// How often the consumer's lag is measured.
pub const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// Messages behind the end of every assigned partition (a blocking broker round trip).
fn lag(consumer: &StreamConsumer) -> Option<i64> {
    let positions = consumer.position().ok()?;
    let mut total = 0;
    for element in positions.elements() {
        let (_, high) = consumer
            .fetch_watermarks(element.topic(), element.partition(), service_kit::kafka::BROKER_REQUEST_TIMEOUT)
            .ok()?;
        if let rdkafka::Offset::Offset(position) = element.offset() {
            total += (high - position).max(0);
        }
    }
    Some(total)
}

/// Offsets are stored once an event's ticket is committed and sent to the broker this often:
/// one request a second instead of one per event (each is a durable write on the broker). A
/// crash replays at most this much, and replayed events change nothing (version check).
pub const OFFSET_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// After a failed database write, wait this long before trying the same event again.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// Consumes `orders.events` and turns each event into a ticket change: the change is committed
/// in PostgreSQL first, then pushed to the tablets, then the offset is stored (and committed
/// within [`OFFSET_COMMIT_INTERVAL`]). A crash before the offset commit redelivers the event,
/// which then changes nothing (its version is no longer newer), so no ticket is lost or doubled.
pub struct TicketConsumer {
    consumer: Arc<StreamConsumer>,
    dead_letters: Arc<DeadLetters>,
    pool: Pool,
    hub: Addr<TicketHub>,
    metrics: KitchenMetrics,
    failpoint: Option<String>,
}

/// The failpoint that stops consuming after a ticket's commit and before its offset's, as a
/// crash there would (fault tests set it with `KITCHEN_FAILPOINT`).
pub const FAILPOINT_EXIT_AFTER_TICKET_COMMIT: &str = "exit_after_ticket_commit";

/// Where records that cannot be decoded are copied (`<topic>.dlq`), with the reason in a
/// header, so that operators can inspect them while the consumer moves on.
struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl TicketConsumer {
    pub fn new(
        brokers: &str,
        group: &str,
        topic: &str,
        pool: Pool,
        hub: Addr<TicketHub>,
        metrics: KitchenMetrics,
        failpoint: Option<String>,
    ) -> anyhow::Result<Self> {
        let consumer: StreamConsumer = service_kit::kafka::consumer_config(brokers, group)
            // Commits only what `store_offset_from_message` stored (auto.offset.store stays off).
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", OFFSET_COMMIT_INTERVAL.as_millis().to_string())
            .create()
            .context("creating the Kafka consumer")?;
        consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
        let producer =
            service_kit::kafka::producer_config(brokers).create().context("creating the dead-letter producer")?;
        let dead_letters = DeadLetters { producer, topic: format!("{topic}{}", service_kit::kafka::ORDERS_DLQ_SUFFIX) };
        Ok(Self { consumer: Arc::new(consumer), dead_letters: Arc::new(dead_letters), pool, hub, metrics, failpoint })
    }
}

impl Actor for TicketConsumer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The consumer's lag (messages on the broker not yet applied), for operators.
        ctx.run_interval(LAG_INTERVAL, |consumer, _| {
            let (client, gauge) = (consumer.consumer.clone(), consumer.metrics.consumer_lag.clone());
            actix_rt::spawn(async move {
                if let Ok(Some(lag)) = tokio::task::spawn_blocking(move || lag(&client)).await {
                    gauge.set(lag);
                }
            });
        });
        let work = consume(
            self.consumer.clone(),
            self.dead_letters.clone(),
            self.pool.clone(),
            self.hub.clone(),
            self.metrics.clone(),
            self.failpoint.clone(),
        );
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

async fn consume(
    consumer: Arc<StreamConsumer>,
    dead_letters: Arc<DeadLetters>,
    pool: Pool,
    hub: Addr<TicketHub>,
    metrics: KitchenMetrics,
    failpoint: Option<String>,
) {
    loop {
        let message = match consumer.recv().await {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "receiving from the broker");
                tokio::time::sleep(RETRY_BACKOFF).await;
                continue;
            }
        };
        handle(&message, &dead_letters, &pool, &hub, &metrics).await;
        if failpoint.as_deref() == Some(FAILPOINT_EXIT_AFTER_TICKET_COMMIT) {
            tracing::warn!("failpoint: stopping after the ticket commit, before the offset commit");
            return;
        }
        if let Err(e) = consumer.store_offset_from_message(&message) {
            tracing::warn!(error = %e, "storing the offset; the event will be delivered again");
        }
    }
}

/// Applies one record; returns only once it is durably applied or known to be unusable.
async fn handle(
    message: &BorrowedMessage<'_>,
    dead_letters: &DeadLetters,
    pool: &Pool,
    hub: &Addr<TicketHub>,
    metrics: &KitchenMetrics,
) {
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
                "skipping a malformed order event (copied to the dead-letter topic)"
            );
            dead_letters.keep(message, &reason).await;
            metrics.dead_letters.inc();
            return;
        }
    };
    let trace_id = message
        .headers()
        .and_then(|headers| headers.iter().find(|h| h.key == service_kit::trace::HEADER))
        .and_then(|h| std::str::from_utf8(h.value?).ok())
        .and_then(service_kit::trace::TraceParent::parse)
        .map(|t| t.trace_id().to_owned());
    loop {
        let applied = async {
            let client = pool.get().await.context("connecting to PostgreSQL")?;
            store::tickets::apply(&client, &ticket).await
        }
        .await;
        match applied {
            Ok(Some(mut change)) => {
                metrics.ticket_changes.inc();
                tracing::info!(
                    order = %ticket.order_id,
                    status = ticket.status.as_str(),
                    seq = change.seq,
                    trace_id = trace_id.as_deref(),
                    "ticket stored"
                );
                change.trace_id = trace_id;
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

impl DeadLetters {
    /// Copies the record, retrying until the broker takes it: the offset is committed after.
    async fn keep(&self, message: &BorrowedMessage<'_>, reason: &str) {
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for header in original.iter() {
                headers = headers.insert(Header { key: header.key, value: header.value });
            }
        }
        let source = format!("{}/{}@{}", message.topic(), message.partition(), message.offset());
        headers = headers
            .insert(Header { key: "dlq-reason", value: Some(reason.as_bytes()) })
            .insert(Header { key: "dlq-source", value: Some(source.as_bytes()) });
        loop {
            let mut record = FutureRecord::to(&self.topic).headers(headers.clone());
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            match self.producer.send(record, Duration::from_secs(10)).await {
                Ok(_) => return,
                Err((e, _)) => {
                    tracing::warn!(error = %e, "writing to the dead-letter topic failed; retrying");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
            }
        }
    }
}
