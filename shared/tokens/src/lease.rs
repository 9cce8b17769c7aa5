//! [`TokenLease`]: what a long-lived session (a tablet socket, an SSE stream) needs to notice,
//! locally and cheaply, that the token it was opened with has ended — revoked or expired —
//! without verifying the token again on every tick.

use crate::{RevocationList, TokenError};
use biscuit_auth::Biscuit;
use biscuit_auth::builder::{Binary, Check, CheckKind, Op, Term};
use std::time::{Duration, SystemTime};

/// The longest a session sleeps towards its token's expiry before reading the clock again.
pub const EXPIRY_RECHECK: Duration = Duration::from_secs(60);

/// A verified token's revocation ids and the earliest expiry any of its blocks sets, checked
/// against the process's [`RevocationList`] (kept current by the `RevocationFollower`).
#[derive(Debug, Clone)]
pub struct TokenLease {
    revocation_ids: Vec<String>,
    expires_at: Option<SystemTime>,
    revoked: RevocationList,
}

impl TokenLease {
    pub(crate) fn of(biscuit: &Biscuit, revoked: RevocationList) -> Self {
        let revocation_ids = biscuit.revocation_identifiers().iter().map(hex::encode).collect();
        Self { revocation_ids, expires_at: expiry(biscuit), revoked }
    }

    /// `Ok` while the token is neither revoked nor expired: a set lookup and a clock read.
    pub fn check(&self) -> Result<(), TokenError> {
        if self.revoked.contains_any(&self.revocation_ids) {
            return Err(TokenError::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= SystemTime::now()) {
            return Err(TokenError::Expired);
        }
        Ok(())
    }

    /// Resolves when the token ends: at its expiry, or once an addition to the revocation list
    /// names it. Nothing runs in between, so a thousand idle sessions cost no wake-ups.
    pub fn ended(&self) -> impl std::future::Future<Output = TokenError> + Send + 'static {
        let lease = self.clone();
        async move {
            // Slept in legs of at most EXPIRY_RECHECK against the wall clock the expiry is
            // written in: a monotonic sleep alone would outlive the token if the clock jumped
            // or the host was suspended.
            let expiry = async {
                let Some(at) = lease.expires_at else { return std::future::pending().await };
                while let Ok(left) = at.duration_since(SystemTime::now()) {
                    if left.is_zero() {
                        break;
                    }
                    tokio::time::sleep(left.min(EXPIRY_RECHECK)).await;
                }
            };
            let revoked = async {
                loop {
                    // Subscribed before the lookup, so an addition between the two is not missed.
                    let grown = lease.revoked.grown();
                    if lease.revoked.contains_any(&lease.revocation_ids) {
                        return;
                    }
                    grown.await;
                }
            };
            tokio::select! {
                () = expiry => TokenError::Expired,
                () = revoked => TokenError::Revoked,
            }
        }
    }

    /// When the token stops being valid by time alone (`None`: never).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

/// The earliest `check if time($t), $t < <date>` (or `<=`, a second later) of any block: the
/// issuer's expiry, or an earlier one a holder appended.
pub(crate) fn expiry(biscuit: &Biscuit) -> Option<SystemTime> {
    let (_, _, checks, _) = biscuit.authorizer().ok()?.dump();
    checks.iter().filter_map(deadline).min()
}

fn deadline(check: &Check) -> Option<SystemTime> {
    // A check with several queries holds if any does: only a single query is a sure deadline;
    // and only a `check if` (`reject if time($t), $t < D` refuses the token *until* D).
    let [query] = check.queries.as_slice() else { return None };
    if check.kind != CheckKind::One || !query.body.iter().any(|p| p.name == "time") {
        return None;
    }
    query
        .expressions
        .iter()
        .filter_map(|expression| match expression.ops.as_slice() {
            [Op::Value(Term::Variable(_)), Op::Value(Term::Date(at)), Op::Binary(Binary::LessThan)] => Some(*at),
            // Still valid during its last second, as `TokenVerifier::expires_at` counts it.
            [Op::Value(Term::Variable(_)), Op::Value(Term::Date(at)), Op::Binary(Binary::LessOrEqual)] => {
                Some(at.saturating_add(1))
            }
            _ => None,
        })
        .min()
        .map(|seconds| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}
