//! The JSON form of a ticket ([`TicketView`]), the same on the REST endpoints, the SSE feed and
//! the tablet socket (`PROTOCOL.md`): one conversion from the domain, shared by every adapter.

use crate::domain::Ticket;
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
        }
    }
}
