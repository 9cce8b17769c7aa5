//! The actors of the orders service:
//! - [`OrderRegistry`] finds or starts the one [`OrderActor`] of each live order;
//! - [`OrderActor`] serialises every command for its order and writes each change together with
//!   its outbox event;
//! - [`DayNumbers`] hands out the day's short order numbers, from a reserve under load;
//! - [`OutboxRelay`] publishes the outbox to the event log while it holds the relay lock.

mod day_numbers;
mod order;
mod outbox_relay;
mod registry;

pub use day_numbers::{DEMAND_WINDOW, DayNumbers, MAX_RESERVE, TakeNumber};
pub use order::{ChangeStatus, ChangeStatusError, OrderActor, Place, PlaceOrderError, Placed};
pub use outbox_relay::{OutboxRelay, Wake};
pub use registry::{ChangeOrderStatus, OrderRegistry, PlaceOrder};
