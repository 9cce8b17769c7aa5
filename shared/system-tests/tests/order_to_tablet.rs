//! The walking skeleton, end to end: GraphQL `createOrder` on the gateway → gRPC → an order
//! actor writes the order and its outbox row → the relay publishes to the topic → the kitchen's
//! consumer stores a ticket → the hub pushes it to a connected tablet.

use serde_json::json;
use system_tests::Stack;
use testkit::{Tablet, records};

const CREATE_ORDER: &str = "mutation($input: CreateOrderInput!) {
    createOrder(input: $input) { id status totalCents items { name quantity note } }
}";

#[actix_rt::test]
async fn an_order_placed_over_graphql_appears_on_a_connected_tablet() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (customer_id, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    let snapshot = tablet.next_of_type("snapshot").await?;
    assert_eq!(snapshot["tickets"], json!([]), "a new kitchen has no open tickets");
    let snapshot_seq = snapshot["seq"].as_i64().expect("the snapshot has a sequence number");

    let mains = stack.menu_ids("MAIN", 1).await?;
    let sides = stack.menu_ids("SIDE", 1).await?;
    let (burger_id, burger) = &mains[0];
    let (fries_id, fries) = &sides[0];
    let sent = std::time::Instant::now();
    let answer = stack
        .graphql_as(
            Some(&customer),
            CREATE_ORDER,
            json!({ "input": { "items": [
                { "menuItemId": burger_id, "quantity": 2, "note": "no pickles" },
                { "menuItemId": fries_id, "quantity": 1 },
            ]}}),
        )
        .await?;
    assert_eq!(answer["errors"], serde_json::Value::Null, "{answer}");
    let order = &answer["data"]["createOrder"];
    assert_eq!(order["status"], "PLACED");

    let message = tablet.next_of_type("ticket").await?;
    eprintln!("order to tablet (first order, consumer may still be joining): {:?}", sent.elapsed());
    assert_eq!(message["orderId"], order["id"]);
    assert_eq!(message["seq"].as_i64(), Some(snapshot_seq + 1), "sequence numbers have no gaps");
    let ticket = &message["ticket"];
    // The dishes' prep minutes travel from the menu into the ticket's lines.
    let menu = stack.graphql("{ menuItems(first: 100) { edges { node { id prepMinutes } } } }", json!({})).await?;
    let prep: serde_json::Map<String, serde_json::Value> = menu["data"]["menuItems"]["edges"]
        .as_array()
        .expect("menu edges")
        .iter()
        .map(|e| (e["node"]["id"].as_str().unwrap_or_default().to_owned(), e["node"]["prepMinutes"].clone()))
        .collect();
    assert!(prep[burger_id.as_str()].as_i64().is_some_and(|m| m > 0), "{menu}");
    assert_eq!(ticket["status"], "PLACED");
    assert_eq!(ticket["customerId"], customer_id.as_str(), "the order belongs to the token's user");
    assert_eq!(
        ticket["items"],
        json!([
            { "menuItemId": burger_id, "name": burger, "station": ticket["items"][0]["station"],
              "prepMinutes": prep[burger_id.as_str()], "quantity": 2, "note": "no pickles" },
            { "menuItemId": fries_id, "name": fries, "station": ticket["items"][1]["station"],
              "prepMinutes": prep[fries_id.as_str()], "quantity": 1, "note": null },
        ])
    );
    assert!(ticket["items"][0]["station"].as_str().is_some_and(|s| !s.is_empty()));

    // Once the kitchen's consumer has joined its group, the path takes milliseconds.
    let sent = std::time::Instant::now();
    let answer = stack
        .graphql_as(
            Some(&customer),
            CREATE_ORDER,
            json!({ "input": { "items": [{ "menuItemId": fries_id, "quantity": 4 }] } }),
        )
        .await?;
    let message = tablet.next_of_type("ticket").await?;
    eprintln!("order to tablet (warm): {:?}", sent.elapsed());
    assert_eq!(message["orderId"], answer["data"]["createOrder"]["id"]);
    assert_eq!(message["ticket"]["items"][0]["quantity"], 4);

    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_same_event_delivered_twice_makes_one_ticket() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    // A browser tablet cannot set headers: it authenticates with its first message.
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect(stack.kitchen.http_addr()).await?;
    tablet.send_json(&json!({ "type": "auth", "token": chef.as_str() })).await?;
    tablet.next_of_type("snapshot").await?;
    let drinks = stack.menu_ids("DRINK", 2).await?;

    let first = stack
        .graphql_as(
            Some(&customer),
            CREATE_ORDER,
            json!({ "input": { "items": [{ "menuItemId": drinks[0].0, "quantity": 1 }] } }),
        )
        .await?;
    let first_id = first["data"]["createOrder"]["id"].as_str().expect("an order id").to_owned();
    let first_push = tablet.next_of_type("ticket").await?;
    assert_eq!(first_push["orderId"], first_id.as_str());

    // Deliver the very same record again, as a producer retry or a rebalance would.
    let brokers = testkit::brokers();
    let original = records::read(&brokers, &stack.topic, 1).await?.remove(0);
    records::write(
        &brokers,
        &stack.topic,
        original.key.as_deref(),
        original.payload.as_deref().unwrap_or_default(),
        &original.headers,
    )
    .await?;
    let kitchen = stack.kitchen.ops_addr();
    testkit::eventually("the kitchen to see the duplicate", || async {
        (stack.metric(kitchen, "kitchen_stale_events_total").await.ok()? >= 1.0).then_some(())
    })
    .await;

    // The next push is the next order: nothing was pushed for the duplicate.
    let second = stack
        .graphql_as(
            Some(&customer),
            CREATE_ORDER,
            json!({ "input": { "items": [{ "menuItemId": drinks[1].0, "quantity": 3 }] } }),
        )
        .await?;
    let second_push = tablet.next_of_type("ticket").await?;
    assert_eq!(second_push["orderId"], second["data"]["createOrder"]["id"]);
    assert_eq!(second_push["seq"].as_i64(), first_push["seq"].as_i64().map(|s| s + 1));

    let db = stack.db.connect().await?;
    let changes: i64 = db
        .query_one("SELECT count(*) FROM kitchen.tablet_changes WHERE order_id = $1::text::uuid", &[&first_id])
        .await?
        .get(0);
    assert_eq!(changes, 1, "one change recorded for the order, not two");
    assert_eq!(stack.db.count("kitchen.tickets").await?, 2);

    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_bad_order_is_refused_with_a_code_and_writes_nothing() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let mains = stack.menu_ids("MAIN", 1).await?;
    let cases = [
        json!({ "items": [] }),
        json!({ "items": [{ "menuItemId": mains[0].0, "quantity": 0 }] }),
        json!({ "items": [{ "menuItemId": mains[0].0, "quantity": -2 }] }),
        json!({ "items": [{ "menuItemId": "not-a-uuid", "quantity": 1 }] }),
        json!({ "items": [{ "menuItemId": uuid::Uuid::new_v4().to_string(), "quantity": 1 }] }),
        json!({ "items": [{ "menuItemId": mains[0].0, "quantity": 1, "note": "x".repeat(201) }] }),
    ];
    for input in cases {
        let answer = stack.graphql_as(Some(&customer), CREATE_ORDER, json!({ "input": input })).await?;
        assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{input} → {answer}");
        assert!(answer["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(stack.db.count("orders.orders").await?, 0);
    assert_eq!(stack.db.count("orders.outbox").await?, 0);
    stack.stop().await;
    Ok(())
}
