//! The kitchen service's Prometheus metrics.

use prometheus::{IntCounter, IntGauge, Registry};

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
        };
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
