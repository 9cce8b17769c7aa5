//! `TestDatabase`: a fresh, empty PostgreSQL database per test.

use anyhow::Context as _;
use service_kit::config::DatabaseSettings;
use tokio_postgres::NoTls;

/// A database of the test's own, created empty on the server of `DATABASE_URL`.
/// `ci/test` drops leftovers of earlier runs (`test_*`) before it starts.
#[derive(Clone)]
pub struct TestDatabase {
    settings: DatabaseSettings,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let admin = DatabaseSettings::from_env()?;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) = admin.pg.connect(NoTls).await.context("connecting to DATABASE_URL")?;
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating database {name}"))?;
        drop(client);
        let _ = driver.await;
        let mut settings = admin.with_database(&name);
        settings.max_connections = 8;
        Ok(Self { settings, name })
    }

    pub fn settings(&self) -> DatabaseSettings {
        self.settings.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain connection to this database, for assertions on what was written.
    pub async fn connect(&self) -> anyhow::Result<tokio_postgres::Client> {
        let (client, connection) = self.settings.pg.connect(NoTls).await.context("connecting to the test database")?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// `SELECT count(*) FROM <table>`.
    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        let client = self.connect().await?;
        let row = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .with_context(|| format!("counting {table}"))?;
        Ok(row.get(0))
    }
}
