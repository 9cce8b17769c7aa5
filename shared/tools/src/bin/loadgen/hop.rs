//! `hop`: what the broker alone costs between a producer and a consumer with the services' own
//! settings (`service_kit::kafka`), on a throwaway topic. The order-to-tablet delay can get no
//! lower than this. With `--fetch-wait-ms` (the consumers' `KAFKA_FETCH_WAIT_MS`) and
//! `--broker-pid`, it also reports the broker's CPU while the consumer idles and under the
//! run's load: the trade-off between polling cost and delay that `ci/bench` records.

use crate::flags::Flags;
use crate::stats::summary;
use anyhow::Context as _;
use futures::StreamExt as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// About the size of an order event with a few items.
const RECORD_BYTES: usize = 400;
/// How long to keep probing until the consumer has joined its group.
const JOIN_DEADLINE: Duration = Duration::from_secs(30);
/// How long the broker's CPU is measured while the consumer waits on a quiet topic.
const IDLE_WINDOW: Duration = Duration::from_secs(5);

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let mut kafka = service_kit::config::KafkaSettings::from_env()?;
    kafka.brokers = flags.get("brokers", kafka.brokers.clone())?;
    let partitions = flags.get("partitions", kafka.orders_topic_partitions)?;
    let (records, rate) = (flags.get("records", 1000)?, flags.get("rate", 100.0)?);
    kafka.fetch_wait_ms = flags.get("fetch-wait-ms", kafka.fetch_wait_ms)?;
    kafka.fetch_min_bytes = flags.get("fetch-min-bytes", kafka.fetch_min_bytes)?;
    let broker_pid: u32 = flags.get("broker-pid", 0)?;
    flags.done()?;
    anyhow::ensure!(records > 0 && rate > 0.0, "--records and --rate must be positive");
    measure(&kafka, partitions, records, rate, (broker_pid > 0).then_some(broker_pid)).await
}

/// The broker's CPU between two readings of `cpu_micros`, as a share of one core.
fn core_share(before: Option<u64>, after: Option<u64>, over: Duration) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!("{:.0} %", a.saturating_sub(b) as f64 / over.as_micros() as f64 * 100.0),
        _ => "unknown".into(),
    }
}

/// `count` records at `rate` per second through a fresh topic: produce → consume and
/// produce → ack.
async fn measure(
    kafka: &service_kit::config::KafkaSettings,
    partitions: i32,
    count: usize,
    rate: f64,
    broker_pid: Option<u32>,
) -> anyhow::Result<String> {
    let broker_cpu = || broker_pid.and_then(crate::stats::cpu_micros);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let topic = format!("bench.hop.{run}");
    service_kit::kafka::ensure_topics(kafka, &[(&topic, partitions)]).await?;
    let producer: FutureProducer =
        service_kit::kafka::producer_config(kafka).create().context("creating the producer")?;
    let consumer: StreamConsumer = service_kit::kafka::consumer_config(kafka, &format!("bench-hop-{run}"))
        .create()
        .context("creating the consumer")?;
    consumer.subscribe(&[&topic]).context("subscribing")?;

    // Key → when it arrived.
    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = received.clone();
    let reader = tokio::spawn(async move {
        let mut stream = consumer.stream();
        while let Some(Ok(message)) = stream.next().await {
            let at = Instant::now();
            let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
            seen.lock().expect("unwrap: no panics while held").insert(key, at);
        }
    });
    let arrived = |key: &str| received.lock().expect("unwrap: no panics while held").get(key).copied();

    // Probes until the group has joined and one arrives; what comes after is steady state.
    let started = Instant::now();
    for probe in 0.. {
        anyhow::ensure!(started.elapsed() < JOIN_DEADLINE, "the hop consumer never received a probe");
        let key = format!("probe-{probe}");
        send(&producer, &topic, &key).await?;
        let waited = Instant::now();
        while arrived(&key).is_none() && waited.elapsed() < Duration::from_millis(500) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if arrived(&key).is_some() {
            break;
        }
    }

    // The broker while the consumer waits on a quiet topic: the cost of polling alone.
    let idle = (broker_cpu(), Instant::now());
    if broker_pid.is_some() {
        tokio::time::sleep(IDLE_WINDOW).await;
    }
    let idle_share = core_share(idle.0, broker_cpu(), idle.1.elapsed());

    let loaded = broker_cpu();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut sends = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let (producer, topic) = (producer.clone(), topic.clone());
        sends.push(tokio::spawn(async move {
            let key = format!("m{i}");
            let sent = Instant::now();
            send(&producer, &topic, &key).await?;
            anyhow::Ok((key, sent, sent.elapsed()))
        }));
    }
    let mut acks = Vec::with_capacity(count);
    let mut sent = Vec::with_capacity(count);
    for send in sends {
        let (key, at, ack) = send.await??;
        acks.push(ack);
        sent.push((key, at));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while sent.iter().any(|(k, _)| arrived(k).is_none()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let loaded_share = core_share(loaded, broker_cpu(), started.elapsed());
    reader.abort();
    let mut hops: Vec<Duration> =
        sent.iter().filter_map(|(k, at)| arrived(k).map(|got| got.saturating_duration_since(*at))).collect();
    let missing = count - hops.len();
    anyhow::ensure!(missing == 0, "{missing} of {count} records never reached the consumer");
    let mut report = format!(
        "broker hop produce → consume   {}  ({count} records at {rate:.0}/s, fetch wait {} ms, min bytes {})\nbroker produce → ack           {}",
        summary(&mut hops),
        kafka.fetch_wait_ms,
        kafka.fetch_min_bytes,
        summary(&mut acks)
    );
    if broker_pid.is_some() {
        report.push_str(&format!(
            "\nbroker CPU with fetch wait {} ms, min bytes {}: one idle consumer {idle_share} of a core, at {rate:.0} records/s {loaded_share}",
            kafka.fetch_wait_ms, kafka.fetch_min_bytes
        ));
    }
    Ok(report)
}

async fn send(producer: &FutureProducer, topic: &str, key: &str) -> anyhow::Result<()> {
    producer
        .send(FutureRecord::to(topic).key(key).payload(&[0u8; RECORD_BYTES][..]), Duration::from_secs(10))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("producing: {e}"))?;
    Ok(())
}
