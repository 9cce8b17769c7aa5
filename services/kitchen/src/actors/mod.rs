//! The kitchen's actors: [`ChangeLogFollower`] reads every committed ticket change from the
//! tablet change log, in order, and hands it to [`TicketHub`], which fans it out to the
//! connected tablets and SSE listeners; [`PromiseKeeper`] plans the queue whenever it moves
//! and tells the orders service the ready-by times that moved. (The consumer actor lives in `kafka/`, the tablet
//! session actors in `ws/`.)

mod change_log_follower;
mod promise_keeper;
mod ticket_hub;

pub use change_log_follower::{ChangeLogFollower, ChangeLogRetention, FALLBACK_POLL, GAP_PATIENCE};
pub use promise_keeper::{PromiseKeeper, PromiseSettings, QueueLost, QueueMoved, queued};
pub use ticket_hub::{
    CaughtUp, CloseAll, Join, Leave, PublishChange, ResyncAll, STREAM_BUFFER, SubscribeStream, TabletId, TicketHub,
    TicketPush,
};
