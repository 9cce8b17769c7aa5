//! Password hashing with argon2id (memory-hard) on a `SyncArbiter`: CPU-bound work gets threads
//! of its own, one per core, and a bounded queue in front of them, so a flood of sign-ins is
//! refused at once ([`HashingError::Busy`]) instead of piling up behind each other.

use actix::prelude::*;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hashes waiting or running at once, at most, in the default set-up. A hash takes a core for
/// ~15 ms (release) and ~19 MiB: 64 is a few hundred milliseconds of queue on two cores; a
/// longer queue would only make every sign-in slow during a flood.
pub const QUEUE_LIMIT: usize = 64;

/// A hash of a password nobody has, checked when the username is unknown, so that an unknown
/// user and a wrong password take the same time.
static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no-such-user-decoy-password", &SaltString::generate(&mut OsRng))
        .expect("unwrap: hashing a constant with default parameters cannot fail")
        .to_string()
});

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Too many sign-ins are waiting already: try again shortly.
    #[error("too many sign-ins at once; try again shortly")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// One hashing thread (an actor in a `SyncContext`); the arbiter runs one per core.
struct PasswordHasher;

impl Actor for PasswordHasher {
    type Context = SyncContext<Self>;
}

/// Hash a new password (registration, staff accounts).
#[derive(Message)]
#[rtype(result = "anyhow::Result<String>")]
struct HashPassword(String);

/// Check a password against a stored hash; `None` (unknown user) checks the decoy and says no.
#[derive(Message)]
#[rtype(result = "anyhow::Result<bool>")]
struct VerifyPassword {
    password: String,
    stored: Option<String>,
}

impl Handler<HashPassword> for PasswordHasher {
    type Result = anyhow::Result<String>;

    fn handle(&mut self, HashPassword(password): HashPassword, _: &mut SyncContext<Self>) -> Self::Result {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    }
}

impl Handler<VerifyPassword> for PasswordHasher {
    type Result = anyhow::Result<bool>;

    fn handle(&mut self, message: VerifyPassword, _: &mut SyncContext<Self>) -> Self::Result {
        let known = message.stored.is_some();
        let stored = message.stored.unwrap_or_else(|| DECOY.clone());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("a stored hash is malformed: {e}"))?;
        let matches = Argon2::default().verify_password(message.password.as_bytes(), &parsed).is_ok();
        Ok(known && matches)
    }
}

/// The hashing threads and their queue, shared by every request.
#[derive(Clone)]
pub struct Passwords {
    hashers: Addr<PasswordHasher>,
    /// Requests waiting or running; above `limit`, new ones are refused.
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// Holds one place in the queue; gives it back when dropped (also when the caller gives up).
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Passwords {
    /// `threads` hashing threads (one per core is the point: more only add memory) with at most
    /// `limit` requests waiting or running. Must run inside an actix system.
    pub fn start(threads: usize, limit: usize) -> Self {
        let hashers = SyncArbiter::start(threads.max(1), || PasswordHasher);
        Self { hashers, queued: Arc::default(), limit: limit.max(1) }
    }

    /// One thread per core and [`QUEUE_LIMIT`].
    pub fn start_default() -> Self {
        Self::start(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get), QUEUE_LIMIT)
    }

    fn take_place(&self) -> Result<Place, HashingError> {
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        let place = Place(self.queued.clone());
        if before >= self.limit {
            return Err(HashingError::Busy);
        }
        Ok(place)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        let _place = self.take_place()?;
        let hashed = self.hashers.send(HashPassword(password)).await.map_err(anyhow::Error::from)?;
        Ok(hashed?)
    }

    /// Whether `password` matches `stored`; with `None` (unknown user) checks a decoy and says no.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, HashingError> {
        let _place = self.take_place()?;
        let verdict = self.hashers.send(VerifyPassword { password, stored }).await.map_err(anyhow::Error::from)?;
        Ok(verdict?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn a_full_queue_refuses_at_once_and_frees_its_places() {
        let passwords = Passwords::start(1, 2);
        // Ten at once: the first two take the queue's places before any finishes (each hash
        // takes milliseconds on another thread), the other eight are refused without waiting.
        let answers = futures::future::join_all((0..10).map(|i| passwords.hash(format!("password {i}")))).await;
        let busy = answers.iter().filter(|a| matches!(a, Err(HashingError::Busy))).count();
        let hashed = answers.iter().filter(|a| a.is_ok()).count();
        assert_eq!((hashed, busy), (2, 8), "{answers:?}");
        // Every place was given back: the next request gets through.
        let hash = passwords.hash("again".into()).await.expect("the queue is empty again");
        assert!(passwords.verify("again".into(), Some(hash)).await.expect("verifies"));
        assert!(!passwords.verify("again".into(), None).await.expect("the decoy verifies"), "unknown user");
    }
}
