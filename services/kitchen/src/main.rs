//! `kitchen`: runs the kitchen service (see the library's docs).

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    service_kit::telemetry::init("kitchen");
    let config = kitchen::Config::from_env()?;
    let app = kitchen::Application::build(config).await?;
    tracing::info!(http = %app.http_addr(), ops = %app.ops_addr(), "kitchen ready");
    service_kit::shutdown::run_until_signalled(app.stop()).await
}
