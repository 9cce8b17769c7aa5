//! The kitchen's last plan as it reported it (`orders.kitchen_load`): when each station's cooks
//! are free after the queue, and how long a prep minute lasts on its clock. A cart's estimate
//! waits behind it.

use crate::domain::KitchenLoad;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;

/// Keeps `load` as the kitchen's last plan, unless a later one is kept already (two kitchen
/// instances may report out of order).
pub async fn save(client: &impl GenericClient, load: &KitchenLoad) -> anyhow::Result<()> {
    let stations: BTreeMap<&str, &[DateTime<Utc>]> =
        load.stations.iter().map(|(s, free)| (s.as_str(), free.as_slice())).collect();
    let stations = serde_json::to_value(stations).context("encoding the kitchen's load")?;
    let minute_ms = i64::try_from(load.prep_minute.as_millis()).context("a prep minute out of range")?;
    client
        .execute(
            &client
                .prepare_cached(
                    "INSERT INTO orders.kitchen_load (only_row, planned_at, prep_minute_ms, stations)
                     VALUES (true, $1, $2, $3)
                     ON CONFLICT (only_row) DO UPDATE
                       SET planned_at = EXCLUDED.planned_at, prep_minute_ms = EXCLUDED.prep_minute_ms,
                           stations = EXCLUDED.stations
                       WHERE orders.kitchen_load.planned_at <= EXCLUDED.planned_at",
                )
                .await?,
            &[&load.planned_at, &minute_ms, &stations],
        )
        .await
        .context("keeping the kitchen's load")?;
    Ok(())
}

/// The kitchen's last plan, if it reported one.
pub async fn last(client: &impl GenericClient) -> anyhow::Result<Option<KitchenLoad>> {
    let row = client
        .query_opt(
            &client.prepare_cached("SELECT planned_at, prep_minute_ms, stations FROM orders.kitchen_load").await?,
            &[],
        )
        .await
        .context("reading the kitchen's load")?;
    let Some(row) = row else { return Ok(None) };
    let stations: BTreeMap<String, Vec<DateTime<Utc>>> =
        serde_json::from_value(row.get("stations")).context("decoding the kitchen's load")?;
    let minute_ms: i64 = row.get("prep_minute_ms");
    Ok(Some(KitchenLoad {
        planned_at: row.get("planned_at"),
        prep_minute: std::time::Duration::from_millis(u64::try_from(minute_ms).context("a negative prep minute")?),
        stations: stations.into_iter().collect(),
    }))
}
