//! The kitchen alone, fed forged events on a real broker: ordering by version, malformed
//! records, and what the REST endpoints answer.

use restaurant_proto::v1 as pb;
use serde_json::Value;
use testkit::{TestAuth, TestDatabase, Tablet, records};
use tokens::{Role, Token};

/// An encoded `OrderEvent` for `order_id` at `version`, as the orders service would write it.
fn event(order_id: &str, version: i64, status: pb::OrderStatus) -> Vec<u8> {
    let at = restaurant_proto::prost_types::Timestamp { seconds: 1_795_000_000 + version, nanos: 0 };
    let order = pb::Order {
        id: order_id.to_owned(),
        customer_id: "00000000-0000-4000-8000-000000000001".to_owned(),
        status: status.into(),
        version,
        lines: vec![pb::OrderLine {
            menu_item_id: "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d".to_owned(),
            name: "Garlic Bread".to_owned(),
            station: "grill".to_owned(),
            quantity: 2,
            unit_price_cents: 550,
            note: None,
        }],
        total_cents: 1100,
        created_at: Some(at),
        updated_at: Some(at),
        timeline: vec![pb::StatusReached { status: status.into(), at: Some(at) }],
    };
    let change = if version == 1 {
        pb::order_event::Change::Created(pb::OrderCreated {})
    } else {
        pb::order_event::Change::StatusChanged(pb::OrderStatusChanged {
            from: pb::OrderStatus::Placed.into(),
            to: status.into(),
            changed_by: "kitchen".to_owned(),
        })
    };
    order_events::encode(&pb::OrderEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        order_id: order_id.to_owned(),
        order_version: version,
        occurred_at: Some(at),
        change: Some(change),
        order: Some(order),
    })
}

struct Kitchen {
    app: kitchen::Application,
    db: TestDatabase,
    topic: String,
    auth: TestAuth,
    chef: Token,
}

async fn start() -> anyhow::Result<Kitchen> {
    testkit::init_logs();
    let db = TestDatabase::create().await?;
    let auth = TestAuth::new();
    let topic = testkit::unique_name("orders.events");
    let app = kitchen::Application::build(kitchen::Config {
        http_addr: "127.0.0.1:0".parse()?,
        database: db.settings(),
        kafka: testkit::kafka_settings(&topic),
        // No users service here: revocations are not followed (tested with the whole stack).
        auth: auth.settings("kitchen", "http://127.0.0.1:9"),
        consumer_group: testkit::unique_name("kitchen"),
        http_workers: 1,
        create_topics: true,
    })
    .await?;
    let (_, chef) = auth.user_token(Role::KitchenStaff);
    Ok(Kitchen { app, db, topic, auth, chef })
}

async fn get_as(token: Option<&Token>, url: &str) -> anyhow::Result<(u16, Value)> {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token.as_str());
    }
    let response = request.send().await?;
    Ok((response.status().as_u16(), response.json().await?))
}

async fn metric(addr: std::net::SocketAddr, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://{addr}/metrics")).await.ok()?.text().await.ok()?;
    text.lines()
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .next()
}

#[actix_rt::test]
async fn events_out_of_order_leave_the_newest_state() -> anyhow::Result<()> {
    let Kitchen { app, db, topic, chef, .. } = start().await?;
    let order = uuid::Uuid::new_v4().to_string();
    let brokers = testkit::brokers();
    // Version 3 arrives first; the older versions after it must change nothing.
    for (version, status) in [(3, pb::OrderStatus::Preparing), (1, pb::OrderStatus::Placed), (2, pb::OrderStatus::Accepted)] {
        records::write(&brokers, &topic, Some(order.as_bytes()), &event(&order, version, status), &[]).await?;
    }
    testkit::eventually("the two older events to be consumed and ignored", || async {
        (metric(app.http_addr(), "kitchen_stale_events_total").await? >= 2.0).then_some(())
    })
    .await;
    let (status, ticket) = get_as(Some(&chef), &format!("http://{}/ticket/{order}", app.http_addr())).await?;
    assert_eq!(status, 200);
    assert_eq!(ticket["status"], "PREPARING");
    assert_eq!(ticket["version"], 3);
    assert_eq!(ticket["items"][0]["name"], "Garlic Bread");
    assert_eq!(db.count("kitchen.tablet_changes").await?, 1, "only version 3 made a change");
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_malformed_record_is_skipped_and_the_next_one_processed() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let brokers = testkit::brokers();
    let order = uuid::Uuid::new_v4().to_string();
    // The same key puts both in one partition: the good record comes after the bad one.
    records::write(&brokers, &topic, Some(order.as_bytes()), b"\x08\xff\xff not protobuf", &[]).await?;
    records::write(&brokers, &topic, Some(order.as_bytes()), &event(&order, 1, pb::OrderStatus::Placed), &[])
        .await?;
    let url = format!("http://{}/ticket/{order}", app.http_addr());
    testkit::eventually("the good record's ticket", || async {
        let (status, _) = get_as(Some(&chef), &url).await.ok()?;
        (status == 200).then_some(())
    })
    .await;
    assert_eq!(metric(app.http_addr(), "kitchen_malformed_events_total").await, Some(1.0));
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn bad_requests_get_a_clear_4xx() -> anyhow::Result<()> {
    let Kitchen { app, chef, .. } = start().await?;
    let base = format!("http://{}", app.http_addr());
    let get = |url: String| {
        let chef = chef.clone();
        async move { get_as(Some(&chef), &url).await }
    };
    let (status, body) = get(format!("{base}/ticket/not-a-uuid")).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_USER_INPUT")));
    let (status, body) = get(format!("{base}/ticket/{}", uuid::Uuid::new_v4())).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, body) = get(format!("{base}/tickets?status=EATEN")).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_USER_INPUT")));
    let (status, body) = get(format!("{base}/tickets?colour=red")).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_USER_INPUT")));
    let (status, body) = get(format!("{base}/tickets?status=PLACED")).await?;
    assert_eq!((status, body["tickets"].clone()), (200, serde_json::json!([])));
    let ready = reqwest::get(format!("{base}/readyz")).await?;
    assert_eq!(ready.status().as_u16(), 200, "{:?}", ready.text().await);
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn only_kitchen_staff_reach_tickets_and_tablets() -> anyhow::Result<()> {
    let Kitchen { app, auth, chef, .. } = start().await?;
    let url = format!("http://{}/tickets", app.http_addr());
    let (_, customer) = auth.user_token(Role::Customer);
    let (_, forged) = TestAuth::new().user_token(Role::KitchenStaff);
    assert_eq!(get_as(None, &url).await?.0, 401);
    assert_eq!(get_as(Some(&Token::new("garbage")), &url).await?.0, 401);
    assert_eq!(get_as(Some(&forged), &url).await?.0, 401);
    assert_eq!(get_as(Some(&customer), &url).await?.0, 403);
    assert_eq!(get_as(Some(&auth.service_token("orders")), &url).await?.0, 403);
    assert_eq!(get_as(Some(&chef), &url).await?.0, 200);

    // A tablet with a customer's token is refused; one that never authenticates is closed.
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "auth", "token": customer.as_str() })).await?;
    let refusal = tablet.next_of_type("error").await?;
    assert_eq!(refusal["code"], "FORBIDDEN");
    assert_eq!(tablet.closed().await?, Some(1008));
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "bump", "orderId": "x" })).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "UNAUTHENTICATED");

    // A read-only attenuated kitchen token still watches the board.
    let verifier = tokens::TokenVerifier::from_public_key_hex(&auth.settings("x", "").token_public_key)?;
    let read_only = tokens::attenuate(&chef, &verifier, r#"check if operation("read");"#)?;
    let mut tablet = Tablet::connect_with_token(app.http_addr(), &read_only).await?;
    assert_eq!(tablet.next_json().await?["type"], "snapshot");
    app.stop().await;
    Ok(())
}
