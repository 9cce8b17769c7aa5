//! `TokenIssuer`: mints user and service tokens from the root private key (users only).

use crate::{Token, TokenError, TokenVerifier, UserClaims};
use biscuit_auth::macros::biscuit;
use biscuit_auth::{Algorithm, KeyPair, PrivateKey};
use std::time::{Duration, SystemTime};

/// Mints tokens from the root private key. Only the users service has one.
pub struct TokenIssuer {
    root: KeyPair,
}

/// A freshly minted token, with what logout needs to revoke it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: Token,
    /// Hex revocation ids of its blocks (revoking any one refuses the token).
    pub revocation_ids: Vec<String>,
    pub expires_at: SystemTime,
}

impl TokenIssuer {
    /// A new random root key (local runs generate one once and keep it in `.state/`).
    pub fn generate() -> Self {
        Self { root: KeyPair::new() }
    }

    /// The root key from its hex form (a file or an environment variable in production).
    pub fn from_private_key_hex(hex: &str) -> Result<Self, TokenError> {
        let key = PrivateKey::from_bytes_hex(hex.trim(), Algorithm::Ed25519).map_err(|_| TokenError::BadKey)?;
        Ok(Self { root: KeyPair::from(&key) })
    }

    pub fn private_key_hex(&self) -> service_kit::Secret {
        service_kit::Secret::new(self.root.private().to_bytes_hex())
    }

    pub fn public_key_hex(&self) -> String {
        self.root.public().to_bytes_hex()
    }

    /// A verifier for the tokens this issuer mints.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(self.root.public())
    }

    /// A token for a signed-in user, valid for `ttl`.
    pub fn user_token(&self, claims: &UserClaims, ttl: Duration) -> Result<IssuedToken, TokenError> {
        self.user_token_until(claims, SystemTime::now() + ttl)
    }

    /// A token for a signed-in user that expires at `expires_at`.
    pub fn user_token_until(&self, claims: &UserClaims, expires_at: SystemTime) -> Result<IssuedToken, TokenError> {
        let biscuit = biscuit!(
            r#"
            user({id});
            username({name});
            role({role});
            check if time($t), $t < {expires_at};
            "#,
            id = claims.user_id.to_string(),
            name = claims.username.clone(),
            role = claims.role.datalog(),
            expires_at = expires_at,
        )
        .build(&self.root)
        .map_err(|e| TokenError::Mint(e.to_string()))?;
        issued(&biscuit, expires_at)
    }

    /// A service's deploy-time credential, minted by `users mint-service-token`: it proves the
    /// service (`service(name)`, `service_credential(name)`) but may only be exchanged for
    /// short-lived service tokens (`check if operation("renew")`), so it travels to the users
    /// service alone and a copy of an everyday token is worth minutes, not months.
    pub fn service_credential(&self, service: &str, ttl: Duration) -> Result<IssuedToken, TokenError> {
        let expires_at = SystemTime::now() + ttl;
        let biscuit = biscuit!(
            r#"
            service({service});
            service_credential({service});
            check if operation("renew");
            check if time($t), $t < {expires_at};
            "#,
            service = service.to_owned(),
            expires_at = expires_at,
        )
        .build(&self.root)
        .map_err(|e| TokenError::Mint(e.to_string()))?;
        issued(&biscuit, expires_at)
    }

    /// A token for a platform service (`service(name)`): what a service presents on every call.
    /// The users service mints short-lived ones in exchange for a [`Self::service_credential`].
    pub fn service_token(&self, service: &str, ttl: Duration) -> Result<IssuedToken, TokenError> {
        let expires_at = SystemTime::now() + ttl;
        let biscuit = biscuit!(
            r#"
            service({service});
            check if time($t), $t < {expires_at};
            "#,
            service = service.to_owned(),
            expires_at = expires_at,
        )
        .build(&self.root)
        .map_err(|e| TokenError::Mint(e.to_string()))?;
        issued(&biscuit, expires_at)
    }
}

fn issued(biscuit: &biscuit_auth::Biscuit, expires_at: SystemTime) -> Result<IssuedToken, TokenError> {
    Ok(IssuedToken {
        token: Token::new(biscuit.to_base64().map_err(|e| TokenError::Mint(e.to_string()))?),
        revocation_ids: biscuit.revocation_identifiers().iter().map(hex::encode).collect(),
        expires_at,
    })
}
