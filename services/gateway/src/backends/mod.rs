//! gRPC clients of the backends, with deadlines and one reused connection each: the only
//! module that knows Protobuf and tonic. A call's answer leaves it as [`crate::model`] data,
//! its failure as an [`UpstreamError`] (a backend's status read back into the platform's error
//! vocabulary), so nothing past this module sees a gRPC status.
//!
//! - `orders`: [`OrdersBackend`], the `OrderService` (the menu, orders, the order-events
//!   stream).
//! - `users`: [`UsersBackend`], the `UserService` (accounts, sessions, user lookups).
//! - `convert`: Protobuf ↔ [`crate::model`].
//! - here: what every request carries (tokens, trace) and the call counter.

mod convert;
mod orders;
mod users;

pub use orders::OrdersBackend;
pub use users::UsersBackend;

use service_kit::UpstreamError;
use tokens::{ServiceToken, Token};

/// A backend's answer, or why there is none, in the platform's error vocabulary (a gRPC status
/// is converted when the call returns).
pub type BackendResult<T> = Result<T, UpstreamError>;

tokio::task_local! {
    /// The trace of the GraphQL request being served; every backend call made for it carries
    /// a child of it in its `traceparent` metadata.
    pub static TRACE: service_kit::trace::TraceParent;
}

/// Backend calls made, by backend: what the dataloader test counts.
pub fn calls_metric(registry: &prometheus::Registry) -> anyhow::Result<prometheus::IntCounterVec> {
    let calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("gateway_backend_calls_total", "gRPC calls made to the backends"),
        &["backend"],
    )?;
    registry.register(Box::new(calls.clone()))?;
    Ok(calls)
}

/// How one backend's requests are made: each carries the gateway's service token, the user's
/// token when made on a user's behalf, and the request's trace context; each is counted.
#[derive(Clone)]
struct Requests {
    /// Short-lived, renewed in the background: read afresh for every request.
    service_token: ServiceToken,
    /// This backend's series of [`calls_metric`].
    calls: prometheus::IntCounter,
}

impl Requests {
    fn new(service_token: ServiceToken, calls: &prometheus::IntCounterVec, backend: &str) -> Self {
        Self { service_token, calls: calls.with_label_values(&[backend]) }
    }

    fn make<T>(&self, message: T, user: Option<&Token>) -> tonic::Request<T> {
        self.calls.inc();
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach_service(&mut request, &self.service_token, user);
        if let Ok(Ok(value)) = TRACE.try_with(|trace| trace.child().header().parse()) {
            request.metadata_mut().insert(service_kit::trace::HEADER, value);
        }
        request
    }
}
