//! One order's trace id, followed from the GraphQL request through orders and the event log to
//! the kitchen's log line and the tablet's message.

use serde_json::json;
use system_tests::Stack;
use testkit::Tablet;

#[actix_rt::test]
async fn an_orders_trace_id_reaches_the_kitchens_log_and_the_tablet() -> anyhow::Result<()> {
    let capture = testkit::LogCapture::install("info");

    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    tablet.next_of_type("snapshot").await?;
    let item = stack.menu_ids("DESSERT", 1).await?.remove(0).0;

    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", stack.gateway.http_addr()))
        .bearer_auth(customer.as_str())
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({
            "query": "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            "variables": { "i": { "items": [{ "menuItemId": item, "quantity": 1 }] } },
        }))
        .send()
        .await?
        .json()
        .await?;
    let order = answer["data"]["createOrder"]["id"].as_str().expect("an order").to_owned();
    let pushed = tablet.next_of_type("ticket").await?;
    assert_eq!(pushed["orderId"], order.as_str());
    assert_eq!(pushed["traceId"], trace_id.as_str(), "the tablet message carries the trace");
    stack.stop().await;

    let logs = capture.text();
    let with_trace: Vec<&str> = logs.lines().filter(|l| l.contains(&trace_id)).collect();
    let seen_in = |target: &str| with_trace.iter().any(|l| l.contains(target));
    assert!(seen_in("gateway"), "the gateway logged the request with its trace id:\n{logs}");
    assert!(
        seen_in("orders::actors") && with_trace.iter().any(|l| l.contains("order placed")),
        "orders logged it:\n{logs}"
    );
    assert!(
        with_trace.iter().any(|l| l.contains("kitchen::kafka") && l.contains("ticket stored") && l.contains(&order)),
        "the kitchen logged it:\n{logs}"
    );
    Ok(())
}
