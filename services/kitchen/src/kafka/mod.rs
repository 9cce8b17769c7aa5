//! The broker adapter: the only module of the kitchen that knows rdkafka or Protobuf.

mod consumer;
mod convert;

pub use consumer::{FAILPOINT_EXIT_AFTER_TICKET_COMMIT, StopConsuming, TicketConsumer};
