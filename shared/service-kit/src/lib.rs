//! What every service process needs, written once.
//!
//! - [`config`]: reading typed settings from environment variables, with local defaults.
//! - [`telemetry`]: the one `tracing` setup (pretty locally, JSON with `LOG_FORMAT=json`).
//! - [`db`]: the PostgreSQL pool and per-schema migrations.
//! - [`kafka`]: client settings for the broker, chosen for latency, and topic creation.
//! - [`http_errors`]: the JSON error body and extractor settings of every REST endpoint.
//! - [`grpc_metrics`]: a tower layer timing every gRPC call, for the gRPC servers.
//! - [`ops`]: `/healthz`, `/readyz` and `/metrics`, mounted by every HTTP service.
//! - [`trace`]: the W3C trace context carried from the gateway to the tablet.
//! - [`shutdown`]: SIGTERM/Ctrl-C, and knowing when every component has drained.

pub mod config;
pub mod db;
pub mod grpc_metrics;
pub mod http_errors;
pub mod kafka;
pub mod ops;
pub mod shutdown;
pub mod telemetry;
pub mod trace;
