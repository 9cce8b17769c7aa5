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
    Pool::builder(manager)
        .max_size(settings.max_connections)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .context("building the PostgreSQL pool")
}

/// How long a request waits for a free connection before it is answered UNAVAILABLE, instead
/// of hanging while the database is down or every connection is busy.
pub const POOL_WAIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// How long opening (or checking) one connection may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether `error` means "the database cannot be reached right now" (no free connection in
/// time, connection refused or lost, the server shutting down or out of connections) rather
/// than a failure of the request itself: asking again later helps.
pub fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    use tokio_postgres::error::SqlState;
    if error.is::<deadpool_postgres::PoolError>() {
        return true;
    }
    if let Some(error) = error.downcast_ref::<tokio_postgres::Error>() {
        if error.is_closed() {
            return true;
        }
        return error.code().is_some_and(|code| {
            code.code().starts_with("08")
                || [SqlState::ADMIN_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW, SqlState::TOO_MANY_CONNECTIONS]
                    .contains(code)
        }) || error.code().is_none()
            && std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>());
    }
    false
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
    use super::*;
    use crate::error::{Classified as _, ErrorKind};

    /// Against the real server of `DATABASE_URL` (as every database test here).
    fn settings(max_connections: usize) -> DatabaseSettings {
        DatabaseSettings { max_connections, ..DatabaseSettings::from_env().expect("unwrap: DATABASE_URL parses") }
    }

    #[tokio::test]
    async fn a_busy_pool_answers_unavailable_in_time_instead_of_hanging() {
        let pool = pool(&settings(1)).expect("a pool");
        let _held = pool.get().await.expect("the one connection");
        let started = std::time::Instant::now();
        let refused = anyhow::Error::from(pool.get().await.expect_err("no free connection"));
        assert!(started.elapsed() < POOL_WAIT_TIMEOUT * 2, "waited {:?}", started.elapsed());
        assert_eq!(refused.context("connecting to PostgreSQL").kind(), ErrorKind::Unavailable);
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_unavailable_and_a_bad_query_is_not() {
        let mut nowhere = settings(1);
        nowhere.pg.host("127.0.0.1").port(9);
        let refused = anyhow::Error::from(pool(&nowhere).expect("a pool").get().await.expect_err("nothing listens"));
        assert_eq!(refused.kind(), ErrorKind::Unavailable);
        let client = pool(&settings(1)).expect("a pool").get().await.expect("a connection");
        let bad = anyhow::Error::from(client.simple_query("SELECT * FROM no_such_table").await.expect_err("no table"));
        assert_eq!(bad.kind(), ErrorKind::Unexpected);
    }

    #[test]
    fn like_wildcards_become_literals() {
        assert_eq!(super::like_literal("50%_Off\\"), "50\\%\\_off\\\\");
    }
}
