//! Tokens are secrets: run a whole session through every service with logs at debug level,
//! capture them, and look for the tokens.

use serde_json::json;
use system_tests::Stack;
use testkit::Tablet;

#[actix_rt::test]
async fn no_token_ever_reaches_a_log_line() -> anyhow::Result<()> {
    // Installed before the stack's own (which then keeps this one): every service logs here.
    let capture = testkit::LogCapture::install("debug");

    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect(stack.kitchen.http_addr()).await?;
    tablet.send_json(&json!({ "type": "auth", "token": chef.as_str() })).await?;
    tablet.next_of_type("snapshot").await?;
    let answer = stack
        .graphql_as(
            Some(&customer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d", "quantity": 1 }] } }),
        )
        .await?;
    assert!(answer["data"]["createOrder"]["id"].is_string(), "{answer}");
    tablet.next_of_type("ticket").await?;
    // A refused token is logged about too, and must not be either.
    stack.graphql_as(Some(&tokens::Token::new(format!("{}x", customer.as_str()))), "{ me { id } }", json!({})).await?;
    stack.graphql_as(Some(&customer), "mutation { logout }", json!({})).await?;
    stack.stop().await;

    let logs = capture.text();
    assert!(logs.lines().count() > 20, "the capture saw the services' logs:\n{logs}");
    let service_token = stack_service_tokens_absent(&logs);
    for (name, token) in [("customer", &customer), ("kitchen", &chef)] {
        // Any long enough piece of a token would give it away.
        let piece = &token.as_str()[10..60];
        assert!(!logs.contains(piece), "the {name} token appears in the logs");
    }
    assert!(service_token, "a service token appears in the logs");
    Ok(())
}

/// Service tokens share a prefix per key; none of their signature bytes may show.
fn stack_service_tokens_absent(logs: &str) -> bool {
    !logs.contains("Bearer ")
}
