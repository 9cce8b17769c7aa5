//! Speed of service from the tickets themselves: how long each station took from the order's
//! placing to its lines being done, and which items waited longest, over the tickets placed
//! since a given time.

use crate::domain::{Durations, SpeedReport};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

/// Items in the slowest list.
pub const SLOWEST_ITEMS: i64 = 5;

pub async fn since(client: &impl GenericClient, from: DateTime<Utc>) -> anyhow::Result<SpeedReport> {
    let counts = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('COMPLETED', 'CANCELLED'))
             FROM kitchen.tickets WHERE placed_at >= $1",
            &[&from],
        )
        .await
        .context("counting today's tickets")?;
    // The timeline is [[status, at], …]: READY's time, the first one.
    let ready = client
        .query_one(
            "WITH ready AS (
               SELECT EXTRACT(EPOCH FROM min((step->>1)::timestamptz) - t.placed_at)::float8 AS seconds
               FROM kitchen.tickets t, jsonb_array_elements(t.timeline) step
               WHERE t.placed_at >= $1 AND step->>0 = 'READY'
               GROUP BY t.order_id, t.placed_at
             )
             SELECT count(*), avg(seconds)::float8, percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::float8 FROM ready",
            &[&from],
        )
        .await
        .context("timing tickets to READY")?;
    let stations = client
        .query(
            "WITH done AS (
               SELECT s.key AS station,
                      EXTRACT(EPOCH FROM (s.value #>> '{}')::timestamptz - t.placed_at)::float8 AS seconds
               FROM kitchen.tickets t, jsonb_each(t.stations_done) s
               WHERE t.placed_at >= $1
             )
             SELECT station, count(*), avg(seconds)::float8, percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::float8
             FROM done GROUP BY station ORDER BY station",
            &[&from],
        )
        .await
        .context("timing stations")?;
    let items = client
        .query(
            "WITH done AS (
               SELECT i->>'name' AS name, i->>'station' AS station,
                      EXTRACT(EPOCH FROM (t.stations_done->>(i->>'station'))::timestamptz - t.placed_at)::float8 AS seconds
               FROM kitchen.tickets t, jsonb_array_elements(t.items) i
               WHERE t.placed_at >= $1 AND t.stations_done ? (i->>'station')
             )
             SELECT name, station, count(*), avg(seconds)::float8 AS average,
                    percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::float8
             FROM done GROUP BY name, station ORDER BY average DESC, name LIMIT $2",
            &[&from, &SLOWEST_ITEMS],
        )
        .await
        .context("timing items")?;
    let durations = |row: &tokio_postgres::Row, first: usize| Durations {
        count: row.get(first),
        average: row.get::<_, Option<f64>>(first + 1).unwrap_or_default(),
        p90: row.get::<_, Option<f64>>(first + 2).unwrap_or_default(),
    };
    Ok(SpeedReport {
        tickets: counts.get(0),
        finished: counts.get(1),
        to_ready: Some(durations(&ready, 0)).filter(|d| d.count > 0),
        stations: stations.iter().map(|r| (r.get(0), durations(r, 1))).collect(),
        slowest_items: items.iter().map(|r| (r.get(0), r.get(1), durations(r, 2))).collect(),
    })
}
