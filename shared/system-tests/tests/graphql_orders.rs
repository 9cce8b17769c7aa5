//! Placing and finishing orders over GraphQL, as the web UI does: the `createOrder` idempotency
//! key (a retry, another cart, another customer, two requests at once), what `completeOrder`
//! leaves behind, the `orders(status:)` filter, and the kitchen-wide `orderStatusChanged` feed.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use system_tests::{Stack, Subscriber};
use tokens::Token;

const CREATE: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id status version } }";

fn code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// `quantity` × `item`, with `key` as the idempotency key when given.
fn cart(item: &str, quantity: i32, key: Option<&str>) -> Value {
    json!({ "i": { "idempotencyKey": key, "items": [{ "menuItemId": item, "quantity": quantity }] } })
}

fn created_id(answer: &Value) -> anyhow::Result<String> {
    Ok(answer["data"]["createOrder"]["id"].as_str().ok_or_else(|| anyhow::anyhow!("no order: {answer}"))?.to_owned())
}

/// How many orders `customer` has, as stored (not as any API reports them).
async fn stored_orders(stack: &Stack, customer: &str) -> anyhow::Result<i64> {
    let client = stack.db.connect().await?;
    let row = client
        .query_one("SELECT count(*) FROM orders.orders WHERE customer_id = $1", &[&uuid::Uuid::parse_str(customer)?])
        .await?;
    Ok(row.get(0))
}

async fn set_status(stack: &Stack, chef: &Token, id: &str, status: &str) -> anyhow::Result<()> {
    let answer = stack
        .graphql_as(
            Some(chef),
            "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status } }",
            json!({ "id": id, "s": status }),
        )
        .await?;
    anyhow::ensure!(answer["data"]["updateOrderStatus"]["status"] == status, "{answer}");
    Ok(())
}

#[actix_rt::test]
async fn a_retry_with_the_same_key_returns_the_first_order() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (alice_id, alice) = stack.register_customer().await?;
    let (bob_id, bob) = stack.register_customer().await?;
    let item = stack.menu_ids("MAIN", 1).await?.remove(0).0;

    let first = stack.graphql_as(Some(&alice), CREATE, cart(&item, 2, Some("checkout-1"))).await?;
    let retried = stack.graphql_as(Some(&alice), CREATE, cart(&item, 2, Some("checkout-1"))).await?;
    assert_eq!(created_id(&retried)?, created_id(&first)?, "{first} {retried}");
    assert_eq!(retried["data"]["createOrder"]["version"], 1, "the first order, unchanged: {retried}");
    assert_eq!(stored_orders(&stack, &alice_id).await?, 1);

    // The key is bound to its cart: another cart under it is refused and writes nothing.
    let other_cart = stack.graphql_as(Some(&alice), CREATE, cart(&item, 3, Some("checkout-1"))).await?;
    assert_eq!(code(&other_cart), Some("CONFLICT"), "{other_cart}");
    assert!(other_cart["data"].is_null(), "{other_cart}");
    // Keys are each customer's own: Bob's "checkout-1" is a new order of his.
    let bobs = stack.graphql_as(Some(&bob), CREATE, cart(&item, 2, Some("checkout-1"))).await?;
    assert_ne!(created_id(&bobs)?, created_id(&first)?);
    assert_eq!(stored_orders(&stack, &bob_id).await?, 1);
    // Without a key, every request is a new order.
    for _ in 0..2 {
        created_id(&stack.graphql_as(Some(&alice), CREATE, cart(&item, 2, None)).await?)?;
    }
    assert_eq!(stored_orders(&stack, &alice_id).await?, 3);
    // A key is text of sane length.
    let blank = stack.graphql_as(Some(&alice), CREATE, cart(&item, 2, Some(""))).await?;
    assert_eq!(code(&blank), Some("BAD_USER_INPUT"), "{blank}");
    assert_eq!(stored_orders(&stack, &alice_id).await?, 3);
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn two_requests_at_once_with_one_key_make_exactly_one_order() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (customer_id, customer) = stack.register_customer().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    // Several rounds: each is a race the two requests may run either way round.
    let rounds = 5;
    for round in 0..rounds {
        let key = format!("double-click-{round}");
        let (one, two) = tokio::join!(
            stack.graphql_as(Some(&customer), CREATE, cart(&item, 1, Some(&key))),
            stack.graphql_as(Some(&customer), CREATE, cart(&item, 1, Some(&key))),
        );
        let (one, two) = (one?, two?);
        // Both succeed, with the same order: the later waits for the earlier and replays it.
        assert_eq!(created_id(&one)?, created_id(&two)?, "round {round}: {one} {two}");
        assert_eq!(stored_orders(&stack, &customer_id).await?, round + 1, "round {round}");
    }
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn complete_order_finishes_a_ready_order_everywhere() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("DESSERT", 1).await?.remove(0).0;
    let order = stack.place_order(&customer, &item, 1).await?;
    let complete = "mutation($id: ID!) { completeOrder(orderId: $id) { id status version timeline { status } } }";

    // Not READY yet: refused, and nothing changes.
    let early = stack.graphql_as(Some(&chef), complete, json!({ "id": order })).await?;
    assert_eq!(code(&early), Some("CONFLICT"), "{early}");
    for status in ["ACCEPTED", "PREPARING", "READY"] {
        set_status(&stack, &chef, &order, status).await?;
    }
    let completed = stack.graphql_as(Some(&chef), complete, json!({ "id": order })).await?;
    let timeline = json!([
        { "status": "PLACED" },
        { "status": "ACCEPTED" },
        { "status": "PREPARING" },
        { "status": "READY" },
        { "status": "COMPLETED" }
    ]);
    assert_eq!(
        completed["data"]["completeOrder"],
        json!({ "id": order, "status": "COMPLETED", "version": 5, "timeline": timeline }),
        "{completed}"
    );
    // Stored so: the customer reads it back, and it cannot be completed twice.
    let read = stack
        .graphql_as(Some(&customer), "query($id: ID!) { order(id: $id) { status version } }", json!({ "id": order }))
        .await?;
    assert_eq!(read["data"]["order"], json!({ "status": "COMPLETED", "version": 5 }), "{read}");
    let again = stack.graphql_as(Some(&chef), complete, json!({ "id": order })).await?;
    assert_eq!(code(&again), Some("CONFLICT"), "{again}");
    // The kitchen's ticket follows (through the event log) and leaves the board.
    let ticket = format!("http://{}/ticket/{order}", stack.kitchen.http_addr());
    let http = reqwest::Client::new();
    testkit::eventually("the ticket to be COMPLETED", || async {
        let answer: Value = http.get(&ticket).bearer_auth(chef.as_str()).send().await.ok()?.json().await.ok()?;
        (answer["status"] == "COMPLETED" && answer["version"] == 5).then_some(())
    })
    .await;
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_status_filter_returns_exactly_the_orders_in_that_status() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("SIDE", 1).await?.remove(0).0;
    let accepted = stack.place_order(&customer, &item, 1).await?;
    let cancelled = stack.place_order(&customer, &item, 1).await?;
    let placed = stack.place_order(&customer, &item, 1).await?;
    set_status(&stack, &chef, &accepted, "ACCEPTED").await?;
    let cancel = "mutation($id: ID!) { cancelOrder(orderId: $id) { status } }";
    let answer = stack.graphql_as(Some(&customer), cancel, json!({ "id": cancelled })).await?;
    assert_eq!(answer["data"]["cancelOrder"]["status"], "CANCELLED", "{answer}");

    let query = "query($s: OrderStatus) { orders(first: 50, status: $s) { edges { node { id status } } } }";
    let ids = |answer: Value| -> Vec<String> {
        answer["data"]["orders"]["edges"]
            .as_array()
            .map(|edges| edges.iter().filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    for (status, expected) in [
        (json!("PLACED"), vec![placed.clone()]),
        (json!("ACCEPTED"), vec![accepted.clone()]),
        (json!("CANCELLED"), vec![cancelled.clone()]),
        (json!("READY"), vec![]),
        // No filter: all of them, newest first.
        (Value::Null, vec![placed.clone(), cancelled.clone(), accepted.clone()]),
    ] {
        let mine = stack.graphql_as(Some(&customer), query, json!({ "s": status })).await?;
        assert_eq!(ids(mine), expected, "the customer's orders with status {status}");
    }
    // The kitchen filters everyone's orders the same way.
    let kitchen = stack.graphql_as(Some(&chef), query, json!({ "s": "ACCEPTED" })).await?;
    assert_eq!(ids(kitchen), vec![accepted.clone()]);
    let bad = stack.graphql_as(Some(&customer), query, json!({ "s": "EATEN" })).await?;
    assert!(!bad["errors"].is_null() && bad["data"].is_null(), "an unknown status is refused: {bad}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_kitchen_wide_status_feed_carries_every_orders_changes_and_no_creations() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, alice) = stack.register_customer().await?;
    let (_, bob) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;

    let mut kitchen = Subscriber::connect(&stack, &chef).await?;
    kitchen.subscribe("new", "subscription { orderCreated { id } }", json!({})).await?;
    // Until the gateway's upstream stream delivers, events could pass unseen: probe first.
    kitchen.until_an_order_arrives(&stack, &alice, &item).await?;
    let all = "subscription { orderStatusChanged { orderId status previousStatus } }";
    kitchen.subscribe("all", all, json!({})).await?;
    let gateway = stack.gateway.ops_addr();
    testkit::eventually("both subscriptions to be open", || async {
        (stack.metric(gateway, "gateway_subscriptions_open").await.ok()? == 2.0).then_some(())
    })
    .await;

    let a = stack.place_order(&alice, &item, 1).await?;
    let b = stack.place_order(&bob, &item, 2).await?;
    set_status(&stack, &chef, &a, "ACCEPTED").await?;
    set_status(&stack, &chef, &b, "ACCEPTED").await?;
    let reject = "mutation($id: ID!) { cancelOrder(orderId: $id) { status } }";
    let rejected = stack.graphql_as(Some(&chef), reject, json!({ "id": a })).await?;
    assert_eq!(rejected["data"]["cancelOrder"]["status"], "CANCELLED", "{rejected}");

    // Two orders, two keys: each order's changes in order, no order between the two promised.
    let mut seen: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for _ in 0..3 {
        let message = kitchen.next_of("all").await?;
        let event = &message["payload"]["data"]["orderStatusChanged"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let (Some(id), Some(status), Some(previous)) =
            (text(&event["orderId"]), text(&event["status"]), text(&event["previousStatus"]))
        else {
            anyhow::bail!("not a status change (a creation?): {message}");
        };
        seen.entry(id).or_default().push((previous, status));
    }
    let step = |from: &str, to: &str| (from.to_owned(), to.to_owned());
    let expected = BTreeMap::from([
        (a.clone(), vec![step("PLACED", "ACCEPTED"), step("ACCEPTED", "CANCELLED")]),
        (b.clone(), vec![step("PLACED", "ACCEPTED")]),
    ]);
    assert_eq!(seen, expected);
    stack.stop().await;
    Ok(())
}
