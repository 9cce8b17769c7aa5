//! Random frames against the tablet protocol parser: any text is parsed or refused without
//! panicking; what is accepted is exactly one of the documented messages with its fields, a
//! well-formed message round-trips, and an unknown field or type is always refused. `ci/fuzz`
//! runs these for minutes.

use super::TabletMessage;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// An object that looks like a tablet message: a known or unknown type, known or unknown keys.
fn message_like() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type"),
        Just("token"),
        Just("lastSeq"),
        Just("orderId"),
        Just("extra"),
        Just("order_id"),
        Just("station"),
        Just("stations"),
        Just("device"),
        Just("reason"),
        Just("rush"),
    ];
    let kind = prop_oneof![
        Just("auth"),
        Just("bump"),
        Just("recall"),
        Just("Bump"),
        Just("ticket"),
        Just(""),
        Just("view"),
        Just("stationBump"),
        Just("stationRecall"),
        Just("reject"),
        Just("rush"),
    ];
    (kind, proptest::collection::btree_map(key, json_value(), 0..4)).prop_map(|(kind, mut fields)| {
        fields.insert("type", Value::from(kind));
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    })
}

/// Whether `value` is exactly a documented message (PROTOCOL.md).
fn documented(value: &Value) -> bool {
    let Some(object) = value.as_object() else { return false };
    let keys = |allowed: &[&str], required: &[&str]| {
        object.keys().all(|k| k == "type" || allowed.contains(&k.as_str()))
            && required.iter().all(|k| object.contains_key(*k))
    };
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let absent_null_or = |key: &str, ok: &dyn Fn(&Value) -> bool| object.get(key).is_none_or(|v| v.is_null() || ok(v));
    match object.get("type").and_then(Value::as_str) {
        Some("auth") => {
            keys(&["token", "lastSeq", "device", "stations"], &["token"])
                && object["token"].is_string()
                && absent_null_or("lastSeq", &Value::is_i64)
                && absent_null_or("device", &Value::is_string)
                && absent_null_or("stations", &strings)
        }
        Some("view") => {
            keys(&["device", "stations"], &["stations"])
                && strings(&object["stations"])
                && absent_null_or("device", &Value::is_string)
        }
        Some("bump" | "recall") => keys(&["orderId"], &["orderId"]) && object["orderId"].is_string(),
        Some("reject") => {
            keys(&["orderId", "reason"], &["orderId", "reason"])
                && object["orderId"].is_string()
                && object["reason"].is_string()
        }
        Some("rush") => {
            keys(&["orderId", "rush"], &["orderId", "rush"])
                && object["orderId"].is_string()
                && object["rush"].is_boolean()
        }
        Some("stationBump" | "stationRecall") => {
            keys(&["orderId", "station"], &["orderId", "station"])
                && object["orderId"].is_string()
                && object["station"].is_string()
        }
        _ => false,
    }
}

fn same(message: &TabletMessage, value: &Value) -> bool {
    match message {
        TabletMessage::Auth { token, last_seq, device, stations } => {
            value["type"] == "auth"
                && value["token"] == token.as_str()
                && value.get("lastSeq").and_then(Value::as_i64) == *last_seq
                && value.get("device").and_then(Value::as_str) == device.as_deref()
                && value.get("stations").filter(|v| !v.is_null()).map(|v| v.to_owned())
                    == stations.as_ref().map(|s| json!(s))
        }
        TabletMessage::View { device, stations } => {
            value["type"] == "view"
                && value.get("device").and_then(Value::as_str) == device.as_deref()
                && value["stations"] == json!(stations)
        }
        TabletMessage::StationBump { order_id, station } => {
            value["type"] == "stationBump"
                && value["orderId"] == order_id.as_str()
                && value["station"] == station.as_str()
        }
        TabletMessage::Reject { order_id, reason } => {
            value["type"] == "reject" && value["orderId"] == order_id.as_str() && value["reason"] == reason.as_str()
        }
        TabletMessage::Rush { order_id, rush } => {
            value["type"] == "rush" && value["orderId"] == order_id.as_str() && value["rush"] == *rush
        }
        TabletMessage::StationRecall { order_id, station } => {
            value["type"] == "stationRecall"
                && value["orderId"] == order_id.as_str()
                && value["station"] == station.as_str()
        }
        TabletMessage::Bump { order_id } => value["type"] == "bump" && value["orderId"] == order_id.as_str(),
        TabletMessage::Recall { order_id } => value["type"] == "recall" && value["orderId"] == order_id.as_str(),
    }
}

proptest! {
    #[test]
    fn any_text_is_parsed_or_refused_without_panicking(text in ".{0,300}") {
        if let Ok(message) = TabletMessage::parse(&text) {
            let value: Value = serde_json::from_str(&text).expect("unwrap: accepted text is JSON");
            prop_assert!(documented(&value) && same(&message, &value), "{}", text);
        }
    }

    #[test]
    fn a_message_is_accepted_exactly_when_it_is_documented(value in message_like()) {
        let text = value.to_string();
        match TabletMessage::parse(&text) {
            Ok(message) => prop_assert!(documented(&value) && same(&message, &value), "accepted {}", text),
            Err(_) => prop_assert!(!documented(&value), "refused {}", text),
        }
    }

    #[test]
    fn documented_messages_round_trip(
        token in ".{0,200}",
        last_seq in proptest::option::of(any::<i64>()),
        order_id in ".{0,60}",
        kind in 0..3u8,
    ) {
        let value = match kind {
            0 => match last_seq { Some(seq) => json!({ "type": "auth", "token": token, "lastSeq": seq }), None => json!({ "type": "auth", "token": token }) },
            1 => json!({ "type": "bump", "orderId": order_id }),
            _ => json!({ "type": "recall", "orderId": order_id }),
        };
        let parsed = TabletMessage::parse(&value.to_string());
        prop_assert!(parsed.as_ref().is_ok_and(|message| same(message, &value)), "{}", value);
        let mut extended = value.clone();
        extended["colour"] = json!("red");
        prop_assert!(TabletMessage::parse(&extended.to_string()).is_err(), "an unknown field is refused");
    }
}
