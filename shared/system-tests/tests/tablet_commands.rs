//! A cook's commands from a tablet travel kitchen → orders → event log → kitchen → tablet.

use serde_json::json;
use system_tests::Stack;
use testkit::Tablet;

/// Reads until both the command's ack and the ticket change it caused have arrived (in either
/// order: the change may travel the event log faster than the ack comes back).
async fn ack_and_change(tablet: &mut Tablet, order: &str, status: &str) -> anyhow::Result<()> {
    let (mut acked, mut changed) = (false, false);
    while !(acked && changed) {
        let message = tablet.next_json().await?;
        match message["type"].as_str() {
            Some("ack") => {
                assert_eq!((message["orderId"].as_str(), message["status"].as_str()), (Some(order), Some(status)));
                acked = true;
            }
            Some("ticket") => {
                assert_eq!(message["ticket"]["status"], status, "{message}");
                changed = true;
            }
            _ => panic!("unexpected message {message}"),
        }
    }
    Ok(())
}

#[actix_rt::test]
async fn a_cook_bumps_recalls_and_completes_from_the_tablet() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    tablet.next_of_type("snapshot").await?;
    let mains = stack.menu_ids("MAIN", 1).await?;
    let answer = stack
        .graphql_as(
            Some(&customer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": mains[0].0, "quantity": 1 }] } }),
        )
        .await?;
    let order = answer["data"]["createOrder"]["id"].as_str().expect("an order id").to_owned();
    assert_eq!(tablet.next_of_type("ticket").await?["ticket"]["status"], "PLACED");

    // Each command is acknowledged, and its effect arrives as a ticket change.
    for (command, expected) in
        [("bump", "ACCEPTED"), ("bump", "PREPARING"), ("bump", "READY"), ("recall", "PREPARING"), ("bump", "READY")]
    {
        tablet.send_json(&json!({ "type": command, "orderId": order })).await?;
        ack_and_change(&mut tablet, &order, expected).await?;
    }

    // A refused command comes back as an error message, and the socket stays open.
    tablet.send_json(&json!({ "type": "recall", "orderId": order })).await?;
    ack_and_change(&mut tablet, &order, "PREPARING").await?;
    tablet.send_json(&json!({ "type": "recall", "orderId": order })).await?;
    let refused = tablet.next_json().await?;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!((refused["code"].as_str(), refused["orderId"].as_str()), (Some("CONFLICT"), Some(order.as_str())));
    assert_eq!(refused["message"], "an order cannot go from PREPARING to PREPARING");
    tablet.send_json(&json!({ "type": "bump", "orderId": "not-an-id" })).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "BAD_USER_INPUT");
    tablet.send_json(&json!({ "type": "bump" })).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "BAD_USER_INPUT");
    tablet.send_json(&json!({ "type": "bump", "orderId": uuid::Uuid::new_v4() })).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "NOT_FOUND");

    // A read-only tablet watches but cannot command.
    let verifier = tokens::TokenVerifier::from_public_key_hex(&stack.auth.settings("x", "").token_public_key)?;
    let read_only = tokens::attenuate(&chef, &verifier, r#"check if operation("read");"#)?;
    let mut wall = Tablet::connect_with_token(stack.kitchen.http_addr(), &read_only).await?;
    wall.next_of_type("snapshot").await?;
    wall.send_json(&json!({ "type": "bump", "orderId": order })).await?;
    assert_eq!(wall.next_of_type("error").await?["code"], "FORBIDDEN");

    // The seed's REST way to finish an order, once it is READY again.
    tablet.send_json(&json!({ "type": "bump", "orderId": order })).await?;
    ack_and_change(&mut tablet, &order, "READY").await?;
    let http = reqwest::Client::new();
    let done = format!("http://{}/order/{order}/done", stack.kitchen.http_addr());
    let response = http.post(&done).bearer_auth(customer.as_str()).send().await?;
    assert_eq!(response.status().as_u16(), 403, "customers cannot complete orders");
    let response = http.post(&done).bearer_auth(chef.as_str()).send().await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(tablet.next_of_type("ticket").await?["ticket"]["status"], "COMPLETED");
    let again = http.post(&done).bearer_auth(chef.as_str()).send().await?;
    assert_eq!(again.status().as_u16(), 409);

    // The expo's list of the last handed-over tickets has it, first.
    let board = |snapshot: &serde_json::Value, list: &str| -> Vec<String> {
        snapshot[list].as_array().expect("a list of tickets").iter().map(|t| t["orderId"].to_string()).collect()
    };
    let quoted = format!("\"{order}\"");
    let mut expo = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    let snapshot = expo.next_of_type("snapshot").await?;
    assert_eq!(board(&snapshot, "handedOver").first(), Some(&quoted), "{snapshot}");
    assert!(!board(&snapshot, "tickets").contains(&quoted), "{snapshot}");
    // Recalled after it was handed over (the customer brought it back): the kitchen makes it
    // again, on its own record; every tablet sees it back on the board.
    tablet.send_json(&json!({ "type": "recall", "orderId": order })).await?;
    ack_and_change(&mut tablet, &order, "COMPLETED").await?;
    let remade = expo.next_of_type("ticket").await?;
    assert!(remade["ticket"]["remakeSince"].is_string(), "{remade}");
    assert_eq!(remade["ticket"]["stations"][0]["doneAt"], serde_json::Value::Null, "its lines are to do again");
    let mut late = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    let snapshot = late.next_of_type("snapshot").await?;
    assert!(board(&snapshot, "tickets").contains(&quoted), "on the board: {snapshot}");
    assert!(!board(&snapshot, "handedOver").contains(&quoted), "{snapshot}");
    tablet.send_json(&json!({ "type": "reject", "orderId": order, "reason": "too late" })).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "CONFLICT");
    // Handed over again: off the board, back in the list.
    tablet.send_json(&json!({ "type": "bump", "orderId": order })).await?;
    ack_and_change(&mut tablet, &order, "COMPLETED").await?;
    let handed = expo.next_of_type("ticket").await?;
    assert_eq!(handed["ticket"]["remakeSince"], serde_json::Value::Null, "{handed}");
    let mut later = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    let snapshot = later.next_of_type("snapshot").await?;
    assert_eq!(board(&snapshot, "handedOver").first(), Some(&quoted), "{snapshot}");
    assert!(!board(&snapshot, "tickets").contains(&quoted), "{snapshot}");
    tablet.send_json(&json!({ "type": "bump", "orderId": order })).await?;
    assert_eq!(tablet.next_of_type("error").await?["message"], "the order is COMPLETED already");

    let order_now = stack
        .graphql_as(Some(&customer), "query($id: ID!) { order(id: $id) { status version } }", json!({ "id": order }))
        .await?;
    // The remake never touched the order: the customer's is as it was handed over.
    assert_eq!(order_now["data"]["order"], json!({ "status": "COMPLETED", "version": 9 }));
    stack.stop().await;
    Ok(())
}

/// The ticket changes on `tablet` until one for `order` satisfies `wanted`.
async fn until_ticket(
    tablet: &mut Tablet,
    order: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<serde_json::Value> {
    loop {
        let message = tablet.next_of_type("ticket").await?;
        if message["orderId"] == order && wanted(&message["ticket"]) {
            return Ok(message["ticket"].clone());
        }
    }
}

#[actix_rt::test]
async fn two_stations_bump_their_lines_and_the_order_becomes_ready_then_a_recall_sends_it_back() -> anyhow::Result<()> {
    /// The demo menu's Garlic Bread (grill) and Tomato Bruschetta (cold).
    const GRILL_ITEM: &str = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d";
    const COLD_ITEM: &str = "22dbe406-f0e4-5f0b-ba15-e2f11a0a2489";
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut expo = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    expo.next_of_type("snapshot").await?;
    let mut stations = vec![];
    for station in ["grill", "cold"] {
        let mut tablet = Tablet::connect(stack.kitchen.http_addr()).await?;
        tablet
            .send_json(&json!({ "type": "auth", "token": chef.as_str(), "device": format!("{station}-tablet"), "stations": [station] }))
            .await?;
        tablet.next_of_type("snapshot").await?;
        stations.push((station, tablet));
    }
    let answer = stack
        .graphql_as(
            Some(&customer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": GRILL_ITEM, "quantity": 2 }, { "menuItemId": COLD_ITEM, "quantity": 1 }] } }),
        )
        .await?;
    let order = answer["data"]["createOrder"]["id"].as_str().expect("an order id").to_owned();
    for (station, tablet) in &mut stations {
        let ticket = until_ticket(tablet, &order, |_| true).await?;
        assert_eq!(ticket["items"].as_array().map(Vec::len), Some(1), "{station} sees its line only: {ticket}");
        assert_eq!(ticket["items"][0]["station"], *station);
    }

    // The grill first: the order stays PLACED; then the cold station: READY, through orders.
    let (_, grill) = &mut stations[0];
    grill.send_json(&json!({ "type": "stationBump", "orderId": order, "station": "grill" })).await?;
    let half = until_ticket(&mut expo, &order, |t| t["stations"][0]["doneAt"].is_string()).await?;
    assert_eq!(half["status"], "PLACED");
    assert!(half["stations"][1]["doneAt"].is_null());
    let (_, cold) = &mut stations[1];
    cold.send_json(&json!({ "type": "stationBump", "orderId": order, "station": "cold" })).await?;
    let ready = until_ticket(&mut expo, &order, |t| t["status"] == "READY").await?;
    assert!(ready["stations"].as_array().expect("stations").iter().all(|s| s["doneAt"].is_string()), "{ready}");
    let order_now = stack
        .graphql_as(Some(&customer), "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order }))
        .await?;
    assert_eq!(order_now["data"]["order"]["status"], "READY", "the orders service moved it");

    // Speed of service: both stations timed, on the manager's report and as histograms.
    let speed: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{}/speed", stack.kitchen.http_addr()))
        .bearer_auth(chef.as_str())
        .send()
        .await?
        .json()
        .await?;
    let timed: Vec<&str> =
        speed["stations"].as_array().expect("stations").iter().filter_map(|s| s["station"].as_str()).collect();
    assert_eq!(timed, ["cold", "grill"], "{speed}");
    assert_eq!(speed["tickets"], 1);
    assert_eq!(speed["toReady"]["count"], 1, "{speed}");
    assert_eq!(speed["slowestItems"].as_array().map(Vec::len), Some(2), "{speed}");
    assert_eq!(stack.metric(stack.kitchen.ops_addr(), "kitchen_station_seconds_count").await?, 2.0);
    assert!(
        stack.metric(stack.kitchen.ops_addr(), "kitchen_stage_seconds_count").await? >= 3.0,
        "accepted, preparing, ready"
    );

    // The cold station takes its lines back: the order goes back to PREPARING.
    cold.send_json(&json!({ "type": "stationRecall", "orderId": order, "station": "cold" })).await?;
    let back = until_ticket(&mut expo, &order, |t| t["status"] == "PREPARING").await?;
    assert!(back["stations"][0]["doneAt"].is_string() && back["stations"][1]["doneAt"].is_null(), "{back}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_cancel_reason_reaches_the_ticket_the_kitchen_rejects_and_rushes_and_checkout_details_travel()
-> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut expo = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    expo.next_of_type("snapshot").await?;
    let mains = stack.menu_ids("MAIN", 1).await?;
    let place = |order_type: &'static str, table: &'static str| {
        let (stack, customer, dish) = (&stack, &customer, mains[0].0.clone());
        async move {
            let answer = stack
                .graphql_as(
                    Some(customer),
                    "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id orderType table } }",
                    json!({ "i": { "items": [{ "menuItemId": dish, "quantity": 1 }], "orderType": order_type, "table": table } }),
                )
                .await?;
            anyhow::Ok(answer["data"]["createOrder"].clone())
        }
    };

    // Order type and table, from checkout to the ticket.
    let placed = place("DINE_IN", " 12 ").await?;
    assert_eq!((placed["orderType"].as_str(), placed["table"].as_str()), (Some("DINE_IN"), Some("12")), "{placed}");
    let order = placed["id"].as_str().expect("an id").to_owned();
    let ticket = until_ticket(&mut expo, &order, |_| true).await?;
    assert_eq!((ticket["orderType"].as_str(), ticket["table"].as_str()), (Some("DINE_IN"), Some("12")));
    let too_long = stack
        .graphql_as(
            Some(&customer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": mains[0].0, "quantity": 1 }], "table": "t".repeat(25) } }),
        )
        .await?;
    assert_eq!(too_long["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{too_long}");

    // Rush, and back.
    expo.send_json(&json!({ "type": "rush", "orderId": order, "rush": true })).await?;
    until_ticket(&mut expo, &order, |t| t["rush"] == true).await?;
    expo.send_json(&json!({ "type": "rush", "orderId": order, "rush": false })).await?;
    until_ticket(&mut expo, &order, |t| t["rush"] == false).await?;

    // The kitchen rejects it, saying why; a rejection without a reason is refused.
    expo.send_json(&json!({ "type": "reject", "orderId": order, "reason": "  " })).await?;
    assert_eq!(expo.next_of_type("error").await?["code"], "BAD_USER_INPUT");
    expo.send_json(&json!({ "type": "reject", "orderId": order, "reason": "Out of burrata" })).await?;
    let rejected = until_ticket(&mut expo, &order, |t| t["status"] == "CANCELLED").await?;
    assert_eq!(rejected["cancelReason"], "Out of burrata");
    let seen = stack
        .graphql_as(
            Some(&customer),
            "query($id: ID!) { order(id: $id) { status cancelReason } }",
            json!({ "id": order }),
        )
        .await?;
    assert_eq!(seen["data"]["order"], json!({ "status": "CANCELLED", "cancelReason": "Out of burrata" }));
    expo.send_json(&json!({ "type": "rush", "orderId": order, "rush": true })).await?;
    assert_eq!(expo.next_of_type("error").await?["code"], "CONFLICT", "a cancelled ticket is not rushed");

    // The customer cancels another, saying why: the ticket carries it.
    let other = place("TAKEAWAY", "Sam").await?["id"].as_str().expect("an id").to_owned();
    until_ticket(&mut expo, &other, |_| true).await?;
    let cancelled = stack
        .graphql_as(
            Some(&customer),
            "mutation($id: ID!, $r: String) { cancelOrder(orderId: $id, reason: $r) { status cancelReason } }",
            json!({ "id": other, "r": "Ordered twice" }),
        )
        .await?;
    assert_eq!(cancelled["data"]["cancelOrder"], json!({ "status": "CANCELLED", "cancelReason": "Ordered twice" }));
    let void = until_ticket(&mut expo, &other, |t| t["status"] == "CANCELLED").await?;
    assert_eq!((void["cancelReason"].as_str(), void["orderType"].as_str()), (Some("Ordered twice"), Some("TAKEAWAY")));
    stack.stop().await;
    Ok(())
}
