//! `users`: runs the users service (see the library's docs).

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    service_kit::telemetry::init("users");
    let config = users::Config::from_env()?;
    let app = users::Application::build(config).await?;
    tracing::info!(http = %app.http_addr(), "users ready");
    app.run_until_signalled().await
}
