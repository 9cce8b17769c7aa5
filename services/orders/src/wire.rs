//! Domain ↔ Protobuf, for the two Protobuf adapters (`grpc/` and the outbox's event payload).
//! The only module besides those adapters that names `restaurant_proto` types.

use crate::domain::{Change, MenuCategory, MenuItem, Order, OrderEvent, OrderStatus, OrderType};
use restaurant_proto::prost_types::Timestamp;
use restaurant_proto::v1 as pb;

pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// `None` for a missing or impossible time.
pub fn time(at: Option<&Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    let at = at?;
    chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

pub fn status(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Placed => pb::OrderStatus::Placed,
        OrderStatus::Accepted => pb::OrderStatus::Accepted,
        OrderStatus::Preparing => pb::OrderStatus::Preparing,
        OrderStatus::Ready => pb::OrderStatus::Ready,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
    }
}

pub fn category(category: MenuCategory) -> pb::MenuCategory {
    match category {
        MenuCategory::Starter => pb::MenuCategory::Starter,
        MenuCategory::Main => pb::MenuCategory::Main,
        MenuCategory::Side => pb::MenuCategory::Side,
        MenuCategory::Dessert => pb::MenuCategory::Dessert,
        MenuCategory::Drink => pb::MenuCategory::Drink,
    }
}

/// `None` for `UNSPECIFIED` and unknown numbers.
pub fn status_from(value: i32) -> Option<OrderStatus> {
    match pb::OrderStatus::try_from(value).ok()? {
        pb::OrderStatus::Unspecified => None,
        pb::OrderStatus::Placed => Some(OrderStatus::Placed),
        pb::OrderStatus::Accepted => Some(OrderStatus::Accepted),
        pb::OrderStatus::Preparing => Some(OrderStatus::Preparing),
        pb::OrderStatus::Ready => Some(OrderStatus::Ready),
        pb::OrderStatus::Completed => Some(OrderStatus::Completed),
        pb::OrderStatus::Cancelled => Some(OrderStatus::Cancelled),
    }
}

/// `None` for `UNSPECIFIED` and unknown numbers.
pub fn category_from(value: i32) -> Option<MenuCategory> {
    match pb::MenuCategory::try_from(value).ok()? {
        pb::MenuCategory::Unspecified => None,
        pb::MenuCategory::Starter => Some(MenuCategory::Starter),
        pb::MenuCategory::Main => Some(MenuCategory::Main),
        pb::MenuCategory::Side => Some(MenuCategory::Side),
        pb::MenuCategory::Dessert => Some(MenuCategory::Dessert),
        pb::MenuCategory::Drink => Some(MenuCategory::Drink),
    }
}

pub fn menu_item(item: &MenuItem) -> pb::MenuItem {
    pb::MenuItem {
        id: item.id.to_string(),
        name: item.name.clone(),
        description: item.description.clone(),
        category: category(item.category).into(),
        price_cents: item.price.0,
        available: item.available,
        station: item.station.clone(),
        prep_minutes: item.prep_minutes,
    }
}

pub fn order(order: &Order) -> pb::Order {
    pb::Order {
        id: order.id.to_string(),
        customer_id: order.customer_id.to_string(),
        number: order.number,
        status: status(order.status).into(),
        version: order.version,
        lines: order
            .lines
            .iter()
            .map(|l| pb::OrderLine {
                menu_item_id: l.menu_item_id.to_string(),
                name: l.name.clone(),
                station: l.station.clone(),
                quantity: l.quantity.get() as i32,
                unit_price_cents: l.unit_price.0,
                note: l.note.as_ref().map(|n| n.as_str().to_owned()),
                prep_minutes: l.prep_minutes,
            })
            .collect(),
        total_cents: order.total.0,
        created_at: Some(timestamp(order.created_at)),
        updated_at: Some(timestamp(order.updated_at)),
        timeline: order
            .timeline
            .iter()
            .map(|t| pb::StatusReached { status: status(t.status).into(), at: Some(timestamp(t.at)) })
            .collect(),
        order_type: order_type(order.service.kind).into(),
        table_label: order.service.table.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        cancel_reason: order.cancel_reason.clone().unwrap_or_default(),
        ready_by: order.ready_by.map(timestamp),
        promise_revision: order.promise_revision,
    }
}

pub fn order_type(kind: OrderType) -> pb::OrderType {
    match kind {
        OrderType::Unspecified => pb::OrderType::Unspecified,
        OrderType::DineIn => pb::OrderType::DineIn,
        OrderType::Takeaway => pb::OrderType::Takeaway,
    }
}

/// A request's order type; an unknown number is not said.
pub fn order_type_of(value: i32) -> OrderType {
    match pb::OrderType::try_from(value) {
        Ok(pb::OrderType::DineIn) => OrderType::DineIn,
        Ok(pb::OrderType::Takeaway) => OrderType::Takeaway,
        Ok(pb::OrderType::Unspecified) | Err(_) => OrderType::Unspecified,
    }
}

/// The event's `event-type` header value and its encoded Protobuf payload.
pub fn encode_event(event: &OrderEvent) -> (&'static str, Vec<u8>) {
    use pb::order_event::Change as PbChange;
    let change = match &event.change {
        Change::Created => PbChange::Created(pb::OrderCreated {}),
        Change::StatusChanged { from, to, by } => PbChange::StatusChanged(pb::OrderStatusChanged {
            from: status(*from).into(),
            to: status(*to).into(),
            changed_by: by.clone(),
        }),
        Change::Cancelled { from, reason, by } => PbChange::Cancelled(pb::OrderCancelled {
            from: status(*from).into(),
            reason: reason.clone(),
            cancelled_by: by.clone(),
        }),
        Change::Promised { ready_by } => PbChange::Promised(pb::OrderPromised { ready_by: Some(timestamp(*ready_by)) }),
    };
    let event_type = order_events::EventType::of(&change).as_str();
    let message = pb::OrderEvent {
        event_id: event.event_id.to_string(),
        order_id: event.order.id.to_string(),
        order_version: event.order.version,
        occurred_at: Some(timestamp(event.order.updated_at)),
        change: Some(change),
        order: Some(order(&event.order)),
    };
    (event_type, order_events::encode(&message))
}
