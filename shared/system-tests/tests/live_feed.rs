//! The gateway's live-events hub against the real services: what it holds per order goes when
//! nobody watches that order any more or the order is finished, and an order is the same order
//! whichever way its id is spelled; the order page's subscription starts from the order as it
//! is, so no change falls between the page's load and its subscription.

use serde_json::json;
use system_tests::{Stack, Subscriber};
use tokens::Token;

const WATCH: &str = "subscription($id: ID) { orderStatusChanged(orderId: $id) { orderId status } }";

/// Waits until the gateway's hub holds entries for exactly `orders` orders and `open`
/// subscriptions in all.
async fn hub_holds(stack: &Stack, orders: f64, open: f64) {
    let gateway = stack.gateway.ops_addr();
    testkit::eventually(&format!("the hub to hold {orders} orders and {open} subscriptions"), || async {
        let watched = stack.metric(gateway, "gateway_live_orders_watched").await.ok()?;
        let subscriptions = stack.metric(gateway, "gateway_subscriptions_open").await.ok()?;
        (watched == orders && subscriptions == open).then_some(())
    })
    .await;
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

#[actix_rt::test]
async fn an_orders_entry_goes_when_its_last_subscriber_leaves() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let order = stack.place_order(&customer, &item, 1).await?;

    let mut page = Subscriber::connect(&stack, &customer).await?;
    page.subscribe("first", WATCH, json!({ "id": order })).await?;
    page.subscribe("second", WATCH, json!({ "id": order })).await?;
    hub_holds(&stack, 1.0, 2.0).await;
    page.complete("first").await?;
    hub_holds(&stack, 1.0, 1.0).await;
    page.complete("second").await?;
    hub_holds(&stack, 0.0, 0.0).await;
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_finished_orders_subscriptions_end_and_its_entry_goes() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let order = stack.place_order(&customer, &item, 1).await?;

    let mut page = Subscriber::connect(&stack, &customer).await?;
    page.subscribe("mine", WATCH, json!({ "id": order })).await?;
    hub_holds(&stack, 1.0, 1.0).await;
    let cancel = "mutation($id: ID!) { cancelOrder(orderId: $id) { status } }";
    let cancelled = stack.graphql_as(Some(&customer), cancel, json!({ "id": order })).await?;
    assert_eq!(cancelled["data"]["cancelOrder"]["status"], "CANCELLED", "{cancelled}");

    let last = page.next_of("mine").await?;
    assert_eq!(last["payload"]["data"]["orderStatusChanged"]["status"], "CANCELLED", "{last}");
    // Nothing more can happen to it: the subscription completes, and the hub lets go of it
    // while the page's socket stays open.
    assert_eq!(page.next_of("mine").await?, json!({ "id": "mine", "type": "complete" }));
    hub_holds(&stack, 0.0, 0.0).await;
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn any_spelling_of_an_order_id_is_the_same_order() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let order = stack.place_order(&customer, &item, 1).await?;
    let shouted = order.to_uppercase().replace('-', "");

    let mut page = Subscriber::connect(&stack, &customer).await?;
    page.subscribe("shouted", WATCH, json!({ "id": shouted })).await?;
    hub_holds(&stack, 1.0, 1.0).await;
    set_status(&stack, &chef, &order, "ACCEPTED").await?;
    let event = page.next_of("shouted").await?;
    assert_eq!(
        event["payload"]["data"]["orderStatusChanged"],
        json!({ "orderId": order, "status": "ACCEPTED" }),
        "{event}"
    );
    page.complete("shouted").await?;
    hub_holds(&stack, 0.0, 0.0).await;

    page.subscribe("nonsense", WATCH, json!({ "id": "not-an-order" })).await?;
    assert_eq!(page.refusal("nonsense").await?, "BAD_USER_INPUT");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_order_pages_subscription_starts_with_the_order_as_it_is() -> anyhow::Result<()> {
    const PAGE: &str = "subscription($id: ID!) { orderUpdated(orderId: $id) { status version } }";
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let order = stack.place_order(&customer, &item, 1).await?;
    // A change before the page subscribes (while its first load was on the way, say).
    set_status(&stack, &chef, &order, "ACCEPTED").await?;

    let mut page = Subscriber::connect(&stack, &customer).await?;
    page.subscribe("mine", PAGE, json!({ "id": order })).await?;
    let first = page.next_of("mine").await?;
    assert_eq!(first["payload"]["data"]["orderUpdated"], json!({ "status": "ACCEPTED", "version": 2 }), "{first}");
    // Then every later change, once.
    set_status(&stack, &chef, &order, "PREPARING").await?;
    let next = page.next_of("mine").await?;
    assert_eq!(next["payload"]["data"]["orderUpdated"], json!({ "status": "PREPARING", "version": 3 }), "{next}");
    for status in ["READY", "COMPLETED"] {
        set_status(&stack, &chef, &order, status).await?;
    }
    for (status, version) in [("READY", 4), ("COMPLETED", 5)] {
        let event = page.next_of("mine").await?;
        assert_eq!(
            event["payload"]["data"]["orderUpdated"],
            json!({ "status": status, "version": version }),
            "{event}"
        );
    }
    assert_eq!(page.next_of("mine").await?, json!({ "id": "mine", "type": "complete" }));

    // A finished order: the page gets it as it is, and the subscription ends at once.
    page.subscribe("again", PAGE, json!({ "id": order })).await?;
    let only = page.next_of("again").await?;
    assert_eq!(only["payload"]["data"]["orderUpdated"], json!({ "status": "COMPLETED", "version": 5 }), "{only}");
    assert_eq!(page.next_of("again").await?, json!({ "id": "again", "type": "complete" }));
    hub_holds(&stack, 0.0, 0.0).await;
    stack.stop().await;
    Ok(())
}
