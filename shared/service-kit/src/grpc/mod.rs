//! The gRPC side every service shares: [`serve`] runs a service's tonic services with standard
//! health and reflection, a call histogram and a graceful stop; [`channel`] is the one way to
//! reach another service (deadline, keep-alives, lazy connection).

mod metrics;

pub use metrics::{GrpcMetrics, GrpcMetricsLayer};

use crate::ops::Ops;
use crate::shutdown::ShutdownListener;
use anyhow::Context as _;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::server::NamedService;
use tonic::transport::{Channel, Endpoint};

/// How long any call to another service may take before it counts as unavailable.
pub const CALL_DEADLINE: Duration = Duration::from_secs(5);
/// How long connecting to another service may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// HTTP/2 pings on idle connections, so a dead peer (a crashed host) is noticed on long-lived
/// streams too, and how long an unanswered ping may wait.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
pub const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Metadata a service calling another on a person's behalf sets to that person's network
/// address (the gateway, for sign-ins), so throttles key on the person, not on the gateway.
/// Only service-token callers are believed, and every call needs a service token.
pub const CLIENT_ADDRESS: &str = "x-client-address";

/// The [`CLIENT_ADDRESS`] a calling service vouched for, if any.
pub fn client_address(metadata: &tonic::metadata::MetadataMap) -> Option<std::net::IpAddr> {
    metadata.get(CLIENT_ADDRESS)?.to_str().ok()?.parse().ok()
}

/// A client channel to `url`. It connects lazily, so a service starts even when the one it
/// calls is not up yet, and reconnects by itself.
pub fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid gRPC URL {url:?}"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_DEADLINE)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// `call` (a client call on a [`channel`]), given at most [`CALL_DEADLINE`] from now: a call
/// still waiting then is abandoned and answered `DEADLINE_EXCEEDED`. The channel's own deadline
/// starts only once its connection takes the request, so without this a call waits without
/// bound for a connection being made again (each attempt up to [`CONNECT_TIMEOUT`], one queued
/// call failed per attempt) or behind the calls queued before it; an abandoned call still
/// queued is dropped unsent.
pub async fn within_deadline<T>(
    call: impl std::future::Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    tokio::time::timeout(CALL_DEADLINE, call).await.unwrap_or_else(|_| {
        Err(tonic::Status::deadline_exceeded(format!("no answer within {}s", CALL_DEADLINE.as_secs())))
    })
}

/// The tonic services one process serves; each is reported healthy under its own name.
#[derive(Default)]
pub struct GrpcServices {
    routes: tonic::service::RoutesBuilder,
    names: Vec<&'static str>,
}

impl GrpcServices {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_service<S>(mut self, service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }
}

/// Binds `addr` and serves `services` (with `grpc.health.v1` and reflection over the
/// platform's descriptor set) until `shutdown`; calls are timed into `ops`' registry. Returns
/// the bound address (tests bind port 0).
pub async fn serve(
    addr: SocketAddr,
    services: GrpcServices,
    ops: &Ops,
    mut shutdown: ShutdownListener,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding gRPC on {addr}"))?;
    let bound = listener.local_addr().context("reading the gRPC address")?;
    let metrics = GrpcMetricsLayer::register(ops.registry())?;
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in &services.names {
        health.set_service_status(name, tonic_health::ServingStatus::Serving).await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(restaurant_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building gRPC reflection")?;
    let mut routes = services.routes;
    routes.add_service(health_service).add_service(reflection);
    let server = tonic::transport::Server::builder()
        .layer(metrics)
        .add_routes(routes.routes())
        .serve_with_incoming_shutdown(accepted(listener), async move { shutdown.recv().await });
    tokio::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = format!("{e:#}"), "gRPC server failed");
        }
    });
    Ok(bound)
}

/// The connections `listener` accepts, each with Nagle's algorithm off. A custom incoming
/// stream skips tonic's own socket options, and with Nagle on, a reply's trailers written
/// separately from its data wait for the caller's delayed ACK: up to 40 ms on a 2 ms call.
fn accepted(listener: tokio::net::TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt as _;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        // A connection that keeps Nagle is slower, not broken: served all the same.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "could not turn Nagle's algorithm off on a gRPC connection");
        }
        Ok(stream)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_small_writes_at_once() {
        use futures::StreamExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("unwrap: port 0 binds");
        let address = listener.local_addr().expect("unwrap: a bound address");
        let mut incoming = Box::pin(accepted(listener));
        let _caller = tokio::net::TcpStream::connect(address).await.expect("unwrap: the listener accepts");
        let stream = incoming.next().await.expect("unwrap: one connection").expect("unwrap: accepted");
        assert!(stream.nodelay().expect("unwrap: a TCP socket"), "Nagle's algorithm is still on");
    }

    /// A call to an address that takes the connection and never says a word (a frozen host):
    /// `within_deadline` gives up at `CALL_DEADLINE`. The channel here has no deadline of its
    /// own (a [`channel`]'s may also fire at about that time, answering CANCELLED), so only
    /// `within_deadline` can end the call.
    #[tokio::test]
    async fn a_call_that_cannot_get_its_connection_is_given_up_at_the_deadline() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("unwrap: port 0 binds");
        let url = format!("http://{}", silent.local_addr().expect("unwrap: a bound address"));
        let endless = Endpoint::from_shared(url).expect("unwrap: a URL").connect_lazy();
        let mut health = tonic_health::pb::health_client::HealthClient::new(endless);
        let started = std::time::Instant::now();
        let answer = within_deadline(health.check(tonic_health::pb::HealthCheckRequest::default())).await;
        let took = started.elapsed();
        assert_eq!(answer.expect_err("unwrap: nobody answers").code(), tonic::Code::DeadlineExceeded);
        assert!(took >= CALL_DEADLINE && took < CALL_DEADLINE + Duration::from_secs(2), "gave up after {took:?}");
    }
}
