//! The orders service's Prometheus metrics.

use prometheus::{Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntGauge, Registry};

#[derive(Clone)]
pub struct OrdersMetrics {
    pub orders_placed: IntCounter,
    pub status_changes: IntCounter,
    /// A placement's round trips to PostgreSQL by step (`number`: the day's order number;
    /// `placement`: the menu check and every write, one statement): how much of a createOrder
    /// is the database's. Every attempt counts, a failed one or a retry after a menu change too.
    pub placement_round_trip_seconds: HistogramVec,
    pub live_order_actors: IntGauge,
    pub outbox_published: IntCounter,
    pub outbox_unpublished: IntGauge,
    pub outbox_oldest_seconds: Gauge,
    pub publish_seconds: Histogram,
    pub commit_to_publish_seconds: Histogram,
    pub relay_leader: IntGauge,
    /// Records the `WatchOrders` feed could not decode and skipped.
    pub feed_skipped: IntCounter,
}

impl OrdersMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let metrics = Self {
            orders_placed: IntCounter::new("orders_placed_total", "Orders placed")?,
            status_changes: IntCounter::new("orders_status_changes_total", "Order status changes written")?,
            placement_round_trip_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "orders_placement_round_trip_seconds",
                    "A placement's waits, by step: number (the day's number, from the reserve or the counter), placement (its statement)",
                )
                .buckets(vec![0.00005, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1.0]),
                &["step"],
            )?,
            live_order_actors: IntGauge::new("orders_live_order_actors", "Order actors in memory")?,
            outbox_published: IntCounter::new("orders_outbox_published_total", "Outbox events published")?,
            outbox_unpublished: IntGauge::new("orders_outbox_unpublished", "Outbox events waiting to be published")?,
            outbox_oldest_seconds: Gauge::new(
                "orders_outbox_oldest_unpublished_seconds",
                "Age of the oldest unpublished outbox event",
            )?,
            publish_seconds: Histogram::with_opts(
                HistogramOpts::new("orders_outbox_publish_seconds", "Time to publish one outbox batch")
                    .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0]),
            )?,
            commit_to_publish_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "orders_outbox_commit_to_publish_seconds",
                    "From an event's transaction to the broker's acknowledgement",
                )
                // Fine up to 100 ms, where an order's way to the kitchen is judged.
                .buckets(vec![
                    0.001, 0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0,
                    5.0, 30.0,
                ]),
            )?,
            relay_leader: IntGauge::new("orders_outbox_relay_leader", "1 while this instance's relay holds the lock")?,
            feed_skipped: IntCounter::new(
                "orders_feed_skipped_records_total",
                "Records the order feed could not decode and skipped",
            )?,
        };
        registry.register(Box::new(metrics.orders_placed.clone()))?;
        registry.register(Box::new(metrics.status_changes.clone()))?;
        registry.register(Box::new(metrics.placement_round_trip_seconds.clone()))?;
        registry.register(Box::new(metrics.live_order_actors.clone()))?;
        registry.register(Box::new(metrics.outbox_published.clone()))?;
        registry.register(Box::new(metrics.outbox_unpublished.clone()))?;
        registry.register(Box::new(metrics.outbox_oldest_seconds.clone()))?;
        registry.register(Box::new(metrics.publish_seconds.clone()))?;
        registry.register(Box::new(metrics.commit_to_publish_seconds.clone()))?;
        registry.register(Box::new(metrics.relay_leader.clone()))?;
        registry.register(Box::new(metrics.feed_skipped.clone()))?;
        Ok(metrics)
    }
}
