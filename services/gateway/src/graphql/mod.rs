//! The GraphQL schema (Juniper): the per-request [`Context`], the roots ([`Query`],
//! [`Mutation`], [`Subscription`]), the object and input types (`types/`), [`field_error`],
//! the one way an error becomes a GraphQL error with a stable `extensions.code`, and [`cost`],
//! what one request may spend on expensive fields. This module
//! knows neither Protobuf nor gRPC: backends answer with [`crate::model`] data or a
//! [`service_kit::UpstreamError`].

pub mod cost;
mod error;
mod mutation;
mod query;
mod subscription;
mod types;

pub use error::{Refusal, field_error};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

use crate::backends::{OrdersBackend, UsersBackend};
use crate::live::LiveOrders;
use crate::loaders::Loaders;
use juniper::{FieldResult, RootNode};
use tokens::{Token, TokenError, UserClaims};

/// Nesting deeper than this is refused before execution.
pub const MAX_QUERY_DEPTH: usize = 12;
/// Tokens in one document, at most.
pub const MAX_QUERY_TOKENS: usize = 5_000;
/// Fields in one document, at most.
pub const MAX_QUERY_FIELDS: usize = 500;

pub type Schema = RootNode<Query, Mutation, Subscription>;

pub fn schema() -> Schema {
    Schema::new(Query, Mutation, Subscription)
        .limit_depth(MAX_QUERY_DEPTH)
        .limit_tokens(MAX_QUERY_TOKENS)
        .limit_fields(MAX_QUERY_FIELDS)
}

/// Per-request context: the backends and who is calling.
#[derive(Clone)]
pub struct Context {
    pub orders: OrdersBackend,
    pub users: UsersBackend,
    /// `Ok(None)`: anonymous; `Ok(Some)`: a verified user; `Err`: a token was sent and refused
    /// (every field that needs a user then says why).
    pub caller: Result<Option<Caller>, TokenError>,
    pub loaders: Loaders,
    pub live: LiveOrders,
    pub menu: crate::live_menu::LiveMenu,
    /// The client's network address (the HTTP peer), passed to users with sign-ins so its
    /// throttle keys on the person, not on the gateway.
    pub client_address: Option<std::net::IpAddr>,
    /// On a subscription socket: its budget of live subscriptions. `None` over HTTP POST.
    pub socket: Option<std::sync::Arc<crate::sockets::SubscriptionSlots>>,
    /// On a signed-in socket: whether its token still holds (live events stop when it ends).
    pub session: Option<std::sync::Arc<tokens::TokenLease>>,
    /// The process's verifier: a logout here revokes the token in this process at once.
    pub verifier: tokens::TokenVerifier,
}

/// A verified user and the token to forward on their behalf.
#[derive(Clone, Debug)]
pub struct Caller {
    pub claims: UserClaims,
    pub token: Token,
}

impl juniper::Context for Context {}

impl Context {
    /// The signed-in caller, or why there is none (no token, or the refusal of the one sent).
    pub fn user(&self) -> FieldResult<&Caller> {
        match &self.caller {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(field_error(&TokenError::Missing)),
            Err(refused) => Err(field_error(refused)),
        }
    }
}
