//! `tail-events`: prints every record of the order events topic, decoded, as it arrives.
//!
//! ```text
//! tail-events [--from-beginning] [--topic orders.events] [--brokers 127.0.0.1:9092]
//! ```
//! Reads with a throwaway consumer group and commits nothing, so it never disturbs the
//! kitchen's offsets. Defaults come from `KAFKA_BROKERS` and `ORDERS_TOPIC`.

use anyhow::Context as _;
use futures::StreamExt as _;
use order_events::Change;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use restaurant_proto::v1 as pb;
use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    let mut settings = service_kit::config::KafkaSettings::from_env()?;
    let mut from_beginning = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--from-beginning" => from_beginning = true,
            "--topic" => settings.orders_topic = args.next().context("--topic needs a value")?,
            "--brokers" => settings.brokers = args.next().context("--brokers needs a value")?,
            "-h" | "--help" => {
                eprintln!("usage: tail-events [--from-beginning] [--topic NAME] [--brokers HOST:PORT]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?} (try --help)"),
        }
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(tail(settings, from_beginning))
}

async fn tail(settings: service_kit::config::KafkaSettings, from_beginning: bool) -> anyhow::Result<()> {
    let group = format!("tail-events-{}", uuid::Uuid::new_v4());
    let consumer: StreamConsumer = service_kit::kafka::consumer_config(&settings, &group)
        .set("auto.offset.reset", if from_beginning { "earliest" } else { "latest" })
        .create()
        .context("creating the consumer")?;
    consumer.subscribe(&[&settings.orders_topic]).context("subscribing")?;
    eprintln!("tailing {} on {} (Ctrl-C to stop)", settings.orders_topic, settings.brokers);
    let mut stream = consumer.stream();
    let mut out = std::io::stdout().lock();
    while let Some(message) = stream.next().await {
        let message = message.context("reading from the broker")?;
        let place = format!("p{}@{}", message.partition(), message.offset());
        let line = match order_events::decode(message.key(), message.payload()) {
            Ok(event) => describe(&event),
            Err(e) => format!("UNDECODABLE: {e}"),
        };
        writeln!(out, "{place:<10} {line}").context("writing to stdout")?;
    }
    Ok(())
}

fn describe(event: &pb::OrderEvent) -> String {
    let status_name = |value: i32| {
        pb::OrderStatus::try_from(value)
            .map(|s| s.as_str_name().trim_start_matches("ORDER_STATUS_").to_owned())
            .unwrap_or_else(|_| format!("?{value}"))
    };
    let what = match &event.change {
        Some(Change::Created(_)) => "created".to_owned(),
        Some(Change::StatusChanged(c)) => {
            format!("{} -> {} by {}", status_name(c.from), status_name(c.to), c.changed_by)
        }
        Some(Change::Cancelled(c)) => format!("cancelled from {} ({})", status_name(c.from), c.reason),
        Some(Change::Promised(p)) => format!("promised ready by {}", p.ready_by.map_or(0, |t| t.seconds)),
        None => "?".to_owned(),
    };
    let Some(order) = &event.order else { return what };
    let when = order
        .updated_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let items: Vec<String> = order
        .lines
        .iter()
        .map(|l| match &l.note {
            Some(note) => format!("{}x {} ({note})", l.quantity, l.name),
            None => format!("{}x {}", l.quantity, l.name),
        })
        .collect();
    format!(
        "{when} order {} v{} {what} [{}] status={} total={}.{:02}: {}",
        event.order_id,
        event.order_version,
        order_events::EventType::of(event.change.as_ref().expect("unwrap: decode checked change")).as_str(),
        status_name(order.status),
        order.total_cents / 100,
        order.total_cents % 100,
        items.join(", ")
    )
}
