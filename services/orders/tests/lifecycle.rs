//! An order's life after it is placed: who may move it where, the events each change
//! publishes and streams, conflicting commands through two instances, and a broker outage.

mod common;

use common::{GARLIC_BREAD, Running, item, start, start_with};
use futures::StreamExt as _;
use restaurant_proto::v1 as pb;
use testkit::{PrivateBroker, TestAuth, TestDatabase, records};
use tokens::{Role, Token};

async fn place(s: &Running) -> anyhow::Result<pb::Order> {
    let request =
        pb::CreateOrderRequest { items: vec![item(GARLIC_BREAD, 1)], idempotency_key: None, ..Default::default() };
    Ok(s.grpc.clone().create_order(s.as_customer(request)).await?.into_inner().order.expect("an order"))
}

/// Watches every order, and returns once the instance's event feed demonstrably delivers (its
/// consumer has joined and reads from the end, so earlier events are not seen): probe orders
/// are placed until one's creation comes through. Returns the stream and the probes' ids.
async fn watch_all(s: &Running) -> anyhow::Result<(tonic::Streaming<pb::OrderEvent>, Vec<String>)> {
    let all = pb::WatchOrdersRequest { filter: Some(pb::watch_orders_request::Filter::All(true)) };
    let mut request = tonic::Request::new(all);
    tokens::grpc::attach(&mut request, &s.service, None);
    let mut stream = s.grpc.clone().watch_orders(request).await?.into_inner();
    let started = std::time::Instant::now();
    let mut probes = vec![];
    loop {
        probes.push(place(s).await?.id);
        if let Ok(event) = tokio::time::timeout(std::time::Duration::from_millis(500), stream.next()).await {
            let event = event.expect("the stream is open")?;
            anyhow::ensure!(probes.contains(&event.order_id), "an event for an order not placed here");
            return Ok((stream, probes));
        }
        anyhow::ensure!(started.elapsed() < testkit::DEADLINE, "the order feed never delivered");
    }
}

async fn set_status(s: &Running, user: &Token, id: &str, status: pb::OrderStatus) -> Result<pb::Order, tonic::Status> {
    let request = pb::UpdateOrderStatusRequest { id: id.to_owned(), status: status.into() };
    Ok(s.grpc.clone().update_order_status(s.as_user(user, request)).await?.into_inner().order.expect("an order"))
}

#[actix_rt::test]
async fn the_kitchen_moves_orders_along_and_customers_may_only_cancel_their_own() -> anyhow::Result<()> {
    use pb::OrderStatus::*;
    let s = start().await?;
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let (mut everything, probes) = watch_all(&s).await?;
    let order = place(&s).await?;
    let id = order.id.as_str();

    // A watcher of this order sees every change that follows, in order.
    let mut watch = s
        .grpc
        .clone()
        .watch_orders(s.as_customer(pb::WatchOrdersRequest {
            filter: Some(pb::watch_orders_request::Filter::OrderId(id.to_owned())),
        }))
        .await?
        .into_inner();

    let refused = set_status(&s, &s.customer, id, Accepted).await.expect_err("customers do not accept");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let refused = set_status(&s, &chef, id, Ready).await.expect_err("PLACED cannot jump to READY");
    assert_eq!(refused.code(), tonic::Code::AlreadyExists);
    assert_eq!(refused.message(), "an order cannot go from PLACED to READY");

    let mut versions = vec![];
    for status in [Accepted, Preparing, Ready, Preparing, Ready] {
        let changed = set_status(&s, &chef, id, status).await?;
        assert_eq!(changed.status, status as i32);
        versions.push(changed.version);
    }
    assert_eq!(versions, [2, 3, 4, 5, 6], "every change bumps the version");
    let complete = pb::CompleteOrderRequest { id: id.to_owned() };
    let done =
        s.grpc.clone().complete_order(s.as_user(&chef, complete.clone())).await?.into_inner().order.expect("an order");
    assert_eq!((done.status, done.version, done.timeline.len()), (Completed as i32, 7, 7));
    let again = s.grpc.clone().complete_order(s.as_user(&chef, complete)).await.expect_err("already completed");
    assert_eq!(again.message(), "an order cannot go from COMPLETED to COMPLETED");

    let mut seen = vec![];
    while seen.last() != Some(&7) {
        let event = tokio::time::timeout(testkit::DEADLINE, watch.next()).await?.expect("the stream is open")?;
        assert_eq!(event.order_id, id, "the watcher asked for this order only");
        seen.push(event.order_version);
    }
    // The order's creation may have reached the feed before or after the watch began.
    seen.retain(|v| *v > 1);
    assert_eq!(seen, [2, 3, 4, 5, 6, 7]);
    let first = loop {
        let event = tokio::time::timeout(testkit::DEADLINE, everything.next()).await?.expect("open")?;
        // Late probe events may still come first.
        if !probes.contains(&event.order_id) {
            break event;
        }
    };
    assert_eq!((first.order_id.as_str(), first.order_version), (id, 1), "watching all sees every event");

    // Cancelling: the customer may, while PLACED or ACCEPTED, and only their own order.
    let mine = place(&s).await?;
    let (_, stranger) = s.auth.user_token(Role::Customer);
    let cancel = |id: &str| pb::CancelOrderRequest { id: id.to_owned(), reason: Some("changed my mind".into()) };
    let refused = s.grpc.clone().cancel_order(s.as_user(&stranger, cancel(&mine.id))).await.expect_err("not theirs");
    assert_eq!(refused.code(), tonic::Code::NotFound, "someone else's order does not exist for them");
    let cancelled =
        s.grpc.clone().cancel_order(s.as_customer(cancel(&mine.id))).await?.into_inner().order.expect("an order");
    assert_eq!(cancelled.status, Cancelled as i32);
    assert_eq!(cancelled.cancel_reason, "changed my mind", "the order keeps why");
    let read_back = s.grpc.clone().get_order(s.as_customer(pb::GetOrderRequest { id: mine.id.clone() })).await?;
    assert_eq!(read_back.into_inner().order.map(|o| o.cancel_reason), Some("changed my mind".to_owned()));
    let late = place(&s).await?;
    for status in [Accepted, Preparing] {
        set_status(&s, &chef, &late.id, status).await?;
    }
    let refused = s.grpc.clone().cancel_order(s.as_customer(cancel(&late.id))).await.expect_err("too late");
    assert_eq!(refused.message(), "an order cannot go from PREPARING to CANCELLED");

    // Each change went out with the whole order and what happened.
    let all = records::read(&testkit::brokers(), &s.topic, probes.len() + 7 + 2 + 3).await?;
    let cancel_event = all
        .iter()
        .filter_map(|r| order_events::decode(r.key.as_deref(), r.payload.as_deref()).ok())
        .find(|e| e.order_id == mine.id && e.order_version == 2)
        .expect("the cancellation event");
    match cancel_event.change {
        Some(order_events::Change::Cancelled(c)) => assert_eq!(c.reason, "changed my mind"),
        other => panic!("expected a cancellation, got {other:?}"),
    }
    assert_eq!(cancel_event.order.as_ref().map(|o| o.lines.len()), Some(1));
    assert_eq!(cancel_event.order.map(|o| o.cancel_reason), Some("changed my mind".to_owned()), "in the event's order");

    // Bad input: ids, statuses, reasons.
    for (id, status) in [("not-a-uuid", Accepted), (id, Unspecified)] {
        let refused = set_status(&s, &chef, id, status).await.expect_err("bad input");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{id} {status:?}");
    }
    let missing = set_status(&s, &chef, &uuid::Uuid::new_v4().to_string(), Accepted).await.expect_err("no such order");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let long = pb::CancelOrderRequest { id: late.id.clone(), reason: Some("r".repeat(201)) };
    let refused = s.grpc.clone().cancel_order(s.as_user(&chef, long)).await.expect_err("too long a reason");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_hundred_conflicting_commands_through_two_instances_leave_a_valid_history() -> anyhow::Result<()> {
    use pb::OrderStatus::*;
    let one = start().await?;
    let two = start_with(one.db.clone(), one.topic.clone(), one.auth.clone(), testkit::brokers()).await?;
    let (_, chef) = one.auth.user_token(Role::KitchenStaff);
    let order = place(&one).await?;
    let targets = [Accepted, Preparing, Ready, Preparing, Completed, Cancelled];
    let commands = (0..100).map(|i| {
        let instance = if i % 2 == 0 { &one } else { &two };
        let status = targets[i % targets.len()];
        set_status(instance, &chef, &order.id, status)
    });
    let answers = futures::future::join_all(commands).await;
    let applied = answers.iter().filter(|a| a.is_ok()).count();
    for answer in &answers {
        if let Err(refused) = answer {
            assert!(
                matches!(refused.code(), tonic::Code::AlreadyExists | tonic::Code::NotFound),
                "every command is answered with a verdict, not an error: {refused:?}"
            );
        }
    }

    let db = one.db.connect().await?;
    let history: Vec<(i64, String)> = db
        .query(
            "SELECT version, status FROM orders.order_status_history WHERE order_id = $1::text::uuid ORDER BY version",
            &[&order.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(history.len(), applied + 1, "one timeline entry per applied command, plus PLACED");
    for (i, window) in history.windows(2).enumerate() {
        assert_eq!(window[1].0, window[0].0 + 1, "versions are contiguous");
        let (from, to) = (status_of(&window[0].1), status_of(&window[1].1));
        assert!(allowed(from, to), "step {i}: {from:?} -> {to:?} is not a lifecycle move");
    }
    let outbox: i64 =
        db.query_one("SELECT count(*) FROM orders.outbox WHERE order_id = $1::text::uuid", &[&order.id]).await?.get(0);
    assert_eq!(outbox as usize, applied + 1, "one event per change");
    one.app.stop().await;
    two.app.stop().await;
    Ok(())
}

fn status_of(name: &str) -> pb::OrderStatus {
    pb::OrderStatus::from_str_name(&format!("ORDER_STATUS_{name}")).expect("a stored status")
}

fn allowed(from: pb::OrderStatus, to: pb::OrderStatus) -> bool {
    use pb::OrderStatus::*;
    matches!(
        (from, to),
        (Placed, Accepted)
            | (Accepted, Preparing)
            | (Preparing, Ready)
            | (Ready, Completed)
            | (Placed | Accepted, Cancelled)
            | (Ready, Preparing)
    )
}

#[actix_rt::test]
async fn events_written_while_the_broker_is_down_are_published_once_and_in_order_after() -> anyhow::Result<()> {
    use pb::OrderStatus::*;
    let mut broker = PrivateBroker::start()?;
    let s = start_with(
        TestDatabase::create().await?,
        testkit::unique_name("orders.events"),
        TestAuth::new(),
        broker.brokers(),
    )
    .await?;
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);

    broker.stop()?;
    let mut expected = Vec::new();
    for _ in 0..3 {
        let order = place(&s).await?;
        for status in [Accepted, Preparing] {
            set_status(&s, &chef, &order.id, status).await?;
        }
        expected.extend((1..=3).map(|v| (order.id.clone(), v)));
    }
    broker.resume()?;

    let records = records::read(&broker.brokers(), &s.topic, expected.len()).await?;
    let mut seen: Vec<(String, i64)> = records
        .iter()
        .map(|r| order_events::decode(r.key.as_deref(), r.payload.as_deref()).map(|e| (e.order_id, e.order_version)))
        .collect::<Result<_, _>>()?;
    // Per order, versions arrive in order (one key, one partition).
    for (id, _) in &expected {
        let versions: Vec<i64> = seen.iter().filter(|(o, _)| o == id).map(|(_, v)| *v).collect();
        assert_eq!(versions, [1, 2, 3], "order {id}");
    }
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "each event exactly once");
    testkit::eventually("the outbox to be marked published", || async {
        let db = s.db.connect().await.ok()?;
        let waiting: i64 =
            db.query_one("SELECT count(*) FROM orders.outbox WHERE published_at IS NULL", &[]).await.ok()?.get(0);
        (waiting == 0).then_some(())
    })
    .await;
    s.app.stop().await;
    Ok(())
}

/// A broker that is down when orders starts does not keep it down: it binds, takes orders
/// (their events wait in the outbox), says not ready naming the topics, and publishes every
/// event once the broker is back.
#[actix_rt::test]
async fn orders_started_while_the_broker_is_down_takes_orders_and_publishes_them_once_it_is_back() -> anyhow::Result<()>
{
    let mut broker = PrivateBroker::start()?;
    broker.stop()?;
    let started = tokio::time::timeout(
        testkit::DEADLINE,
        start_with(
            TestDatabase::create().await?,
            testkit::unique_name("orders.events"),
            TestAuth::new(),
            broker.brokers(),
        ),
    )
    .await;
    let s = started.expect("orders starts without its broker")?;
    let placed = place(&s).await?;
    let readyz = format!("http://{}/readyz", s.app.ops_addr());
    let answer = s.http.get(&readyz).send().await?;
    assert_eq!(answer.status(), 503);
    let checks: serde_json::Value = answer.json().await?;
    assert!(checks["topics"].as_str().is_some_and(|t| t.starts_with("the topics are not created yet")), "{checks}");

    broker.resume()?;
    testkit::eventually("orders to be ready", || async {
        (s.http.get(&readyz).send().await.ok()?.status() == 200).then_some(())
    })
    .await;
    let records = records::read(&broker.brokers(), &s.topic, 1).await?;
    let event = order_events::decode(records[0].key.as_deref(), records[0].payload.as_deref())?;
    assert_eq!((event.order_id, event.order_version), (placed.id, 1));
    s.app.stop().await;
    Ok(())
}

/// A poison record on the topic (not an order event) is skipped by the `WatchOrders` feed with
/// a count, and the events after it, on the same partition, still reach watchers.
#[actix_rt::test]
async fn the_order_feed_skips_a_record_it_cannot_decode_and_goes_on() -> anyhow::Result<()> {
    use pb::OrderStatus::*;
    let s = start().await?;
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let (mut everything, _) = watch_all(&s).await?;
    let order = place(&s).await?;
    // Keyed by the order: the same partition as its events, so the next one comes after it.
    records::write(&testkit::brokers(), &s.topic, Some(order.id.as_bytes()), b"\xff not an order event", &[]).await?;
    set_status(&s, &chef, &order.id, Accepted).await?;
    let accepted = tokio::time::timeout(testkit::DEADLINE, async {
        while let Some(event) = everything.next().await {
            let event = event?;
            if event.order_id == order.id && event.order.as_ref().is_some_and(|o| o.status == Accepted as i32) {
                return anyhow::Ok(event);
            }
        }
        anyhow::bail!("the stream ended")
    })
    .await??;
    assert_eq!(accepted.order.map(|o| o.version), Some(2));
    let metrics = s.http.get(format!("http://{}/metrics", s.app.ops_addr())).send().await?.text().await?;
    assert!(
        metrics.lines().any(|l| l.starts_with("orders_feed_skipped_records_total") && l.ends_with(" 1")),
        "the skipped record is counted once"
    );
    Ok(())
}
