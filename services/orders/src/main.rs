//! `orders`: runs the orders service (see the library's docs).

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    service_kit::telemetry::init("orders");
    let config = orders::Config::from_env()?;
    let app = orders::Application::build(config).await?;
    tracing::info!(http = %app.http_addr(), ops = %app.ops_addr(), grpc = %app.grpc_addr(), "orders ready");
    service_kit::shutdown::run_until_signalled(app.stop()).await
}
