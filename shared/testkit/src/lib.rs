//! Test kit: real PostgreSQL and a real broker for every test, isolated per test.
//!
//! - [`TestAuth`]: a root key of the test's own, service tokens and user tokens.
//! - [`TestDatabase`]: a fresh database with a random name (services migrate it at start).
//! - [`unique_name`]: topic and consumer-group names no other test uses.
//! - [`PrivateBroker`]: a broker of the test's own on a random port, which the test can stop
//!   and start again (for fault tests).
//! - [`Tablet`]: a WebSocket client that reads JSON messages with a deadline.
//! - [`records`]: read and write raw records, to replay or forge events.
//! - [`LogCapture`]: every log line of the test process, to look for (or not find) things.
//! - [`eventually`]: poll a condition until it holds or a deadline passes (no sleeps as guesses).
//!
//! Environment: `DATABASE_URL` (a server where the user may create databases) and
//! `KAFKA_BROKERS` (the shared broker); `TANSU_BIN` for [`PrivateBroker`]. `ci/test` sets all
//! three.

mod auth;
mod broker;
mod database;
mod logs;
pub mod records;
mod tablet;

pub use auth::TestAuth;
pub use broker::PrivateBroker;
pub use database::TestDatabase;
pub use logs::LogCapture;
pub use tablet::Tablet;

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen within milliseconds, before it
/// calls it a failure. Generous, because CI machines stall; passing tests never wait this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The shared broker of this test run (`KAFKA_BROKERS`, default `127.0.0.1:9092`).
pub fn brokers() -> String {
    service_kit::config::env_or("KAFKA_BROKERS", "127.0.0.1:9092")
}

/// `<prefix>-<random>`: a topic or consumer group no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Settings for a service under test: the shared broker, a topic of the test's own.
pub fn kafka_settings(topic: &str) -> service_kit::config::KafkaSettings {
    service_kit::config::KafkaSettings {
        brokers: brokers(),
        orders_topic: topic.to_owned(),
        orders_topic_partitions: 3,
        security: service_kit::config::KafkaSecurity::Plaintext,
        fetch_wait_ms: service_kit::config::DEFAULT_FETCH_WAIT_MS,
        fetch_min_bytes: service_kit::config::DEFAULT_FETCH_MIN_BYTES,
    }
}

/// Polls `check` until it returns `Some`, or fails with `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "timed out after {DEADLINE:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` every 20 ms until it holds, or fails after `deadline`; how long it took, for
/// tests that report or bound a recovery time.
pub async fn within<F, Fut>(deadline: Duration, what: &str, mut check: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < deadline, "{what}: not within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Installs the log subscriber once per test process (`RUST_LOG` filters, as in services).
pub fn init_logs() {
    service_kit::telemetry::init("test");
}
