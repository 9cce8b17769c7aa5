//! The Protobuf contracts of `protos/`, compiled.
//!
//! - [`v1`]: messages, gRPC clients (`order_service_client`, `user_service_client`) and
//!   servers (`order_service_server`, `user_service_server`).
//! - [`FILE_DESCRIPTOR_SET`]: the encoded descriptors, for gRPC reflection.
//!
//! **Only adapters use this crate** (a service's `grpc/` and `kafka/` modules, the gateway's
//! clients); service cores convert to their own domain types at the edge.

/// `restaurant.v1`: every message and service of `protos/restaurant/v1`.
#[allow(clippy::all, missing_docs, unreachable_pub)]
pub mod v1 {
    tonic::include_proto!("restaurant.v1");
}

/// The encoded `FileDescriptorSet` of every file in `protos/`, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/restaurant_descriptor.bin"));

pub use prost;
pub use prost_types;
