//! What every service process needs, written once.
//!
//! - [`config`]: reading typed settings from environment variables, with local defaults.
//! - [`telemetry`]: the one `tracing` setup (pretty locally, JSON with `LOG_FORMAT=json`).
//! - [`db`]: the PostgreSQL pool and per-schema migrations.
//! - [`kafka`]: client settings for the broker, chosen for latency, and topic creation.
//! - [`error`]: the one error vocabulary: kinds, codes, HTTP statuses, gRPC codes.
//! - [`http`]: `serve` (every service's HTTP server), allowed origins, REST error bodies.
//! - [`grpc`]: `serve` (health, reflection, call metrics) and `channel` to another service.
//! - [`ops`]: `/healthz`, `/readyz` (composed checks) and `/metrics`.
//! - [`secret`]: keys, tokens and passwords that never reach a log line.
//! - [`trace`]: the W3C trace context carried from the gateway to the tablet.
//! - [`shutdown`]: SIGTERM/Ctrl-C, and knowing when every component has drained.

pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod http;
pub mod kafka;
pub mod ops;
pub mod secret;
pub mod shutdown;
pub mod telemetry;
pub mod trace;

pub use error::{Classified, ErrorKind, UpstreamError};
pub use secret::Secret;
