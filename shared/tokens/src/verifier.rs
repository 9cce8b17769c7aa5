//! `TokenVerifier`: checks a token's signature, revocation and checks with the public key
//! only, then decides one `Access`; decisions are reused briefly (`DECISION_TTL`).

use crate::Token;
use crate::access::{Access, Allowed, Principal, Role, UserClaims};
use biscuit_auth::error::{FailedCheck, Logic, Token as BiscuitError};
use biscuit_auth::macros::authorizer;
use biscuit_auth::{Algorithm, AuthorizerLimits, Biscuit, PublicKey};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// Datalog evaluation limits: generous enough for a debug build (whose crypto crates are
/// optimised anyway, see the workspace profile), tight enough that a hostile token cannot make
/// a service spin. Facts and iterations are what stop a hostile token (they do not depend on
/// the machine); the time is wall-clock, so it is only a backstop: at 20 ms, a valid cook's
/// token was refused while its thread waited for a core (eight service processes on two cores,
/// `two_of_each.rs`).
const LIMITS: AuthorizerLimits =
    AuthorizerLimits { max_facts: 1_000, max_iterations: 100, max_time: Duration::from_millis(250) };

/// How long a granted decision is reused for the same token and access. A full check costs
/// ~0.2 ms of CPU and every order needs three (gateway, then the service and user tokens in
/// orders); the same tokens come back many times a second under load. Revocation is still
/// checked on every use; expiry and time-bound attenuations are honoured at most this late.
pub const DECISION_TTL: Duration = Duration::from_secs(2);
/// Most decisions kept: when full, expired ones are dropped, and if none had, all of them.
const DECISIONS_KEPT: usize = 10_000;

/// Why a token was refused. `Missing`, `Invalid`, `Expired` and `Revoked` mean "who are you?"
/// (UNAUTHENTICATED); `Forbidden` means "not you, not this" (FORBIDDEN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a token is required")]
    Missing,
    #[error("the token is malformed or not signed by this platform")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
    #[error("this token does not allow that: {0}")]
    Forbidden(String),
    #[error("the key is not a valid Ed25519 key")]
    BadKey,
    #[error("minting a token failed: {0}")]
    Mint(String),
    #[error("the token cannot be attenuated: {0}")]
    Attenuation(String),
    /// The process has not loaded the revocation list yet (users was unreachable since it
    /// started): a user token might be revoked, so it is refused until the list is known.
    #[error("the revocation list has not been loaded yet; try again shortly")]
    RevocationsUnknown,
}

impl TokenError {
    /// `true` for "who are you?" errors, `false` for "you may not".
    pub fn is_unauthenticated(&self) -> bool {
        service_kit::Classified::kind(self) == service_kit::ErrorKind::Unauthenticated
    }
}

impl service_kit::Classified for TokenError {
    fn kind(&self) -> service_kit::ErrorKind {
        match self {
            Self::Forbidden(_) => service_kit::ErrorKind::Forbidden,
            Self::BadKey | Self::Mint(_) => service_kit::ErrorKind::Unexpected,
            Self::RevocationsUnknown => service_kit::ErrorKind::Unavailable,
            Self::Missing | Self::Invalid | Self::Expired | Self::Revoked | Self::Attenuation(_) => {
                service_kit::ErrorKind::Unauthenticated
            }
        }
    }
}

/// Revoked tokens' revocation ids, shared by every verifier of a process and refreshed from the
/// users service. A list that a `RevocationFollower` fills is *pending* until the follower has
/// loaded it once: until then user tokens are refused ([`TokenError::RevocationsUnknown`]),
/// so a service that starts while users is down fails closed. A list nobody follows (tests,
/// tools) is complete as it is.
#[derive(Debug, Clone)]
pub struct RevocationList {
    ids: Arc<RwLock<HashSet<String>>>,
    loaded: Arc<AtomicBool>,
    /// Bumped whenever an id is added: what holders of long-lived sessions wait on, rather than
    /// each looking the list up on a timer (thousands of idle sockets, thousands of wake-ups).
    grown: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for RevocationList {
    fn default() -> Self {
        Self {
            ids: Arc::default(),
            loaded: Arc::new(AtomicBool::new(true)),
            grown: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl RevocationList {
    pub fn insert_all(&self, ids: impl IntoIterator<Item = String>) {
        let mut set = self.ids.write().expect("unwrap: the lock is never poisoned (no panics while held)");
        let before = set.len();
        set.extend(ids);
        if set.len() > before {
            self.grown.send_modify(|generation| *generation += 1);
        }
    }

    /// Resolves at the next addition to the list (made after this call).
    pub fn grown(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut changes = self.grown.subscribe();
        async move {
            // The sender lives as long as the list; were it gone, nothing would be added again.
            if changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    pub fn contains_any(&self, ids: &[String]) -> bool {
        let set = self.ids.read().expect("unwrap: the lock is never poisoned (no panics while held)");
        ids.iter().any(|id| set.contains(id))
    }

    pub fn len(&self) -> usize {
        self.ids.read().expect("unwrap: the lock is never poisoned (no panics while held)").len()
    }

    /// Whether the list is known: not waiting for its follower's first complete load.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// A follower will fill this list: user tokens are refused until [`Self::mark_loaded`].
    pub(crate) fn mark_pending(&self) {
        self.loaded.store(false, Ordering::Release);
    }

    /// The follower has read the whole log once.
    pub(crate) fn mark_loaded(&self) {
        self.loaded.store(true, Ordering::Release);
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Recently granted decisions, keyed by token and access.
#[derive(Debug, Clone, Default)]
struct Decisions(Arc<Mutex<HashMap<(String, String), Granted>>>);

#[derive(Debug)]
struct Granted {
    principal: Principal,
    revocation_ids: Vec<String>,
    until: Instant,
}

impl Decisions {
    fn key(token: &Token, access: &Access) -> (String, String) {
        let resource_id = access.resource_id.as_deref().unwrap_or_default();
        let access = format!("{}|{}|{resource_id}|{:?}", access.operation.as_str(), access.resource, access.allowed);
        (token.as_str().to_owned(), access)
    }

    fn get(&self, key: &(String, String), revoked: &RevocationList) -> Option<Result<Principal, TokenError>> {
        let decisions = self.0.lock().expect("unwrap: the lock is never poisoned (no panics while held)");
        let granted = decisions.get(key).filter(|g| g.until > Instant::now())?;
        if revoked.contains_any(&granted.revocation_ids) {
            return Some(Err(TokenError::Revoked));
        }
        Some(Ok(granted.principal.clone()))
    }

    fn insert(&self, key: (String, String), principal: Principal, revocation_ids: Vec<String>) {
        let mut decisions = self.0.lock().expect("unwrap: the lock is never poisoned (no panics while held)");
        let now = Instant::now();
        if decisions.len() >= DECISIONS_KEPT {
            decisions.retain(|_, g| g.until > now);
            if decisions.len() >= DECISIONS_KEPT {
                decisions.clear();
            }
        }
        decisions.insert(key, Granted { principal, revocation_ids, until: now + DECISION_TTL });
    }
}

/// Verifies tokens with the platform's public key and decides with datalog policies.
#[derive(Clone)]
pub struct TokenVerifier {
    public: PublicKey,
    revoked: RevocationList,
    decisions: Decisions,
}

impl TokenVerifier {
    pub fn new(public: PublicKey) -> Self {
        Self { public, revoked: RevocationList::default(), decisions: Decisions::default() }
    }

    pub fn from_public_key_hex(hex: &str) -> Result<Self, TokenError> {
        let key = PublicKey::from_bytes_hex(hex.trim(), Algorithm::Ed25519).map_err(|_| TokenError::BadKey)?;
        Ok(Self::new(key))
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The list this verifier consults; the revocation poller fills it.
    pub fn revocations(&self) -> &RevocationList {
        &self.revoked
    }

    /// The token's revocation ids (hex), once its signature is verified.
    pub fn revocation_ids(&self, token: &Token) -> Result<Vec<String>, TokenError> {
        let biscuit = Biscuit::from_base64(token.as_str(), self.public).map_err(|_| TokenError::Invalid)?;
        Ok(biscuit.revocation_identifiers().iter().map(hex::encode).collect())
    }

    /// What a session opened with `token` holds to end when the token does (`check` it, or await
    /// its `ended`; signature verified here; `authorize` the token for the session first).
    pub fn lease(&self, token: &Token) -> Result<crate::TokenLease, TokenError> {
        let biscuit = Biscuit::from_base64(token.as_str(), self.public).map_err(|_| TokenError::Invalid)?;
        Ok(crate::TokenLease::of(&biscuit, self.revoked.clone()))
    }

    /// When the token stops being accepted by its own time checks (`check if time($t), $t < D`
    /// in any block: the issuer's expiry, or an earlier one a holder attenuated it with), once
    /// its signature is verified; `None` if it has none. Lets a long-lived session end on time
    /// without re-checking the whole token again and again.
    pub fn expires_at(&self, token: &Token) -> Result<Option<SystemTime>, TokenError> {
        let biscuit = Biscuit::from_base64(token.as_str(), self.public).map_err(|_| TokenError::Invalid)?;
        Ok(crate::lease::expiry(&biscuit))
    }

    /// Checks signature, revocation, expiry and every check of every block, then `access`'s
    /// policy; returns who the token speaks for. A grant is reused for [`DECISION_TTL`].
    pub fn authorize(&self, token: &Token, access: &Access) -> Result<Principal, TokenError> {
        let key = Decisions::key(token, access);
        if let Some(decision) = self.decisions.get(&key, &self.revoked) {
            return decision.and_then(|principal| self.fail_closed(principal));
        }
        let (principal, revocation_ids) = self.verify(token, access)?;
        self.decisions.insert(key, principal.clone(), revocation_ids);
        self.fail_closed(principal)
    }

    /// [`Self::authorize`] without reusing earlier decisions: the full check every time.
    pub fn authorize_afresh(&self, token: &Token, access: &Access) -> Result<Principal, TokenError> {
        self.verify(token, access).and_then(|(principal, _)| self.fail_closed(principal))
    }

    /// A user token cannot be trusted before the revocation list is known (a logout may have
    /// revoked it); a service token is never revoked by a logout.
    fn fail_closed(&self, principal: Principal) -> Result<Principal, TokenError> {
        match principal {
            Principal::User(_) if !self.revoked.is_loaded() => Err(TokenError::RevocationsUnknown),
            principal => Ok(principal),
        }
    }

    fn verify(&self, token: &Token, access: &Access) -> Result<(Principal, Vec<String>), TokenError> {
        let biscuit = Biscuit::from_base64(token.as_str(), self.public).map_err(|_| TokenError::Invalid)?;
        let ids: Vec<String> = biscuit.revocation_identifiers().iter().map(hex::encode).collect();
        if self.revoked.contains_any(&ids) {
            return Err(TokenError::Revoked);
        }
        let resource_id = access.resource_id.clone().unwrap_or_default();
        let base = authorizer!(
            r#"
            time({now});
            operation({operation});
            resource({resource});
            resource_id({resource_id});
            "#,
            now = SystemTime::now(),
            operation = access.operation.as_str(),
            resource = access.resource,
            resource_id = resource_id,
        );
        let policy = match &access.allowed {
            Allowed::AnyUser => authorizer!(r#"allow if user($u); deny if true;"#),
            Allowed::Services => authorizer!(r#"allow if service($s); deny if true;"#),
            Allowed::ServiceCredentials => {
                authorizer!(r#"allow if service($s), service_credential($s); deny if true;"#)
            }
            Allowed::Roles(roles) => {
                let mut builder = biscuit_auth::AuthorizerBuilder::new();
                for role in *roles {
                    builder = builder
                        .code_with_params(
                            "allow if user($u), role({role});",
                            [("role".to_owned(), role.datalog().into())].into_iter().collect(),
                            Default::default(),
                        )
                        .map_err(|e| TokenError::Forbidden(e.to_string()))?;
                }
                builder.code("deny if true;").map_err(|e| TokenError::Forbidden(e.to_string()))?
            }
        };
        let mut authorizer =
            base.merge(policy).set_limits(LIMITS).build(&biscuit).map_err(|e| TokenError::Forbidden(e.to_string()))?;
        match authorizer.authorize() {
            Ok(_) => {}
            Err(BiscuitError::FailedLogic(Logic::Unauthorized { checks, .. } | Logic::NoMatchingPolicy { checks }))
                if checks.iter().any(is_expiry) =>
            {
                return Err(TokenError::Expired);
            }
            Err(e) => return Err(TokenError::Forbidden(describe(&e))),
        }
        Ok((principal(&mut authorizer)?, ids))
    }
}

/// Why a token whose evaluation hit [`LIMITS`] was refused. `max_time` is wall-clock time: a
/// thread starved of CPU can hit it with any token (seen in `ci/fuzz` under load), so such a
/// refusal says nothing about the token.
pub(crate) const TOO_COMPLEX: &str = "the token is too complex to evaluate";

/// A failed time check of the authority block: the issuer's expiry (a credential's other
/// check, `operation("renew")`, is a restriction, not an expiry).
fn is_expiry(check: &FailedCheck) -> bool {
    matches!(check, FailedCheck::Block(block) if block.block_id == 0 && block.rule.contains("time("))
}

fn describe(error: &BiscuitError) -> String {
    match error {
        BiscuitError::FailedLogic(Logic::Unauthorized { checks, .. } | Logic::NoMatchingPolicy { checks })
            if !checks.is_empty() =>
        {
            "a restriction on the token forbids it".to_owned()
        }
        BiscuitError::FailedLogic(_) => "the caller's role may not do this".to_owned(),
        BiscuitError::RunLimit(_) => TOO_COMPLEX.to_owned(),
        _ => "the token cannot be evaluated".to_owned(),
    }
}

fn principal(authorizer: &mut biscuit_auth::Authorizer) -> Result<Principal, TokenError> {
    let services: Vec<(String,)> =
        authorizer.query("data($s) <- service($s)").map_err(|e| TokenError::Forbidden(e.to_string()))?;
    if let Some((service,)) = services.into_iter().next() {
        return Ok(Principal::Service(service));
    }
    let users: Vec<(String, String, String)> = authorizer
        .query("data($id, $name, $role) <- user($id), username($name), role($role)")
        .map_err(|e| TokenError::Forbidden(e.to_string()))?;
    let (id, username, role) = users.into_iter().next().ok_or(TokenError::Invalid)?;
    Ok(Principal::User(UserClaims {
        user_id: uuid::Uuid::parse_str(&id).map_err(|_| TokenError::Invalid)?,
        username,
        role: Role::from_datalog(&role).ok_or(TokenError::Invalid)?,
    }))
}
