//! Raw records on a topic: read what a service wrote, write what a test forges or replays.

use anyhow::Context as _;
use futures::StreamExt as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Headers as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use service_kit::config::KafkaSettings;
use std::time::Duration;

/// A record as it was on the topic.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Reads the first `count` records of `topic` (all partitions), within the test deadline.
pub async fn read(brokers: &str, topic: &str, count: usize) -> anyhow::Result<Vec<Record>> {
    let group = crate::unique_name("reader");
    let consumer: StreamConsumer = service_kit::kafka::consumer_config(&KafkaSettings::plaintext(brokers), &group)
        .create()
        .context("creating a reader")?;
    consumer.subscribe(&[topic]).context("subscribing the reader")?;
    let mut stream = consumer.stream();
    let mut records = Vec::with_capacity(count);
    tokio::time::timeout(crate::DEADLINE, async {
        while records.len() < count {
            let message = stream.next().await.context("the reader stopped")?.context("reading a record")?;
            records.push(Record {
                partition: message.partition(),
                offset: message.offset(),
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec),
                headers: message
                    .headers()
                    .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect())
                    .unwrap_or_default(),
            });
        }
        anyhow::Ok(())
    })
    .await
    .with_context(|| format!("fewer than {count} records on {topic} within the deadline"))??;
    Ok(records)
}

/// Writes one record and waits for the broker's acknowledgement.
pub async fn write(
    brokers: &str,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    let producer: FutureProducer = service_kit::kafka::producer_config(&KafkaSettings::plaintext(brokers))
        .create()
        .context("creating a writer")?;
    let mut owned = OwnedHeaders::new();
    for (name, value) in headers {
        owned = owned.insert(Header { key: name, value: Some(value) });
    }
    let mut record = FutureRecord::to(topic).payload(payload).headers(owned);
    if let Some(key) = key {
        record = record.key(key);
    }
    producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e).context("writing a record")?;
    Ok(())
}
