//! Who may do what, across every service, against the real stack: the authorisation matrix
//! (requests, and every live stream: subscriptions, SSE, the tablet socket), revocation
//! reaching every service (and ending kitchen sessions), and tokens never reaching the logs.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use system_tests::Stack;
use testkit::{Tablet, TestAuth};
use tokens::Token;

/// What a caller got, in the matrix's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Data,
    Unauthenticated,
    Forbidden,
    /// Also what someone else's order answers: it does not exist for them.
    NotFound,
}
use Outcome::{Data, Forbidden, NotFound, Unauthenticated};

fn graphql_outcome(answer: &Value) -> Outcome {
    match answer["errors"][0]["extensions"]["code"].as_str() {
        None if !answer["data"].is_null() => Data,
        Some("UNAUTHENTICATED") => Unauthenticated,
        Some("FORBIDDEN") => Forbidden,
        Some("NOT_FOUND") => NotFound,
        other => panic!("unexpected answer ({other:?}): {answer}"),
    }
}

fn http_outcome(status: u16) -> Outcome {
    match status {
        200 | 201 => Data,
        401 => Unauthenticated,
        403 => Forbidden,
        other => panic!("unexpected status {other}"),
    }
}

fn grpc_outcome(result: Result<(), tonic::Status>) -> Outcome {
    match result {
        Ok(()) => Data,
        Err(status) if status.code() == tonic::Code::Unauthenticated => Unauthenticated,
        Err(status) if status.code() == tonic::Code::PermissionDenied => Forbidden,
        Err(status) => panic!("unexpected status {status:?}"),
    }
}

const CREATE_ORDER: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }";
const GARLIC_BREAD: &str = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d";

#[actix_rt::test]
async fn the_authorisation_matrix_holds_on_every_service() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (a_id, customer_a) = stack.register_customer().await?;
    let (_, customer_b) = stack.register_customer().await?;
    let kitchen = stack.kitchen_staff().await?;
    let verifier = tokens::TokenVerifier::from_public_key_hex(&stack.auth.settings("x", "").token_public_key)?;
    let read_only_kitchen = tokens::attenuate(&kitchen, &verifier, r#"check if operation("read");"#)?;
    let read_only = read_only_kitchen.clone();
    let expired = {
        let claims = verifier.authorize(&customer_a, &tokens::Access::read("x"))?;
        let tokens::Principal::User(claims) = claims else { anyhow::bail!("a user token") };
        stack.auth.issuer().user_token_until(&claims, std::time::SystemTime::now() - Duration::from_secs(60))?.token
    };
    let (_, foreign) = TestAuth::new().user_token(tokens::Role::KitchenStaff);
    let (_, revoked) = stack.register_customer().await?;
    stack.graphql_as(Some(&revoked), "mutation { logout }", json!({})).await?;
    wait_until_refused_everywhere(&stack, &revoked).await?;

    let a_order = stack
        .graphql_as(
            Some(&customer_a),
            CREATE_ORDER,
            json!({ "i": { "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 1 }] } }),
        )
        .await?["data"]["createOrder"]["id"]
        .as_str()
        .expect("customer A's order")
        .to_owned();
    let mut orders_written = 1;

    let callers: Vec<(&str, Option<Token>)> = vec![
        ("anonymous", None),
        ("customer A", Some(customer_a.clone())),
        ("customer B", Some(customer_b.clone())),
        ("kitchen staff", Some(kitchen.clone())),
        ("expired", Some(expired)),
        ("other key", Some(foreign)),
        ("revoked", Some(revoked)),
        ("read-only kitchen", Some(read_only_kitchen.clone())),
        ("malformed", Some(Token::new("bm90IGEgdG9rZW4"))),
    ];
    let bad = Unauthenticated;
    // operation → expected outcome per caller, in the order of `callers`.
    let expected: Vec<(&str, [Outcome; 9])> = vec![
        ("gql menuItems (public)", [Data, Data, Data, Data, Data, Data, Data, Data, Data]),
        ("gql me", [bad, Data, Data, Data, bad, bad, bad, Data, bad]),
        ("gql order(A's order)", [bad, Data, NotFound, Data, bad, bad, bad, Data, bad]),
        ("gql createOrder", [bad, Data, Data, Forbidden, bad, bad, bad, Forbidden, bad]),
        ("REST POST /order/create", [bad, Data, Data, Forbidden, bad, bad, bad, Forbidden, bad]),
        ("REST GET /tickets", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Data, bad]),
        ("REST GET /ticket/{A's order}", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Data, bad]),
        ("WS /ws first-message auth", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Data, bad]),
        ("gql orders", [bad, Data, Data, Data, bad, bad, bad, Data, bad]),
        ("gql user(A)", [bad, Data, Forbidden, Data, bad, bad, bad, Data, bad]),
        ("gql search (public, scoped)", [Data, Data, Data, Data, Data, Data, Data, Data, Data]),
        ("gql updateOrderStatus(A's, ACCEPTED)", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Forbidden, bad]),
        ("gql cancelOrder(A's)", [bad, Data, NotFound, Data, bad, bad, bad, Forbidden, bad]),
        ("gql completeOrder(A's, READY)", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Forbidden, bad]),
        // Backends called directly, with the caller's own token where a service token belongs.
        ("gRPC orders GetOrder, no svc token", [bad, Forbidden, Forbidden, Forbidden, bad, bad, bad, Forbidden, bad]),
        ("gRPC users GetUser, no svc token", [bad, Forbidden, Forbidden, Forbidden, bad, bad, bad, Forbidden, bad]),
    ];

    let http = reqwest::Client::new();
    let mut matrix: BTreeMap<usize, Vec<Outcome>> = BTreeMap::new();
    for (row, (operation, _)) in expected.iter().enumerate() {
        for (_, token) in &callers {
            let token = token.as_ref();
            let outcome = match *operation {
                "gql menuItems (public)" => graphql_outcome(
                    &stack.graphql_as(token, "{ menuItems(first: 1) { edges { node { id } } } }", json!({})).await?,
                ),
                "gql me" => graphql_outcome(&stack.graphql_as(token, "{ me { id } }", json!({})).await?),
                "gql order(A's order)" => graphql_outcome(
                    &stack
                        .graphql_as(token, "query($id: ID!) { order(id: $id) { id } }", json!({ "id": a_order }))
                        .await?,
                ),
                "gql createOrder" => {
                    let answer = stack
                        .graphql_as(
                            token,
                            CREATE_ORDER,
                            json!({ "i": { "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 2 }] } }),
                        )
                        .await?;
                    graphql_outcome(&answer)
                }
                "REST POST /order/create" => {
                    let mut request = http
                        .post(format!("http://{}/order/create", stack.orders.http_addr()))
                        .json(&json!({ "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 3 }] }));
                    if let Some(token) = token {
                        request = request.bearer_auth(token.as_str());
                    }
                    http_outcome(request.send().await?.status().as_u16())
                }
                "REST GET /tickets" | "REST GET /ticket/{A's order}" => {
                    let path = if operation.contains("{A") { format!("ticket/{a_order}") } else { "tickets".into() };
                    let mut request = http.get(format!("http://{}/{path}", stack.kitchen.http_addr()));
                    if let Some(token) = token {
                        request = request.bearer_auth(token.as_str());
                    }
                    let status = request.send().await?.status().as_u16();
                    // The ticket may not have arrived yet; 404 still means "let in".
                    http_outcome(if status == 404 { 200 } else { status })
                }
                "WS /ws first-message auth" => {
                    let mut tablet = Tablet::connect(stack.kitchen.http_addr()).await?;
                    let message = match token {
                        Some(token) => json!({ "type": "auth", "token": token.as_str() }),
                        None => json!({ "type": "bump", "orderId": a_order }),
                    };
                    tablet.send_json(&message).await?;
                    let answer = tablet.next_json().await?;
                    match (answer["type"].as_str(), answer["code"].as_str()) {
                        (Some("snapshot"), _) => Data,
                        (Some("error"), Some("UNAUTHENTICATED")) => Unauthenticated,
                        (Some("error"), Some("FORBIDDEN")) => Forbidden,
                        _ => panic!("unexpected tablet answer {answer}"),
                    }
                }
                "gql orders" => {
                    graphql_outcome(&stack.graphql_as(token, "{ orders { edges { node { id } } } }", json!({})).await?)
                }
                "gql user(A)" => graphql_outcome(
                    &stack.graphql_as(token, "query($id: ID!) { user(id: $id) { id } }", json!({ "id": a_id })).await?,
                ),
                "gql search (public, scoped)" => {
                    let answer = stack
                        .graphql_as(
                            token,
                            "query($q: String!) { search(query: $q) { __typename ... on Order { customer { id } } } }",
                            json!({ "q": &a_order[..8] }),
                        )
                        .await?;
                    // Whatever a caller may search, no one but A and the kitchen sees A's order.
                    let sees_a = answer["data"]["search"].as_array().is_some_and(|r| {
                        r.iter().any(|x| x["__typename"] == "Order" && x["customer"]["id"] == a_id.as_str())
                    });
                    let allowed = token.is_some_and(|t| *t == customer_a || *t == kitchen || *t == read_only);
                    assert!(!sees_a || allowed, "a search showed A's order to someone else: {answer}");
                    graphql_outcome(&answer)
                }
                "gql updateOrderStatus(A's, ACCEPTED)" | "gql cancelOrder(A's)" | "gql completeOrder(A's, READY)" => {
                    // A fresh order of A's for every caller, in the state the command needs.
                    let fresh = stack
                        .graphql_as(
                            Some(&customer_a),
                            CREATE_ORDER,
                            json!({ "i": { "items": [{ "menuItemId": GARLIC_BREAD, "quantity": 1 }] } }),
                        )
                        .await?["data"]["createOrder"]["id"]
                        .as_str()
                        .expect("an order")
                        .to_owned();
                    orders_written += 1;
                    let (query, variables) = match *operation {
                        "gql updateOrderStatus(A's, ACCEPTED)" => (
                            "mutation($id: ID!) { updateOrderStatus(id: $id, status: ACCEPTED) { id } }",
                            json!({ "id": fresh }),
                        ),
                        "gql cancelOrder(A's)" => {
                            ("mutation($id: ID!) { cancelOrder(orderId: $id) { id } }", json!({ "id": fresh }))
                        }
                        _ => {
                            for status in ["ACCEPTED", "PREPARING", "READY"] {
                                let moved = stack
                                    .graphql_as(Some(&kitchen), "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id } }", json!({ "id": fresh, "s": status }))
                                    .await?;
                                assert!(moved["errors"].is_null(), "{moved}");
                            }
                            ("mutation($id: ID!) { completeOrder(orderId: $id) { id } }", json!({ "id": fresh }))
                        }
                    };
                    graphql_outcome(&stack.graphql_as(token, query, variables).await?)
                }
                "gRPC orders GetOrder, no svc token" => {
                    let mut client = restaurant_proto::v1::order_service_client::OrderServiceClient::connect(format!(
                        "http://{}",
                        stack.orders.grpc_addr()
                    ))
                    .await?;
                    let mut request =
                        tonic::Request::new(restaurant_proto::v1::GetOrderRequest { id: a_order.clone() });
                    if let Some(token) = token {
                        tokens::grpc::attach(&mut request, token, Some(token));
                    }
                    grpc_outcome(client.get_order(request).await.map(|_| ()))
                }
                "gRPC users GetUser, no svc token" => {
                    let mut client = restaurant_proto::v1::user_service_client::UserServiceClient::connect(format!(
                        "http://{}",
                        stack.users.grpc_addr()
                    ))
                    .await?;
                    let mut request = tonic::Request::new(restaurant_proto::v1::GetUserRequest { id: a_order.clone() });
                    if let Some(token) = token {
                        tokens::grpc::attach(&mut request, token, Some(token));
                    }
                    grpc_outcome(client.get_user(request).await.map(|_| ()))
                }
                other => unreachable!("no such operation {other}"),
            };
            if outcome == Data && matches!(*operation, "gql createOrder" | "REST POST /order/create") {
                orders_written += 1;
            }
            matrix.entry(row).or_default().push(outcome);
        }
    }

    print_matrix(&callers, &expected, &matrix);
    for (row, (operation, want)) in expected.iter().enumerate() {
        assert_eq!(matrix[&row], want.to_vec(), "{operation}");
    }
    assert_eq!(stack.db.count("orders.orders").await?, orders_written, "refusals wrote no order");
    stack.stop().await;
    Ok(())
}

fn print_matrix<const N: usize>(
    callers: &[(&str, Option<Token>)],
    expected: &[(&str, [Outcome; N])],
    got: &BTreeMap<usize, Vec<Outcome>>,
) {
    let short = |o: &Outcome| match o {
        Data => "data",
        Unauthenticated => "UNAUTH",
        Forbidden => "FORBID",
        NotFound => "NOTFOUND",
    };
    let mut out = format!("{:<36}", "operation \\ caller");
    for (name, _) in callers {
        out.push_str(&format!("{name:>19}"));
    }
    out.push('\n');
    for (row, (operation, want)) in expected.iter().enumerate() {
        out.push_str(&format!("{operation:<36}"));
        for (i, outcome) in got[&row].iter().enumerate() {
            let mark = if *outcome == want[i] { "" } else { " (!)" };
            out.push_str(&format!("{:>19}", format!("{}{mark}", short(outcome))));
        }
        out.push('\n');
    }
    eprintln!("{out}");
}

/// Polls every service with a revoked token until each refuses it; fails past 2 seconds.
async fn wait_until_refused_everywhere(stack: &Stack, token: &Token) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let http = reqwest::Client::new();
    loop {
        let gateway = stack.graphql_as(Some(token), "{ me { id } }", json!({})).await?;
        let orders = http
            .post(format!("http://{}/order/create", stack.orders.http_addr()))
            .bearer_auth(token.as_str())
            .json(&json!({ "items": [] }))
            .send()
            .await?
            .status()
            .as_u16();
        let kitchen = http
            .get(format!("http://{}/tickets", stack.kitchen.http_addr()))
            .bearer_auth(token.as_str())
            .send()
            .await?
            .json::<Value>()
            .await?;
        let refused = gateway["errors"][0]["message"] == "the token has been revoked"
            && orders == 401
            && kitchen["error"]["message"] == "the token has been revoked";
        if refused {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(2), "a revoked token still works after 2 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn a_revoked_token_is_refused_by_every_service_within_two_seconds() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, token) = stack.register_customer().await?;
    assert_eq!(graphql_outcome(&stack.graphql_as(Some(&token), "{ me { id } }", json!({})).await?), Data);
    let answer = stack.graphql_as(Some(&token), "mutation { logout }", json!({})).await?;
    assert_eq!(answer["data"]["logout"], true);
    let took = wait_until_refused_everywhere(&stack, &token).await?;
    eprintln!("revocation reached every service in {took:?}");

    // A kitchen tablet whose token is revoked loses its socket.
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    tablet.next_of_type("snapshot").await?;
    stack.graphql_as(Some(&chef), "mutation { logout }", json!({})).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "UNAUTHENTICATED");
    assert_eq!(tablet.closed().await?, Some(1008));
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_kitchen_sse_stream_and_tablet_close_within_two_seconds_of_logout() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let kitchen = stack.kitchen.http_addr();
    let mut tablet = Tablet::connect_with_token(kitchen, &chef).await?;
    tablet.next_of_type("snapshot").await?;
    let mut sse = reqwest::get(format!("http://{kitchen}/stream?access_token={}", chef.as_str())).await?;
    assert_eq!(sse.status().as_u16(), 200);

    let answer = stack.graphql_as(Some(&chef), "mutation { logout }", json!({})).await?;
    assert_eq!(answer["data"]["logout"], true);
    let revoked = Instant::now();
    let ended = tokio::time::timeout(testkit::DEADLINE, async {
        while sse.chunk().await?.is_some() {}
        anyhow::Ok(())
    })
    .await;
    assert!(matches!(ended, Ok(Ok(()))), "the SSE stream ends: {ended:?}");
    let sse_took = revoked.elapsed();
    assert_eq!(tablet.next_of_type("error").await?["code"], "UNAUTHENTICATED");
    assert_eq!(tablet.closed().await?, Some(1008));
    let tablet_took = revoked.elapsed();
    assert!(sse_took < Duration::from_secs(2), "the SSE stream closed {sse_took:?} after logout");
    assert!(tablet_took < Duration::from_secs(2), "the tablet closed {tablet_took:?} after logout");
    stack.stop().await;
    Ok(())
}

/// What a subscription's first message says: its data, or the code of its refusal.
fn subscription_outcome(message: &Value) -> Outcome {
    let code = match message["type"].as_str() {
        Some("error") => &message["payload"][0]["extensions"]["code"],
        _ => &message["payload"]["errors"][0]["extensions"]["code"],
    };
    match code.as_str() {
        None if !message["payload"]["data"].is_null() => Data,
        Some("UNAUTHENTICATED") => Unauthenticated,
        Some("FORBIDDEN") => Forbidden,
        Some("NOT_FOUND") => NotFound,
        other => panic!("unexpected subscription answer ({other:?}): {message}"),
    }
}

/// A socket the gateway refused at `connection_init`, by the token error its reason names.
fn refused_socket(code: Option<u16>, reason: &str) -> Outcome {
    assert_eq!(code, Some(4403), "refused with {reason:?}");
    let unauthenticated = [
        tokens::TokenError::Missing,
        tokens::TokenError::Invalid,
        tokens::TokenError::Expired,
        tokens::TokenError::Revoked,
    ];
    if unauthenticated.iter().any(|e| e.to_string() == reason) {
        Unauthenticated
    } else if reason.starts_with(&tokens::TokenError::Forbidden(String::new()).to_string()) {
        Forbidden
    } else {
        panic!("unexpected refusal {reason:?}")
    }
}

/// Subscribes `query` on a socket opened with `token`, and triggers events (`trigger`, again
/// every half second) once the gateway counts the subscription, until its first message.
async fn live_outcome<F, Fut>(
    stack: &Stack,
    token: Option<&Token>,
    query: &str,
    variables: Value,
    sockets: &mut Vec<system_tests::Subscriber>,
    trigger: F,
) -> anyhow::Result<Outcome>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut socket = match system_tests::Subscriber::open(stack, token).await? {
        Ok(socket) => socket,
        Err((code, reason)) => return Ok(refused_socket(code, &reason)),
    };
    let gateway = stack.gateway.ops_addr();
    // Sockets stay open until the test ends, so the count only grows.
    let before = stack.metric(gateway, "gateway_subscriptions_open").await?;
    socket.subscribe("live", query, variables).await?;
    let started = Instant::now();
    let outcome = loop {
        anyhow::ensure!(started.elapsed() < testkit::DEADLINE, "the subscription neither answered nor opened");
        if stack.metric(gateway, "gateway_subscriptions_open").await? > before {
            trigger().await?;
        }
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(500), socket.next_of("live")).await {
            break subscription_outcome(&message?);
        }
    };
    sockets.push(socket);
    Ok(outcome)
}

/// The live ways in — GraphQL subscriptions, the kitchen's SSE stream and the tablet socket
/// with its token on the upgrade request — against every kind of caller: only kitchen staff
/// follow the kitchen, a customer follows only their own order (someone else's does not exist
/// for them), and an ended, foreign or service token opens nothing.
#[actix_rt::test]
async fn the_authorisation_matrix_holds_on_every_live_stream() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer_a) = stack.register_customer().await?;
    let (_, customer_b) = stack.register_customer().await?;
    let kitchen = stack.kitchen_staff().await?;
    let verifier = stack.auth.issuer().verifier();
    let expired = {
        let tokens::Principal::User(claims) = verifier.authorize(&customer_a, &tokens::Access::read("x"))? else {
            anyhow::bail!("a user token")
        };
        stack.auth.issuer().user_token_until(&claims, std::time::SystemTime::now() - Duration::from_secs(60))?.token
    };
    let (_, foreign) = TestAuth::new().user_token(tokens::Role::KitchenStaff);
    let revoked = stack.kitchen_staff().await?;
    stack.graphql_as(Some(&revoked), "mutation { logout }", json!({})).await?;
    wait_until_refused_everywhere(&stack, &revoked).await?;
    let service = stack.auth.service_token("gateway");
    let a_order = stack.place_order(&customer_a, GARLIC_BREAD, 1).await?;
    // The order's status goes back and forth (READY ⇄ PREPARING by recall) for as long as needed.
    for status in ["ACCEPTED", "PREPARING"] {
        let moved = stack.graphql_as(Some(&kitchen), MOVE, json!({ "id": a_order, "s": status })).await?;
        assert!(moved["errors"].is_null(), "{moved}");
    }

    let callers: Vec<(&str, Option<Token>)> = vec![
        ("anonymous", None),
        ("customer A", Some(customer_a.clone())),
        ("customer B", Some(customer_b.clone())),
        ("kitchen staff", Some(kitchen.clone())),
        ("expired", Some(expired)),
        ("revoked", Some(revoked)),
        ("other key", Some(foreign)),
        ("service token", Some(service)),
    ];
    let bad = Unauthenticated;
    let expected: Vec<(&str, [Outcome; 8])> = vec![
        ("gql sub orderCreated", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Forbidden]),
        ("gql sub orderStatusChanged(A's)", [bad, Data, NotFound, Data, bad, bad, bad, Forbidden]),
        ("SSE /stream?access_token=", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Forbidden]),
        ("WS /ws bearer on the upgrade", [bad, Forbidden, Forbidden, Data, bad, bad, bad, Forbidden]),
    ];

    let http = reqwest::Client::new();
    let kitchen_addr = stack.kitchen.http_addr();
    let ready = std::cell::Cell::new(false);
    let mut sockets = vec![];
    let mut matrix: BTreeMap<usize, Vec<Outcome>> = BTreeMap::new();
    for (row, (operation, _)) in expected.iter().enumerate() {
        for (_, token) in &callers {
            let token = token.as_ref();
            let outcome = match *operation {
                "gql sub orderCreated" => {
                    let (stack, customer) = (&stack, &customer_a);
                    let place = move || async move { stack.place_order(customer, GARLIC_BREAD, 1).await.map(drop) };
                    live_outcome(stack, token, "subscription { orderCreated { id } }", json!({}), &mut sockets, place)
                        .await?
                }
                "gql sub orderStatusChanged(A's)" => {
                    let (stack, kitchen, ready, id) = (&stack, &kitchen, &ready, a_order.as_str());
                    let flip = move || async move {
                        let status = if ready.replace(!ready.get()) { "PREPARING" } else { "READY" };
                        let moved = stack.graphql_as(Some(kitchen), MOVE, json!({ "id": id, "s": status })).await?;
                        anyhow::ensure!(moved["errors"].is_null(), "{moved}");
                        Ok(())
                    };
                    let query = "subscription($id: ID) { orderStatusChanged(orderId: $id) { status } }";
                    live_outcome(stack, token, query, json!({ "id": a_order }), &mut sockets, flip).await?
                }
                "SSE /stream?access_token=" => {
                    let url = match token {
                        Some(token) => format!("http://{kitchen_addr}/stream?access_token={}", token.as_str()),
                        None => format!("http://{kitchen_addr}/stream"),
                    };
                    http_outcome(http.get(url).send().await?.status().as_u16())
                }
                "WS /ws bearer on the upgrade" => match token {
                    // Without a header the socket opens and waits for an `auth` message.
                    None => {
                        let mut tablet = Tablet::connect(kitchen_addr).await?;
                        tablet.send_json(&json!({ "type": "bump", "orderId": a_order })).await?;
                        let answer = tablet.next_json().await?;
                        assert_eq!(answer["code"], "UNAUTHENTICATED", "{answer}");
                        Unauthenticated
                    }
                    Some(token) => match Tablet::connect_with_token(kitchen_addr, token).await {
                        Ok(mut tablet) => {
                            assert_eq!(tablet.next_json().await?["type"], "snapshot");
                            Data
                        }
                        Err(e) => match e.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
                            Some(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                                http_outcome(response.status().as_u16())
                            }
                            _ => return Err(e),
                        },
                    },
                },
                other => unreachable!("no such operation {other}"),
            };
            matrix.entry(row).or_default().push(outcome);
        }
    }
    print_matrix(&callers, &expected, &matrix);
    for (row, (operation, want)) in expected.iter().enumerate() {
        assert_eq!(matrix[&row], want.to_vec(), "{operation}");
    }
    stack.stop().await;
    Ok(())
}

const MOVE: &str = "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id } }";

/// How many service-token exchanges the users service has answered (its call histogram).
async fn renewals(stack: &Stack) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("http://{}/metrics", stack.users.ops_addr())).await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("grpc_request_duration_seconds_count{") && l.contains("/RenewServiceToken\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Each service starts with a credential and presents only short-lived tokens, renewed at
/// half-life: after more than a token's lifetime every path that needs one still works.
#[actix_rt::test]
async fn service_tokens_are_short_lived_and_renewed_before_they_expire() -> anyhow::Result<()> {
    let lifetime = Duration::from_secs(3);
    let stack = Stack::start_tuned(|users| users.service_token_ttl = lifetime, |_| {}).await?;
    // Gateway, orders and kitchen: a first exchange each at start, then one per half-life:
    // three each means a whole lifetime has passed since the first tokens were handed out.
    testkit::eventually("every service to renew its token twice", || async {
        (renewals(&stack).await.ok()? >= 9.0).then_some(())
    })
    .await;
    // The gateway's token reaches orders (the menu) and users (a registration); the kitchen's
    // reaches users (revocations: a logout still ends a tablet).
    let menu = stack.graphql("{ menuItems(first: 1) { edges { node { id } } } }", json!({})).await?;
    assert!(menu["errors"].is_null(), "{menu}");
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    tablet.next_of_type("snapshot").await?;
    stack.graphql_as(Some(&chef), "mutation { logout }", json!({})).await?;
    assert_eq!(tablet.next_of_type("error").await?["code"], "UNAUTHENTICATED");
    stack.stop().await;
    Ok(())
}
