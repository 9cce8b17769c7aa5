//! The one `tracing` setup: pretty and coloured on a terminal, one JSON object per line with
//! `LOG_FORMAT=json` (production). `RUST_LOG` filters as usual (default `info`). Logs go to
//! stderr, so a command's stdout carries only its output (a minted token, say).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Safe to call more than once (tests do): later calls keep the
/// first subscriber.
pub fn init(service: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,h2=warn,tower=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let result = if json {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_writer(std::io::stderr))
            .try_init()
    } else {
        tracing_subscriber::registry().with(filter).with(fmt::layer().with_writer(std::io::stderr)).try_init()
    };
    if result.is_ok() {
        tracing::info!(service, "telemetry ready");
    }
}
