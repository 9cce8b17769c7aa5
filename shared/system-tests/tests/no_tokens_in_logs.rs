//! Tokens are secrets: run a whole session through every service with logs at debug level,
//! capture them, and look for the tokens — including the one the kitchen's SSE feed carries
//! in its URL (`/stream?access_token=…`), which the access log must leave out.

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
    // The SSE feed: `EventSource` cannot send headers, so its token rides in the query string.
    let mut feed = reqwest::Client::new()
        .get(format!("http://{}/stream", stack.kitchen.http_addr()))
        .query(&[("access_token", chef.as_str())])
        .send()
        .await?;
    assert_eq!(feed.status().as_u16(), 200, "the SSE feed takes the token from its URL");
    let answer = stack
        .graphql_as(
            Some(&customer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d", "quantity": 1 }] } }),
        )
        .await?;
    assert!(answer["data"]["createOrder"]["id"].is_string(), "{answer}");
    tablet.next_of_type("ticket").await?;
    let mut streamed = String::new();
    while !streamed.contains("event: ticket") {
        let chunk = tokio::time::timeout(testkit::DEADLINE, feed.chunk()).await??;
        streamed.push_str(&String::from_utf8_lossy(&chunk.ok_or_else(|| anyhow::anyhow!("the feed ended"))?));
    }
    drop(feed);
    // A refused token is logged about too, and must not be either.
    stack.graphql_as(Some(&tokens::Token::new(format!("{}x", customer.as_str()))), "{ me { id } }", json!({})).await?;
    stack.graphql_as(Some(&customer), "mutation { logout }", json!({})).await?;
    stack.stop().await;

    let logs = capture.text();
    assert!(logs.lines().count() > 20, "the capture saw the services' logs:\n{logs}");
    // The SSE request did reach the access log (path only), so its absence below means something.
    assert!(logs.lines().any(|line| line.contains("\"GET /stream")), "no access log line for the SSE feed:\n{logs}");
    assert!(!logs.contains("access_token="), "the SSE feed's query string reached a log");
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
