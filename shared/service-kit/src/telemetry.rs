//! The one `tracing` setup: pretty and coloured on a terminal, one JSON object per line with
//! `LOG_FORMAT=json` (production). `RUST_LOG` filters as usual (default `info`).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Safe to call more than once (tests do): later calls keep the
/// first subscriber.
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rdkafka=warn,h2=warn,tower=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let result = if json {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().json().flatten_event(true).with_current_span(true))
            .try_init()
    } else {
        tracing_subscriber::registry().with(filter).with(fmt::layer()).try_init()
    };
    if result.is_ok() {
        tracing::info!(service, "telemetry ready");
    }
}
