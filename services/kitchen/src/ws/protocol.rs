//! The JSON text frames of the tablet protocol (documented in `PROTOCOL.md`).

use crate::domain::{Station, Ticket, TicketChange, TicketStatus, View};
use crate::service::{Classified, ErrorKind};
use crate::wire::TicketView;
use serde::{Deserialize, Serialize};

/// What the kitchen sends a tablet. Built and serialised at once, never kept: the size of its
/// largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerMessage<'a> {
    /// Every ticket on the board (open, or being remade), and the last handed-over ones
    /// (newest first), current as of sequence number `seq`.
    #[serde(rename_all = "camelCase")]
    Snapshot { seq: i64, tickets: Vec<TicketView<'a>>, handed_over: Vec<TicketView<'a>> },
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
    /// A tablet command was taken; the ticket's change follows as a `ticket` message. For a
    /// station's command, the station and the ticket's status when it was taken.
    #[serde(rename_all = "camelCase")]
    Ack {
        order_id: String,
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        station: Option<&'a str>,
    },
    /// What this tablet shows from now on (its stations; none: whole tickets, the expo), sent
    /// before its board.
    View {
        #[serde(skip_serializing_if = "Option::is_none")]
        device: Option<&'a str>,
        stations: Vec<&'a str>,
    },
    /// The tablet fell behind and missed changes; a fresh `snapshot` follows.
    Resync { reason: &'static str },
    /// A reconnecting tablet has been sent every change it missed (perhaps none): it is live.
    CaughtUp { seq: i64 },
}

/// What a tablet sends the kitchen.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum TabletMessage {
    /// The first message of a tablet that could not send a bearer header; with `lastSeq`, a
    /// reconnecting tablet gets what it missed instead of a snapshot.
    /// `device` names the tablet; `stations` are what it shows (remembered for the device;
    /// without them, the stations the device showed last, or whole tickets).
    #[serde(rename_all = "camelCase")]
    Auth { token: String, last_seq: Option<i64>, device: Option<String>, stations: Option<Vec<String>> },
    /// Show these stations from now on (none: whole tickets); remembered for `device`.
    #[serde(rename_all = "camelCase")]
    View { device: Option<String>, stations: Vec<String> },
    /// This station's lines on the order are done (the item bump).
    #[serde(rename_all = "camelCase")]
    StationBump { order_id: String, station: String },
    /// This station's lines on the order are not done after all.
    #[serde(rename_all = "camelCase")]
    StationRecall { order_id: String, station: String },
    /// The kitchen will not make this order (PLACED or ACCEPTED), and says why.
    #[serde(rename_all = "camelCase")]
    Reject { order_id: String, reason: String },
    /// Mark the ticket rush (first on every list), or not.
    #[serde(rename_all = "camelCase")]
    Rush { order_id: String, rush: bool },
    /// Move the order one step forward.
    #[serde(rename_all = "camelCase")]
    Bump { order_id: String },
    /// Take a READY order back to PREPARING.
    #[serde(rename_all = "camelCase")]
    Recall { order_id: String },
}

impl TabletMessage {
    /// A tablet's text frame, or why it is not a tablet message (unknown type or field,
    /// missing field, not JSON).
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

pub fn snapshot(seq: i64, tickets: &[Ticket], handed_over: &[Ticket]) -> String {
    to_text(&ServerMessage::Snapshot {
        seq,
        tickets: tickets.iter().map(TicketView::from).collect(),
        handed_over: handed_over.iter().map(TicketView::from).collect(),
    })
}

pub fn ticket(change: &TicketChange) -> String {
    to_text(&ServerMessage::Ticket {
        seq: change.seq,
        order_id: change.ticket.order_id.to_string(),
        ticket: TicketView::from(&change.ticket),
        trace_id: change.trace_id.as_deref(),
    })
}

/// A change as a tablet with `view` sees it: `None` when the ticket is not on its view.
pub fn ticket_for(view: &View, change: &TicketChange) -> Option<String> {
    if !view.concerns(&change.ticket) {
        return None;
    }
    Some(ticket(&TicketChange { ticket: view.restrict(&change.ticket), ..change.clone() }))
}

/// An `error` about the tablet itself (its message, its token, the kitchen's state).
pub fn error(kind: ErrorKind, message: impl Into<String>) -> String {
    to_text(&ServerMessage::Error { code: kind.code(), message: message.into(), order_id: None })
}

/// An `error` answering a command on `order_id`: logged first when it is not the cook's doing,
/// with the words a caller may see (unexpected details withheld), as REST answers do.
pub fn command_refused(error: &dyn Classified, order_id: &str) -> String {
    let kind = error.kind();
    let shown: &dyn std::fmt::Display = error;
    kind.log(shown);
    to_text(&ServerMessage::Error {
        code: kind.code(),
        message: kind.public_message(shown),
        order_id: Some(order_id.to_owned()),
    })
}

pub fn ack(order_id: &str, status: TicketStatus) -> String {
    to_text(&ServerMessage::Ack { order_id: order_id.to_owned(), status: status.as_str(), station: None })
}

/// A station's command was taken; `status` is the ticket's when it was.
pub fn station_ack(order_id: &str, station: &str, status: TicketStatus) -> String {
    to_text(&ServerMessage::Ack { order_id: order_id.to_owned(), status: status.as_str(), station: Some(station) })
}

pub fn view(device: Option<&str>, view: &View) -> String {
    to_text(&ServerMessage::View { device, stations: view.stations().map(Station::as_str).collect() })
}

pub fn caught_up(seq: i64) -> String {
    to_text(&ServerMessage::CaughtUp { seq })
}

pub fn resync() -> String {
    to_text(&ServerMessage::Resync { reason: "this tablet fell behind; a fresh snapshot follows" })
}

fn to_text(message: &ServerMessage<'_>) -> String {
    serde_json::to_string(message).expect("unwrap: these types always serialise")
}

#[cfg(test)]
#[path = "protocol_properties.rs"]
mod properties;
