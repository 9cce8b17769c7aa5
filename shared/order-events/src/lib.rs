//! The `orders.events` topic's record format, shared by its writer (orders' outbox relay), its
//! readers (the kitchen, the orders live stream) and the `tail-events` tool.
//!
//! A record: key = the order id (UUID text), value = a Protobuf [`OrderEvent`], headers =
//! [`headers::EVENT_TYPE`] and, when there is one, [`headers::TRACEPARENT`].
//! [`decode`] checks what Protobuf cannot (ids are UUIDs, the key matches, the order's state is
//! there), so a reader never acts on half an event.

use prost::Message as _;
pub use restaurant_proto::v1::{OrderEvent, order_event::Change};

/// Record header names.
pub mod headers {
    /// One of [`EventType::as_str`](super::EventType::as_str).
    pub const EVENT_TYPE: &str = "event-type";
    /// W3C trace context of the request that caused the change.
    pub const TRACEPARENT: &str = "traceparent";
}

/// What happened to the order, as named in the `event-type` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Created,
    StatusChanged,
    Cancelled,
    Promised,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "order.created",
            Self::StatusChanged => "order.status_changed",
            Self::Cancelled => "order.cancelled",
            Self::Promised => "order.promised",
        }
    }

    pub fn of(change: &Change) -> Self {
        match change {
            Change::Created(_) => Self::Created,
            Change::StatusChanged(_) => Self::StatusChanged,
            Change::Cancelled(_) => Self::Cancelled,
            Change::Promised(_) => Self::Promised,
        }
    }
}

/// The record value of an event.
pub fn encode(event: &OrderEvent) -> Vec<u8> {
    event.encode_to_vec()
}

/// Why a record is not a usable order event. Such a record is skipped (and kept aside), never
/// retried: it will not become valid by trying again.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the value is not a Protobuf OrderEvent: {0}")]
    NotProtobuf(String),
    #[error("the record has no value")]
    Empty,
    #[error("{field} is not a UUID: {value:?}")]
    NotAUuid { field: &'static str, value: String },
    #[error("the event has no order state")]
    MissingOrder,
    #[error("the event's order_id differs from its order's id")]
    OrderIdMismatch,
    #[error("the event does not say what happened")]
    MissingChange,
    #[error("the event's version {event} differs from its order's version {order}")]
    VersionMismatch { event: i64, order: i64 },
    #[error("the version {0} is not positive")]
    BadVersion(i64),
    #[error("the record key {key:?} is not the order id {order_id}")]
    KeyMismatch { key: String, order_id: String },
}

/// Decodes and checks a record's value (and key, when the record has one).
pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<OrderEvent, DecodeError> {
    let value = value.ok_or(DecodeError::Empty)?;
    let event = OrderEvent::decode(value).map_err(|e| DecodeError::NotProtobuf(e.to_string()))?;
    uuid_field("event_id", &event.event_id)?;
    uuid_field("order_id", &event.order_id)?;
    let order = event.order.as_ref().ok_or(DecodeError::MissingOrder)?;
    uuid_field("order.id", &order.id)?;
    uuid_field("order.customer_id", &order.customer_id)?;
    if order.id != event.order_id {
        return Err(DecodeError::OrderIdMismatch);
    }
    for line in &order.lines {
        uuid_field("order.lines.menu_item_id", &line.menu_item_id)?;
    }
    if event.change.is_none() {
        return Err(DecodeError::MissingChange);
    }
    if event.order_version <= 0 {
        return Err(DecodeError::BadVersion(event.order_version));
    }
    if event.order_version != order.version {
        return Err(DecodeError::VersionMismatch { event: event.order_version, order: order.version });
    }
    if let Some(key) = key
        && key != event.order_id.as_bytes()
    {
        return Err(DecodeError::KeyMismatch {
            key: String::from_utf8_lossy(key).into_owned(),
            order_id: event.order_id.clone(),
        });
    }
    Ok(event)
}

fn uuid_field(field: &'static str, value: &str) -> Result<(), DecodeError> {
    uuid::Uuid::parse_str(value).map(|_| ()).map_err(|_| DecodeError::NotAUuid { field, value: value.to_owned() })
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use restaurant_proto::v1::{Order, OrderCreated};

    fn event() -> OrderEvent {
        let order_id = uuid::Uuid::new_v4().to_string();
        OrderEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            order_id: order_id.clone(),
            order_version: 1,
            occurred_at: None,
            change: Some(Change::Created(OrderCreated {})),
            order: Some(Order {
                id: order_id,
                customer_id: uuid::Uuid::new_v4().to_string(),
                version: 1,
                ..Order::default()
            }),
        }
    }

    #[test]
    fn a_good_event_round_trips() {
        let event = event();
        let bytes = encode(&event);
        let decoded = decode(Some(event.order_id.as_bytes()), Some(&bytes)).expect("decodes");
        assert_eq!(decoded, event);
    }

    #[test]
    fn garbage_and_half_events_are_refused() {
        assert!(matches!(decode(None, Some(b"\xff\xff\xff")), Err(DecodeError::NotProtobuf(_))));
        assert_eq!(decode(None, None), Err(DecodeError::Empty));
        let mut no_order = event();
        no_order.order = None;
        assert_eq!(decode(None, Some(&encode(&no_order))), Err(DecodeError::MissingOrder));
        let good = event();
        assert!(matches!(decode(Some(b"someone-else"), Some(&encode(&good))), Err(DecodeError::KeyMismatch { .. })));
        let mut stale = event();
        stale.order_version = 2;
        assert_eq!(decode(None, Some(&encode(&stale))), Err(DecodeError::VersionMismatch { event: 2, order: 1 }));
    }

    /// `event()` changed by `edit`, decoded with its own order id as the key.
    fn decoded_after(edit: impl FnOnce(&mut OrderEvent)) -> Result<OrderEvent, DecodeError> {
        let mut event = event();
        let key = event.order_id.clone();
        edit(&mut event);
        decode(Some(key.as_bytes()), Some(&encode(&event)))
    }

    #[test]
    fn every_id_must_be_a_uuid() {
        let not_a_uuid = |field| Err(DecodeError::NotAUuid { field, value: "nope".into() });
        assert_eq!(decoded_after(|e| e.event_id = "nope".into()), not_a_uuid("event_id"));
        // The key is checked last: the order id fails first as a UUID.
        assert_eq!(decoded_after(|e| e.order_id = "nope".into()), not_a_uuid("order_id"));
        let order = |e: &mut OrderEvent| e.order.as_mut().expect("unwrap: event() has an order").clone();
        assert_eq!(
            decoded_after(|e| {
                let mut o = order(e);
                o.id = "nope".into();
                e.order = Some(o);
            }),
            not_a_uuid("order.id")
        );
        assert_eq!(
            decoded_after(|e| {
                let mut o = order(e);
                o.customer_id = "nope".into();
                e.order = Some(o);
            }),
            not_a_uuid("order.customer_id")
        );
        let line = |id: &str| restaurant_proto::v1::OrderLine { menu_item_id: id.into(), ..Default::default() };
        let good_line = line(&uuid::Uuid::new_v4().to_string());
        assert_eq!(
            decoded_after(|e| {
                let mut o = order(e);
                o.lines = vec![good_line.clone(), line("nope")];
                e.order = Some(o);
            }),
            not_a_uuid("order.lines.menu_item_id")
        );
        assert!(
            decoded_after(|e| {
                let mut o = order(e);
                o.lines = vec![good_line.clone()];
                e.order = Some(o);
            })
            .is_ok()
        );
    }

    #[test]
    fn the_event_must_be_about_its_order_say_what_happened_and_have_a_version() {
        let other = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            decoded_after(|e| e.order.as_mut().expect("unwrap: event() has an order").id = other.clone()),
            Err(DecodeError::OrderIdMismatch)
        );
        assert_eq!(decoded_after(|e| e.change = None), Err(DecodeError::MissingChange));
        for version in [0, -1] {
            assert_eq!(
                decoded_after(|e| {
                    e.order_version = version;
                    e.order.as_mut().expect("unwrap: event() has an order").version = version;
                }),
                Err(DecodeError::BadVersion(version))
            );
        }
        // Without a key (a record read by hand), the rest is still checked.
        let event = event();
        assert_eq!(decode(None, Some(&encode(&event))), Ok(event.clone()));
        let key = "not the order";
        assert_eq!(
            decode(Some(key.as_bytes()), Some(&encode(&event))),
            Err(DecodeError::KeyMismatch { key: key.into(), order_id: event.order_id.clone() })
        );
    }

    #[test]
    fn event_types_name_each_change() {
        use restaurant_proto::v1::{OrderCancelled, OrderPromised, OrderStatusChanged};
        let changes = [
            Change::Created(OrderCreated {}),
            Change::StatusChanged(OrderStatusChanged::default()),
            Change::Cancelled(OrderCancelled::default()),
            Change::Promised(OrderPromised::default()),
        ];
        let types: Vec<&str> = changes.iter().map(|c| EventType::of(c).as_str()).collect();
        assert_eq!(types, ["order.created", "order.status_changed", "order.cancelled", "order.promised"]);
    }
}
