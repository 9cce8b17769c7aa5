//! The broker adapter: the only module of the orders service that knows rdkafka.

mod feed;
mod publisher;

pub use feed::{OrderFeed, WATCH_BUFFER};
pub use publisher::EventPublisher;
