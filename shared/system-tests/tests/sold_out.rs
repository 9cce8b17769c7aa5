//! 86'd dishes through GraphQL: kitchen staff mark a dish sold out (`setMenuItemAvailable`), an
//! open menu hears of it (`menuItemChanged`, anonymous like the menu), `createOrder` refuses it
//! naming it, and customers cannot 86 anything.

use serde_json::{Value, json};
use system_tests::{Stack, Subscriber};
use tokens::Token;

const SET: &str =
    "mutation($id: ID!, $a: Boolean!) { setMenuItemAvailable(id: $id, available: $a) { id name available } }";
const CHANGED: &str = "subscription { menuItemChanged { id name available } }";

async fn set(stack: &Stack, who: &Token, id: &str, available: bool) -> anyhow::Result<Value> {
    stack.graphql_as(Some(who), SET, json!({ "id": id, "a": available })).await
}

#[actix_rt::test]
async fn a_dish_86ed_by_the_kitchen_shows_on_open_menus_and_cannot_be_ordered() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let (_, customer) = stack.register_customer().await?;
    let (dish, name) = stack.menu_ids("MAIN", 1).await?.remove(0);
    let mut menu = Subscriber::connect_anonymously(&stack).await?;
    menu.subscribe("menu", CHANGED, json!({})).await?;

    // The subscription joins the gateway's menu feed a moment after it is sent: 86 the dish
    // (bringing it back in between) until the open menu hears of it, within the deadline.
    let deadline = tokio::time::Instant::now() + testkit::DEADLINE;
    let heard = loop {
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the open menu never heard of the dish 86ed");
        let answer = set(&stack, &chef, &dish, false).await?;
        assert_eq!(answer["data"]["setMenuItemAvailable"]["available"], false, "{answer}");
        let heard = tokio::time::timeout(std::time::Duration::from_millis(500), async {
            loop {
                let message = menu.next_of("menu").await?;
                if message["payload"]["data"]["menuItemChanged"]["available"] == false {
                    return anyhow::Ok(message);
                }
            }
        })
        .await;
        if let Ok(message) = heard {
            break message?;
        }
        set(&stack, &chef, &dish, true).await?;
    };
    assert_eq!(heard["payload"]["data"]["menuItemChanged"], json!({ "id": dish, "name": name, "available": false }));

    let order = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }";
    let refused = stack
        .graphql_as(Some(&customer), order, json!({ "i": { "items": [{ "menuItemId": dish, "quantity": 1 }] } }))
        .await?;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
    let words = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(words.contains(&format!("{name} is sold out")) && words.contains(&dish), "{words}");

    let back = set(&stack, &chef, &dish, true).await?;
    assert_eq!(back["data"]["setMenuItemAvailable"]["available"], true, "{back}");
    let heard = menu.next_of("menu").await?;
    assert_eq!(heard["payload"]["data"]["menuItemChanged"]["available"], true, "{heard}");
    stack.place_order(&customer, &dish, 1).await?;
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn customers_cannot_86_a_dish() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let (dish, _) = stack.menu_ids("MAIN", 1).await?.remove(0);
    let refused = set(&stack, &customer, &dish, false).await?;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    let anonymous = stack.graphql(SET, json!({ "id": dish, "a": false })).await?;
    assert_eq!(anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{anonymous}");
    assert_eq!(stack.menu_ids("MAIN", 1).await?[0].0, dish, "the dish is still on the menu");
    stack.stop().await;
    Ok(())
}
