//! The kitchen's words: a ticket is what a cook sees of one order, and every change to a
//! ticket gets the next tablet sequence number. Nothing here knows Protobuf, JSON or SQL.

mod command;
mod speed;
mod station;

pub use command::{CookCommand, Refused, StationCommand};
pub use speed::{Durations, SpeedReport};
pub use station::{BadView, DeviceName, Station, View};

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where a ticket's order is; mirrors the order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Cancelled,
}

impl TicketStatus {
    pub const ALL: [Self; 6] =
        [Self::Placed, Self::Accepted, Self::Preparing, Self::Ready, Self::Completed, Self::Cancelled];
    /// The statuses a kitchen board shows (and a remake, whatever its status: see
    /// [`Ticket::on_the_board`]).
    pub const OPEN: [Self; 4] = [Self::Placed, Self::Accepted, Self::Preparing, Self::Ready];
    /// The statuses still waiting for the kitchen's work: what the promise planner plans.
    pub const WAITING: [Self; 3] = [Self::Placed, Self::Accepted, Self::Preparing];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "PLACED",
            Self::Accepted => "ACCEPTED",
            Self::Preparing => "PREPARING",
            Self::Ready => "READY",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One line of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketItem {
    pub menu_item_id: Uuid,
    pub name: String,
    pub station: String,
    /// The dish's prep minutes when ordered: what the ready-by promise is planned with.
    pub prep_minutes: u32,
    pub quantity: u32,
    pub unit_price_cents: i64,
    pub note: Option<String>,
}

/// What the kitchen knows of one order, at one order version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    /// The order's short number of the day (0: none), as the board shows it: #042.
    pub number: u32,
    pub status: TicketStatus,
    /// The order version this ticket reflects; only a higher version may replace it.
    pub order_version: i64,
    pub items: Vec<TicketItem>,
    pub total_cents: i64,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the order reached each status, in order.
    pub timeline: Vec<(TicketStatus, DateTime<Utc>)>,
    /// The stations that marked their lines done, and when (the kitchen's own record: events
    /// never change it).
    pub stations_done: BTreeMap<String, DateTime<Utc>>,
    /// What the order says about itself besides its lines: how it is served, why it ended.
    pub details: OrderDetails,
    /// The kitchen marked it rush: first on every station's list (the kitchen's own record).
    pub rush: bool,
    /// A handed-over ticket the kitchen recalled to make again, since when (the kitchen's own
    /// record: its order stays COMPLETED, the customer has had it). Back on the board until it
    /// is handed over again.
    pub remake_since: Option<DateTime<Utc>>,
}

/// How the customer is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderKind {
    /// Not said (orders from before order types).
    #[default]
    Unspecified,
    DineIn,
    Takeaway,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::DineIn => "DINE_IN",
            Self::Takeaway => "TAKEAWAY",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Unspecified, Self::DineIn, Self::Takeaway].into_iter().find(|k| k.as_str() == value)
    }
}

/// What the order carries about itself, as the event said it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderDetails {
    pub kind: OrderKind,
    /// A table number or a name to call, chosen at checkout.
    pub table: Option<String>,
    /// Why it was cancelled or rejected, when it was.
    pub cancel_reason: Option<String>,
}

/// A ticket as it became at tablet sequence number `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketChange {
    pub seq: i64,
    pub ticket: Ticket,
    /// The trace of the request that caused it, when pushed live (replays have none).
    pub trace_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::TicketStatus;

    #[test]
    fn statuses_are_spelled_as_the_orders_service_spells_them_and_read_back() {
        let spelled: Vec<&str> = TicketStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["PLACED", "ACCEPTED", "PREPARING", "READY", "COMPLETED", "CANCELLED"]);
        for status in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TicketStatus::parse("ready"), None);
        assert_eq!(TicketStatus::OPEN.map(TicketStatus::as_str), ["PLACED", "ACCEPTED", "PREPARING", "READY"]);
        assert_eq!(TicketStatus::WAITING.map(TicketStatus::as_str), ["PLACED", "ACCEPTED", "PREPARING"]);
    }
}
