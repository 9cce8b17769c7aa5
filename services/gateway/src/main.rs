//! `gateway`: runs the GraphQL gateway (see the library's docs).

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    service_kit::telemetry::init("gateway");
    let config = gateway::Config::from_env()?;
    let app = gateway::Application::build(config).await?;
    tracing::info!(http = %app.http_addr(), ops = %app.ops_addr(), "gateway ready");
    service_kit::shutdown::run_until_signalled(app.stop()).await
}
