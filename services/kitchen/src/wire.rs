//! The JSON form of a ticket ([`TicketView`]), the same on the REST endpoints, the SSE feed and
//! the tablet socket (`PROTOCOL.md`): one conversion from the domain, shared by every adapter.

use crate::domain::{Durations, SpeedReport, Ticket};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView<'a> {
    order_id: String,
    customer_id: String,
    /// The order's short number of the day (0: none).
    number: u32,
    status: &'static str,
    version: i64,
    items: Vec<ItemView<'a>>,
    total_cents: i64,
    placed_at: String,
    updated_at: String,
    timeline: Vec<StatusView>,
    /// Each station with lines on the ticket, in order, and when it marked them done.
    stations: Vec<StationView<'a>>,
    /// The kitchen marked it rush.
    rush: bool,
    /// DINE_IN, TAKEAWAY or UNSPECIFIED.
    order_type: &'static str,
    /// A table number or a name to call.
    table: Option<&'a str>,
    /// Why it was cancelled or rejected, when it was.
    cancel_reason: Option<&'a str>,
    /// A handed-over ticket the kitchen is making again, since when (null: none).
    remake_since: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StationView<'a> {
    station: &'a str,
    done_at: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    menu_item_id: String,
    name: &'a str,
    station: &'a str,
    prep_minutes: u32,
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
            number: t.number,
            status: t.status.as_str(),
            version: t.order_version,
            items: t
                .items
                .iter()
                .map(|i| ItemView {
                    menu_item_id: i.menu_item_id.to_string(),
                    name: &i.name,
                    station: &i.station,
                    prep_minutes: i.prep_minutes,
                    quantity: i.quantity,
                    note: i.note.as_deref(),
                })
                .collect(),
            total_cents: t.total_cents,
            placed_at: t.placed_at.to_rfc3339(),
            updated_at: t.updated_at.to_rfc3339(),
            timeline: t.timeline.iter().map(|(s, at)| StatusView { status: s.as_str(), at: at.to_rfc3339() }).collect(),
            stations: t
                .stations()
                .into_iter()
                .map(|station| StationView { station, done_at: t.stations_done.get(station).map(|at| at.to_rfc3339()) })
                .collect(),
            rush: t.rush,
            order_type: t.details.kind.as_str(),
            table: t.details.table.as_deref(),
            cancel_reason: t.details.cancel_reason.as_deref(),
            remake_since: t.remake_since.map(|at| at.to_rfc3339()),
        }
    }
}

/// `GET /speed`: today's speed of service (seconds).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpeedView<'a> {
    tickets: i64,
    finished: i64,
    to_ready: Option<DurationsView>,
    stations: Vec<NamedDurations<'a>>,
    slowest_items: Vec<NamedDurations<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DurationsView {
    count: i64,
    average_seconds: f64,
    p90_seconds: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamedDurations<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    station: &'a str,
    #[serde(flatten)]
    durations: DurationsView,
}

impl From<&Durations> for DurationsView {
    fn from(d: &Durations) -> Self {
        Self { count: d.count, average_seconds: d.average, p90_seconds: d.p90 }
    }
}

impl<'a> From<&'a SpeedReport> for SpeedView<'a> {
    fn from(r: &'a SpeedReport) -> Self {
        Self {
            tickets: r.tickets,
            finished: r.finished,
            to_ready: r.to_ready.as_ref().map(DurationsView::from),
            stations: r
                .stations
                .iter()
                .map(|(station, d)| NamedDurations { name: None, station, durations: d.into() })
                .collect(),
            slowest_items: r
                .slowest_items
                .iter()
                .map(|(name, station, d)| NamedDurations { name: Some(name), station, durations: d.into() })
                .collect(),
        }
    }
}
