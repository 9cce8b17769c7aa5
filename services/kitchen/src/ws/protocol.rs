//! The JSON text frames of the tablet protocol (documented in `PROTOCOL.md`).

use crate::domain::{Ticket, TicketChange};
use serde::{Deserialize, Serialize};

/// What the kitchen sends a tablet.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerMessage<'a> {
    /// Every open ticket, current as of sequence number `seq`.
    Snapshot { seq: i64, tickets: Vec<TicketView<'a>> },
    /// A ticket changed; `seq` is one more than the previous message's.
    #[serde(rename_all = "camelCase")]
    Ticket {
        seq: i64,
        order_id: String,
        ticket: TicketView<'a>,
        /// The trace of the request that caused the change (live changes only).
        #[serde(skip_serializing_if = "Option::is_none")]
        trace_id: Option<&'a str>,
    },
    /// The tablet sent something the kitchen cannot act on; the socket stays open.
    #[serde(rename_all = "camelCase")]
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        order_id: Option<String>,
    },
    /// A tablet command was taken; the ticket's change follows as a `ticket` message.
    #[serde(rename_all = "camelCase")]
    Ack { order_id: String, status: &'static str },
    /// The tablet fell behind and missed changes; a fresh `snapshot` follows.
    Resync { reason: &'static str },
}

/// What a tablet sends the kitchen.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum TabletMessage {
    /// The first message of a tablet that could not send a bearer header; with `lastSeq`, a
    /// reconnecting tablet gets what it missed instead of a snapshot.
    #[serde(rename_all = "camelCase")]
    Auth { token: String, last_seq: Option<i64> },
    /// Move the order one step forward.
    #[serde(rename_all = "camelCase")]
    Bump { order_id: String },
    /// Take a READY order back to PREPARING.
    #[serde(rename_all = "camelCase")]
    Recall { order_id: String },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView<'a> {
    order_id: String,
    customer_id: String,
    status: &'static str,
    version: i64,
    items: Vec<ItemView<'a>>,
    total_cents: i64,
    placed_at: String,
    updated_at: String,
    timeline: Vec<StatusView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    menu_item_id: String,
    name: &'a str,
    station: &'a str,
    quantity: u32,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct StatusView {
    status: &'static str,
    at: String,
}

impl<'a> From<&'a Ticket> for TicketView<'a> {
    fn from(t: &'a Ticket) -> Self {
        Self {
            order_id: t.order_id.to_string(),
            customer_id: t.customer_id.to_string(),
            status: t.status.as_str(),
            version: t.order_version,
            items: t
                .items
                .iter()
                .map(|i| ItemView {
                    menu_item_id: i.menu_item_id.to_string(),
                    name: &i.name,
                    station: &i.station,
                    quantity: i.quantity,
                    note: i.note.as_deref(),
                })
                .collect(),
            total_cents: t.total_cents,
            placed_at: t.placed_at.to_rfc3339(),
            updated_at: t.updated_at.to_rfc3339(),
            timeline: t.timeline.iter().map(|(s, at)| StatusView { status: s.as_str(), at: at.to_rfc3339() }).collect(),
        }
    }
}

pub fn snapshot(seq: i64, tickets: &[Ticket]) -> String {
    to_text(&ServerMessage::Snapshot { seq, tickets: tickets.iter().map(TicketView::from).collect() })
}

pub fn ticket(change: &TicketChange) -> String {
    to_text(&ServerMessage::Ticket {
        seq: change.seq,
        order_id: change.ticket.order_id.to_string(),
        ticket: TicketView::from(&change.ticket),
        trace_id: change.trace_id.as_deref(),
    })
}

pub fn error(code: &'static str, message: impl Into<String>) -> String {
    to_text(&ServerMessage::Error { code, message: message.into(), order_id: None })
}

pub fn command_error(code: &'static str, message: impl Into<String>, order_id: &str) -> String {
    to_text(&ServerMessage::Error { code, message: message.into(), order_id: Some(order_id.to_owned()) })
}

pub fn ack(order_id: &str, status: &'static str) -> String {
    to_text(&ServerMessage::Ack { order_id: order_id.to_owned(), status })
}

pub fn resync() -> String {
    to_text(&ServerMessage::Resync { reason: "this tablet fell behind; a fresh snapshot follows" })
}

fn to_text(message: &ServerMessage<'_>) -> String {
    serde_json::to_string(message).expect("unwrap: these types always serialise")
}
