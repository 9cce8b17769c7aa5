//! `OrderFeed`: every order event that reaches the topic, whichever instance wrote it, for
//! the `WatchOrders` streams of this process. A record that cannot be decoded (a poison record)
//! is skipped with a log line and `orders_feed_skipped_records_total`: it is never retried and
//! never holds up the records after it (the feed is live, not durable: nothing to redo).

use rdkafka::Message as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use restaurant_proto::v1 as pb;
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Events a watcher may fall behind by before its stream is ended (it then resubscribes).
pub const WATCH_BUFFER: usize = 1024;
/// After a failed receive, wait this long before the next.
const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// Every order event that reaches the event log from now on, whichever instance wrote it, for
/// every `WatchOrders` stream of this process. Reads with a consumer group of its own that
/// commits nothing: watching is live, not durable.
#[derive(Clone)]
pub struct OrderFeed {
    sender: broadcast::Sender<Arc<pb::OrderEvent>>,
}

impl OrderFeed {
    pub fn start(
        kafka: &service_kit::config::KafkaSettings,
        topic: &str,
        topics: service_kit::kafka::Topics,
        skipped: prometheus::IntCounter,
        mut shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        let group = format!("orders-watch-{}", uuid::Uuid::new_v4().simple());
        let config = service_kit::kafka::consumer_config(kafka, &group).set("auto.offset.reset", "latest").clone();
        let (sender, _) = broadcast::channel(WATCH_BUFFER);
        let feed = sender.clone();
        let topic = topic.to_owned();
        actix_rt::spawn(async move {
            // Made and subscribed once the topic exists: a client made while the broker was down
            // kept reporting every broker down after it came back, and a topic created after a
            // subscription is noticed only at the next metadata refresh, minutes later.
            tokio::select! {
                created = topics.created() => if !created { return },
                () = shutdown.recv() => return,
            }
            let consumer: StreamConsumer = match config.create() {
                Ok(consumer) => consumer,
                Err(e) => return tracing::error!(error = %e, "the order feed cannot make its consumer"),
            };
            if let Err(e) = consumer.subscribe(&[&topic]) {
                return tracing::error!(error = %e, topic, "the order feed cannot subscribe");
            }
            loop {
                let message = tokio::select! {
                    message = consumer.recv() => message,
                    () = shutdown.recv() => return,
                };
                match message {
                    Ok(message) => match order_events::decode(message.key(), message.payload()) {
                        // No watcher is fine: the event is simply not wanted.
                        Ok(event) => drop(feed.send(Arc::new(event))),
                        Err(e) => {
                            skipped.inc();
                            tracing::warn!(
                                reason = %e,
                                partition = message.partition(),
                                offset = message.offset(),
                                "the order feed skipped a record it cannot decode"
                            );
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "the order feed cannot read the broker");
                        tokio::time::sleep(RETRY_BACKOFF).await;
                    }
                }
            }
        });
        Ok(Self { sender })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<pb::OrderEvent>> {
        self.sender.subscribe()
    }
}
