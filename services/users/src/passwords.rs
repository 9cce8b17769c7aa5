//! Password hashing with argon2id (memory-hard), off the async threads.

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};

/// A hash of a password nobody has, checked when the username is unknown, so that an unknown
/// user and a wrong password take the same time.
static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no-such-user-decoy-password", &SaltString::generate(&mut OsRng))
        .expect("unwrap: hashing a constant with default parameters cannot fail")
        .to_string()
});

/// Hashes running at once: one per core. Each takes ~19 MiB and a core for tens of
/// milliseconds, so more at once would only add memory, not speed; the rest wait their turn.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
});

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _turn = HASHING.acquire().await.context("the hashing semaphore is never closed")?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("the hashing task panicked")?
}

/// Whether `password` matches `stored`; with `None` (unknown user) checks a decoy and says no.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let _turn = HASHING.acquire().await.context("the hashing semaphore is never closed")?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DECOY.clone());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("a stored hash is malformed: {e}"))?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && matches)
    })
    .await
    .context("the verifying task panicked")?
}
