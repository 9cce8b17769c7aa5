//! Tokens on gRPC: every call carries the calling service's token in `authorization`, and a
//! call made on a user's behalf also carries the user's token in `x-user-token`, so the backend
//! applies the user's rules itself.

use crate::{Access, Principal, Token, TokenError, TokenVerifier, UserClaims, bearer};
use tonic::metadata::{MetadataMap, MetadataValue};

/// Metadata key of the forwarded user token.
pub const USER_TOKEN: &str = "x-user-token";

/// Adds the service token (and the user's, if any) to an outgoing request.
pub fn attach<T>(request: &mut tonic::Request<T>, service: &Token, user: Option<&Token>) {
    let metadata = request.metadata_mut();
    if let Ok(value) = MetadataValue::try_from(format!("Bearer {}", service.as_str())) {
        metadata.insert("authorization", value);
    }
    if let Some(user) = user
        && let Ok(value) = MetadataValue::try_from(format!("Bearer {}", user.as_str()))
    {
        metadata.insert(USER_TOKEN, value);
    }
}

/// Adds this process's current service token (if it has one yet) and the user's, if any.
pub fn attach_service<T>(request: &mut tonic::Request<T>, service: &crate::ServiceToken, user: Option<&Token>) {
    match service.current() {
        Some(service) => attach(request, &service, user),
        None => {
            if let Some(user) = user
                && let Ok(value) = MetadataValue::try_from(format!("Bearer {}", user.as_str()))
            {
                request.metadata_mut().insert(USER_TOKEN, value);
            }
        }
    }
}

/// The one mapping from a token refusal to a gRPC status.
pub fn status(error: &TokenError) -> tonic::Status {
    service_kit::error::grpc_status(error)
}

/// Checks that a platform service is calling; returns its name.
pub fn calling_service(
    metadata: &MetadataMap,
    verifier: &TokenVerifier,
    access: &Access,
) -> Result<String, tonic::Status> {
    let token = token_at(metadata, "authorization")?.ok_or_else(|| status(&TokenError::Missing))?;
    // Services only; a renewal asks for more (a credential), never less.
    let access = match access.allowed {
        crate::Allowed::ServiceCredentials => access.clone(),
        _ => access.clone().for_services(),
    };
    match verifier.authorize(&token, &access).map_err(|e| status(&e))? {
        Principal::Service(name) if !access.callers.is_empty() && !access.callers.contains(&name.as_str()) => {
            Err(status(&TokenError::Forbidden(format!("the {name} service may not make this call"))))
        }
        Principal::Service(name) => Ok(name),
        Principal::User(_) => Err(status(&TokenError::Forbidden("a service token is required".into()))),
    }
}

/// Checks the service token, then the forwarded user token against `access`; returns the user
/// and their token.
pub fn calling_user(
    metadata: &MetadataMap,
    verifier: &TokenVerifier,
    access: &Access,
) -> Result<(UserClaims, Token), tonic::Status> {
    calling_service(metadata, verifier, access)?;
    let token = token_at(metadata, USER_TOKEN)?.ok_or_else(|| status(&TokenError::Missing))?;
    match verifier.authorize(&token, access).map_err(|e| status(&e))? {
        Principal::User(user) => Ok((user, token)),
        Principal::Service(_) => Err(status(&TokenError::Forbidden("a user token is required".into()))),
    }
}

fn token_at(metadata: &MetadataMap, key: &str) -> Result<Option<Token>, tonic::Status> {
    match metadata.get(key) {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| status(&TokenError::Invalid))?;
            bearer(text).map(Some).ok_or_else(|| status(&TokenError::Invalid))
        }
    }
}

/// Checks the service token, then the forwarded user token if there is one: for calls a
/// service may make on its own account or on a user's behalf.
pub fn calling_service_or_user(
    metadata: &MetadataMap,
    verifier: &TokenVerifier,
    access: &Access,
) -> Result<Option<UserClaims>, tonic::Status> {
    if metadata.get(USER_TOKEN).is_some() {
        calling_user(metadata, verifier, access).map(|(user, _)| Some(user))
    } else {
        calling_service(metadata, verifier, access).map(|_| None)
    }
}
