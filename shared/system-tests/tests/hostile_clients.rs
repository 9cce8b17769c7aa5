//! The gateway against clients that try too much: sign-in floods (throttled by users on the
//! client's own address, with the wait told, and a forwarded address believed only from a
//! trusted proxy), batches, aliased guesses, socket and subscription hoarding, and sockets that
//! outlive their token.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use system_tests::{Stack, Subscriber};
use tokens::Token;

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { token } }";
const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { token } }";
const ORDER_CREATED: &str = "subscription { orderCreated { id } }";

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

fn credentials(username: &str, password: &str) -> Value {
    json!({ "i": { "username": username, "password": password } })
}

#[actix_rt::test]
async fn sign_ins_are_throttled_on_the_clients_address_and_say_how_long_to_wait() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    // One account: a handful of guesses, then RATE_LIMITED with the wait.
    let mut answer = json!(null);
    for _ in 0..users::throttle::ACCOUNT_BURST + 1 {
        answer = stack.graphql(LOGIN, credentials("ada", "guess")).await?;
    }
    assert_eq!(code(&answer), "RATE_LIMITED", "{answer}");
    assert!(answer["errors"][0]["extensions"]["retryAfter"].as_i64().is_some_and(|s| s >= 1), "{answer}");

    // New accounts from one address: refused once the address has had its burst (a
    // registration names no existing account, so only the address can be what is throttled).
    let started = Instant::now();
    let refused = loop {
        let name = format!("flood-{}", &testkit::unique_name("x")[2..14]);
        let answer = stack.graphql(REGISTER, credentials(&name, "correct horse battery")).await?;
        if !answer["errors"].is_null() {
            break answer;
        }
        assert!(started.elapsed() < testkit::DEADLINE, "registrations from one address are never refused");
    };
    assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
    assert!(refused["errors"][0]["extensions"]["retryAfter"].as_i64().is_some_and(|s| s >= 1), "{refused}");

    // A sign-in over a subscription socket comes from the same address.
    // (The address gets one attempt back every few seconds: of two in a row, one is refused.)
    let mut socket = Subscriber::connect_anonymously(&stack).await?;
    let mut codes = vec![];
    for attempt in ["first", "second"] {
        let variables = credentials(&format!("ws-{}", &testkit::unique_name("x")[2..14]), "correct horse battery");
        socket.subscribe(attempt, LOGIN, variables).await?;
        codes.push(socket.refusal(attempt).await?);
    }
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "{codes:?}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn batches_and_aliased_guesses_are_refused_before_anything_runs() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let gateway = stack.gateway.http_addr();
    let post = |body: Value| reqwest::Client::new().post(format!("http://{gateway}/graphql")).json(&body).send();
    let calls = || stack.metric(stack.gateway.ops_addr(), "gateway_backend_calls_total");
    let before = calls().await?;

    let one = json!({ "query": LOGIN, "variables": credentials("ada", "one") });
    let batch = post(json!([one, one, one])).await?;
    assert_eq!(batch.status().as_u16(), 400);
    let answer: Value = batch.json().await?;
    assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");

    let guesses: String = (0..30)
        .map(|i| format!("g{i}: login(input: {{ username: \"ada\", password: \"guess {i}\" }}) {{ token }} "))
        .collect();
    let aliased = post(json!({ "query": format!("mutation {{ {guesses} }}") })).await?;
    assert_eq!(aliased.status().as_u16(), 400);
    let answer: Value = aliased.json().await?;
    assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");
    assert!(answer["errors"][0]["message"].as_str().is_some_and(|m| m.contains("costs 600")), "{answer}");

    // The same over a socket.
    let mut socket = Subscriber::connect_anonymously(&stack).await?;
    socket.subscribe("guesses", &format!("mutation {{ {guesses} }}"), json!({})).await?;
    assert_eq!(socket.refusal("guesses").await?, "BAD_USER_INPUT");
    let lists: String = (0..6).map(|i| format!("l{i}: menuItems {{ pageInfo {{ hasNextPage }} }} ")).collect();
    socket.subscribe("lists", &format!("{{ {lists} }}"), json!({})).await?;
    assert_eq!(socket.refusal("lists").await?, "BAD_USER_INPUT");

    assert_eq!(calls().await?, before, "a refused request reached a backend");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn sockets_and_their_subscriptions_are_bounded() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let per_socket = gateway::sockets::DEFAULT_SUBSCRIPTIONS_PER_SOCKET;
    let per_user = gateway::sockets::DEFAULT_SOCKETS_PER_USER;

    let mut first = Subscriber::connect(&stack, &chef).await?;
    for i in 0..per_socket {
        first.subscribe(&format!("s{i}"), ORDER_CREATED, json!({})).await?;
    }
    let gateway = stack.gateway.ops_addr();
    testkit::eventually("every subscription to be open", || async {
        (stack.metric(gateway, "gateway_subscriptions_open").await.ok()? == per_socket as f64).then_some(())
    })
    .await;
    first.subscribe("one-too-many", ORDER_CREATED, json!({})).await?;
    assert_eq!(first.refusal("one-too-many").await?, "RATE_LIMITED");
    // Completing one frees its slot (its stream, slot and hub entry go together).
    first.complete("s0").await?;
    testkit::eventually("a subscription to end", || async {
        (stack.metric(gateway, "gateway_subscriptions_open").await.ok()? == (per_socket - 1) as f64).then_some(())
    })
    .await;
    first.subscribe("again", ORDER_CREATED, json!({})).await?;
    testkit::eventually("the freed slot to be taken again", || async {
        (stack.metric(gateway, "gateway_subscriptions_open").await.ok()? == per_socket as f64).then_some(())
    })
    .await;

    let mut others = vec![];
    for _ in 1..per_user {
        others.push(Subscriber::connect(&stack, &chef).await?);
    }
    let mut refused = Subscriber::start(&stack, Some(&chef)).await?;
    let (code, _) = refused.closed_within(testkit::DEADLINE).await?;
    assert_eq!(code, Some(4403), "one socket more than a user may have");
    // Another user is not affected; and a socket closed makes room.
    let other_chef = stack.kitchen_staff().await?;
    Subscriber::connect(&stack, &other_chef).await?;
    drop(others.pop());
    testkit::eventually("the closed socket to make room", || async {
        Subscriber::connect(&stack, &chef).await.ok().map(drop)
    })
    .await;

    // A socket without a token reads what anyone may read, and nothing else.
    let mut anonymous = Subscriber::connect_anonymously(&stack).await?;
    anonymous.subscribe("new", ORDER_CREATED, json!({})).await?;
    assert_eq!(anonymous.refusal("new").await?, "UNAUTHENTICATED");
    anonymous.subscribe("menu", "{ menuItems(first: 1) { edges { node { name } } } }", json!({})).await?;
    let menu = anonymous.next_of("menu").await?;
    assert!(menu["payload"]["data"]["menuItems"]["edges"][0]["node"]["name"].is_string(), "{menu}");
    stack.stop().await;
    Ok(())
}

/// Subscribes `orderCreated` as `chef` and waits until orders reach it.
async fn following_new_orders(stack: &Stack, chef: &Token, customer: &Token, item: &str) -> anyhow::Result<Subscriber> {
    let mut kitchen = Subscriber::connect(stack, chef).await?;
    kitchen.subscribe("new", ORDER_CREATED, json!({})).await?;
    kitchen.until_an_order_arrives(stack, customer, item).await?;
    Ok(kitchen)
}

#[actix_rt::test]
async fn a_socket_closes_within_two_seconds_of_its_token_being_revoked() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let (_, customer) = stack.register_customer().await?;
    let item = stack.menu_ids("DRINK", 1).await?.remove(0).0;
    let mut kitchen = following_new_orders(&stack, &chef, &customer, &item).await?;

    let answer = stack.graphql_as(Some(&chef), "mutation { logout }", json!({})).await?;
    assert_eq!(answer["data"]["logout"], true, "{answer}");
    let logged_out = Instant::now();
    let later = stack.place_order(&customer, &item, 1).await?;
    let (code, read) = kitchen.closed_within(Duration::from_secs(2)).await?;
    eprintln!("the socket closed {:?} after the logout", logged_out.elapsed());
    assert_eq!(code, Some(4401));
    assert!(read.iter().all(|m| m["payload"]["data"]["orderCreated"]["id"] != later.as_str()), "{read:?}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_socket_closes_when_its_token_expires() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let chef = stack.kitchen_staff().await?;
    let verifier = stack.auth.issuer().verifier();
    let tokens::Principal::User(claims) = verifier.authorize(&chef, &tokens::Access::read("api"))? else {
        anyhow::bail!("a staff token speaks for a user");
    };
    let lifetime = Duration::from_secs(3);
    let short = stack.auth.issuer().user_token(&claims, lifetime)?.token;
    let mut kitchen = Subscriber::connect(&stack, &short).await?;
    kitchen.subscribe("new", ORDER_CREATED, json!({})).await?;
    let (code, _) = kitchen.closed_within(lifetime + Duration::from_secs(2)).await?;
    assert_eq!(code, Some(4401));
    stack.stop().await;
    Ok(())
}

/// Registers a new account over GraphQL with `X-Forwarded-For: <forwarded>`; the answer.
async fn register_as_forwarded_for(stack: &Stack, forwarded: &str) -> anyhow::Result<Value> {
    let name = format!("fwd-{}", &testkit::unique_name("x")[2..14]);
    let body = json!({ "query": REGISTER, "variables": credentials(&name, "correct horse battery") });
    let response = reqwest::Client::new()
        .post(format!("http://{}/graphql", stack.gateway.http_addr()))
        .header("x-forwarded-for", forwarded)
        .json(&body)
        .send()
        .await?;
    Ok(response.json().await?)
}

/// Registers with a new forwarded address each time until refused; the answer and how many
/// got through. Fails past the deadline (the address is never throttled).
async fn register_until_refused(stack: &Stack, forwarded: impl Fn(u32) -> String) -> anyhow::Result<(Value, u32)> {
    let started = Instant::now();
    for i in 0.. {
        let answer = register_as_forwarded_for(stack, &forwarded(i)).await?;
        if !answer["errors"].is_null() {
            return Ok((answer, i));
        }
        anyhow::ensure!(started.elapsed() < testkit::DEADLINE, "{i} sign-ups and no refusal");
    }
    unreachable!("the loop returns or fails")
}

#[actix_rt::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() -> anyhow::Result<()> {
    let burst = users::throttle::ADDRESS_BURST;
    // No proxy trusted (the default): naming a new address in every request changes nothing,
    // the TCP peer is still one client and runs out of sign-ups after its burst.
    let stack = Stack::start().await?;
    let (refused, got_through) = register_until_refused(&stack, |i| format!("198.51.100.{}", i % 250)).await?;
    assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
    assert!(got_through >= burst, "only {got_through} sign-ups before the refusal");
    stack.stop().await;

    // Behind a trusted proxy (here: the test itself, on loopback), the address it forwards is
    // the client: more clients than one address's burst each get through...
    let stack = Stack::start_with(|gateway| {
        gateway.trusted_proxies = service_kit::http::TrustedProxies::parse("127.0.0.1, ::1").expect("valid");
    })
    .await?;
    for i in 0..=burst {
        let answer = register_as_forwarded_for(&stack, &format!("198.51.100.{i}")).await?;
        assert!(answer["errors"].is_null(), "client {i} has its own bucket: {answer}");
    }
    // ...and one of them, prepending addresses of its own choosing, is still known by the
    // proxy's entry and runs out.
    let (refused, _) = register_until_refused(&stack, |i| format!("10.9.8.{}, 203.0.113.77", i % 250)).await?;
    assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_staff_password_meets_the_customers_minimum() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let key = stack.auth.private_key_hex();
    // The old local default, one character short of what a customer must choose.
    let short = users::admin::create_staff(&stack.db.settings(), key.expose(), "weak-chef", "kitchen").await;
    assert!(short.is_err(), "a 7-character staff password was accepted");
    let answer = stack.graphql(LOGIN, credentials("weak-chef", "kitchen")).await?;
    assert_eq!(code(&answer), "UNAUTHENTICATED", "no such account was made: {answer}");
    users::admin::create_staff(&stack.db.settings(), key.expose(), "strong-chef", "kitchen-local").await?;
    let answer = stack.graphql(LOGIN, credentials("strong-chef", "kitchen-local")).await?;
    assert!(answer["data"]["login"]["token"].is_string(), "{answer}");
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn text_that_would_hide_or_reorder_on_someone_elses_screen_is_refused() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let item = stack.menu_ids("MAIN", 1).await?.remove(0).0;
    let orders_before = stack.db.count("orders.orders").await?;
    for note in ["no\u{0}pickles", "extra \u{202e}sauce", "well\u{200b}done", "bell\u{7}", "\u{2066}isolate"] {
        let answer = stack
            .graphql_as(
                Some(&customer),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                json!({ "i": { "items": [{ "menuItemId": item, "quantity": 1, "note": note }] } }),
            )
            .await?;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{note:?}: {answer}");
    }
    assert_eq!(stack.db.count("orders.orders").await?, orders_before, "a refused note wrote an order");
    for username in ["ad\u{202e}nimda", "chef\u{0}", "zero\u{200b}width", "tab\tname"] {
        let answer = stack.graphql(REGISTER, credentials(username, "correct horse battery")).await?;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{username:?}: {answer}");
    }
    stack.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_public_ports_show_no_metrics_and_no_readiness_details() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let http = reqwest::Client::new();
    let services = [
        ("orders", stack.orders.http_addr(), stack.orders.ops_addr()),
        ("kitchen", stack.kitchen.http_addr(), stack.kitchen.ops_addr()),
        ("gateway", stack.gateway.http_addr(), stack.gateway.ops_addr()),
        ("users", stack.users.http_addr(), stack.users.ops_addr()),
    ];
    for (service, public, ops) in services {
        assert_ne!(public.port(), ops.port(), "{service}");
        let metrics = http.get(format!("http://{public}/metrics")).send().await?;
        assert_eq!(metrics.status().as_u16(), 404, "{service} shows /metrics on its public port");
        let ready = http.get(format!("http://{public}/readyz")).send().await?;
        assert_eq!((ready.status().as_u16(), ready.text().await?), (200, "ready\n".to_owned()), "{service}");
        let metrics = http.get(format!("http://{ops}/metrics")).send().await?.text().await?;
        assert!(metrics.contains(&format!("service=\"{service}\"")), "{service}: {metrics}");
        let detail: Value = http.get(format!("http://{ops}/readyz")).send().await?.json().await?;
        assert!(detail.as_object().is_some_and(|checks| checks.values().all(|v| v == "ok")), "{service}: {detail}");
    }
    stack.stop().await;
    Ok(())
}
