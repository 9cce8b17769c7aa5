//! Biscuit tokens for the whole platform.
//!
//! - [`TokenIssuer`] (the users service only: it holds the root private key) mints user tokens
//!   with `user(id)`, `username(name)`, `role(role)` facts and an expiry check, and service
//!   tokens with `service(name)`.
//! - [`TokenVerifier`] (every other service: public key only) checks the signature, the
//!   revocation list, and authorises one [`Access`] with datalog policies, honouring any checks
//!   a holder appended (attenuation: a read-only tablet token, a token for one order). A grant
//!   is reused for [`DECISION_TTL`] (2 s) for the same token and access; revocation is checked on
//!   every use.
//! - [`TokenLease`] (from [`TokenVerifier::lease`]) lets a long-lived session notice, locally,
//!   that its token was revoked or has expired.
//! - [`attenuate`] appends such checks, as a client would.
//! - [`renewal`]: short-lived service tokens. A service's deploy-time credential may only be
//!   exchanged with users for a token that lives [`SERVICE_TOKEN_TTL`]; the
//!   [`renewal::ServiceTokenRenewer`] renews it at half-life into the [`ServiceToken`] every
//!   outgoing call reads.
//!
//! Transport helpers: [`bearer`] reads `Bearer <token>`; tokens are never logged, and
//! [`Token`]'s `Debug` shows only a fingerprint.

mod access;
pub mod grpc;
mod issuer;
mod lease;
pub mod renewal;
pub mod revocation;
mod verifier;

pub use access::{Access, Allowed, Operation, Principal, Role, UserClaims};
pub use issuer::{IssuedToken, TokenIssuer};
pub use lease::TokenLease;
pub use renewal::ServiceToken;
pub use verifier::{DECISION_TTL, RevocationList, TokenError, TokenVerifier};

use biscuit_auth::Biscuit;
use service_kit::Secret;

/// How long a service token the users service hands out lives (its `SERVICE_TOKEN_TTL_SECONDS`
/// default): renewed at half-life, so a service rides out a users outage of half this, and a
/// leaked copy is worth at most this.
pub const SERVICE_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A token as received, kept out of logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(Secret);

impl Token {
    pub fn new(value: impl Into<Secret>) -> Self {
        Self(value.into())
    }

    /// The token itself: for a header or the verifier, never for a log line.
    pub fn as_str(&self) -> &str {
        self.0.expose()
    }
}

/// The token of an `Authorization: Bearer <token>` value; `None` for anything else.
pub fn bearer(header: &str) -> Option<Token> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| Token::new(token))
}

/// Restricts a token by appending a block of datalog checks, e.g. `check if operation("read")`
/// for a read-only tablet token. Needs no key: anyone holding a token can narrow it, nobody can
/// widen it.
pub fn attenuate(token: &Token, verifier: &TokenVerifier, checks: &str) -> Result<Token, TokenError> {
    let biscuit = Biscuit::from_base64(token.as_str(), verifier.public_key()).map_err(|_| TokenError::Invalid)?;
    let block =
        biscuit_auth::builder::BlockBuilder::new().code(checks).map_err(|e| TokenError::Attenuation(e.to_string()))?;
    let narrowed = biscuit.append(block).map_err(|e| TokenError::Attenuation(e.to_string()))?;
    Ok(Token::new(narrowed.to_base64().map_err(|e| TokenError::Attenuation(e.to_string()))?))
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
