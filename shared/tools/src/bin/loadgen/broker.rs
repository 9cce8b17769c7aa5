//! `broker`: the broker's own ceiling for this pipeline. Records the size of a real order event
//! are produced with the services' producer settings while two consumer groups read them with
//! the services' consumer settings (as the kitchen and orders' `WatchOrders` feed do), at
//! rising rates (`--from`, `--step`, each step `--seconds` long) until a group falls behind.
//! `ci/bench` sets the pipeline's throughput against min(database ceiling, this).

use crate::flags::Flags;
use crate::stats::{quantile, summary};
use anyhow::Context as _;
use futures::StreamExt as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use restaurant_proto::v1 as pb;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A step keeps up when both groups' p99 produce → consume stays under this…
const KEEPING_UP_P99: Duration = Duration::from_secs(1);
/// …and each group received at least this share of the offered rate.
const KEEPING_UP_SHARE: f64 = 0.95;
/// How long after a step's last record its stragglers may still arrive.
const STEP_DRAIN: Duration = Duration::from_secs(5);
/// How long to keep probing until both groups have joined.
const JOIN_DEADLINE: Duration = Duration::from_secs(30);
/// The readers, named after the services' consumer groups they stand in for.
const GROUPS: [&str; 2] = ["kitchen", "orders-feed"];
/// Records in flight per step at most: beyond it the producer's queue, not the broker, limits.
const IN_FLIGHT: usize = 10_000;

/// Key → when it arrived, per consumer group.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let mut kafka = service_kit::config::KafkaSettings::from_env()?;
    kafka.brokers = flags.get("brokers", kafka.brokers.clone())?;
    let partitions = flags.get("partitions", kafka.orders_topic_partitions)?;
    let (from, step, seconds): (f64, f64, f64) =
        (flags.get("from", 100.0)?, flags.get("step", 100.0)?, flags.get("seconds", 8.0)?);
    let max: f64 = flags.get("max", 5000.0)?;
    flags.done()?;
    anyhow::ensure!(from > 0.0 && step > 0.0 && seconds > 0.0, "--from, --step and --seconds must be positive");

    let run = uuid::Uuid::new_v4().simple().to_string();
    let topic = format!("bench.ceiling.{run}");
    service_kit::kafka::ensure_topics(&kafka, &[(&topic, partitions)]).await?;
    let producer: FutureProducer =
        service_kit::kafka::producer_config(&kafka).create().context("creating the producer")?;
    let payload = Arc::new(order_event_bytes());
    let mut readers = vec![];
    let mut arrivals: Vec<Arrivals> = vec![];
    for group in GROUPS {
        let consumer: StreamConsumer = service_kit::kafka::consumer_config(&kafka, &format!("bench-{group}-{run}"))
            .create()
            .context("creating a consumer")?;
        consumer.subscribe(&[&topic]).context("subscribing")?;
        let seen: Arrivals = Arc::default();
        arrivals.push(seen.clone());
        readers.push(tokio::spawn(async move {
            let mut stream = consumer.stream();
            while let Some(Ok(message)) = stream.next().await {
                let at = Instant::now();
                let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
                seen.lock().expect("unwrap: no panics while held").insert(key, at);
            }
        }));
    }
    let arrived =
        |group: usize, key: &str| arrivals[group].lock().expect("unwrap: no panics while held").get(key).copied();

    // Probes until both groups have joined and receive; what follows is steady state.
    let started = Instant::now();
    'joining: for probe in 0.. {
        anyhow::ensure!(started.elapsed() < JOIN_DEADLINE, "the ceiling's consumers never received a probe");
        let key = format!("probe-{probe}");
        send(&producer, &topic, &key, &payload).await?;
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_millis(500) {
            if (0..GROUPS.len()).all(|g| arrived(g, &key).is_some()) {
                break 'joining;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    let mut lines = vec![];
    let mut best: Option<f64> = None;
    let mut rate = from;
    while rate <= max {
        let count = (rate * seconds).round() as usize;
        let interval = Duration::from_secs_f64(1.0 / rate);
        let begun = Instant::now();
        let mut sends = Vec::with_capacity(count);
        let mut errors = 0;
        for i in 0..count {
            tokio::time::sleep_until((begun + interval.mul_f64(i as f64)).into()).await;
            if sends.len() >= IN_FLIGHT {
                errors += 1;
                continue;
            }
            let (producer, topic, payload) = (producer.clone(), topic.clone(), payload.clone());
            let key = format!("r{rate}-{i}");
            sends.push(tokio::spawn(async move {
                let sent = Instant::now();
                send(&producer, &topic, &key, &payload).await.map(|()| (key, sent))
            }));
        }
        let mut sent = Vec::with_capacity(count);
        for send in sends {
            match send.await.context("a send task")? {
                Ok(s) => sent.push(s),
                Err(_) => errors += 1,
            }
        }
        let deadline = Instant::now() + STEP_DRAIN;
        while Instant::now() < deadline && sent.iter().any(|(k, _)| (0..GROUPS.len()).any(|g| arrived(g, k).is_none()))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut worst_share: f64 = 1.0;
        let mut worst_p99 = Duration::ZERO;
        let mut parts = vec![];
        for (g, group) in GROUPS.iter().enumerate() {
            let mut delays: Vec<Duration> =
                sent.iter().filter_map(|(k, at)| arrived(g, k).map(|got| got.saturating_duration_since(*at))).collect();
            let last = sent.iter().filter_map(|(k, _)| arrived(g, k)).max();
            let span = last.map_or(f64::INFINITY, |l| l.saturating_duration_since(begun).as_secs_f64().max(seconds));
            let share = delays.len() as f64 / span / rate;
            delays.sort();
            worst_share = worst_share.min(share);
            worst_p99 = worst_p99.max(quantile(&delays, 0.99));
            parts.push(format!("{group} {:.0}/s {}", delays.len() as f64 / span, summary(&mut delays)));
        }
        let kept_up = errors == 0 && worst_share >= KEEPING_UP_SHARE && worst_p99 <= KEEPING_UP_P99;
        lines.push(format!(
            "broker {rate:>5.0}/s offered: {}; errors {errors}{}",
            parts.join("; "),
            if kept_up { "" } else { "  ← falls behind" }
        ));
        eprintln!("{}", lines.last().expect("unwrap: just pushed"));
        if !kept_up {
            break;
        }
        best = Some(rate);
        rate += step;
    }
    for reader in readers {
        reader.abort();
    }
    lines.push(match best {
        Some(rate) => format!(
            "broker ceiling ({} B records, producer + {} consumer groups): {rate:.0} records/s{}",
            payload.len(),
            GROUPS.len(),
            if rate + step > max { " (the highest rate tried)" } else { "" }
        ),
        None => format!("broker ceiling: below {from:.0} records/s"),
    });
    Ok(lines.join("\n"))
}

/// An `OrderCreated` event for a three-line order, encoded as the relay publishes it: the
/// records of the ceiling run are as large as the real ones.
fn order_event_bytes() -> Vec<u8> {
    let at = restaurant_proto::prost_types::Timestamp { seconds: 1_790_000_000, nanos: 123_456_789 };
    // `..Default::default()`: the protocol grows fields this benchmark need not fill.
    #[allow(clippy::needless_update, reason = "the protocol grows fields")]
    let line = |name: &str, station: &str, note: Option<&str>| pb::OrderLine {
        menu_item_id: uuid::Uuid::new_v4().to_string(),
        name: name.into(),
        station: station.into(),
        quantity: 2,
        unit_price_cents: 1250,
        note: note.map(Into::into),
        ..Default::default()
    };
    #[allow(clippy::needless_update, reason = "the protocol grows fields")]
    let order = pb::Order {
        id: uuid::Uuid::new_v4().to_string(),
        customer_id: uuid::Uuid::new_v4().to_string(),
        status: pb::OrderStatus::Placed as i32,
        version: 1,
        lines: vec![
            line("Smash burger", "grill", Some("no onions, extra pickles")),
            line("Fries", "fry", None),
            line("Lemonade", "bar", None),
        ],
        total_cents: 7500,
        created_at: Some(at),
        updated_at: Some(at),
        timeline: vec![pb::StatusReached { status: pb::OrderStatus::Placed as i32, at: Some(at) }],
        number: 42,
        ..Default::default()
    };
    order_events::encode(&pb::OrderEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        order_id: order.id.clone(),
        order_version: 1,
        occurred_at: Some(at),
        change: Some(pb::order_event::Change::Created(pb::OrderCreated {})),
        order: Some(order),
    })
}

async fn send(producer: &FutureProducer, topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<()> {
    producer
        .send(FutureRecord::to(topic).key(key).payload(payload), Duration::from_secs(10))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("producing: {e}"))?;
    Ok(())
}
