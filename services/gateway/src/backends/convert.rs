//! Protobuf ↔ [`crate::model`], by hand, once. A backend answer the gateway cannot read (a
//! missing message, an unknown enum value, an impossible time) is a bug on one side: it is
//! logged here and reaches the caller as an unexpected error, details withheld.

use super::BackendResult;
use crate::model::{
    MenuCategory, MenuItem, MenuPage, NewOrderLine, Order, OrderChange, OrderEvent, OrderLine, OrderPage, OrderStatus,
    OrderType, Role, Session, User,
};
use chrono::{DateTime, Utc};
use restaurant_proto::prost_types::Timestamp;
use restaurant_proto::v1 as pb;
use service_kit::{ErrorKind, UpstreamError};
use tokens::Token;

/// A backend answer that does not say what the gateway needs.
fn malformed(what: &str) -> UpstreamError {
    let kind = ErrorKind::Unexpected;
    let details = format!("malformed backend answer: {what}");
    kind.log(&details);
    UpstreamError::new(kind, kind.public_message(&details))
}

fn time(value: Option<Timestamp>, what: &str) -> BackendResult<DateTime<Utc>> {
    value.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)).ok_or_else(|| malformed(what))
}

pub(super) fn session(answer: pb::AuthResponse) -> BackendResult<Session> {
    Ok(Session { token: Token::new(answer.token), user: user(answer.user)? })
}

pub(super) fn user(user: Option<pb::User>) -> BackendResult<User> {
    let user = user.ok_or_else(|| malformed("no user"))?;
    Ok(User {
        role: match pb::Role::try_from(user.role) {
            Ok(pb::Role::Customer) => Role::Customer,
            Ok(pb::Role::KitchenStaff) => Role::KitchenStaff,
            _ => return Err(malformed("user role")),
        },
        created_at: time(user.created_at, "user created_at")?,
        id: user.id,
        username: user.username,
    })
}

pub(super) fn order(order: Option<pb::Order>) -> BackendResult<Order> {
    let order = order.ok_or_else(|| malformed("no order"))?;
    let order_type = order.order_type();
    Ok(Order {
        status: status(order.status)?,
        lines: order.lines.into_iter().map(order_line).collect(),
        created_at: time(order.created_at, "order created_at")?,
        updated_at: time(order.updated_at, "order updated_at")?,
        timeline: order
            .timeline
            .into_iter()
            .map(|t| Ok((status(t.status)?, time(t.at, "status reached at")?)))
            .collect::<BackendResult<_>>()?,
        order_type: match order_type {
            pb::OrderType::DineIn => Some(OrderType::DineIn),
            pb::OrderType::Takeaway => Some(OrderType::Takeaway),
            pb::OrderType::Unspecified => None,
        },
        table: Some(order.table_label).filter(|t| !t.is_empty()),
        cancel_reason: Some(order.cancel_reason).filter(|r| !r.is_empty()),
        id: order.id,
        customer_id: order.customer_id,
        number: order.number,
        version: order.version,
        total_cents: order.total_cents,
        ready_by: order.ready_by.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)),
        promise_revision: order.promise_revision,
    })
}

pub(super) fn pb_order_type(kind: Option<OrderType>) -> pb::OrderType {
    match kind {
        Some(OrderType::DineIn) => pb::OrderType::DineIn,
        Some(OrderType::Takeaway) => pb::OrderType::Takeaway,
        None => pb::OrderType::Unspecified,
    }
}

fn order_line(line: pb::OrderLine) -> OrderLine {
    OrderLine {
        menu_item_id: line.menu_item_id,
        name: line.name,
        station: line.station,
        prep_minutes: line.prep_minutes,
        quantity: line.quantity,
        unit_price_cents: line.unit_price_cents,
        note: line.note,
    }
}

pub(super) fn order_page(page: pb::ListOrdersResponse) -> BackendResult<OrderPage> {
    Ok(OrderPage {
        orders: page.edges.into_iter().map(|e| Ok((order(e.order)?, e.cursor))).collect::<BackendResult<_>>()?,
        has_next_page: page.has_next_page,
    })
}

pub(super) fn order_event(event: pb::OrderEvent) -> BackendResult<OrderEvent> {
    use pb::order_event::Change;
    let change = match event.change {
        Some(Change::Created(_)) => OrderChange::Created,
        Some(Change::StatusChanged(c)) => OrderChange::StatusChanged { from: status(c.from)? },
        Some(Change::Cancelled(c)) => OrderChange::Cancelled { from: status(c.from)? },
        Some(Change::Promised(_)) => OrderChange::Promised,
        None => return Err(malformed("event without a change")),
    };
    Ok(OrderEvent { change, order: order(event.order)? })
}

pub(super) fn new_order_line(line: NewOrderLine) -> pb::OrderItemInput {
    pb::OrderItemInput { menu_item_id: line.menu_item_id, quantity: line.quantity, note: line.note }
}

pub(super) fn menu_item(item: pb::MenuItem) -> BackendResult<MenuItem> {
    Ok(MenuItem {
        category: category(item.category)?,
        id: item.id,
        name: item.name,
        description: item.description,
        price_cents: item.price_cents,
        available: item.available,
        station: item.station,
        prep_minutes: item.prep_minutes,
    })
}

/// An answer that must carry a time.
pub(super) fn time_answer(at: Option<Timestamp>) -> BackendResult<DateTime<Utc>> {
    time(at, "an estimate without its time")
}

/// An answer that must carry one menu item.
pub(super) fn menu_item_answer(item: Option<pb::MenuItem>) -> BackendResult<MenuItem> {
    menu_item(item.ok_or_else(|| malformed("no menu item"))?)
}

pub(super) fn menu_page(page: pb::ListMenuItemsResponse) -> BackendResult<MenuPage> {
    Ok(MenuPage {
        items: page
            .edges
            .into_iter()
            .map(|e| Ok((menu_item(e.item.ok_or_else(|| malformed("menu edge without item"))?)?, e.cursor)))
            .collect::<BackendResult<_>>()?,
        has_next_page: page.has_next_page,
    })
}

fn status(value: i32) -> BackendResult<OrderStatus> {
    Ok(match pb::OrderStatus::try_from(value) {
        Ok(pb::OrderStatus::Placed) => OrderStatus::Placed,
        Ok(pb::OrderStatus::Accepted) => OrderStatus::Accepted,
        Ok(pb::OrderStatus::Preparing) => OrderStatus::Preparing,
        Ok(pb::OrderStatus::Ready) => OrderStatus::Ready,
        Ok(pb::OrderStatus::Completed) => OrderStatus::Completed,
        Ok(pb::OrderStatus::Cancelled) => OrderStatus::Cancelled,
        Ok(pb::OrderStatus::Unspecified) | Err(_) => return Err(malformed("order status")),
    })
}

pub(super) fn pb_status(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Placed => pb::OrderStatus::Placed,
        OrderStatus::Accepted => pb::OrderStatus::Accepted,
        OrderStatus::Preparing => pb::OrderStatus::Preparing,
        OrderStatus::Ready => pb::OrderStatus::Ready,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
    }
}

fn category(value: i32) -> BackendResult<MenuCategory> {
    Ok(match pb::MenuCategory::try_from(value) {
        Ok(pb::MenuCategory::Starter) => MenuCategory::Starter,
        Ok(pb::MenuCategory::Main) => MenuCategory::Main,
        Ok(pb::MenuCategory::Side) => MenuCategory::Side,
        Ok(pb::MenuCategory::Dessert) => MenuCategory::Dessert,
        Ok(pb::MenuCategory::Drink) => MenuCategory::Drink,
        Ok(pb::MenuCategory::Unspecified) | Err(_) => return Err(malformed("menu category")),
    })
}

pub(super) fn pb_category(category: MenuCategory) -> pb::MenuCategory {
    match category {
        MenuCategory::Starter => pb::MenuCategory::Starter,
        MenuCategory::Main => pb::MenuCategory::Main,
        MenuCategory::Side => pb::MenuCategory::Side,
        MenuCategory::Dessert => pb::MenuCategory::Dessert,
        MenuCategory::Drink => pb::MenuCategory::Drink,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_becomes_the_same_instant() {
        let at = time(Some(Timestamp { seconds: 1_714_566_645, nanos: 123_456_789 }), "at").expect("a valid time");
        assert_eq!(at.to_rfc3339(), "2024-05-01T12:30:45.123456789+00:00");
    }

    #[test]
    fn a_missing_or_impossible_timestamp_is_unexpected() {
        for value in [None, Some(Timestamp { seconds: 0, nanos: -1 }), Some(Timestamp { seconds: i64::MAX, nanos: 0 })]
        {
            let error = time(value, "at").expect_err("not a time");
            assert_eq!(error.kind, ErrorKind::Unexpected);
            assert!(!error.message.contains("malformed"), "details are withheld: {}", error.message);
        }
    }
}
