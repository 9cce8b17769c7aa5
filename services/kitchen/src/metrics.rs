//! The kitchen service's Prometheus metrics.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntGauge, Registry};

/// Speed-of-service buckets, in seconds: from half a minute to an hour.
const SERVICE_BUCKETS: &[f64] = &[30.0, 60.0, 120.0, 180.0, 300.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0];

#[derive(Clone)]
pub struct KitchenMetrics {
    pub ticket_changes: IntCounter,
    pub stale_events: IntCounter,
    pub malformed_events: IntCounter,
    pub refused_events: IntCounter,
    pub tablets_connected: IntGauge,
    pub tablet_resyncs: IntCounter,
    pub dead_letters: IntCounter,
    pub consumer_lag: IntGauge,
    /// Seconds an order spent before reaching each status (from the previous one), by the status
    /// reached.
    pub stage_seconds: HistogramVec,
    /// Seconds from an order's placing to a station marking its lines done, by station.
    pub station_seconds: HistogramVec,
}

impl KitchenMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let metrics = Self {
            ticket_changes: IntCounter::new(
                "kitchen_ticket_changes_total",
                "Ticket changes stored (by this instance's consumer)",
            )?,
            stale_events: IntCounter::new(
                "kitchen_stale_events_total",
                "Order events that changed nothing (duplicates or older versions)",
            )?,
            malformed_events: IntCounter::new(
                "kitchen_malformed_events_total",
                "Order events that could not be decoded",
            )?,
            refused_events: IntCounter::new(
                "kitchen_refused_events_total",
                "Order events whose ticket the database refuses for good (poison records)",
            )?,
            tablets_connected: IntGauge::new("kitchen_tablets_connected", "Open tablet WebSockets")?,
            tablet_resyncs: IntCounter::new(
                "kitchen_tablet_resyncs_total",
                "Tablets told to resync after falling behind",
            )?,
            consumer_lag: IntGauge::new("kitchen_consumer_lag", "Order events on the broker not yet applied")?,
            dead_letters: IntCounter::new(
                "kitchen_dead_letters_total",
                "Malformed or refused events copied to the dead-letter topic",
            )?,
            stage_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "kitchen_stage_seconds",
                    "Seconds an order took to reach a status from the one before, by the status reached",
                )
                .buckets(SERVICE_BUCKETS.to_vec()),
                &["stage"],
            )?,
            station_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "kitchen_station_seconds",
                    "Seconds from an order's placing to a station marking its lines done, by station",
                )
                .buckets(SERVICE_BUCKETS.to_vec()),
                &["station"],
            )?,
        };
        registry.register(Box::new(metrics.stage_seconds.clone()))?;
        registry.register(Box::new(metrics.station_seconds.clone()))?;
        registry.register(Box::new(metrics.ticket_changes.clone()))?;
        registry.register(Box::new(metrics.stale_events.clone()))?;
        registry.register(Box::new(metrics.malformed_events.clone()))?;
        registry.register(Box::new(metrics.refused_events.clone()))?;
        registry.register(Box::new(metrics.tablets_connected.clone()))?;
        registry.register(Box::new(metrics.tablet_resyncs.clone()))?;
        registry.register(Box::new(metrics.dead_letters.clone()))?;
        registry.register(Box::new(metrics.consumer_lag.clone()))?;
        Ok(metrics)
    }
}
