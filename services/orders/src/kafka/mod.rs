//! The broker adapter: the only module of the orders service that knows rdkafka.

mod publisher;

pub use publisher::EventPublisher;
