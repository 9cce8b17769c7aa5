//! The kitchen's actors: [`TicketHub`] fans every ticket change out to the connected tablets.
//! (The consumer actor lives in `kafka/`, the tablet session actors in `ws/`.)

mod ticket_hub;

pub use ticket_hub::{
    CaughtUp, CloseAll, Join, Leave, PublishChange, STREAM_BUFFER, SubscribeStream, TabletId, TicketHub, TicketPush,
};
