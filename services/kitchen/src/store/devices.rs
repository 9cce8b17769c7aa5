//! The stations each tablet (by the name it gives) showed last.

use anyhow::Context as _;
use deadpool_postgres::GenericClient;

/// Remembers that `device` shows `stations` (none: the expo's whole tickets).
pub async fn remember(client: &impl GenericClient, device: &str, stations: &[&str]) -> anyhow::Result<()> {
    client
        .execute(
            &client
                .prepare_cached(
                    "INSERT INTO kitchen.devices (name, stations) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET stations = EXCLUDED.stations, updated_at = now()",
                )
                .await?,
            &[&device, &stations],
        )
        .await
        .context("remembering a tablet's stations")?;
    Ok(())
}

/// The stations `device` showed last, if it was ever seen.
pub async fn recall(client: &impl GenericClient, device: &str) -> anyhow::Result<Option<Vec<String>>> {
    Ok(client
        .query_opt(&client.prepare_cached("SELECT stations FROM kitchen.devices WHERE name = $1").await?, &[&device])
        .await
        .context("reading a tablet's stations")?
        .map(|row| row.get(0)))
}
