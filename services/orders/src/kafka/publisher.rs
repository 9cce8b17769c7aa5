//! `EventPublisher`: the relay's idempotent producer to the order events topic.

use crate::store::outbox::OutboxRecord;
use anyhow::Context as _;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use std::time::Duration;

/// How long a flush may take at shutdown.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes outbox records to the order events topic with an idempotent producer, so records
/// of one order (one key, one partition) arrive in the order they were sent, even on retries.
pub struct EventPublisher {
    producer: FutureProducer,
    topic: String,
}

impl EventPublisher {
    pub fn new(kafka: &service_kit::config::KafkaSettings, topic: &str) -> anyhow::Result<Self> {
        let producer = service_kit::kafka::producer_config(kafka).create().context("creating the Kafka producer")?;
        Ok(Self { producer, topic: topic.to_owned() })
    }

    /// Sends the records in order and waits for the broker; returns how many leading records
    /// were acknowledged (all of them, unless something failed).
    pub async fn publish(&self, records: &[OutboxRecord]) -> usize {
        let mut deliveries = Vec::with_capacity(records.len());
        for record in records {
            let mut headers = OwnedHeaders::new()
                .insert(Header { key: order_events::headers::EVENT_TYPE, value: Some(record.event_type.as_bytes()) });
            if let Some(traceparent) = &record.traceparent {
                headers = headers
                    .insert(Header { key: order_events::headers::TRACEPARENT, value: Some(traceparent.as_bytes()) });
            }
            let message =
                FutureRecord::to(&self.topic).key(record.key.as_bytes()).payload(&record.payload).headers(headers);
            match self.producer.send_result(message) {
                Ok(delivery) => deliveries.push(delivery),
                Err((e, _)) => {
                    tracing::warn!(error = %e, "the producer queue refused a record");
                    break;
                }
            }
        }
        let mut acknowledged = 0;
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => acknowledged += 1,
                Ok(Err((e, _))) => {
                    tracing::warn!(error = %e, "the broker did not acknowledge a record");
                    break;
                }
                Err(_) => break,
            }
        }
        acknowledged
    }

    /// Is the broker reachable? For `/readyz`.
    pub fn check_broker(&self) -> anyhow::Result<()> {
        self.producer
            .client()
            .fetch_metadata(Some(&self.topic), service_kit::kafka::BROKER_REQUEST_TIMEOUT)
            .context("fetching topic metadata")?;
        Ok(())
    }

    pub fn flush(&self) {
        if let Err(e) = self.producer.flush(FLUSH_TIMEOUT) {
            tracing::warn!(error = %e, "flushing the producer at shutdown");
        }
    }
}
