//! The gRPC adapter: `restaurant.v1.OrderService`, standard health and reflection.

mod order_service;

use crate::service::{ErrorKind, OrdersService};
use anyhow::Context as _;
use restaurant_proto::v1::order_service_server::OrderServiceServer;
use service_kit::shutdown::ShutdownListener;
use tokio_stream::wrappers::TcpListenerStream;

/// Serves until shutdown, on an already bound listener (tests bind port 0).
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: OrdersService,
    verifier: tokens::TokenVerifier,
    feed: crate::kafka::OrderFeed,
    metrics: service_kit::grpc_metrics::GrpcMetricsLayer,
    mut shutdown: ShutdownListener,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<OrderServiceServer<order_service::OrderApi>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(restaurant_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building gRPC reflection")?;
    tonic::transport::Server::builder()
        .layer(metrics)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(OrderServiceServer::new(order_service::OrderApi::new(service, verifier, feed, shutdown.clone())))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move { shutdown.recv().await })
        .await
        .context("serving gRPC")
}

/// The one mapping from an error to a gRPC status. Unexpected errors are logged here and
/// answered without their details.
fn status(kind: ErrorKind, error: &dyn std::fmt::Display) -> tonic::Status {
    match kind {
        ErrorKind::InvalidInput => tonic::Status::invalid_argument(error.to_string()),
        ErrorKind::NotFound => tonic::Status::not_found(error.to_string()),
        ErrorKind::Conflict => tonic::Status::already_exists(error.to_string()),
        ErrorKind::Forbidden => tonic::Status::permission_denied(error.to_string()),
        ErrorKind::Unexpected => {
            tracing::error!(error = %error, "request failed");
            tonic::Status::internal("internal error")
        }
    }
}
