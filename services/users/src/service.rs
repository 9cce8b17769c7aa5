//! The users operations as the adapters see them, each with its own error enum classified by
//! the platform's [`ErrorKind`]; `service_kit` maps kinds to status codes, once.

use crate::domain::{Password, Role, User, Username};
use crate::passwords::{HashingError, Passwords};
use crate::store;
use crate::throttle::{SignInLimits, SignInThrottle, Throttled};
use anyhow::Context as _;
use deadpool_postgres::Pool;
use service_kit::error::retry_after_seconds;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokens::{IssuedToken, Token, TokenIssuer, UserClaims};
use uuid::Uuid;

/// Revocation ids returned per `ListRevocations` call, at most.
pub const REVOCATION_PAGE: i64 = 1_000;

pub use service_kit::{Classified, ErrorKind};

/// A signed-in user and their new token.
#[derive(Debug)]
pub struct Session {
    pub token: Token,
    pub user: User,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("that username is taken")]
    Taken,
    #[error("too many sign-ups from this address; try again in {} s", retry_after_seconds(.0.retry_after))]
    Throttled(Throttled),
    #[error(transparent)]
    Busy(HashingError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    InvalidInput(String),
    /// The same answer for an unknown user and a wrong password.
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("too many sign-in attempts; try again in {} s", retry_after_seconds(.0.retry_after))]
    Throttled(Throttled),
    #[error(transparent)]
    Busy(HashingError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A full hashing queue is the one hashing failure a caller can do something about (wait).
macro_rules! from_hashing_error {
    ($error:ident) => {
        impl From<HashingError> for $error {
            fn from(error: HashingError) -> Self {
                match error {
                    HashingError::Busy => Self::Busy(error),
                    HashingError::Unexpected(e) => Self::Unexpected(e),
                }
            }
        }
    };
}
from_hashing_error!(RegisterError);
from_hashing_error!(LoginError);

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0:?} is not a valid user id (expected a UUID)")]
    InvalidId(String),
    #[error("there is no such user")]
    NotFound,
    #[error("a search needs 1 to 64 characters and a page of 1 to 50")]
    InvalidQuery,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for RegisterError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::Taken => ErrorKind::Conflict,
            Self::Throttled(_) => ErrorKind::RateLimited,
            Self::Busy(_) => ErrorKind::Unavailable,
            Self::Unexpected(e) => e.kind(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        if let Self::Throttled(throttled) = self { Some(throttled.retry_after) } else { None }
    }
}

impl Classified for LoginError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::WrongCredentials => ErrorKind::Unauthenticated,
            Self::Throttled(_) => ErrorKind::RateLimited,
            Self::Busy(_) => ErrorKind::Unavailable,
            Self::Unexpected(e) => e.kind(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        if let Self::Throttled(throttled) = self { Some(throttled.retry_after) } else { None }
    }
}

impl Classified for LookupError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) | Self::InvalidQuery => ErrorKind::InvalidInput,
            Self::NotFound => ErrorKind::NotFound,
            Self::Unexpected(e) => e.kind(),
        }
    }
}

#[derive(Clone)]
pub struct UsersService {
    pool: Pool,
    issuer: Arc<TokenIssuer>,
    token_ttl: Duration,
    /// How long the service tokens handed out for credentials live.
    service_token_ttl: Duration,
    passwords: Passwords,
    throttle: Arc<SignInThrottle>,
}

impl UsersService {
    pub fn new(
        pool: Pool,
        issuer: Arc<TokenIssuer>,
        token_ttl: Duration,
        passwords: Passwords,
        limits: SignInLimits,
    ) -> Self {
        Self {
            pool,
            issuer,
            token_ttl,
            service_token_ttl: tokens::SERVICE_TOKEN_TTL,
            passwords,
            throttle: Arc::new(SignInThrottle::new(limits)),
        }
    }

    /// Service tokens handed out for credentials live `ttl` (`SERVICE_TOKEN_TTL_SECONDS`).
    pub fn with_service_token_ttl(mut self, ttl: Duration) -> Self {
        self.service_token_ttl = ttl;
        self
    }

    /// A short-lived token for `service`, whose credential the caller has checked.
    pub fn service_token(&self, service: &str) -> Result<IssuedToken, tokens::TokenError> {
        self.issuer.service_token(service, self.service_token_ttl)
    }

    /// What keeps memory and tables from growing, run now and then by every instance: forgets
    /// idle throttle buckets, and deletes revocations of tokens that have expired anyway.
    pub async fn housekeeping(&self) -> anyhow::Result<u64> {
        self.throttle.forget_idle();
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        store::prune_expired_revocations(&**client).await
    }

    /// A new CUSTOMER account (registration never makes staff), signed in.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<Session, RegisterError> {
        self.throttle.attempt(None, from).map_err(RegisterError::Throttled)?;
        let username = Username::parse(username).map_err(RegisterError::InvalidInput)?;
        let password = Password::parse(password).map_err(RegisterError::InvalidInput)?;
        let hash = self.passwords.hash(password.expose().to_owned()).await?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let user = store::insert(&**client, &username, &hash, Role::Customer).await?.ok_or(RegisterError::Taken)?;
        tracing::info!(user = %user.id, "registered");
        Ok(Session { token: self.mint(&user)?.token, user })
    }

    #[tracing::instrument(skip_all)]
    pub async fn login(&self, username: &str, password: &str, from: Option<IpAddr>) -> Result<Session, LoginError> {
        let username = Username::parse(username).map_err(|_| LoginError::WrongCredentials)?;
        // Before any work: a throttled guess costs no hash.
        self.throttle.attempt(Some(username.as_str()), from).map_err(LoginError::Throttled)?;
        if password.is_empty() {
            return Err(LoginError::InvalidInput("the password is empty".into()));
        }
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let found = store::by_username(&**client, &username).await?;
        // The hash takes a core for milliseconds and may queue: give the connection back first.
        drop(client);
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        // Bounded like registration, but checked after the lookup so both failures cost alike.
        let password = password.chars().take(crate::domain::PASSWORD_CHARS.end() + 1).collect();
        if !self.passwords.verify(password, hash).await? {
            return Err(LoginError::WrongCredentials);
        }
        let user = user.ok_or(LoginError::WrongCredentials)?;
        Ok(Session { token: self.mint(&user)?.token, user })
    }

    pub async fn user(&self, id: &str) -> Result<User, LookupError> {
        let id = Uuid::parse_str(id).map_err(|_| LookupError::InvalidId(id.chars().take(40).collect()))?;
        self.users(&[id]).await?.pop().ok_or(LookupError::NotFound)
    }

    pub async fn users(&self, ids: &[Uuid]) -> Result<Vec<User>, LookupError> {
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        Ok(store::by_ids(&**client, ids).await?)
    }

    /// Kitchen staff find any user; a customer finds only themselves.
    pub async fn search(&self, caller: &tokens::UserClaims, query: &str, first: i64) -> Result<Vec<User>, LookupError> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > 64 {
            return Err(LookupError::InvalidQuery);
        }
        if !(1..=50).contains(&first) {
            return Err(LookupError::InvalidQuery);
        }
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let found = store::search(&**client, query, first).await?;
        Ok(found.into_iter().filter(|u| caller.role == Role::KitchenStaff || u.id == caller.user_id).collect())
    }

    /// Revokes a (verified) token: every service refuses it once its list refreshes.
    pub async fn logout(&self, revocation_ids: Vec<String>) -> anyhow::Result<()> {
        let mut client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let expires_at = chrono::Utc::now() + self.token_ttl;
        let transaction = client.transaction().await.context("starting a transaction")?;
        store::revoke(&transaction, &revocation_ids, expires_at).await?;
        transaction.commit().await.context("committing a logout")
    }

    pub async fn revocations_after(&self, after_seq: i64) -> anyhow::Result<(Vec<String>, i64)> {
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        store::revocations_after(&**client, after_seq, REVOCATION_PAGE).await
    }

    /// Creates a KITCHEN_STAFF account, or resets an existing one's password and role: the
    /// `users create-staff` command, safe to run at every deploy.
    pub async fn ensure_staff(&self, username: &str, password: &str) -> anyhow::Result<User> {
        let username = Username::parse(username).map_err(anyhow::Error::msg)?;
        let password = Password::parse(password).map_err(anyhow::Error::msg)?;
        let hash = self.passwords.hash(password.expose().to_owned()).await?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        if let Some(user) = store::insert(&**client, &username, &hash, Role::KitchenStaff).await? {
            return Ok(user);
        }
        let (user, _) = store::by_username(&**client, &username).await?.context("the user vanished")?;
        store::update_credentials(&**client, user.id, &hash, Role::KitchenStaff).await?;
        Ok(User { role: Role::KitchenStaff, ..user })
    }

    fn mint(&self, user: &User) -> anyhow::Result<IssuedToken> {
        let claims = UserClaims { user_id: user.id, username: user.username.clone(), role: user.role };
        self.issuer.user_token(&claims, self.token_ttl).context("minting a token")
    }
}
