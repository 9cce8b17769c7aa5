//! PostgreSQL: the connection pool, and each service's migrations into its own schema.

use crate::config::DatabaseSettings;
use anyhow::Context as _;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use deadpool_postgres::{Client as PooledClient, Pool as PgPool};

/// A pool of connections; connections are made lazily, so this does not touch the server.
pub fn pool(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let manager =
        Manager::from_config(settings.pg.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager).max_size(settings.max_connections).build().context("building the PostgreSQL pool")
}

/// Applies `runner`'s migrations to `schema`, recording them in `<schema>.schema_history` so
/// every service keeps its own history. Two instances starting together serialise on an
/// advisory lock rather than racing each other's DDL.
///
/// The schema is created only when `pg_namespace` lacks it: PostgreSQL checks the CREATE right
/// on the database before it looks at `IF NOT EXISTS`, and in production (compose's
/// `postgres-init.sh`) each service's role owns its schema but may create nothing else.
pub async fn migrate(pool: &Pool, schema: &str, mut runner: refinery::Runner) -> anyhow::Result<()> {
    anyhow::ensure!(
        schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "schema names are plain lower-case identifiers, not {schema:?}"
    );
    let mut client = pool.get().await.context("connecting to PostgreSQL to migrate")?;
    let lock_key = schema_lock_key(schema);
    client.execute("SELECT pg_advisory_lock($1)", &[&lock_key]).await.context("taking the migration lock")?;
    let result = async {
        ensure_schema(&client, schema).await?;
        runner.set_migration_table_name(format!("{schema}.schema_history"));
        let client: &mut tokio_postgres::Client = &mut client;
        runner.run_async(client).await.with_context(|| format!("migrating schema {schema}"))?;
        anyhow::Ok(())
    }
    .await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&lock_key]).await.context("releasing the migration lock")?;
    result
}

/// Creates `schema` if it is missing, and refuses early, with a reason, when it exists but this
/// role may not create tables in it (rather than failing later inside the first migration).
async fn ensure_schema(client: &tokio_postgres::Client, schema: &str) -> anyhow::Result<()> {
    let row = client
        .query_opt("SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .with_context(|| format!("looking up schema {schema}"))?;
    match row {
        Some(row) => {
            let may_create: bool = row.get(0);
            anyhow::ensure!(
                may_create,
                "schema {schema} exists but this role may not create in it: it should own the schema \
                 (see compose/postgres-init.sh)"
            );
            Ok(())
        }
        None => client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.with_context(|| {
            format!("creating schema {schema} (the role needs CREATE on the database, or the schema made beforehand)")
        }),
    }
}

/// A stable advisory-lock key per schema (FNV-1a; stable across builds, unlike `DefaultHasher`).
fn schema_lock_key(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"migrate:".iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// `SELECT 1` through the pool: the database half of `/readyz`.
pub async fn ping(pool: &Pool) -> anyhow::Result<()> {
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    client.simple_query("SELECT 1").await.context("SELECT 1")?;
    Ok(())
}

/// `text` lower-cased with `\`, `%` and `_` escaped, to be matched literally inside a `LIKE`
/// pattern (PostgreSQL's default escape character is `\`).
pub fn like_literal(text: &str) -> String {
    text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_become_literals() {
        assert_eq!(super::like_literal("50%_Off\\"), "50\\%\\_off\\\\");
    }
}
