//! Random input against [`decode`]: whatever bytes arrive on the topic, the decoder answers
//! without panicking, accepts only what it promises (UUIDs, matching key and versions), and a
//! good event survives the round trip. `ci/fuzz` runs these for minutes; `ci/test` briefly.

use super::*;
use proptest::prelude::*;
use restaurant_proto::v1::{Order, OrderCancelled, OrderCreated, OrderLine, OrderStatusChanged};

fn uuid_text() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|bits| uuid::Uuid::from_u128(bits).to_string())
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        Just(Change::Created(OrderCreated {})),
        (0..7i32, 0..7i32, ".{0,20}").prop_map(|(from, to, by)| Change::StatusChanged(OrderStatusChanged {
            from,
            to,
            changed_by: by
        })),
        (0..7i32, ".{0,40}", ".{0,20}").prop_map(|(from, reason, by)| Change::Cancelled(OrderCancelled {
            from,
            reason,
            cancelled_by: by
        })),
    ]
}

fn line() -> impl Strategy<Value = OrderLine> {
    (uuid_text(), ".{0,30}", ".{0,10}", any::<i32>(), any::<i64>(), proptest::option::of(".{0,60}"), any::<i32>())
        .prop_map(|(menu_item_id, name, station, quantity, unit_price_cents, note, prep_minutes)| OrderLine {
            menu_item_id,
            name,
            station,
            quantity,
            unit_price_cents,
            note,
            prep_minutes,
        })
}

/// Events the decoder must accept: any content, as long as what it checks holds.
fn good_event() -> impl Strategy<Value = OrderEvent> {
    (uuid_text(), uuid_text(), uuid_text(), 1..i64::MAX, change(), proptest::collection::vec(line(), 0..8), 0..7i32)
        .prop_map(|(event_id, order_id, customer_id, version, change, lines, status)| OrderEvent {
            event_id,
            order_id: order_id.clone(),
            order_version: version,
            occurred_at: None,
            change: Some(change),
            order: Some(Order { id: order_id, customer_id, status, version, lines, ..Order::default() }),
        })
}

/// What an accepted event always satisfies.
fn holds_its_promises(event: &OrderEvent, key: Option<&[u8]>) -> Result<(), TestCaseError> {
    let order = event.order.as_ref();
    prop_assert!(order.is_some());
    let order = order.expect("unwrap: checked just above");
    for id in [&event.event_id, &event.order_id, &order.id, &order.customer_id] {
        prop_assert!(uuid::Uuid::parse_str(id).is_ok(), "{id:?} accepted as a UUID");
    }
    prop_assert!(order.lines.iter().all(|l| uuid::Uuid::parse_str(&l.menu_item_id).is_ok()));
    prop_assert_eq!(&order.id, &event.order_id);
    prop_assert!(event.order_version > 0 && event.order_version == order.version);
    prop_assert!(event.change.is_some());
    if let Some(key) = key {
        prop_assert_eq!(key, event.order_id.as_bytes());
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_what_passes_keeps_its_promises(
        key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48)),
        value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..512)),
    ) {
        if let Ok(event) = decode(key.as_deref(), value.as_deref()) {
            holds_its_promises(&event, key.as_deref())?;
        }
    }

    #[test]
    fn a_good_event_round_trips_with_and_without_its_key(event in good_event()) {
        let bytes = encode(&event);
        prop_assert_eq!(decode(Some(event.order_id.as_bytes()), Some(&bytes)), Ok(event.clone()));
        prop_assert_eq!(decode(None, Some(&bytes)), Ok(event));
    }

    #[test]
    fn a_corrupted_good_event_is_refused_or_still_keeps_its_promises(
        event in good_event(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = encode(&event);
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(decoded) = decode(Some(event.order_id.as_bytes()), Some(&bytes)) {
            holds_its_promises(&decoded, Some(event.order_id.as_bytes()))?;
        }
    }

    #[test]
    fn a_broken_promise_is_refused_with_its_reason(
        event in good_event(),
        not_a_uuid in "[^0-9a-fA-F-]{1,40}",
        version in i64::MIN..=0,
        other_key in uuid_text(),
        broken in 0..5u8,
    ) {
        let mut bad = event.clone();
        let key = match broken {
            0 => { bad.event_id = not_a_uuid; Some(event.order_id.clone()) }
            1 => { if let Some(order) = bad.order.as_mut() { order.customer_id = not_a_uuid; } None }
            2 => { bad.order_version = version; if let Some(order) = bad.order.as_mut() { order.version = version; } None }
            3 => Some(other_key.clone()),
            _ => { bad.change = None; None }
        };
        let refused = decode(key.as_deref().map(str::as_bytes), Some(&encode(&bad)));
        let expected = match broken {
            0 => matches!(refused, Err(DecodeError::NotAUuid { field: "event_id", .. })),
            1 => matches!(refused, Err(DecodeError::NotAUuid { field: "order.customer_id", .. })),
            2 => matches!(refused, Err(DecodeError::BadVersion(v)) if v == version),
            3 => other_key == event.order_id || matches!(refused, Err(DecodeError::KeyMismatch { .. })),
            _ => matches!(refused, Err(DecodeError::MissingChange)),
        };
        prop_assert!(expected, "case {}: {:?}", broken, refused);
    }
}
