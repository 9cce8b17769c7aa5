//! [`TicketConsumer`]: the actor that owns the kitchen's consumer of `orders.events` and
//! applies each record through the kitchen core, one at a time and in order; and the
//! dead-letter topic for records that cannot be decoded or that the database refuses for good.

use crate::metrics::KitchenMetrics;
use crate::service::{Applied, ApplyError, Kitchen};
use actix::prelude::*;
use anyhow::Context as _;
use futures::Stream;
use rdkafka::Message as _;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use std::time::Duration;

/// How often the consumer's lag is measured.
pub const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// Offsets are stored once an event's ticket is committed and sent to the broker this often:
/// one request a second instead of one per event (each is a durable write on the broker). A
/// crash replays at most this much, and replayed events change nothing (version check). A
/// clean stop commits what is stored at once.
pub const OFFSET_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// After a failed database write (or broker read, or dead-letter write), wait this long before
/// trying the same record again.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// How long the broker may take to acknowledge a dead letter before the write is retried.
pub const DEAD_LETTER_TIMEOUT: Duration = Duration::from_secs(10);

/// The failpoint that stops consuming after a ticket's commit and before its offset's, as a
/// crash there would (fault tests set it with `KITCHEN_FAILPOINT`).
pub const FAILPOINT_EXIT_AFTER_TICKET_COMMIT: &str = "exit_after_ticket_commit";

/// Consumes `orders.events` and turns each record into a ticket change through the kitchen
/// core: the change is committed in PostgreSQL first (every instance's `ChangeLogFollower`
/// then pushes it to its tablets), then the record's offset is stored (and committed within
/// [`OFFSET_COMMIT_INTERVAL`]). A record that cannot be decoded, or whose ticket the database
/// refuses for good (SQLSTATE class 22, 23 or 54: a NUL in a note, a time out of range…), is
/// copied to the dead-letter topic and passed; anything else (the database unreachable,
/// shutting down, a serialization failure) is retried until it passes. A crash before
/// the offset commit redelivers the event, which then changes nothing (its version is no longer
/// newer), so no ticket is lost or doubled.
///
/// The actor owns its record stream and handles one record at a time (`ctx.wait`): nothing
/// else, not even shutdown, runs until the record in hand is applied and its offset stored. At
/// shutdown it then commits every stored offset before it stops, so the consumer that takes
/// over the group starts right after the last record applied here.
pub struct TicketConsumer {
    consumer: Arc<StreamConsumer>,
    dead_letters: Arc<DeadLetters>,
    kitchen: Kitchen,
    metrics: KitchenMetrics,
    /// [`FAILPOINT_EXIT_AFTER_TICKET_COMMIT`] is set.
    exit_after_ticket_commit: bool,
    /// Held until the actor has stopped (after its last commit), so the service's shutdown
    /// waits for it.
    shutdown: Option<ShutdownListener>,
    /// Shutdown has begun: records still arriving are left, unstored, for the group's next
    /// consumer.
    stopping: bool,
}

/// Where records that cannot be decoded or stored are copied (`<topic>.dlq`), with the reason
/// in a header, so that operators can inspect them while the consumer moves on.
struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

/// What became of one record.
enum Outcome {
    /// Applied (or found to change nothing, or copied to the dead-letter topic): its offset may
    /// be stored.
    Settled,
    /// Shutdown began while the record could not be applied: it is left for the next consumer.
    Abandoned,
}

impl TicketConsumer {
    pub fn new(
        kafka: &service_kit::config::KafkaSettings,
        group: &str,
        topic: &str,
        kitchen: Kitchen,
        metrics: KitchenMetrics,
        failpoint: Option<&str>,
        shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        let consumer: StreamConsumer = service_kit::kafka::consumer_config(kafka, group)
            // Commits only what `store_offsets` stored (auto.offset.store stays off).
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", OFFSET_COMMIT_INTERVAL.as_millis().to_string())
            .create()
            .context("creating the Kafka consumer")?;
        consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
        let producer =
            service_kit::kafka::producer_config(kafka).create().context("creating the dead-letter producer")?;
        let dead_letters = DeadLetters { producer, topic: format!("{topic}{}", service_kit::kafka::ORDERS_DLQ_SUFFIX) };
        Ok(Self {
            consumer: Arc::new(consumer),
            dead_letters: Arc::new(dead_letters),
            kitchen,
            metrics,
            exit_after_ticket_commit: failpoint == Some(FAILPOINT_EXIT_AFTER_TICKET_COMMIT),
            shutdown: Some(shutdown),
            stopping: false,
        })
    }

    /// Stops after the record in hand (the caller runs between records): commits the stored
    /// offsets first, synchronously, then stops.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        let consumer = self.consumer.clone();
        let commit = tokio::task::spawn_blocking(move || consumer.commit_consumer_state(CommitMode::Sync));
        ctx.wait(commit.into_actor(self).map(|committed, _, ctx| {
            match committed {
                Ok(Ok(())) => tracing::debug!("offsets committed at shutdown"),
                // Nothing stored since the last commit (or nothing assigned yet).
                Ok(Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset))) => {}
                Ok(Err(e)) => tracing::warn!(
                    error = %e,
                    "committing offsets at shutdown failed; the last records will come again (and change nothing)"
                ),
                Err(e) => tracing::warn!(error = %e, "the offset commit at shutdown did not finish"),
            }
            ctx.stop();
        }));
    }

    /// Marks a record as done: the group's next consumer starts after it.
    fn store_offset(&self, topic: &str, partition: i32, offset: i64) {
        let mut next = TopicPartitionList::new();
        // A stored (committed) offset names the next record to read.
        let stored = next
            .add_partition_offset(topic, partition, Offset::Offset(offset + 1))
            .and_then(|()| self.consumer.store_offsets(&next));
        if let Err(e) = stored {
            tracing::warn!(error = %e, partition, offset, "storing the offset; the event will be delivered again");
        }
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
        // Shutdown is seen between records only: the record in hand holds the context (`wait`).
        if let Some(mut shutdown) = self.shutdown.clone() {
            ctx.spawn(
                async move { shutdown.recv().await }.into_actor(self).map(|(), consumer, ctx| consumer.finish(ctx)),
            );
        }
        ctx.add_stream(records(self.consumer.clone()));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!("ticket consumer stopped");
        // Tells the service's shutdown this consumer has finished.
        self.shutdown.take();
    }
}

impl StreamHandler<KafkaResult<OwnedMessage>> for TicketConsumer {
    fn handle(&mut self, record: KafkaResult<OwnedMessage>, ctx: &mut Self::Context) {
        if self.stopping {
            // Not applied, so not stored: the group's next consumer gets it.
            return;
        }
        if self.shutdown.as_ref().is_some_and(ShutdownListener::is_shutting_down) {
            // Shutdown began while the previous record held the context: stop before this one.
            return self.finish(ctx);
        }
        let message = match record {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "receiving from the broker");
                ctx.wait(actix::clock::sleep(RETRY_BACKOFF).into_actor(self));
                return;
            }
        };
        let position = (message.topic().to_owned(), message.partition(), message.offset());
        let work = apply_record(
            message,
            self.kitchen.clone(),
            self.dead_letters.clone(),
            self.metrics.clone(),
            self.shutdown.clone(),
        );
        // The next record is handled only once this one is settled and its offset stored.
        ctx.wait(work.into_actor(self).map(move |outcome, consumer, ctx| {
            let Outcome::Settled = outcome else { return };
            if consumer.exit_after_ticket_commit {
                tracing::warn!("failpoint: stopping after the ticket commit, before the offset commit");
                consumer.stopping = true;
                ctx.stop();
                return;
            }
            let (topic, partition, offset) = position;
            consumer.store_offset(&topic, partition, offset);
        }));
    }
}

/// The consumer's records as a stream the actor can own: rdkafka's own stream borrows the
/// consumer, this one shares it.
fn records(consumer: Arc<StreamConsumer>) -> impl Stream<Item = KafkaResult<OwnedMessage>> {
    futures::stream::unfold(consumer, |consumer| async move {
        let record = consumer.recv().await.map(|message| message.detach());
        Some((record, consumer))
    })
}

/// Applies one record; returns once it is durably applied or known to be unusable, or, if the
/// database (or broker) stays down, once shutdown begins.
async fn apply_record(
    message: OwnedMessage,
    kitchen: Kitchen,
    dead_letters: Arc<DeadLetters>,
    metrics: KitchenMetrics,
    mut shutdown: Option<ShutdownListener>,
) -> Outcome {
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
            return set_aside(&message, &reason, &dead_letters, &metrics, &mut shutdown).await;
        }
    };
    let trace_id = message
        .headers()
        .and_then(|headers| headers.iter().find(|h| h.key == service_kit::trace::HEADER))
        .and_then(|h| std::str::from_utf8(h.value?).ok())
        .and_then(service_kit::trace::TraceParent::parse)
        .map(|t| t.trace_id().to_owned());
    loop {
        match kitchen.apply(&ticket, trace_id.as_deref()).await {
            Ok(Applied::Changed(change)) => {
                tracing::info!(
                    order = %ticket.order_id,
                    status = ticket.status.as_str(),
                    seq = change.seq,
                    trace_id = change.trace_id.as_deref(),
                    "ticket stored"
                );
                return Outcome::Settled;
            }
            Ok(Applied::Unchanged) => return Outcome::Settled,
            Err(ApplyError::Refused(reason)) => {
                metrics.refused_events.inc();
                tracing::warn!(
                    order = %ticket.order_id,
                    partition = message.partition(),
                    offset = message.offset(),
                    reason,
                    "skipping an order event the database refuses (copied to the dead-letter topic)"
                );
                return set_aside(&message, &reason, &dead_letters, &metrics, &mut shutdown).await;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), order = %ticket.order_id, "storing a ticket failed; retrying");
                if !pause_unless_stopping(&mut shutdown).await {
                    return Outcome::Abandoned;
                }
            }
        }
    }
}

/// Copies a record that will never make a ticket to the dead-letter topic with `reason`.
async fn set_aside(
    message: &OwnedMessage,
    reason: &str,
    dead_letters: &DeadLetters,
    metrics: &KitchenMetrics,
    shutdown: &mut Option<ShutdownListener>,
) -> Outcome {
    if !dead_letters.keep(message, reason, shutdown).await {
        return Outcome::Abandoned;
    }
    metrics.dead_letters.inc();
    Outcome::Settled
}

/// Waits [`RETRY_BACKOFF`]; `false` if shutdown has begun (then the record is given up).
async fn pause_unless_stopping(shutdown: &mut Option<ShutdownListener>) -> bool {
    let Some(shutdown) = shutdown else {
        tokio::time::sleep(RETRY_BACKOFF).await;
        return true;
    };
    tokio::select! {
        () = tokio::time::sleep(RETRY_BACKOFF) => !shutdown.is_shutting_down(),
        () = shutdown.recv() => false,
    }
}

/// Messages behind the end of every assigned partition (a blocking broker round trip).
fn lag(consumer: &StreamConsumer) -> Option<i64> {
    let positions = consumer.position().ok()?;
    let mut total = 0;
    for element in positions.elements() {
        let (_, high) = consumer
            .fetch_watermarks(element.topic(), element.partition(), service_kit::kafka::BROKER_REQUEST_TIMEOUT)
            .ok()?;
        if let Offset::Offset(position) = element.offset() {
            total += (high - position).max(0);
        }
    }
    Some(total)
}

impl DeadLetters {
    /// Copies the record, retrying until the broker takes it (the offset is stored after);
    /// `false` if shutdown began first.
    async fn keep(&self, message: &OwnedMessage, reason: &str, shutdown: &mut Option<ShutdownListener>) -> bool {
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
            match self.producer.send(record, DEAD_LETTER_TIMEOUT).await {
                Ok(_) => return true,
                Err((e, _)) => {
                    tracing::warn!(error = %e, "writing to the dead-letter topic failed; retrying");
                    if !pause_unless_stopping(shutdown).await {
                        return false;
                    }
                }
            }
        }
    }
}
