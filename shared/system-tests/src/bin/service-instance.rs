//! `service-instance SERVICE`: one process of `users`, `orders`, `kitchen` or `gateway` for the
//! system tests' [`Cluster`](system_tests::Cluster), which kills instances with SIGKILL (what an
//! in-process `Application` cannot undergo).
//!
//! Configured from the environment exactly as the service's own binary (`Config::from_env`,
//! with port 0), it writes the addresses it bound, as JSON, to the file named by
//! `INSTANCE_ADDRS_FILE` once it listens (the cluster waits for that file), and runs until
//! SIGTERM. A wrapper rather than the services' own binaries because cargo builds a package's
//! own binaries for its integration tests (`CARGO_BIN_EXE_service-instance`), never another
//! package's.

use anyhow::Context as _;
use std::net::SocketAddr;

/// The addresses an instance bound; what the cluster reads from `INSTANCE_ADDRS_FILE`.
fn addrs(http: SocketAddr, grpc: Option<SocketAddr>, ops: SocketAddr) -> serde_json::Value {
    serde_json::json!({ "http": http.to_string(), "grpc": grpc.map(|a| a.to_string()), "ops": ops.to_string() })
}

/// Writes the addresses atomically (a rename), so the cluster never reads half a file.
fn announce(addrs: &serde_json::Value) -> anyhow::Result<()> {
    let path = std::env::var("INSTANCE_ADDRS_FILE").context("INSTANCE_ADDRS_FILE is not set")?;
    let partial = format!("{path}.partial");
    std::fs::write(&partial, addrs.to_string()).context("writing the addresses")?;
    std::fs::rename(&partial, &path).context("publishing the addresses")
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let service = std::env::args().nth(1).unwrap_or_default();
    service_kit::telemetry::init(&service);
    match service.as_str() {
        "users" => {
            let app = users::Application::build(users::Config::from_env()?).await?;
            announce(&addrs(app.http_addr(), Some(app.grpc_addr()), app.ops_addr()))?;
            service_kit::shutdown::run_until_signalled(app.stop()).await
        }
        "orders" => {
            let app = orders::Application::build(orders::Config::from_env()?).await?;
            announce(&addrs(app.http_addr(), Some(app.grpc_addr()), app.ops_addr()))?;
            service_kit::shutdown::run_until_signalled(app.stop()).await
        }
        "kitchen" => {
            let app = kitchen::Application::build(kitchen::Config::from_env()?).await?;
            announce(&addrs(app.http_addr(), None, app.ops_addr()))?;
            service_kit::shutdown::run_until_signalled(app.stop()).await
        }
        "gateway" => {
            let app = gateway::Application::build(gateway::Config::from_env()?).await?;
            announce(&addrs(app.http_addr(), None, app.ops_addr()))?;
            service_kit::shutdown::run_until_signalled(app.stop()).await
        }
        other => anyhow::bail!("usage: service-instance users|orders|kitchen|gateway (not {other:?})"),
    }
}
