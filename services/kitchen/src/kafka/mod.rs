//! The broker adapter, the only module of the kitchen that knows rdkafka: the
//! [`TicketConsumer`] actor reads order events, turns them into tickets (`convert`) and
//! applies them through the kitchen core.

mod consumer;
mod convert;

pub use consumer::{
    DEAD_LETTER_TIMEOUT, FAILPOINT_EXIT_AFTER_TICKET_COMMIT, LAG_INTERVAL, OFFSET_COMMIT_INTERVAL, RETRY_BACKOFF,
    TicketConsumer,
};
