//! The orders service alone, on a real database and broker: placing orders over gRPC and REST,
//! idempotency, the outbox reaching the topic, and refusals that write nothing.

mod common;

use common::{BRUSCHETTA, GARLIC_BREAD, item, start};
use restaurant_proto::v1 as pb;
use serde_json::{Value, json};
use testkit::{TestAuth, TestDatabase, records};
use tokens::{Role, Token};

async fn seasonal_special(db: &TestDatabase) -> anyhow::Result<String> {
    let row = db
        .connect()
        .await?
        .query_one("SELECT id::text FROM orders.menu_items WHERE NOT available LIMIT 1", &[])
        .await?;
    Ok(row.get(0))
}

#[actix_rt::test]
async fn a_placed_order_is_stored_priced_and_published_with_its_full_state() -> anyhow::Result<()> {
    let s = start().await?;
    let request = pb::CreateOrderRequest {
        items: vec![
            item(GARLIC_BREAD, 2),
            pb::OrderItemInput { note: Some("extra basil".into()), ..item(BRUSCHETTA, 1) },
        ],
        idempotency_key: None,
        order_type: pb::OrderType::DineIn.into(),
        table_label: Some(" Terrace 3 ".into()),
    };
    let order = s.grpc.clone().create_order(s.as_customer(request)).await?.into_inner().order.expect("an order");
    assert_eq!(order.status, pb::OrderStatus::Placed as i32);
    assert_eq!((order.order_type(), order.table_label.as_str()), (pb::OrderType::DineIn, "Terrace 3"));
    assert_eq!(order.version, 1);
    assert_eq!(order.total_cents, 2 * 550 + 650, "prices come from the menu");
    assert_eq!(order.lines[0].name, "Garlic Bread");
    assert_eq!(order.lines[1].note.as_deref(), Some("extra basil"));

    let fetched = s.grpc.clone().get_order(s.as_customer(pb::GetOrderRequest { id: order.id.clone() })).await?;
    assert_eq!(fetched.into_inner().order.as_ref(), Some(&order));
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let by_kitchen = s.grpc.clone().get_order(s.as_user(&chef, pb::GetOrderRequest { id: order.id.clone() })).await?;
    assert_eq!(by_kitchen.into_inner().order.as_ref(), Some(&order), "the kitchen sees every order");
    let (_, stranger) = s.auth.user_token(Role::Customer);
    let refused = s
        .grpc
        .clone()
        .get_order(s.as_user(&stranger, pb::GetOrderRequest { id: order.id.clone() }))
        .await
        .expect_err("another customer's order");
    // Answered exactly like an id that does not exist: ids cannot be probed.
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = s
        .grpc
        .clone()
        .get_order(s.as_user(&stranger, pb::GetOrderRequest { id: unknown.clone() }))
        .await
        .expect_err("an unknown order");
    assert_eq!((refused.code(), missing.code()), (tonic::Code::NotFound, tonic::Code::NotFound));
    assert_eq!(refused.message().replace(&order.id, "ID"), missing.message().replace(&unknown, "ID"));

    let record = records::read(&testkit::brokers(), &s.topic, 1).await?.remove(0);
    assert_eq!(record.key.as_deref(), Some(order.id.as_bytes()));
    assert!(record.headers.contains(&("event-type".to_owned(), b"order.created".to_vec())));
    let event = order_events::decode(record.key.as_deref(), record.payload.as_deref())?;
    assert_eq!(event.order.as_ref(), Some(&order), "the event carries the whole order");
    assert!(matches!(event.change, Some(order_events::Change::Created(_))));

    let published = testkit::eventually("the outbox row to be marked published", || async {
        let client = s.db.connect().await.ok()?;
        let row =
            client.query_one("SELECT count(*) FROM orders.outbox WHERE published_at IS NOT NULL", &[]).await.ok()?;
        let n: i64 = row.get(0);
        (n == 1).then_some(n)
    })
    .await;
    assert_eq!(published, 1);
    let metrics = s.http.get(format!("http://{}/metrics", s.app.ops_addr())).send().await?.text().await?;
    assert!(
        metrics.lines().any(|l| l.starts_with("grpc_request_duration_seconds_count")
            && l.contains(r#"method="/restaurant.v1.OrderService/CreateOrder""#)),
        "gRPC calls are timed by method:\n{metrics}"
    );
    for step in ["number", "placement"] {
        assert!(
            metrics.lines().any(|l| l.starts_with("orders_placement_round_trip_seconds_count")
                && l.contains(&format!(r#"step="{step}""#))
                && l.ends_with(" 1")),
            "the placement's {step} round trip is timed once:\n{metrics}"
        );
    }
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_order() -> anyhow::Result<()> {
    let s = start().await?;
    let cart =
        |items| pb::CreateOrderRequest { items, idempotency_key: Some("checkout-1".into()), ..Default::default() };
    let first = s
        .grpc
        .clone()
        .create_order(s.as_customer(cart(vec![item(GARLIC_BREAD, 1), item(BRUSCHETTA, 2)])))
        .await?
        .into_inner();
    // The same cart with its lines in another order is the same cart.
    let again = s
        .grpc
        .clone()
        .create_order(s.as_customer(cart(vec![item(BRUSCHETTA, 2), item(GARLIC_BREAD, 1)])))
        .await?
        .into_inner();
    assert_eq!(first.order.as_ref().map(|o| &o.id), again.order.as_ref().map(|o| &o.id));
    assert_eq!(s.db.count("orders.orders").await?, 1);

    // A double click: the same key at the same moment, from fresh carts; one order, every
    // answer names it.
    let clicks = (0..8).map(|_| {
        let mut grpc = s.grpc.clone();
        let request = s.as_customer(pb::CreateOrderRequest {
            items: vec![item(BRUSCHETTA, 1)],
            idempotency_key: Some("double-click".into()),
            ..Default::default()
        });
        async move { grpc.create_order(request).await.map(|r| r.into_inner().order.map(|o| o.id)) }
    });
    let answers: Vec<_> = futures::future::try_join_all(clicks).await?;
    assert!(answers[0].is_some() && answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(s.db.count("orders.orders").await?, 2);

    let other =
        s.grpc.clone().create_order(s.as_customer(cart(vec![item(GARLIC_BREAD, 5)]))).await.expect_err("another cart");
    assert_eq!(other.code(), tonic::Code::AlreadyExists);
    assert_eq!(s.db.count("orders.orders").await?, 2);
    assert_eq!(s.db.count("orders.outbox").await?, 2);

    // Keys are kept 24 hours, then pruned: the table does not grow for ever.
    let client = service_kit::db::pool(&s.db.settings())?.get().await?;
    assert_eq!(orders::store::outbox::prune_idempotency_keys(&client).await?, 0, "a fresh key stays");
    client.execute("UPDATE orders.idempotency_keys SET created_at = now() - interval '25 hours'", &[]).await?;
    assert_eq!(orders::store::outbox::prune_idempotency_keys(&client).await?, 2);
    assert_eq!(s.db.count("orders.idempotency_keys").await?, 0);
    s.app.stop().await;
    Ok(())
}

/// The service remembers dishes as it last placed them, to check and write an order in one
/// round trip; a menu changed behind its back (an operator's SQL) must still win.
#[actix_rt::test]
async fn orders_are_placed_as_the_menu_is_now_even_when_it_changed_behind_the_services_back() -> anyhow::Result<()> {
    let s = start().await?;
    let with_key = |key: &str| pb::CreateOrderRequest {
        items: vec![item(GARLIC_BREAD, 2)],
        idempotency_key: Some(key.into()),
        ..Default::default()
    };
    let first = s.grpc.clone().create_order(s.as_customer(with_key("first"))).await?.into_inner().order;
    assert_eq!(first.as_ref().map(|o| o.total_cents), Some(2 * 550));

    let operator = s.db.connect().await?;
    let garlic_bread = uuid::Uuid::parse_str(GARLIC_BREAD)?;
    operator
        .execute("UPDATE orders.menu_items SET price_cents = 600, name = 'Garlic Loaf' WHERE id = $1", &[&garlic_bread])
        .await?;
    let repriced = s.grpc.clone().create_order(s.as_customer(with_key("second"))).await?.into_inner().order;
    let repriced = repriced.expect("an order");
    assert_eq!((repriced.total_cents, repriced.lines[0].name.as_str()), (2 * 600, "Garlic Loaf"));
    assert_eq!(repriced.lines[0].unit_price_cents, 600);

    operator.execute("UPDATE orders.menu_items SET available = false WHERE id = $1", &[&garlic_bread]).await?;
    // A retry of an order already placed is answered with it: the key is checked before the menu.
    let retried = s.grpc.clone().create_order(s.as_customer(with_key("second"))).await?.into_inner().order;
    assert_eq!(retried.map(|o| o.id), Some(repriced.id));
    let refused = s.grpc.clone().create_order(s.as_customer(with_key("third"))).await.expect_err("sold out");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("Garlic Loaf is sold out"), "{}", refused.message());
    assert_eq!(s.db.count("orders.orders").await?, 2);
    assert_eq!(s.db.count("orders.outbox").await?, 2);
    assert_eq!(s.db.count("orders.idempotency_keys").await?, 2, "a refused order claims no key");

    operator.execute("UPDATE orders.menu_items SET available = true WHERE id = $1", &[&garlic_bread]).await?;
    let back = s.grpc.clone().create_order(s.as_customer(with_key("third"))).await?.into_inner().order;
    assert_eq!(back.map(|o| o.total_cents), Some(2 * 600));
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn an_idempotency_key_is_free_again_after_its_24_hours() -> anyhow::Result<()> {
    let s = start().await?;
    let place = || async {
        let request = pb::CreateOrderRequest {
            items: vec![item(GARLIC_BREAD, 1)],
            idempotency_key: Some("weekly".into()),
            ..Default::default()
        };
        let order = s.grpc.clone().create_order(s.as_customer(request)).await?.into_inner().order;
        order.map(|o| o.id).ok_or_else(|| anyhow::anyhow!("no order"))
    };
    let client = service_kit::db::pool(&s.db.settings())?.get().await?;
    let key_used = |ago: &'static str| {
        let client = &client;
        async move {
            let sql = format!("UPDATE orders.idempotency_keys SET created_at = now() - interval '{ago}'");
            client.execute(sql.as_str(), &[]).await
        }
    };
    let first = place().await?;
    // A minute short of 24 hours, the key still answers with its order.
    key_used("23 hours 59 minutes").await?;
    assert_eq!(place().await?, first);
    // A minute past, it is free: the same cart under it is a new order, which the key names now.
    key_used("24 hours 1 minute").await?;
    let second = place().await?;
    assert_ne!(second, first);
    assert_eq!(place().await?, second);
    assert_eq!(s.db.count("orders.orders").await?, 2);
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn refusals_name_the_problem_and_write_nothing() -> anyhow::Result<()> {
    let s = start().await?;
    let unavailable = seasonal_special(&s.db).await?;
    let cases: Vec<(Vec<pb::OrderItemInput>, &str)> = vec![
        (vec![], "empty"),
        (vec![item(GARLIC_BREAD, 0)], "quantity 0"),
        (vec![item(GARLIC_BREAD, 51)], "quantity 51"),
        (vec![item(GARLIC_BREAD, 1), item(GARLIC_BREAD, -1)], "line 2"),
        (vec![item("garlic-bread", 1)], "not a valid id"),
        (vec![item(&uuid::Uuid::new_v4().to_string(), 1)], "no menu item"),
        (vec![item(&unavailable, 1)], "not available"),
        (vec![pb::OrderItemInput { note: Some("n".repeat(201)), ..item(GARLIC_BREAD, 1) }], "201 characters"),
        ((0..101).map(|_| item(GARLIC_BREAD, 1)).collect(), "101 lines"),
    ];
    for (items, expected) in cases {
        let refused = s
            .grpc
            .clone()
            .create_order(s.as_customer(pb::CreateOrderRequest {
                items,
                idempotency_key: Some("k".into()),
                ..Default::default()
            }))
            .await
            .expect_err(expected);
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{expected}: {refused:?}");
        assert!(refused.message().contains(expected), "{:?} should mention {expected:?}", refused.message());
    }
    let refused =
        s.grpc.clone().get_order(s.as_customer(pb::GetOrderRequest { id: "nope".into() })).await.expect_err("bad id");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let missing = s
        .grpc
        .clone()
        .get_order(s.as_customer(pb::GetOrderRequest { id: uuid::Uuid::new_v4().to_string() }))
        .await
        .expect_err("no such order");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    for table in ["orders.orders", "orders.order_items", "orders.outbox", "orders.idempotency_keys"] {
        assert_eq!(s.db.count(table).await?, 0, "{table} must stay empty");
    }
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn rest_create_order_answers_like_the_seed_and_refuses_bad_json() -> anyhow::Result<()> {
    let s = start().await?;
    let url = format!("http://{}/order/create", s.app.http_addr());
    let post = |body: String| {
        s.http.post(&url).bearer_auth(s.customer.as_str()).header("content-type", "application/json").body(body).send()
    };

    let created = post(json!({ "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 3 }] }).to_string()).await?;
    assert_eq!(created.status().as_u16(), 201);
    let body: Value = created.json().await?;
    assert_eq!(body["totalCents"], 1650);
    assert_eq!(body["items"][0]["name"], "Garlic Bread");

    for (body, status) in [
        ("{not json".to_owned(), 400),
        (json!({ "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 1, "price": 0 }] }).to_string(), 400),
        (json!({ "items": [{ "menuItemId": GARLIC_BREAD, "quantity": "two" }] }).to_string(), 400),
        (json!({ "items": [] }).to_string(), 400),
        (
            format!(
                "{{\"items\":[{}]}}",
                vec![
                    format!("{{\"menuItemId\":\"{GARLIC_BREAD}\",\"quantity\":1,\"note\":\"{}\"}}", "x".repeat(150));
                    500
                ]
                .join(",")
            ),
            413,
        ),
    ] {
        let response = post(body.clone()).await?;
        assert_eq!(response.status().as_u16(), status, "{}", &body[..body.len().min(80)]);
        let answer: Value = response.json().await?;
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    }
    assert_eq!(s.db.count("orders.orders").await?, 1);
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn every_call_needs_the_right_tokens_and_refusals_write_nothing() -> anyhow::Result<()> {
    let s = start().await?;
    let create =
        || pb::CreateOrderRequest { items: vec![item(GARLIC_BREAD, 1)], idempotency_key: None, ..Default::default() };
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let foreign = TestAuth::new();
    let (_, forged) = foreign.user_token(Role::Customer);
    let read_only = tokens::attenuate(
        &s.customer,
        &tokens::TokenVerifier::from_public_key_hex(&s.auth.settings("x", "").token_public_key)?,
        r#"check if operation("read");"#,
    )?;

    // (what the gateway sends, expected code)
    let cases: Vec<(tonic::Request<pb::CreateOrderRequest>, tonic::Code, &str)> = vec![
        (tonic::Request::new(create()), tonic::Code::Unauthenticated, "no tokens at all"),
        (
            {
                let mut r = tonic::Request::new(create());
                tokens::grpc::attach(&mut r, &s.customer, Some(&s.customer));
                r
            },
            tonic::Code::PermissionDenied,
            "a user token where a service token belongs",
        ),
        (
            {
                let mut r = tonic::Request::new(create());
                tokens::grpc::attach(&mut r, &s.service, None);
                r
            },
            tonic::Code::Unauthenticated,
            "no user token",
        ),
        (s.as_user(&chef, create()), tonic::Code::PermissionDenied, "kitchen staff do not place orders"),
        (s.as_user(&forged, create()), tonic::Code::Unauthenticated, "signed by another key"),
        (s.as_user(&read_only, create()), tonic::Code::PermissionDenied, "a read-only token"),
        (s.as_user(&Token::new("garbage"), create()), tonic::Code::Unauthenticated, "malformed"),
    ];
    for (request, code, case) in cases {
        let refused = s.grpc.clone().create_order(request).await.expect_err(case);
        assert_eq!(refused.code(), code, "{case}: {refused:?}");
    }
    let rest = s
        .http
        .post(format!("http://{}/order/create", s.app.http_addr()))
        .json(&json!({ "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 1 }] }))
        .send()
        .await?;
    assert_eq!(rest.status().as_u16(), 401);
    assert_eq!(s.db.count("orders.orders").await?, 0);
    s.app.stop().await;
    Ok(())
}

/// Least privilege between services: each operation accepts only the service tokens of the
/// services that need it. The kitchen moves orders along; it does not place them.
#[actix_rt::test]
async fn a_service_token_opens_only_the_calls_its_service_needs() -> anyhow::Result<()> {
    let s = start().await?;
    let kitchen = s.auth.service_token("kitchen");
    fn on_behalf<T>(service: &Token, user: &Token, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach(&mut request, service, Some(user));
        request
    }
    let refused = s
        .grpc
        .clone()
        .create_order(on_behalf(
            &kitchen,
            &s.customer,
            pb::CreateOrderRequest { items: vec![item(GARLIC_BREAD, 1)], idempotency_key: None, ..Default::default() },
        ))
        .await
        .expect_err("the kitchen does not place orders");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(refused.message().contains("kitchen"), "{}", refused.message());
    assert_eq!(s.db.count("orders.orders").await?, 0, "a refusal writes nothing");

    // The same order moved along by the kitchen's tablets: allowed.
    let order = s
        .grpc
        .clone()
        .create_order(s.as_customer(pb::CreateOrderRequest {
            items: vec![item(GARLIC_BREAD, 1)],
            idempotency_key: None,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .order
        .expect("an order");
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let accepted = s
        .grpc
        .clone()
        .update_order_status(on_behalf(
            &kitchen,
            &chef,
            pb::UpdateOrderStatusRequest { id: order.id, status: pb::OrderStatus::Accepted.into() },
        ))
        .await?;
    assert_eq!(accepted.into_inner().order.map(|o| o.status), Some(pb::OrderStatus::Accepted.into()));
    s.app.stop().await;
    Ok(())
}
