//! Broker client settings, chosen for latency (librdkafka's defaults favour throughput), and
//! topic creation for local runs and tests. In production the topics are created by the
//! operator (see `compose/`), and creating an existing topic is not an error.

use crate::config::{KafkaSecurity, KafkaSettings};
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

/// Where the broker is and how to sign in to it: what every client of ours starts from.
pub fn client_config(kafka: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.brokers);
    if let KafkaSecurity::Sasl(sasl) = &kafka.security {
        config
            .set("security.protocol", sasl.protocol)
            .set("sasl.mechanism", sasl.mechanism)
            .set("sasl.username", &sasl.username)
            .set("sasl.password", sasl.password.expose());
    }
    config
}

/// Producer settings: idempotent (no duplicates or reordering from retries), acknowledged by
/// all in-sync replicas, sent at once (`linger.ms=0`: an order should reach the kitchen in
/// milliseconds, and the relay batches by itself).
pub fn producer_config(kafka: &KafkaSettings) -> ClientConfig {
    let mut config = client_config(kafka);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("message.timeout.ms", "30000")
        .set("compression.type", "none");
    config
}

/// Consumer settings: offsets committed by hand after the work is durable, never
/// automatically; a new group starts at the beginning; a quiet topic's fetches return within
/// `fetch_wait_ms` (5 ms by default) instead of librdkafka's 500 ms.
pub fn consumer_config(kafka: &KafkaSettings, group: &str) -> ClientConfig {
    let mut config = client_config(kafka);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", kafka.fetch_wait_ms.to_string())
        .set("fetch.min.bytes", kafka.fetch_min_bytes.to_string())
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    config
}

/// Creates each topic unless it exists.
pub async fn ensure_topics(kafka: &KafkaSettings, topics: &[(&str, i32)]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        client_config(kafka).create().context("creating a Kafka admin client")?;
    let new_topics: Vec<NewTopic<'_>> =
        topics.iter().map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(BROKER_REQUEST_TIMEOUT))
        .request_timeout(Some(BROKER_REQUEST_TIMEOUT));
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

/// The first wait before creating the topics again; it doubles up to [`TOPICS_RETRY_MAX`].
pub const TOPICS_RETRY_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two attempts at creating the topics.
pub const TOPICS_RETRY_MAX: Duration = Duration::from_secs(10);

/// The topics a service reads or writes, created (unless they exist) in the background: a broker
/// that is down or broken when the service starts does not keep it from binding its ports and
/// answering what needs no broker. `/readyz` says not ready, and why, until the topics exist
/// ([`Topics::check`]); consumers subscribe once they do ([`Topics::created`]).
#[derive(Clone)]
pub struct Topics {
    state: tokio::sync::watch::Receiver<TopicsState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TopicsState {
    /// Not created yet, with the last attempt's error.
    Creating(Option<String>),
    Created,
}

impl Topics {
    /// Topics the operator created (the service does not create them): there from the start.
    pub fn existing() -> Self {
        let (_, state) = tokio::sync::watch::channel(TopicsState::Created);
        Self { state }
    }

    /// Creates `topics` (name, partitions) unless they exist, trying again with a growing wait
    /// until they do or shutdown begins.
    pub fn create(
        kafka: &KafkaSettings,
        topics: Vec<(String, i32)>,
        mut shutdown: crate::shutdown::ShutdownListener,
    ) -> Self {
        let (report, state) = tokio::sync::watch::channel(TopicsState::Creating(None));
        let kafka = kafka.clone();
        tokio::spawn(async move {
            let named: Vec<(&str, i32)> =
                topics.iter().map(|(name, partitions)| (name.as_str(), *partitions)).collect();
            let mut wait = TOPICS_RETRY_FIRST;
            loop {
                // Bounded even if librdkafka's own timeouts are not (a broker that accepts
                // connections and never answers).
                let attempt = tokio::time::timeout(2 * BROKER_REQUEST_TIMEOUT, ensure_topics(&kafka, &named));
                let outcome = tokio::select! {
                    outcome = attempt => outcome,
                    () = shutdown.recv() => return,
                };
                let error = match outcome {
                    Ok(Ok(())) => {
                        report.send_replace(TopicsState::Created);
                        return;
                    }
                    Ok(Err(e)) => format!("{e:#}"),
                    Err(_) => format!("no answer from the broker within {:?}", 2 * BROKER_REQUEST_TIMEOUT),
                };
                tracing::warn!(error, retry_in = ?wait, "the topics cannot be created yet");
                report.send_replace(TopicsState::Creating(Some(error)));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.recv() => return,
                }
                wait = (wait * 2).min(TOPICS_RETRY_MAX);
            }
        });
        Self { state }
    }

    /// Resolves `true` once the topics exist, or `false` if they never will (shutdown began
    /// first).
    pub async fn created(&self) -> bool {
        self.state.clone().wait_for(|state| *state == TopicsState::Created).await.is_ok()
    }

    /// For `/readyz`: `Ok` once the topics exist.
    pub fn check(&self) -> anyhow::Result<()> {
        match &*self.state.borrow() {
            TopicsState::Created => Ok(()),
            TopicsState::Creating(None) => anyhow::bail!("the topics are not created yet"),
            TopicsState::Creating(Some(error)) => anyhow::bail!("the topics are not created yet: {error}"),
        }
    }
}

/// The broker half of `/readyz`: one client, made at the first check and kept, asked for the
/// broker's metadata each time (a new client per check would open new connections each time).
pub struct BrokerProbe {
    config: ClientConfig,
    client: std::sync::Arc<std::sync::OnceLock<rdkafka::consumer::BaseConsumer>>,
}

impl BrokerProbe {
    pub fn new(kafka: &KafkaSettings) -> Self {
        Self { config: client_config(kafka), client: std::sync::Arc::default() }
    }

    /// Asks the broker for its metadata (on a blocking thread: librdkafka's call blocks).
    pub async fn ping(&self) -> anyhow::Result<()> {
        use rdkafka::consumer::Consumer as _;
        let client = std::sync::Arc::clone(&self.client);
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            if client.get().is_none() {
                let made = config.create().context("creating a Kafka client")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::config::SaslSettings;

    fn sasl(mechanism: &'static str) -> KafkaSettings {
        KafkaSettings {
            // Nothing listens on the discard port: creating a client must not need a broker.
            security: KafkaSecurity::Sasl(SaslSettings {
                protocol: "sasl_plaintext",
                mechanism,
                username: "orders".into(),
                password: Secret::new("p4ss"),
            }),
            ..KafkaSettings::plaintext("127.0.0.1:9")
        }
    }

    #[test]
    fn plaintext_clients_carry_no_security_settings() {
        let config = producer_config(&KafkaSettings::plaintext("127.0.0.1:9"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9"));
        for key in ["security.protocol", "sasl.mechanism", "sasl.username", "sasl.password"] {
            assert_eq!(config.get(key), None, "{key}");
        }
    }

    #[test]
    fn sasl_settings_reach_every_client_and_librdkafka_supports_scram() {
        let kafka = sasl("SCRAM-SHA-256");
        for config in [client_config(&kafka), producer_config(&kafka), consumer_config(&kafka, "group")] {
            assert_eq!(config.get("security.protocol"), Some("sasl_plaintext"));
            assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
            assert_eq!(config.get("sasl.username"), Some("orders"));
            assert_eq!(config.get("sasl.password"), Some("p4ss"));
        }
        // librdkafka refuses a SCRAM mechanism it was built without (it needs OpenSSL: the
        // `ssl` feature of rdkafka); the clients are created here, before any broker answers.
        for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let kafka = sasl(mechanism);
            let producer: Result<rdkafka::producer::BaseProducer, _> = producer_config(&kafka).create();
            assert!(producer.is_ok(), "{mechanism}: {:?}", producer.err());
            let consumer: Result<rdkafka::consumer::BaseConsumer, _> = consumer_config(&kafka, "group").create();
            assert!(consumer.is_ok(), "{mechanism}: {:?}", consumer.err());
        }
    }
}
