//! The transactional outbox: an event is written in the transaction of the change it
//! describes, and the relay publishes unpublished rows in id order.

use crate::domain::OrderEvent;
use anyhow::Context as _;
use deadpool_postgres::{GenericClient, Transaction};

/// One outbox row, ready to publish.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub id: i64,
    /// The record key: the order id as text.
    pub key: String,
    pub event_type: String,
    /// The encoded Protobuf `OrderEvent`.
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
    /// When the change was written (its transaction's start).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Adds the event to the outbox, inside the caller's transaction, with the trace context of
/// the request that caused it (published as the record's `traceparent` header).
pub async fn append(
    tx: &Transaction<'_>,
    event: &OrderEvent,
    trace: Option<&service_kit::trace::TraceParent>,
) -> anyhow::Result<()> {
    let (event_type, payload) = crate::wire::encode_event(event);
    let traceparent = trace.map(service_kit::trace::TraceParent::header);
    tx.execute(
        &tx.prepare_cached("INSERT INTO orders.outbox (event_id, order_id, event_type, payload, traceparent) VALUES ($1, $2, $3, $4, $5)").await?,
        &[&event.event_id, &event.order.id.as_uuid(), &event_type, &payload, &traceparent],
    )
    .await
    .context("appending to the outbox")?;
    Ok(())
}

/// The oldest unpublished rows, at most `limit`.
pub async fn unpublished(client: &impl GenericClient, limit: i64) -> anyhow::Result<Vec<OutboxRecord>> {
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT id, order_id, event_type, payload, traceparent, created_at FROM orders.outbox
             WHERE published_at IS NULL ORDER BY id LIMIT $1",
                )
                .await?,
            &[&limit],
        )
        .await
        .context("reading the outbox")?;
    Ok(rows
        .iter()
        .map(|r| OutboxRecord {
            id: r.get("id"),
            key: r.get::<_, uuid::Uuid>("order_id").to_string(),
            event_type: r.get("event_type"),
            payload: r.get("payload"),
            traceparent: r.get("traceparent"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Stamps rows the broker has acknowledged.
pub async fn mark_published(client: &impl GenericClient, ids: &[i64]) -> anyhow::Result<()> {
    client
        .execute(
            &client.prepare_cached("UPDATE orders.outbox SET published_at = now() WHERE id = ANY($1)").await?,
            &[&ids],
        )
        .await
        .context("marking outbox rows published")?;
    Ok(())
}

/// How many rows wait, and how old the oldest is (seconds): the relay's lag.
pub async fn backlog(client: &impl GenericClient) -> anyhow::Result<(i64, f64)> {
    let row = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0)
             FROM orders.outbox WHERE published_at IS NULL",
                )
                .await?,
            &[],
        )
        .await
        .context("measuring the outbox backlog")?;
    Ok((row.get(0), row.get(1)))
}

/// Deletes idempotency keys older than their 24 hours (an expired key is already treated as
/// unused by `claim_idempotency_key`; this keeps the table from growing); returns how many.
pub async fn prune_idempotency_keys(client: &impl GenericClient) -> anyhow::Result<u64> {
    client
        .execute("DELETE FROM orders.idempotency_keys WHERE created_at < now() - interval '24 hours'", &[])
        .await
        .context("pruning idempotency keys")
}

/// Deletes rows published longer ago than `retention`; returns how many.
pub async fn prune(client: &impl GenericClient, retention: std::time::Duration) -> anyhow::Result<u64> {
    let seconds = retention.as_secs_f64();
    client
        .execute(
            &client
                .prepare_cached("DELETE FROM orders.outbox WHERE published_at < now() - make_interval(secs => $1)")
                .await?,
            &[&seconds],
        )
        .await
        .context("pruning the outbox")
}
