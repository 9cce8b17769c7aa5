//! The kitchen's promise end to end: prep minutes travel into the order's lines, the kitchen
//! plans its queue and the order carries its ready-by time — moved without a new version, live
//! on the order's subscription — and a cart's estimate waits behind the queue.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use system_tests::{Stack, Subscriber};
use tokens::Token;

const ORDER: &str = "query($id: ID!) { order(id: $id) { version promiseRevision readyBy items { prepMinutes } } }";

fn time(value: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.as_str()?).ok().map(|t| t.to_utc())
}

/// The order's promise once it satisfies `wanted`.
async fn promise(
    stack: &Stack,
    customer: &Token,
    id: &str,
    wanted: impl Fn(DateTime<Utc>) -> bool,
) -> (DateTime<Utc>, Value) {
    testkit::eventually(&format!("order {id}'s promise to settle"), || async {
        let answer = stack.graphql_as(Some(customer), ORDER, json!({ "id": id })).await.ok()?;
        let order = answer["data"]["order"].clone();
        let at = time(&order["readyBy"])?;
        wanted(at).then_some((at, order))
    })
    .await
}

async fn set_status(stack: &Stack, chef: &Token, id: &str, status: &str) -> anyhow::Result<()> {
    let answer = stack
        .graphql_as(
            Some(chef),
            "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status } }",
            json!({ "id": id, "s": status }),
        )
        .await?;
    anyhow::ensure!(answer["errors"].is_null(), "{answer}");
    Ok(())
}

/// A dish of the stove (nobody else's station in these tests) and its prep minutes.
async fn stove_dish(stack: &Stack) -> anyhow::Result<(String, i64)> {
    let menu = stack
        .graphql("{ menuItems(first: 100) { edges { node { id station prepMinutes available } } } }", json!({}))
        .await?;
    let dish = menu["data"]["menuItems"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["node"])
        .find(|n| n["station"] == "stove" && n["available"] == true)
        .ok_or_else(|| anyhow::anyhow!("no stove dish on the menu: {menu}"))?;
    Ok((dish["id"].as_str().unwrap_or_default().to_owned(), dish["prepMinutes"].as_i64().unwrap_or_default()))
}

#[actix_rt::test]
async fn the_promise_follows_the_queue_without_new_versions_and_reaches_the_order_page_live() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let (_, customer) = stack.register_customer().await?;
    let (dish, prep) = stove_dish(&stack).await?;
    let prep = TimeDelta::minutes(prep);
    let near = |expected: DateTime<Utc>| move |at: DateTime<Utc>| (at - expected).abs() < TimeDelta::seconds(30);

    // An idle stove: ready after the dish's prep minutes; the line carries them.
    let first = stack.place_order(&customer, &dish, 1).await?;
    let (first_by, order) = promise(&stack, &customer, &first, near(Utc::now() + prep)).await;
    assert_eq!(order["items"][0]["prepMinutes"], json!(prep.num_minutes()), "{order}");
    assert_eq!(order["version"], 1, "a promise is no new version: {order}");
    assert!(order["promiseRevision"].as_i64().is_some_and(|r| r >= 1), "{order}");

    // A second order waits behind the first at the one cook of the stove.
    let second = stack.place_order(&customer, &dish, 1).await?;
    let (second_by, _) = promise(&stack, &customer, &second, near(first_by + prep)).await;
    // A cart with the dish now waits behind both.
    let estimate = stack
        .graphql(
            "query($i: [OrderItemInput!]!) { readyByEstimate(items: $i) }",
            json!({ "i": [{ "menuItemId": dish, "quantity": 1 }] }),
        )
        .await?;
    let estimate = time(&estimate["data"]["readyByEstimate"]).ok_or_else(|| anyhow::anyhow!("{estimate}"))?;
    assert!((estimate - (second_by + prep)).abs() < TimeDelta::seconds(30), "{estimate} behind {second_by}");

    // The customer's page follows the second order; the first leaves the queue: it is earlier.
    let mut page = Subscriber::connect(&stack, &customer).await?;
    page.subscribe(
        "mine",
        "subscription($id: ID!) { orderUpdated(orderId: $id) { version readyBy promiseRevision } }",
        json!({ "id": second }),
    )
    .await?;
    for status in ["ACCEPTED", "PREPARING", "READY"] {
        set_status(&stack, &chef, &first, status).await?;
    }
    let (moved_by, order) = promise(&stack, &customer, &second, near(Utc::now() + prep)).await;
    assert!(moved_by < second_by - TimeDelta::minutes(1), "{moved_by} is earlier than {second_by}");
    assert_eq!(order["version"], 1, "the second order itself did not change: {order}");
    let deadline = tokio::time::Instant::now() + testkit::DEADLINE;
    let heard = loop {
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the page never heard of the earlier promise");
        let message = page.next_of("mine").await?;
        let at = time(&message["payload"]["data"]["orderUpdated"]["readyBy"]);
        if at.is_some_and(|at| at < second_by - TimeDelta::minutes(1)) {
            break message;
        }
    };
    assert_eq!(heard["payload"]["data"]["orderUpdated"]["version"], 1, "{heard}");

    // The first recalled (back to PREPARING): its work is ahead again, the promise moves later.
    set_status(&stack, &chef, &first, "PREPARING").await?;
    let (later, _) = promise(&stack, &customer, &second, |at| at > moved_by + TimeDelta::minutes(1)).await;
    assert!(later > moved_by, "{later} after {moved_by}");
    stack.stop().await;
    Ok(())
}
