//! The kitchen alone (or two of it on one database), fed forged events on a real broker:
//! ordering by version, malformed and poison records, the live feed from the change log, its
//! pruning, paging, sessions ending with their tokens, and what the REST endpoints answer.

use restaurant_proto::v1 as pb;
use serde_json::Value;
use testkit::{Tablet, TestAuth, TestDatabase, records};
use tokens::{Role, Token};

/// An encoded `OrderEvent` for `order_id` at `version`, as the orders service would write it.
fn event(order_id: &str, version: i64, status: pb::OrderStatus) -> Vec<u8> {
    event_with(order_id, version, status, |_| {})
}

/// [`event`], changed by `forge` before it is encoded.
fn event_with(
    order_id: &str,
    version: i64,
    status: pb::OrderStatus,
    forge: impl FnOnce(&mut pb::OrderEvent),
) -> Vec<u8> {
    let at = restaurant_proto::prost_types::Timestamp { seconds: 1_795_000_000 + version, nanos: 0 };
    let order = pb::Order {
        id: order_id.to_owned(),
        customer_id: "00000000-0000-4000-8000-000000000001".to_owned(),
        number: 42,
        status: status.into(),
        version,
        lines: vec![pb::OrderLine {
            menu_item_id: "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d".to_owned(),
            name: "Garlic Bread".to_owned(),
            station: "grill".to_owned(),
            quantity: 2,
            unit_price_cents: 550,
            note: None,
            prep_minutes: 6,
        }],
        total_cents: 1100,
        created_at: Some(at),
        updated_at: Some(at),
        timeline: vec![pb::StatusReached { status: status.into(), at: Some(at) }],
        ..Default::default()
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
    let mut event = pb::OrderEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        order_id: order_id.to_owned(),
        order_version: version,
        occurred_at: Some(at),
        change: Some(change),
        order: Some(order),
    };
    forge(&mut event);
    order_events::encode(&event)
}

struct Kitchen {
    app: kitchen::Application,
    db: TestDatabase,
    topic: String,
    auth: TestAuth,
    chef: Token,
}

async fn start() -> anyhow::Result<Kitchen> {
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    start_with(db, topic, TestAuth::new(), testkit::unique_name("kitchen"), None).await
}

/// A kitchen on an existing database, topic and consumer group (a restart, or a second one).
async fn start_with(
    db: TestDatabase,
    topic: String,
    auth: TestAuth,
    group: String,
    failpoint: Option<String>,
) -> anyhow::Result<Kitchen> {
    start_configured(db, topic, auth, group, |config| config.failpoint = failpoint).await
}

/// [`start_with`], with `configure` changing the test configuration first.
async fn start_configured(
    db: TestDatabase,
    topic: String,
    auth: TestAuth,
    group: String,
    configure: impl FnOnce(&mut kitchen::Config),
) -> anyhow::Result<Kitchen> {
    testkit::init_logs();
    // No users or orders service here: revocations and tablet commands are tested with the
    // whole stack.
    let mut config = kitchen::Config::for_tests(
        db.settings(),
        testkit::kafka_settings(&topic),
        auth.settings_without_users("kitchen"),
        group,
    );
    configure(&mut config);
    let app = kitchen::Application::build(config).await?;
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
    for (version, status) in
        [(3, pb::OrderStatus::Preparing), (1, pb::OrderStatus::Placed), (2, pb::OrderStatus::Accepted)]
    {
        records::write(&brokers, &topic, Some(order.as_bytes()), &event(&order, version, status), &[]).await?;
    }
    testkit::eventually("the two older events to be consumed and ignored", || async {
        (metric(app.ops_addr(), "kitchen_stale_events_total").await? >= 2.0).then_some(())
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

/// A broker that is down when the kitchen starts does not keep it down: it binds, serves the
/// board, says not ready (naming the topics), and takes tickets once the broker is back.
#[actix_rt::test]
async fn a_kitchen_started_while_the_broker_is_down_serves_the_board_and_takes_tickets_once_it_is_back()
-> anyhow::Result<()> {
    let mut broker = testkit::PrivateBroker::start()?;
    broker.stop()?;
    let brokers = broker.brokers();
    let group = testkit::unique_name("kitchen");
    let started = tokio::time::timeout(
        testkit::DEADLINE,
        start_configured(
            TestDatabase::create().await?,
            testkit::unique_name("orders.events"),
            TestAuth::new(),
            group,
            {
                let brokers = brokers.clone();
                move |config| config.kafka.brokers = brokers
            },
        ),
    )
    .await;
    let Kitchen { app, topic, chef, .. } = started.expect("the kitchen starts without its broker")?;
    let (status, tickets) = get_as(Some(&chef), &format!("http://{}/tickets", app.http_addr())).await?;
    assert_eq!((status, &tickets["tickets"]), (200, &serde_json::json!([])), "{tickets}");
    let readyz = format!("http://{}/readyz", app.ops_addr());
    let answer = reqwest::get(&readyz).await?;
    assert_eq!(answer.status(), 503);
    let checks: Value = answer.json().await?;
    assert!(checks["topics"].as_str().is_some_and(|t| t.starts_with("the topics are not created yet")), "{checks}");

    broker.resume()?;
    testkit::eventually("the kitchen to be ready", || async {
        (reqwest::get(&readyz).await.ok()?.status() == 200).then_some(())
    })
    .await;
    let order = uuid::Uuid::new_v4().to_string();
    records::write(&brokers, &topic, Some(order.as_bytes()), &event(&order, 1, pb::OrderStatus::Placed), &[]).await?;
    let ticket = testkit::eventually("the ticket", || async {
        let (status, ticket) = get_as(Some(&chef), &format!("http://{}/ticket/{order}", app.http_addr())).await.ok()?;
        (status == 200).then_some(ticket)
    })
    .await;
    assert_eq!(ticket["status"], "PLACED");
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
    records::write(&brokers, &topic, Some(order.as_bytes()), &event(&order, 1, pb::OrderStatus::Placed), &[]).await?;
    let url = format!("http://{}/ticket/{order}", app.http_addr());
    testkit::eventually("the good record's ticket", || async {
        let (status, _) = get_as(Some(&chef), &url).await.ok()?;
        (status == 200).then_some(())
    })
    .await;
    assert_eq!(metric(app.ops_addr(), "kitchen_malformed_events_total").await, Some(1.0));
    let kept = records::read(&brokers, &format!("{topic}.dlq"), 1).await?.remove(0);
    assert_eq!(kept.payload.as_deref(), Some(&b"\x08\xff\xff not protobuf"[..]), "the bad record is kept as it was");
    assert!(kept.headers.iter().any(|(name, _)| name == "dlq-reason"));
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
    // Ready once its topics exist (they are created in the background).
    testkit::eventually("the kitchen to be ready", || async {
        (reqwest::get(format!("{base}/readyz")).await.ok()?.status() == 200).then_some(())
    })
    .await;
    // Requests are timed by route pattern, never by raw path (ids would explode the labels).
    let metrics = reqwest::get(format!("http://{}/metrics", app.ops_addr())).await?.text().await?;
    assert!(metrics.contains(r#"route="/ticket/{order_id}",status="404""#), "{metrics}");
    assert!(!metrics.lines().any(|l| l.starts_with("http_request") && l.contains("not-a-uuid")));
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

async fn new_order(topic: &str) -> anyhow::Result<String> {
    let order = uuid::Uuid::new_v4().to_string();
    records::write(&testkit::brokers(), topic, Some(order.as_bytes()), &event(&order, 1, pb::OrderStatus::Placed), &[])
        .await?;
    Ok(order)
}

#[actix_rt::test]
async fn a_kitchen_that_dies_between_its_two_commits_makes_no_duplicate_after_restart() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    let group = testkit::unique_name("kitchen");
    let auth = TestAuth::new();
    let failing = start_with(
        db.clone(),
        topic.clone(),
        auth.clone(),
        group.clone(),
        Some(kitchen::kafka::FAILPOINT_EXIT_AFTER_TICKET_COMMIT.into()),
    )
    .await?;
    new_order(&topic).await?;
    testkit::eventually("the ticket to be committed", || async {
        (db.count("kitchen.tickets").await.ok()? == 1).then_some(())
    })
    .await;
    failing.app.stop().await;

    // The same group again: the offset was never committed, so the event comes again.
    let restarted = start_with(db.clone(), topic, auth, group, None).await?;
    testkit::eventually("the redelivered event to be recognised", || async {
        (metric(restarted.app.ops_addr(), "kitchen_stale_events_total").await? >= 1.0).then_some(())
    })
    .await;
    assert_eq!(db.count("kitchen.tickets").await?, 1);
    assert_eq!(db.count("kitchen.tablet_changes").await?, 1, "no second change for the tablets");
    restarted.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_tablet_that_reconnects_with_its_sequence_gets_exactly_what_it_missed() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let first = new_order(&topic).await?;
    let mut tablet = Tablet::connect_with_token(app.http_addr(), &chef).await?;
    let snapshot = tablet.next_of_type("snapshot").await?;
    let mut last_seq = snapshot["seq"].as_i64().expect("a sequence number");
    if snapshot["tickets"].as_array().is_some_and(Vec::is_empty) {
        // The first order had not arrived when the snapshot was taken: it comes live.
        let live = tablet.next_of_type("ticket").await?;
        assert_eq!(live["orderId"], first.as_str());
        last_seq = live["seq"].as_i64().expect("a sequence number");
    }
    drop(tablet);

    let mut missed = vec![];
    for _ in 0..3 {
        missed.push(new_order(&topic).await?);
    }
    let db_wait = format!("http://{}/tickets", app.http_addr());
    testkit::eventually("the three orders to reach the kitchen", || async {
        let (_, body) = get_as(Some(&chef), &db_wait).await.ok()?;
        (body["tickets"].as_array()?.len() == 4).then_some(())
    })
    .await;

    // A browser tablet resumes through its auth message.
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "lastSeq": last_seq })).await?;
    for (i, order) in missed.iter().enumerate() {
        let message = tablet.next_json().await?;
        assert_eq!(message["type"], "ticket", "a replay, not a snapshot: {message}");
        assert_eq!(message["orderId"], order.as_str());
        assert_eq!(message["seq"].as_i64(), Some(last_seq + 1 + i as i64));
    }
    let fourth = new_order(&topic).await?;
    let next = tablet.next_json().await?;
    assert_eq!((next["orderId"].as_str(), next["seq"].as_i64()), (Some(fourth.as_str()), Some(last_seq + 4)));

    // Too far behind (or from the future): a snapshot instead.
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "lastSeq": 999_999 })).await?;
    assert_eq!(tablet.next_json().await?["type"], "snapshot");
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn two_hundred_tablets_each_receive_a_new_ticket() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let mut tablets = Vec::with_capacity(200);
    for _ in 0..200 {
        let mut tablet = Tablet::connect_with_token(app.http_addr(), &chef).await?;
        tablet.next_of_type("snapshot").await?;
        tablets.push(tablet);
    }
    let order = new_order(&topic).await?;
    let received = futures::future::join_all(tablets.iter_mut().map(|t| t.next_of_type("ticket"))).await;
    for message in received {
        assert_eq!(message?["orderId"], order.as_str());
    }
    assert_eq!(metric(app.ops_addr(), "kitchen_tablets_connected").await, Some(200.0));
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn browsers_from_other_origins_are_turned_away_and_sse_streams_new_orders() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let http = reqwest::Client::new();
    let upgrade = |origin: &'static str| {
        http.get(format!("http://{}/ws", app.http_addr()))
            .header("origin", origin)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
    };
    assert_eq!(upgrade("https://evil.example").await?.status().as_u16(), 403);
    assert_eq!(upgrade("http://localhost:3000").await?.status().as_u16(), 101);
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("http://{}/tickets", app.http_addr()))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await?;
    assert_eq!(
        preflight.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("http://localhost:3000")
    );

    assert_eq!(http.get(format!("http://{}/stream", app.http_addr())).send().await?.status().as_u16(), 401);
    let mut sse = http.get(format!("http://{}/stream?access_token={}", app.http_addr(), chef.as_str())).send().await?;
    assert_eq!(sse.status().as_u16(), 200);
    let order = new_order(&topic).await?;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(testkit::DEADLINE, sse.chunk()).await??.expect("the stream is open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("event: ticket\ndata: "), "{text}");
    assert!(text.contains(&order) && text.contains("Garlic Bread"), "{text}");
    app.stop().await;
    Ok(())
}

/// Versions 1 to 3 (PLACED, ACCEPTED, PREPARING) of every order, enqueued on one producer and
/// acknowledged together; the key keeps each order's events in one partition, in order.
async fn write_histories(topic: &str, orders: &[String]) -> anyhow::Result<()> {
    let producer: rdkafka::producer::FutureProducer =
        service_kit::kafka::producer_config(&service_kit::config::KafkaSettings::plaintext(&testkit::brokers()))
            .create()?;
    let mut acks = Vec::with_capacity(orders.len() * 3);
    for (version, status) in
        [(1, pb::OrderStatus::Placed), (2, pb::OrderStatus::Accepted), (3, pb::OrderStatus::Preparing)]
    {
        for order in orders {
            let payload = event(order, version, status);
            let record = rdkafka::producer::FutureRecord::to(topic).key(order.as_bytes()).payload(&payload);
            acks.push(producer.send_result(record).map_err(|(e, _)| e)?);
        }
    }
    for ack in acks {
        ack.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

#[actix_rt::test]
async fn a_kitchen_stopped_mid_stream_applies_each_change_once_and_the_next_resumes_after_it() -> anyhow::Result<()> {
    const ORDERS: usize = 200;
    let changes = 3 * ORDERS as i64;
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    let group = testkit::unique_name("kitchen");
    let auth = TestAuth::new();
    let first = start_with(db.clone(), topic.clone(), auth.clone(), group.clone(), None).await?;
    let orders: Vec<String> = (0..ORDERS).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    write_histories(&topic, &orders).await?;
    testkit::eventually("the first kitchen to be applying changes", || async {
        (db.count("kitchen.tablet_changes").await.ok()? > 0).then_some(())
    })
    .await;
    // Stops while records are still coming: the record in hand is applied, offsets committed.
    first.app.stop().await;
    let applied_by_the_first = db.count("kitchen.tablet_changes").await?;
    assert!(applied_by_the_first < changes, "stopped mid-stream: {applied_by_the_first} of {changes} changes applied");

    let second = start_with(db.clone(), topic, auth, group, None).await?;
    testkit::eventually("the second kitchen to apply the rest", || async {
        (db.count("kitchen.tablet_changes").await.ok()? >= changes).then_some(())
    })
    .await;
    let client = db.connect().await?;
    let count = |sql: &'static str| {
        let client = &client;
        async move { anyhow::Ok(client.query_one(sql, &[]).await?.get::<_, i64>(0)) }
    };
    assert_eq!(db.count("kitchen.tickets").await?, ORDERS as i64, "one ticket per order");
    assert_eq!(
        count("SELECT count(*) FROM kitchen.tickets WHERE status = 'PREPARING' AND order_version = 3").await?,
        ORDERS as i64,
        "every ticket reached its last version"
    );
    assert_eq!(db.count("kitchen.tablet_changes").await?, changes, "every change applied exactly once");
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT order_id, ticket->>'orderVersion' FROM kitchen.tablet_changes
             GROUP BY 1, 2 HAVING count(*) > 1) AS twice"
        )
        .await?,
        0,
        "no order version in the tablet change log twice"
    );
    assert_eq!(count("SELECT last_seq FROM kitchen.tablet_sequence").await?, changes, "sequence numbers without gaps");
    assert_eq!(
        metric(second.app.ops_addr(), "kitchen_stale_events_total").await,
        Some(0.0),
        "the second kitchen started right after the last record the first applied: it saw none of them again"
    );
    second.app.stop().await;
    Ok(())
}

/// Reads tablet messages until `count` `ticket` messages came; returns their (seq, orderId).
async fn tickets_on(tablet: &mut Tablet, count: usize) -> anyhow::Result<Vec<(i64, String)>> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let message = tablet.next_json().await?;
        anyhow::ensure!(message["type"] == "ticket", "only ticket changes were expected: {message}");
        seen.push((
            message["seq"].as_i64().expect("a sequence number"),
            message["orderId"].as_str().expect("an order id").to_owned(),
        ));
    }
    Ok(seen)
}

#[actix_rt::test]
async fn a_tablet_on_one_kitchen_sees_a_change_another_kitchens_consumer_wrote() -> anyhow::Result<()> {
    let writer = start().await?;
    // Same database, but its consumer reads a topic nobody writes: every change it could push
    // is one the other kitchen's consumer wrote.
    let reader = start_with(
        writer.db.clone(),
        testkit::unique_name("orders.events"),
        writer.auth.clone(),
        testkit::unique_name("kitchen"),
        None,
    )
    .await?;
    let mut tablet = Tablet::connect_with_token(reader.app.http_addr(), &reader.chef).await?;
    let seq = tablet.next_of_type("snapshot").await?["seq"].as_i64().expect("a sequence number");
    let order = new_order(&writer.topic).await?;
    let pushed = tablet.next_json().await?;
    assert_eq!(pushed["type"], "ticket", "{pushed}");
    assert_eq!((pushed["orderId"].as_str(), pushed["seq"].as_i64()), (Some(order.as_str()), Some(seq + 1)));
    assert_eq!(metric(reader.app.ops_addr(), "kitchen_ticket_changes_total").await, Some(0.0), "the reader wrote none");
    reader.app.stop().await;
    writer.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn tablets_on_two_kitchens_in_one_group_get_every_change_once_in_order() -> anyhow::Result<()> {
    const ORDERS: usize = 20;
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    let group = testkit::unique_name("kitchen");
    let auth = TestAuth::new();
    let a = start_with(db.clone(), topic.clone(), auth.clone(), group.clone(), None).await?;
    let b = start_with(db.clone(), topic.clone(), auth.clone(), group, None).await?;
    let mut tablets = Vec::new();
    for kitchen in [&a, &b] {
        for _ in 0..2 {
            let mut tablet = Tablet::connect_with_token(kitchen.app.http_addr(), &kitchen.chef).await?;
            assert_eq!(tablet.next_of_type("snapshot").await?["seq"], 0);
            tablets.push(tablet);
        }
    }
    let orders: Vec<String> = (0..ORDERS).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    write_histories(&topic, &orders).await?;
    let last = new_order(&topic).await?;
    let changes = 3 * ORDERS + 1;
    let seen = futures::future::try_join_all(tablets.iter_mut().map(|t| tickets_on(t, changes))).await?;
    let client = db.connect().await?;
    let log: Vec<(i64, String)> = client
        .query("SELECT seq, order_id::text FROM kitchen.tablet_changes ORDER BY seq", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(log.len(), changes);
    for (tablet, seen) in seen.iter().enumerate() {
        let seqs: Vec<i64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=changes as i64).collect::<Vec<_>>(), "tablet {tablet}: gapless, in order, once");
        assert_eq!(seen, &log, "tablet {tablet}: each change as the log has it");
    }
    assert!(seen[0].iter().any(|(_, order)| *order == last));
    b.app.stop().await;
    a.app.stop().await;
    Ok(())
}

/// Issue 14's acceptance: two kitchens sharing one database **and one consumer group**, so
/// each consumer takes some partitions; new orders are written until each consumer has stored
/// some of them. A tablet on each kitchen then has every change — the ones the other kitchen's
/// consumer wrote included — once, in gapless sequence order.
#[actix_rt::test]
async fn in_one_group_a_tablet_on_kitchen_b_sees_the_changes_kitchen_as_consumer_wrote() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    let group = testkit::unique_name("kitchen");
    let auth = TestAuth::new();
    let a = start_with(db.clone(), topic.clone(), auth.clone(), group.clone(), None).await?;
    let b = start_with(db.clone(), topic.clone(), auth.clone(), group, None).await?;
    let mut tablets = Vec::new();
    for kitchen in [&a, &b] {
        let mut tablet = Tablet::connect_with_token(kitchen.app.http_addr(), &kitchen.chef).await?;
        assert_eq!(tablet.next_of_type("snapshot").await?["seq"], 0);
        tablets.push(tablet);
    }
    // Until the group has settled, one consumer may hold every partition: keep placing orders
    // (a handful at a time) until both have stored some.
    let written = std::rc::Rc::new(std::cell::Cell::new(0));
    testkit::eventually("both kitchens' consumers to store tickets", || {
        let (topic, written) = (topic.clone(), written.clone());
        let (a, b) = (a.app.ops_addr(), b.app.ops_addr());
        async move {
            for _ in 0..4 {
                new_order(&topic).await.ok()?;
                written.set(written.get() + 1);
            }
            let by_a = metric(a, "kitchen_ticket_changes_total").await?;
            let by_b = metric(b, "kitchen_ticket_changes_total").await?;
            (by_a > 0.0 && by_b > 0.0).then_some(())
        }
    })
    .await;
    let orders = written.get();
    let seen = futures::future::try_join_all(tablets.iter_mut().map(|t| tickets_on(t, orders))).await?;
    let written_by = |kitchen: &Kitchen| metric(kitchen.app.ops_addr(), "kitchen_ticket_changes_total");
    let (by_a, by_b) = (written_by(&a).await, written_by(&b).await);
    assert_eq!(by_a.zip(by_b).map(|(a, b)| a + b), Some(orders as f64), "each change stored once: {by_a:?} + {by_b:?}");
    assert!(by_a.is_some_and(|n| n > 0.0), "kitchen A's consumer wrote some of the changes");
    for (tablet, seen) in ["on A", "on B"].iter().zip(&seen) {
        let seqs: Vec<i64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=orders as i64).collect::<Vec<_>>(), "the tablet {tablet}: gapless, in order, once");
    }
    assert_eq!(seen[0], seen[1], "both tablets saw the same changes");
    b.app.stop().await;
    a.app.stop().await;
    Ok(())
}

/// Writes `poison` (a record for `order` that the kitchen's database refuses), then a good
/// version 2 of the same order (same key, so same partition, after it); checks the good one
/// becomes the ticket and the dead-letter topic keeps the poison with a reason that mentions
/// `reason`.
async fn poison_is_set_aside(forge: impl FnOnce(&mut pb::OrderEvent), reason: &str) -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let brokers = testkit::brokers();
    let order = uuid::Uuid::new_v4().to_string();
    let poison = event_with(&order, 1, pb::OrderStatus::Placed, forge);
    records::write(&brokers, &topic, Some(order.as_bytes()), &poison, &[]).await?;
    let good = event(&order, 2, pb::OrderStatus::Accepted);
    records::write(&brokers, &topic, Some(order.as_bytes()), &good, &[]).await?;
    let url = format!("http://{}/ticket/{order}", app.http_addr());
    let ticket = testkit::eventually("the good record's ticket", || async {
        let (status, ticket) = get_as(Some(&chef), &url).await.ok()?;
        (status == 200).then_some(ticket)
    })
    .await;
    assert_eq!((ticket["version"].as_i64(), ticket["status"].as_str()), (Some(2), Some("ACCEPTED")));
    let kept = records::read(&brokers, &format!("{topic}.dlq"), 1).await?.remove(0);
    assert_eq!(kept.payload.as_deref(), Some(&poison[..]), "the poison is kept as it was");
    let why = kept.headers.iter().find(|(name, _)| name == "dlq-reason").map(|(_, v)| String::from_utf8_lossy(v));
    assert!(why.as_deref().is_some_and(|why| why.contains(reason)), "dlq-reason {why:?} should mention {reason:?}");
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_note_with_a_nul_character_goes_to_the_dead_letters_and_the_next_record_is_applied() -> anyhow::Result<()> {
    poison_is_set_aside(
        |event| {
            let order = event.order.as_mut().expect("an order");
            order.lines[0].note = Some("no pickles\u{0}".into());
        },
        "22P05",
    )
    .await
}

#[actix_rt::test]
async fn a_time_postgresql_cannot_hold_goes_to_the_dead_letters_and_the_next_record_is_applied() -> anyhow::Result<()> {
    poison_is_set_aside(
        |event| {
            // About 10,700 BC: a time chrono holds, PostgreSQL (from 4713 BC) does not.
            let order = event.order.as_mut().expect("an order");
            order.created_at = Some(restaurant_proto::prost_types::Timestamp { seconds: -400_000_000_000, nanos: 0 });
        },
        "22008",
    )
    .await
}

#[actix_rt::test]
async fn a_malformed_uuid_inside_the_order_goes_to_the_dead_letters_and_the_next_record_is_applied()
-> anyhow::Result<()> {
    poison_is_set_aside(
        |event| {
            let order = event.order.as_mut().expect("an order");
            order.lines[0].menu_item_id = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77".into();
        },
        "menu_item_id",
    )
    .await
}

#[actix_rt::test]
async fn the_change_log_keeps_what_tablets_may_replay_and_older_resumes_get_a_snapshot() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let topic = testkit::unique_name("orders.events");
    let Kitchen { app, chef, .. } =
        start_configured(db.clone(), topic.clone(), TestAuth::new(), testkit::unique_name("kitchen"), |config| {
            config.change_log.kept = 3
        })
        .await?;
    let mut orders = vec![];
    for _ in 0..6 {
        orders.push(new_order(&topic).await?);
    }
    let client = db.connect().await?;
    testkit::eventually("the log to be pruned to its last 3 changes", || async {
        let row =
            client.query_one("SELECT count(*), min(seq), max(seq) FROM kitchen.tablet_changes", &[]).await.ok()?;
        let (count, first, last): (i64, Option<i64>, Option<i64>) = (row.get(0), row.get(1), row.get(2));
        (count == 3 && first == Some(4) && last == Some(6)).then_some(())
    })
    .await;

    // Still in the log: exactly what it missed.
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "lastSeq": 4 })).await?;
    assert_eq!(tickets_on(&mut tablet, 2).await?, vec![(5, orders[4].clone()), (6, orders[5].clone())]);
    // Pruned: a snapshot of the board instead.
    let mut tablet = Tablet::connect(app.http_addr()).await?;
    tablet.send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "lastSeq": 1 })).await?;
    let snapshot = tablet.next_json().await?;
    assert_eq!((snapshot["type"].as_str(), snapshot["seq"].as_i64()), (Some("snapshot"), Some(6)));
    assert_eq!(snapshot["tickets"].as_array().map(Vec::len), Some(6));
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn tickets_come_in_pages_that_together_are_the_whole_list() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let mut orders = vec![];
    for _ in 0..5 {
        orders.push(new_order(&topic).await?);
    }
    let base = format!("http://{}/tickets", app.http_addr());
    let whole = testkit::eventually("the five tickets", || async {
        let (_, body) = get_as(Some(&chef), &base).await.ok()?;
        (body["tickets"].as_array()?.len() == 5).then_some(body)
    })
    .await;
    assert!(whole.get("next").is_none(), "a single page has no cursor: {whole}");
    let ids = |body: &Value| -> Vec<String> {
        body["tickets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["orderId"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    // Same placed_at for all: the order id breaks the tie.
    orders.sort();
    assert_eq!(ids(&whole), orders);

    let mut paged = vec![];
    let mut url = format!("{base}?first=2");
    let mut pages = 0;
    loop {
        let (status, body) = get_as(Some(&chef), &url).await?;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        paged.extend(ids(&body));
        match body["next"].as_str() {
            Some(next) => url = format!("{base}?first=2&after={next}"),
            None => break,
        }
    }
    assert_eq!((pages, paged), (3, orders.clone()), "2 + 2 + 1, each once, in order");
    let (_, placed) = get_as(Some(&chef), &format!("{base}?status=PLACED&first=4")).await?;
    assert_eq!(ids(&placed), orders[..4]);
    assert!(placed["next"].is_string());

    for refused in ["first=0", "first=501", "after=nonsense", "after=12_zz"] {
        let (status, body) = get_as(Some(&chef), &format!("{base}?{refused}")).await?;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_USER_INPUT")), "{refused}");
    }
    app.stop().await;
    Ok(())
}

/// A kitchen staff token of `auth`'s that expires in `ttl`, and when.
fn short_lived_chef(auth: &TestAuth, ttl: std::time::Duration) -> (Token, std::time::SystemTime) {
    let claims =
        tokens::UserClaims { user_id: uuid::Uuid::new_v4(), username: "chef".into(), role: Role::KitchenStaff };
    let issued = auth.issuer().user_token(&claims, ttl).expect("minted");
    (issued.token, issued.expires_at)
}

/// How long after `expires_at` it is now (zero if before).
fn late(expires_at: std::time::SystemTime) -> std::time::Duration {
    std::time::SystemTime::now().duration_since(expires_at).unwrap_or_default()
}

#[actix_rt::test]
async fn an_sse_stream_and_a_tablet_end_when_their_token_expires() -> anyhow::Result<()> {
    let Kitchen { app, auth, .. } = start().await?;
    let (token, expires_at) = short_lived_chef(&auth, std::time::Duration::from_secs(3));
    let mut tablet = Tablet::connect_with_token(app.http_addr(), &token).await?;
    tablet.next_of_type("snapshot").await?;
    let mut sse = reqwest::get(format!("http://{}/stream?access_token={}", app.http_addr(), token.as_str())).await?;
    assert_eq!(sse.status().as_u16(), 200);

    let ended = tokio::time::timeout(testkit::DEADLINE, async {
        while sse.chunk().await?.is_some() {}
        anyhow::Ok(())
    })
    .await;
    assert!(matches!(ended, Ok(Ok(()))), "the stream ends: {ended:?}");
    let sse_late = late(expires_at);
    assert!(
        std::time::SystemTime::now() + std::time::Duration::from_secs(1) >= expires_at,
        "not before the token expired"
    );
    assert_eq!(tablet.next_of_type("error").await?["code"], "UNAUTHENTICATED");
    assert_eq!(tablet.closed().await?, Some(1008));
    let tablet_late = late(expires_at);
    // Biscuit times have whole seconds: the token expired at most a second before `expires_at`.
    assert!(sse_late < std::time::Duration::from_secs(2), "the SSE stream ended {sse_late:?} after expiry");
    assert!(tablet_late < std::time::Duration::from_secs(2), "the tablet closed {tablet_late:?} after expiry");
    app.stop().await;
    Ok(())
}

/// A new order with a Garlic Bread for the grill and a Bruschetta for the cold station.
async fn grill_and_cold_order(topic: &str) -> anyhow::Result<String> {
    let order = uuid::Uuid::new_v4().to_string();
    let record = event_with(&order, 1, pb::OrderStatus::Placed, |event| {
        let lines = &mut event.order.as_mut().expect("the forged event has an order").lines;
        lines.push(pb::OrderLine {
            menu_item_id: "22dbe406-f0e4-5f0b-ba15-e2f11a0a2489".to_owned(),
            name: "Tomato Bruschetta".to_owned(),
            station: "cold".to_owned(),
            quantity: 1,
            unit_price_cents: 650,
            note: None,
            prep_minutes: 4,
        });
    });
    records::write(&testkit::brokers(), topic, Some(order.as_bytes()), &record, &[]).await?;
    Ok(order)
}

/// A grill-only order.
async fn grill_order(topic: &str) -> anyhow::Result<String> {
    new_order(topic).await
}

/// A cold-only order.
async fn cold_order(topic: &str) -> anyhow::Result<String> {
    let order = uuid::Uuid::new_v4().to_string();
    let record = event_with(&order, 1, pb::OrderStatus::Placed, |event| {
        let line = &mut event.order.as_mut().expect("the forged event has an order").lines[0];
        line.station = "cold".to_owned();
        line.name = "Burrata".to_owned();
    });
    records::write(&testkit::brokers(), topic, Some(order.as_bytes()), &record, &[]).await?;
    Ok(order)
}

fn stations_of(ticket: &Value) -> Vec<String> {
    ticket["items"].as_array().into_iter().flatten().map(|i| i["station"].as_str().unwrap_or("?").to_owned()).collect()
}

#[actix_rt::test]
async fn a_station_tablet_sees_only_its_lines_and_its_device_remembers_them() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let both = grill_and_cold_order(&topic).await?;
    let cold = cold_order(&topic).await?;
    let tickets_url = format!("http://{}/tickets", app.http_addr());
    testkit::eventually("both orders to reach the kitchen", || async {
        let (_, body) = get_as(Some(&chef), &tickets_url).await.ok()?;
        (body["tickets"].as_array()?.len() == 2).then_some(())
    })
    .await;

    // The grill tablet names itself and its station: it is told its view, then its snapshot.
    let mut grill = Tablet::connect(app.http_addr()).await?;
    grill
        .send_json(
            &serde_json::json!({ "type": "auth", "token": chef.as_str(), "device": "grill-1", "stations": ["grill"] }),
        )
        .await?;
    let view = grill.next_json().await?;
    assert_eq!((view["type"].as_str(), view["device"].as_str()), (Some("view"), Some("grill-1")), "{view}");
    assert_eq!(view["stations"], serde_json::json!(["grill"]));
    let snapshot = grill.next_of_type("snapshot").await?;
    let tickets = snapshot["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1, "only the ticket with grill lines: {snapshot}");
    assert_eq!(tickets[0]["orderId"], both.as_str());
    assert_eq!(stations_of(&tickets[0]), ["grill"], "only the grill's lines");
    assert_eq!(tickets[0]["stations"], serde_json::json!([{ "station": "grill", "doneAt": null }]));
    let seen = snapshot["seq"].as_i64().expect("a sequence number");
    assert!(!tickets.iter().any(|t| t["orderId"] == cold.as_str()));

    // Live: a cold-only order never reaches the grill; the next grill order does.
    cold_order(&topic).await?;
    testkit::eventually("the cold order to reach the kitchen", || async {
        let (_, body) = get_as(Some(&chef), &tickets_url).await.ok()?;
        (body["tickets"].as_array()?.len() == 3).then_some(())
    })
    .await;
    let grilled = grill_order(&topic).await?;
    let live = grill.next_json().await?;
    assert_eq!((live["type"].as_str(), live["orderId"].as_str()), (Some("ticket"), Some(grilled.as_str())), "{live}");
    let live_seq = live["seq"].as_i64().expect("a sequence number");
    assert_eq!(live_seq, seen + 2, "the cold order's change is skipped, not renumbered");
    drop(grill);

    // Reconnecting by device name alone: the same stations, and a replay of only its changes.
    cold_order(&topic).await?;
    let also_grilled = grill_and_cold_order(&topic).await?;
    testkit::eventually("the two orders to reach the kitchen", || async {
        let (_, body) = get_as(Some(&chef), &tickets_url).await.ok()?;
        (body["tickets"].as_array()?.len() == 6).then_some(())
    })
    .await;
    let mut grill = Tablet::connect(app.http_addr()).await?;
    grill
        .send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "device": "grill-1", "lastSeq": seen }))
        .await?;
    assert_eq!(grill.next_json().await?["stations"], serde_json::json!(["grill"]), "remembered for the device");
    for expected in [&grilled, &also_grilled] {
        let message = grill.next_json().await?;
        assert_eq!((message["type"].as_str(), message["orderId"].as_str()), (Some("ticket"), Some(expected.as_str())));
        assert_eq!(stations_of(&message["ticket"]), ["grill"]);
    }
    let caught_up = grill.next_json().await?;
    assert_eq!(caught_up["type"], "caughtUp", "the replay is over: {caught_up}");
    let now = caught_up["seq"].as_i64().expect("a sequence number");

    // Nothing missed: told so at once, so the board can say it is live.
    let mut again = Tablet::connect(app.http_addr()).await?;
    again
        .send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "device": "grill-1", "lastSeq": now }))
        .await?;
    assert_eq!(again.next_json().await?["type"], "view");
    assert_eq!(again.next_json().await?, serde_json::json!({ "type": "caughtUp", "seq": now }));

    // Switching to the expo's view: a fresh snapshot of whole tickets.
    grill.send_json(&serde_json::json!({ "type": "view", "stations": [] })).await?;
    assert_eq!(grill.next_json().await?["stations"], serde_json::json!([]));
    let whole = grill.next_of_type("snapshot").await?;
    assert_eq!(whole["tickets"].as_array().map(Vec::len), Some(6));
    let first = whole["tickets"].as_array().and_then(|t| t.iter().find(|t| t["orderId"] == both.as_str())).cloned();
    assert_eq!(stations_of(&first.expect("the two-station ticket")), ["grill", "cold"]);

    // A station that is not a name is refused, and the socket stays open.
    grill.send_json(&serde_json::json!({ "type": "view", "stations": ["Grill!"] })).await?;
    assert_eq!(grill.next_of_type("error").await?["code"], "BAD_USER_INPUT");
    grill.send_json(&serde_json::json!({ "type": "view", "stations": ["cold"] })).await?;
    assert_eq!(grill.next_json().await?["stations"], serde_json::json!(["cold"]));
    let cold_board = grill.next_of_type("snapshot").await?;
    assert!(cold_board["tickets"].as_array().expect("tickets").iter().all(|t| stations_of(t) == ["cold"]));
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_station_bumps_its_lines_every_tablet_sees_it_and_later_events_keep_it() -> anyhow::Result<()> {
    let Kitchen { app, topic, chef, .. } = start().await?;
    let order = grill_and_cold_order(&topic).await?;
    let mut expo = Tablet::connect_with_token(app.http_addr(), &chef).await?;
    let snapshot = expo.next_of_type("snapshot").await?;
    if snapshot["tickets"].as_array().is_some_and(Vec::is_empty) {
        expo.next_of_type("ticket").await?;
    }
    let mut grill = Tablet::connect(app.http_addr()).await?;
    grill.send_json(&serde_json::json!({ "type": "auth", "token": chef.as_str(), "stations": ["grill"] })).await?;
    grill.next_of_type("snapshot").await?;

    // The grill is done; the cold station is not, so the order stays where it is.
    grill.send_json(&serde_json::json!({ "type": "stationBump", "orderId": order, "station": "grill" })).await?;
    let (mut acked, mut changed) = (false, false);
    while !(acked && changed) {
        let message = grill.next_json().await?;
        match message["type"].as_str() {
            Some("ack") => {
                assert_eq!((message["station"].as_str(), message["status"].as_str()), (Some("grill"), Some("PLACED")));
                acked = true;
            }
            Some("ticket") => {
                assert!(message["ticket"]["stations"][0]["doneAt"].is_string(), "{message}");
                changed = true;
            }
            _ => panic!("unexpected {message}"),
        }
    }
    let seen = expo.next_of_type("ticket").await?;
    let progress = &seen["ticket"]["stations"];
    assert_eq!((progress[0]["station"].as_str(), progress[0]["doneAt"].is_string()), (Some("grill"), true));
    assert_eq!((progress[1]["station"].as_str(), progress[1]["doneAt"].is_null()), (Some("cold"), true));

    // An event from the orders service later keeps what the grill marked.
    records::write(
        &testkit::brokers(),
        &topic,
        Some(order.as_bytes()),
        &event_with(&order, 2, pb::OrderStatus::Accepted, |event| {
            let lines = &mut event.order.as_mut().expect("an order").lines;
            lines.push(pb::OrderLine { station: "cold".into(), name: "Tomato Bruschetta".into(), ..lines[0].clone() });
        }),
        &[],
    )
    .await?;
    let accepted = expo.next_of_type("ticket").await?;
    assert_eq!(accepted["ticket"]["status"], "ACCEPTED");
    assert!(accepted["ticket"]["stations"][0]["doneAt"].is_string(), "the grill's mark survives: {accepted}");

    // Recalled: not done any more.
    grill.send_json(&serde_json::json!({ "type": "stationRecall", "orderId": order, "station": "grill" })).await?;
    let recalled = expo.next_of_type("ticket").await?;
    assert!(recalled["ticket"]["stations"][0]["doneAt"].is_null(), "{recalled}");

    // Mistakes get clear errors and change nothing.
    for (station, order_id, code) in [
        ("pastry", order.clone(), "BAD_USER_INPUT"),
        ("Grill", order.clone(), "BAD_USER_INPUT"),
        ("grill", "not-an-id".to_owned(), "BAD_USER_INPUT"),
        ("grill", uuid::Uuid::new_v4().to_string(), "NOT_FOUND"),
    ] {
        grill.send_json(&serde_json::json!({ "type": "stationBump", "orderId": order_id, "station": station })).await?;
        let refused = grill.next_of_type("error").await?;
        assert_eq!(refused["code"], code, "{station} {order_id}: {refused}");
    }
    let (_, ticket) = get_as(Some(&chef), &format!("http://{}/ticket/{order}", app.http_addr())).await?;
    assert!(ticket["stations"].as_array().expect("stations").iter().all(|s| s["doneAt"].is_null()), "{ticket}");

    // A cancelled order's stations cannot bump any more.
    records::write(
        &testkit::brokers(),
        &topic,
        Some(order.as_bytes()),
        &event(&order, 3, pb::OrderStatus::Cancelled),
        &[],
    )
    .await?;
    expo.next_of_type("ticket").await?;
    grill.send_json(&serde_json::json!({ "type": "stationBump", "orderId": order, "station": "grill" })).await?;
    assert_eq!(grill.next_of_type("error").await?["code"], "CONFLICT");

    app.stop().await;
    Ok(())
}
