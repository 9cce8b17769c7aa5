//! The broker adapter: the only module of the kitchen that knows rdkafka or Protobuf.

mod consumer;
mod convert;

pub use consumer::{StopConsuming, TicketConsumer};
