//! The gateway's API against the real services: batching, the whole of the order lifecycle over
//! GraphQL, and live subscriptions that each see exactly their own events.

use serde_json::{Value, json};
use system_tests::{Stack, Subscriber};
use tokens::Token;

async fn place(stack: &Stack, customer: &Token, item: &str, quantity: i32) -> anyhow::Result<String> {
    stack.place_order(customer, item, quantity).await
}

async fn set_status(stack: &Stack, chef: &Token, id: &str, status: &str) -> anyhow::Result<Value> {
    stack
        .graphql_as(
            Some(chef),
            "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status version } }",
            json!({ "id": id, "s": status }),
        )
        .await
}

/// A valid introspection query whose fields nest exactly `depth` deep: `__schema`, `types`,
/// `fields`, `type`, then `ofType`s down to `name` (the schema's types are not recursive, but
/// introspection's are).
fn introspection_of_depth(depth: usize) -> String {
    assert!(depth >= 5, "the shallowest such query has 5 levels");
    let of_types = depth - 5;
    format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(of_types),
        " }".repeat(of_types)
    )
}

#[actix_rt::test]
async fn a_page_of_orders_costs_a_constant_number_of_backend_calls() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let mains = stack.menu_ids("MAIN", 5).await?;
    let mut customers = vec![];
    for _ in 0..3 {
        customers.push(stack.register_customer().await?.1);
    }
    let query =
        "{ orders(first: 50) { edges { node { id customer { username } items { quantity menuItem { name } } } } } }";
    let mut costs = vec![];
    for round in 0..2 {
        let orders = if round == 0 { 3 } else { 24 };
        for i in 0..orders {
            place(&stack, &customers[i % 3], &mains[i % 5].0, 1).await?;
        }
        let before = stack.metric(stack.gateway.ops_addr(), "gateway_backend_calls_total").await?;
        let answer = stack.graphql_as(Some(&chef), query, json!({})).await?;
        let after = stack.metric(stack.gateway.ops_addr(), "gateway_backend_calls_total").await?;
        let edges = answer["data"]["orders"]["edges"].as_array().cloned().unwrap_or_default();
        assert!(edges.iter().all(|e| e["node"]["customer"]["username"].is_string()), "{answer}");
        assert!(edges.iter().all(|e| e["node"]["items"][0]["menuItem"]["name"].is_string()), "{answer}");
        costs.push((edges.len(), after - before));
    }
    assert_eq!(costs[0].0, 3);
    assert_eq!(costs[1].0, 27);
    // ListOrders + one GetUsers batch + one GetMenuItems batch, whatever the page size.
    assert_eq!((costs[0].1, costs[1].1), (3.0, 3.0), "{costs:?}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_lifecycle_over_graphql_with_codes_for_every_refusal() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (me, customer) = stack.register_customer().await?;
    let (_, other) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let drinks = stack.menu_ids("DRINK", 1).await?;
    let order = place(&stack, &customer, &drinks[0].0, 2).await?;
    let code = |answer: &Value| answer["errors"][0]["extensions"]["code"].as_str().map(str::to_owned);

    assert_eq!(code(&set_status(&stack, &customer, &order, "ACCEPTED").await?).as_deref(), Some("FORBIDDEN"));
    assert_eq!(code(&set_status(&stack, &chef, &order, "READY").await?).as_deref(), Some("CONFLICT"));
    assert_eq!(
        set_status(&stack, &chef, &order, "ACCEPTED").await?["data"]["updateOrderStatus"],
        json!({ "status": "ACCEPTED", "version": 2 })
    );
    let cancel = "mutation($id: ID!) { cancelOrder(orderId: $id) { status } }";
    // Someone else's order does not exist for them.
    assert_eq!(
        code(&stack.graphql_as(Some(&other), cancel, json!({ "id": order })).await?).as_deref(),
        Some("NOT_FOUND")
    );
    let cancelled = stack.graphql_as(Some(&customer), cancel, json!({ "id": order })).await?;
    assert_eq!(cancelled["data"]["cancelOrder"]["status"], "CANCELLED");

    let mine = stack
        .graphql_as(
            Some(&customer),
            "{ orders { edges { node { id status customer { id } timeline { status } } } } me { id } }",
            json!({}),
        )
        .await?;
    let node = &mine["data"]["orders"]["edges"][0]["node"];
    assert_eq!(node["customer"]["id"], me.as_str());
    assert_eq!(node["timeline"], json!([{ "status": "PLACED" }, { "status": "ACCEPTED" }, { "status": "CANCELLED" }]));
    let theirs = stack.graphql_as(Some(&other), "{ orders { edges { node { id } } } }", json!({})).await?;
    assert_eq!(theirs["data"]["orders"]["edges"], json!([]));
    let user = "query($id: ID!) { user(id: $id) { username } }";
    assert_eq!(code(&stack.graphql_as(Some(&other), user, json!({ "id": me })).await?).as_deref(), Some("FORBIDDEN"));
    assert!(stack.graphql_as(Some(&chef), user, json!({ "id": me })).await?["data"]["user"]["username"].is_string());

    // Search: menu items for anyone; orders only for those who may see them.
    let search = "query($q: String!) { search(query: $q) { __typename ... on MenuItem { name } ... on Order { id } } }";
    let anonymous = stack.graphql(search, json!({ "q": drinks[0].1 })).await?;
    assert_eq!(anonymous["data"]["search"][0]["__typename"], "MenuItem");
    let kitchen = stack.graphql_as(Some(&chef), search, json!({ "q": &order[..8] })).await?;
    assert!(
        kitchen["data"]["search"].as_array().is_some_and(|r| r.iter().any(|x| x["id"] == order.as_str())),
        "{kitchen}"
    );
    let stranger = stack.graphql_as(Some(&other), search, json!({ "q": &order[..8] })).await?;
    assert!(stranger["data"]["search"].as_array().is_some_and(|r| r.iter().all(|x| x["__typename"] != "Order")));

    // Bad input and abuse get codes, not crashes.
    assert_eq!(
        code(&stack.graphql_as(Some(&customer), "{ orders(first: 0) { edges { cursor } } }", json!({})).await?)
            .as_deref(),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(code(&stack.graphql(search, json!({ "q": "" })).await?).as_deref(), Some("BAD_USER_INPUT"));
    let deep = format!("{{ orders {{ edges {{ node {{ {} }} }} }} }}", "customer { id } ");
    assert!(stack.graphql_as(Some(&chef), &deep, json!({})).await?["errors"].is_null());
    // Depth: a valid document exactly at the limit runs; one field deeper is refused, by the
    // limit alone (the same document, one `ofType` more).
    let at_limit = stack.graphql(&introspection_of_depth(gateway::graphql::MAX_QUERY_DEPTH), json!({})).await?;
    assert!(at_limit["errors"].is_null(), "{at_limit}");
    assert!(at_limit["data"]["__schema"]["types"].as_array().is_some_and(|t| !t.is_empty()), "{at_limit}");
    let too_deep = stack.graphql(&introspection_of_depth(gateway::graphql::MAX_QUERY_DEPTH + 1), json!({})).await?;
    assert!(too_deep["data"].is_null(), "{too_deep}");
    let limit = format!("nesting exceeds the limit of {} levels", gateway::graphql::MAX_QUERY_DEPTH);
    assert!(too_deep["errors"][0]["message"].as_str().is_some_and(|m| m.contains(&limit)), "{too_deep}");
    let malformed = reqwest::Client::new()
        .post(format!("http://{}/graphql", stack.gateway.http_addr()))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await?;
    assert_eq!(malformed.status().as_u16(), 400);
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn each_subscriber_receives_exactly_its_own_events_in_order() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, alice) = stack.register_customer().await?;
    let (_, bob) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let sides = stack.menu_ids("SIDE", 1).await?;
    let item = &sides[0].0;

    let mut kitchen = Subscriber::connect(&stack, &chef).await?;
    kitchen.subscribe("new", "subscription { orderCreated { id items { quantity } } }", json!({})).await?;
    // Until the gateway's upstream stream delivers, events could pass unseen: probe first.
    let probes = kitchen.until_an_order_arrives(&stack, &alice, item).await?;

    let a1 = place(&stack, &alice, item, 1).await?;
    let b1 = place(&stack, &bob, item, 2).await?;
    // Two orders, two keys, two partitions: no order between them is promised.
    let mut created = vec![];
    while created.len() < 2 {
        let message = kitchen.next().await?;
        let id = message["payload"]["data"]["orderCreated"]["id"].as_str().unwrap_or_default().to_owned();
        if !probes.contains(&id) {
            created.push(id);
        }
    }
    created.sort();
    let mut expected = vec![a1.clone(), b1.clone()];
    expected.sort();
    assert_eq!(created, expected);

    let watch = "subscription($id: ID) { orderStatusChanged(orderId: $id) { orderId status previousStatus version } }";
    let mut a = Subscriber::connect(&stack, &alice).await?;
    a.subscribe("a", watch, json!({ "id": a1 })).await?;
    let mut b = Subscriber::connect(&stack, &bob).await?;
    b.subscribe("b", watch, json!({ "id": b1 })).await?;
    let gateway = stack.gateway.ops_addr();
    testkit::eventually("the three subscriptions to be counted", || async {
        (stack.metric(gateway, "gateway_subscriptions_open").await.ok()? >= 3.0).then_some(())
    })
    .await;
    let mut snoop = Subscriber::connect(&stack, &bob).await?;
    snoop.subscribe("snoop", watch, json!({ "id": a1 })).await?;
    // Someone else's order does not exist for them (the same answer as an unknown id).
    assert_eq!(snoop.refusal("snoop").await?, "NOT_FOUND");
    snoop.subscribe("unknown", watch, json!({ "id": "00000000-0000-4000-8000-000000000000" })).await?;
    assert_eq!(snoop.refusal("unknown").await?, "NOT_FOUND");
    snoop.subscribe("everything", watch, json!({})).await?;
    assert_eq!(snoop.refusal("everything").await?, "BAD_USER_INPUT");
    snoop.subscribe("new", "subscription { orderCreated { id } }", json!({})).await?;
    assert_eq!(snoop.refusal("new").await?, "FORBIDDEN");

    // Interleaved changes to both orders.
    for (id, status) in [(&a1, "ACCEPTED"), (&b1, "ACCEPTED"), (&a1, "PREPARING"), (&b1, "PREPARING"), (&a1, "READY")] {
        assert!(set_status(&stack, &chef, id, status).await?["errors"].is_null());
    }
    let expect = |who: &str, version: i64, status: &str, previous: &str| {
        (who.to_owned(), version, status.to_owned(), previous.to_owned())
    };
    let mut got = vec![];
    for _ in 0..3 {
        let m = a.next().await?;
        let e = &m["payload"]["data"]["orderStatusChanged"];
        got.push((
            e["orderId"].as_str().unwrap_or_default().to_owned(),
            e["version"].as_i64().unwrap_or_default(),
            e["status"].as_str().unwrap_or_default().to_owned(),
            e["previousStatus"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    assert_eq!(
        got,
        [
            expect(&a1, 2, "ACCEPTED", "PLACED"),
            expect(&a1, 3, "PREPARING", "ACCEPTED"),
            expect(&a1, 4, "READY", "PREPARING")
        ]
    );
    let mut got = vec![];
    for _ in 0..2 {
        let m = b.next().await?;
        let e = &m["payload"]["data"]["orderStatusChanged"];
        got.push((e["orderId"].as_str().unwrap_or_default().to_owned(), e["version"].as_i64().unwrap_or_default()));
    }
    assert_eq!(got, [(b1.clone(), 2), (b1.clone(), 3)]);
    // Nothing else was queued for Bob: his next event is the next change to his own order.
    assert!(set_status(&stack, &chef, &b1, "READY").await?["errors"].is_null());
    let next = b.next().await?;
    assert_eq!(next["payload"]["data"]["orderStatusChanged"]["version"], 4, "{next}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn subscriptions_keep_flowing_after_the_orders_service_restarts() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let mut kitchen = Subscriber::connect(&stack, &chef).await?;
    kitchen.subscribe("new", "subscription { orderCreated { id } }", json!({})).await?;

    kitchen.until_an_order_arrives(&stack, &customer, &item).await?;
    let stack = stack.restart_orders().await?;
    kitchen.until_an_order_arrives(&stack, &customer, &item).await?;
    stack.stop().await;
    Ok(())
}
