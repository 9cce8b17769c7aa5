//! The gRPC adapter: `restaurant.v1.OrderService` (served with health and reflection by
//! `service_kit::grpc::serve`).

mod order_service;

pub use order_service::OrderApi;

use restaurant_proto::v1::order_service_server::OrderServiceServer;
use service_kit::Classified;

/// The service this process serves over gRPC.
pub fn services(api: OrderApi) -> service_kit::grpc::GrpcServices {
    service_kit::grpc::GrpcServices::new().with_service(OrderServiceServer::new(api))
}

fn status(error: &dyn Classified) -> tonic::Status {
    service_kit::error::grpc_status(error)
}
