//! Operator commands of the `users` binary. Secrets go to files or stdout, never to logs.

use crate::service::UsersService;
use anyhow::Context as _;
use service_kit::{config::DatabaseSettings, db};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokens::TokenIssuer;

/// Writes a new root key pair into `dir` (`token-private.hex`, readable by the owner only, and
/// `token-public.hex`), unless one is there already. Local runs call it once.
pub fn generate_keys(dir: &Path) -> anyhow::Result<()> {
    let private = dir.join("token-private.hex");
    let public = dir.join("token-public.hex");
    if private.exists() && public.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let issuer = TokenIssuer::generate();
    write_secret(&private, issuer.private_key_hex().expose())?;
    std::fs::write(&public, issuer.public_key_hex()).with_context(|| format!("writing {}", public.display()))?;
    Ok(())
}

/// Mints `service`'s deploy-time credential from the root key, valid for `ttl`: the service
/// exchanges it with users for short-lived service tokens and can do nothing else with it.
pub fn mint_service_token(private_key_hex: &str, service: &str, ttl: Duration) -> anyhow::Result<String> {
    anyhow::ensure!(
        !service.is_empty() && service.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
        "a service name is lower-case letters and '-', not {service:?}"
    );
    let issuer = TokenIssuer::from_private_key_hex(private_key_hex).context("TOKEN_PRIVATE_KEY")?;
    Ok(issuer.service_credential(service, ttl)?.token.as_str().to_owned())
}

/// Creates (or resets) a KITCHEN_STAFF account.
pub async fn create_staff(
    database: &DatabaseSettings,
    private_key_hex: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    let pool = db::pool(database)?;
    db::migrate(&pool, crate::store::SCHEMA, crate::store::migrations::migrations::runner()).await?;
    let issuer = Arc::new(TokenIssuer::from_private_key_hex(private_key_hex).context("TOKEN_PRIVATE_KEY")?);
    let service = UsersService::new(
        pool,
        issuer,
        Duration::from_secs(60),
        crate::passwords::Passwords::start(1, 1),
        crate::throttle::SignInLimits::default(),
    );
    let user = service.ensure_staff(username, password).await?;
    tracing::info!(user = %user.id, username = %user.username, "kitchen staff account ready");
    Ok(())
}

#[cfg(unix)]
fn write_secret(path: &Path, value: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(value.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_secret(path: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(path, value).with_context(|| format!("writing {}", path.display()))
}
