//! Broker client settings, chosen for latency (librdkafka's defaults favour throughput), and
//! topic creation for local runs and tests. In production the topics are created by the
//! operator (see `compose/`), and creating an existing topic is not an error.

use anyhow::Context as _;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use std::time::Duration;

/// The topic of order events; the key of every record is the order id.
pub const ORDERS_TOPIC_DEFAULT: &str = "orders.events";
/// Where the kitchen copies records it cannot decode.
pub const ORDERS_DLQ_SUFFIX: &str = ".dlq";

/// How long an admin or metadata request may take before we call the broker unreachable.
pub const BROKER_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Producer settings: idempotent (no duplicates or reordering from retries), acknowledged by
/// all in-sync replicas, sent at once (`linger.ms=0`: an order should reach the kitchen in
/// milliseconds, and the relay batches by itself).
pub fn producer_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("message.timeout.ms", "30000")
        .set("compression.type", "none");
    config
}

/// Consumer settings: offsets committed by hand after the work is durable, never
/// automatically; a new group starts at the beginning; fetches return within 5 ms instead of
/// librdkafka's 500 ms.
pub fn consumer_config(brokers: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "5")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    config
}

/// Creates each topic unless it exists.
pub async fn ensure_topics(brokers: &str, topics: &[(&str, i32)]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().context("creating a Kafka admin client")?;
    let new_topics: Vec<NewTopic<'_>> =
        topics.iter().map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().operation_timeout(Some(BROKER_REQUEST_TIMEOUT));
    let results =
        admin.create_topics(new_topics.iter(), &options).await.context("asking the broker to create topics")?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic}: {code}"),
        }
    }
    Ok(())
}

/// The broker half of `/readyz`: one client, made at the first check and kept, asked for the
/// broker's metadata each time (a new client per check would open new connections each time).
pub struct BrokerProbe {
    brokers: String,
    client: std::sync::Arc<std::sync::OnceLock<rdkafka::consumer::BaseConsumer>>,
}

impl BrokerProbe {
    pub fn new(brokers: &str) -> Self {
        Self { brokers: brokers.to_owned(), client: std::sync::Arc::default() }
    }

    /// Asks the broker for its metadata (on a blocking thread: librdkafka's call blocks).
    pub async fn ping(&self) -> anyhow::Result<()> {
        use rdkafka::consumer::Consumer as _;
        let client = std::sync::Arc::clone(&self.client);
        let brokers = self.brokers.clone();
        tokio::task::spawn_blocking(move || {
            if client.get().is_none() {
                let made = ClientConfig::new()
                    .set("bootstrap.servers", &brokers)
                    .create()
                    .context("creating a Kafka client")?;
                // A concurrent first check may have set one already: either is fine.
                let _ = client.set(made);
            }
            let consumer = client.get().context("the broker client is missing")?;
            consumer.fetch_metadata(None, BROKER_REQUEST_TIMEOUT).context("fetching broker metadata")?;
            anyhow::Ok(())
        })
        .await
        .context("the broker check panicked")?
    }
}
