//! An order event (already checked by `order_events::decode`) → the kitchen's [`Ticket`].

use crate::domain::{OrderDetails, OrderKind, Ticket, TicketItem, TicketStatus};
use chrono::{DateTime, Utc};
use restaurant_proto::v1 as pb;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
#[error("unusable order event: {0}")]
pub struct Unusable(String);

pub fn ticket(event: &pb::OrderEvent) -> Result<Ticket, Unusable> {
    let order = event.order.as_ref().ok_or_else(|| Unusable("no order state".into()))?;
    let created_at = time(order.created_at.as_ref())?;
    Ok(Ticket {
        order_id: uuid(&order.id)?,
        customer_id: uuid(&order.customer_id)?,
        number: order.number,
        status: status(order.status)?,
        order_version: order.version,
        items: order
            .lines
            .iter()
            .map(|l| {
                Ok(TicketItem {
                    menu_item_id: uuid(&l.menu_item_id)?,
                    name: l.name.clone(),
                    station: l.station.clone(),
                    prep_minutes: u32::try_from(l.prep_minutes)
                        .map_err(|_| Unusable(format!("prep minutes {}", l.prep_minutes)))?,
                    quantity: u32::try_from(l.quantity).map_err(|_| Unusable(format!("quantity {}", l.quantity)))?,
                    unit_price_cents: l.unit_price_cents,
                    note: l.note.clone(),
                })
            })
            .collect::<Result<_, Unusable>>()?,
        total_cents: order.total_cents,
        placed_at: created_at,
        updated_at: time(order.updated_at.as_ref())?,
        timeline: order
            .timeline
            .iter()
            .map(|t| Ok((status(t.status)?, time(t.at.as_ref())?)))
            .collect::<Result<_, Unusable>>()?,
        // The kitchen's own: kept from the stored ticket whatever the event says.
        stations_done: Default::default(),
        rush: false,
        remake_since: None,
        details: OrderDetails {
            kind: match order.order_type() {
                pb::OrderType::DineIn => OrderKind::DineIn,
                pb::OrderType::Takeaway => OrderKind::Takeaway,
                pb::OrderType::Unspecified => OrderKind::Unspecified,
            },
            table: Some(order.table_label.clone()).filter(|t| !t.is_empty()),
            cancel_reason: Some(order.cancel_reason.clone()).filter(|r| !r.is_empty()),
        },
    })
}

fn uuid(value: &str) -> Result<Uuid, Unusable> {
    Uuid::parse_str(value).map_err(|_| Unusable(format!("{value:?} is not a UUID")))
}

fn status(value: i32) -> Result<TicketStatus, Unusable> {
    Ok(match pb::OrderStatus::try_from(value) {
        Ok(pb::OrderStatus::Placed) => TicketStatus::Placed,
        Ok(pb::OrderStatus::Accepted) => TicketStatus::Accepted,
        Ok(pb::OrderStatus::Preparing) => TicketStatus::Preparing,
        Ok(pb::OrderStatus::Ready) => TicketStatus::Ready,
        Ok(pb::OrderStatus::Completed) => TicketStatus::Completed,
        Ok(pb::OrderStatus::Cancelled) => TicketStatus::Cancelled,
        Ok(pb::OrderStatus::Unspecified) | Err(_) => return Err(Unusable(format!("order status {value}"))),
    })
}

fn time(value: Option<&restaurant_proto::prost_types::Timestamp>) -> Result<DateTime<Utc>, Unusable> {
    let t = value.ok_or_else(|| Unusable("a timestamp is missing".into()))?;
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        .ok_or_else(|| Unusable(format!("timestamp {}s out of range", t.seconds)))
}
