//! `TestAuth`: a root key of a test's own, the settings and tokens services and callers need.

use service_kit::config::AuthSettings;
use std::sync::Arc;
use std::time::Duration;
use tokens::{Role, Token, TokenIssuer, UserClaims};

const HOUR: Duration = Duration::from_secs(3600);

/// A root key of the test's own: what a deployment's key material would be.
#[derive(Clone)]
pub struct TestAuth {
    issuer: Arc<TokenIssuer>,
}

impl Default for TestAuth {
    fn default() -> Self {
        Self { issuer: Arc::new(TokenIssuer::generate()) }
    }
}

impl TestAuth {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn private_key_hex(&self) -> service_kit::Secret {
        self.issuer.private_key_hex()
    }

    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// Settings with a plain service token, for a service tested without a users service.
    pub fn settings(&self, service: &str, users_url: &str) -> AuthSettings {
        AuthSettings {
            token_public_key: self.issuer.public_key_hex(),
            service_token: service_kit::Secret::new(self.service_token(service).as_str()),
            users_url: users_url.to_owned(),
            follow_revocations: true,
        }
    }

    /// Settings for a service tested alone, with no users service: it follows no revocations
    /// (a follower that can never load would rightly refuse every user token).
    pub fn settings_without_users(&self, service: &str) -> AuthSettings {
        AuthSettings { follow_revocations: false, ..self.settings(service, "http://127.0.0.1:9") }
    }

    /// What `service` reads from the environment in production: its deploy-time credential
    /// (`users mint-service-token`), which it exchanges with the users service at `users_url`
    /// for short-lived service tokens.
    pub fn credential_settings(&self, service: &str, users_url: &str) -> AuthSettings {
        let credential =
            self.issuer.service_credential(service, HOUR).expect("unwrap: minting with a fresh key works").token;
        AuthSettings {
            service_token: service_kit::Secret::new(credential.as_str()),
            ..self.settings(service, users_url)
        }
    }

    /// A plain service token, used as it is (no users service needed to renew it).
    pub fn service_token(&self, service: &str) -> Token {
        self.issuer.service_token(service, HOUR).expect("unwrap: minting with a fresh key works").token
    }

    /// A token for a user who exists only in the token (for services that never look users up).
    pub fn user_token(&self, role: Role) -> (UserClaims, Token) {
        let claims = UserClaims { user_id: uuid::Uuid::new_v4(), username: format!("{role:?}").to_lowercase(), role };
        let token = self.issuer.user_token(&claims, HOUR).expect("unwrap: minting with a fresh key works").token;
        (claims, token)
    }
}
