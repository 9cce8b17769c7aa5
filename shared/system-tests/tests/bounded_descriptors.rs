//! A gateway under more requests than it can serve turns the excess away at once, and its open
//! file descriptors come back to where they started once its clients are gone (issue 15: in a
//! soak the gateway's descriptors grew from 51 to its limit of 20,000 in 12 minutes — every
//! request it had accepted waited in a queue, 90 s on average, holding its client's socket
//! long after the client gave up, and was still sent to orders).
//!
//! One of each service runs as a real process ([`Cluster`]), so the gateway's descriptors are
//! its own (`/proc/<pid>/fd`). Through it go what clients do under load and faults: short
//! requests on fresh connections; subscription sockets whose client vanishes without a close
//! frame, and ones closed properly; then, with the orders service frozen (SIGSTOP) so that no
//! answer can come, more requests at once than the gateway serves at once
//! (`REQUESTS_IN_FLIGHT`), and requests whose client gives up and closes the connection before
//! the answer. Then orders is thawed, and the gateway's descriptors must be back near their
//! starting count within a deadline.

use anyhow::Context as _;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use system_tests::{Cluster, Subscriber};
use tokens::Token;
use tokio::io::AsyncWriteExt as _;

/// Connections of each kind driven through the gateway.
const CONNECTIONS: usize = 60;
/// How long the gateway may take to let go of what its clients left.
const SETTLE: Duration = Duration::from_secs(45);
/// Descriptors the gateway may hold above its start once idle (its own lazily opened
/// connections to users and orders, an epoll or timer the runtime adds).
const SLACK: usize = 8;
/// How soon a request over the gateway's limit must be turned away: at once, not after a
/// backend's deadline.
const TURNED_AWAY_WITHIN: Duration = Duration::from_secs(3);

/// Customers whose sockets take turns (each may hold `SOCKETS_PER_USER`, 5).
const SOCKET_USERS: usize = 4;

const WATCH: &str = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { orderId status } }";

/// Polls `check` until it holds, for at most [`testkit::DEADLINE`].
async fn until<F, Fut>(what: &str, check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    testkit::within(testkit::DEADLINE, what, check).await.map(drop)
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(Iterator::count).unwrap_or(usize::MAX)
}

/// `POST /graphql` written by hand on a fresh connection: the request whole, then nothing read.
async fn send_and_abandon(gateway: SocketAddr, token: &str, body: &str) -> anyhow::Result<tokio::net::TcpStream> {
    let mut stream = tokio::net::TcpStream::connect(gateway).await?;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {gateway}\r\ncontent-type: application/json\r\nauthorization: Bearer \
         {token}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    Ok(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_lets_go_of_every_connection_its_clients_left() -> anyhow::Result<()> {
    let cluster = Cluster::start(1, env!("CARGO_BIN_EXE_service-instance")).await?;
    let gateway = cluster.gateways[0].http;
    let pid = cluster.gateways[0].pid().expect("unwrap: the gateway is running");
    let (_, customer) = cluster.register_customer(gateway).await?;
    let menu = cluster.graphql(gateway, None, "{ menuItems(first: 1) { edges { node { id } } } }", json!({})).await?;
    let item = menu["data"]["menuItems"]["edges"][0]["node"]["id"].as_str().expect("unwrap: a menu").to_owned();
    let place = |customer: Token| {
        let item = item.clone();
        let cluster = &cluster;
        async move {
            let placed = cluster
                .graphql(
                    gateway,
                    Some(&customer),
                    "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                    json!({ "i": { "items": [{ "menuItemId": item, "quantity": 1 }] } }),
                )
                .await?;
            let order = placed["data"]["createOrder"]["id"].as_str().context("no order placed")?.to_owned();
            anyhow::Ok((customer, order))
        }
    };
    let (_, order) = place(customer.clone()).await?;
    // One socket used and closed properly, so the gateway's lazily made connections (orders'
    // event stream, users) exist before the count starts.
    let mut warm = Subscriber::connect_at(gateway, &customer).await?;
    warm.subscribe("warm", WATCH, json!({ "id": order })).await?;
    drop(warm);
    let ops = cluster.gateways[0].ops;
    until("the warm-up subscription to leave", || async {
        cluster.metric(ops, "gateway_subscriptions_open").await.ok() == Some(0.0)
    })
    .await?;
    let before = open_descriptors(pid);

    // Short requests, each on a connection of its own, closed after the answer.
    for _ in 0..CONNECTIONS {
        let fresh = reqwest::Client::new();
        let answer = system_tests::graphql_at(&fresh, gateway, Some(&customer), "{ me { id } }", json!({})).await?;
        assert!(answer["errors"].is_null(), "{answer}");
    }

    // Sockets: half vanish (TCP closed, no close frame) with a live subscription, half close
    // properly. Their users take turns, so that no user's socket limit is reached while the
    // gateway is still letting go of the previous ones.
    let mut users = vec![(customer.clone(), order.clone())];
    for _ in 1..SOCKET_USERS {
        users.push(place(cluster.register_customer(gateway).await?.1).await?);
    }
    for i in 0..CONNECTIONS {
        let (user, order) = &users[i % SOCKET_USERS];
        let mut socket = Subscriber::connect_at(gateway, user).await?;
        socket.subscribe("live", WATCH, json!({ "id": order })).await?;
        if i % 2 == 0 {
            socket.close().await?;
        }
    }

    // Orders frozen: no answer can come from it. More requests at once than the gateway serves
    // at once: the excess is turned away at once, every other answered by the deadlines.
    cluster.orders[0].pause().await?;
    let over = gateway::config::DEFAULT_REQUESTS_IN_FLIGHT + 40;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let answers = futures::future::join_all((0..over).map(|_| {
        let (http, customer) = (http.clone(), customer.clone());
        async move {
            let answer = system_tests::graphql_at(
                &http,
                gateway,
                Some(&customer),
                "{ order(id: \"00000000-0000-7000-8000-000000000000\") { id } }",
                json!({}),
            )
            .await;
            (started.elapsed(), answer)
        }
    }))
    .await;
    let mut turned_away = 0;
    for (took, answer) in answers {
        let answer = answer?;
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{answer}");
        assert!(took < gateway::http::REQUEST_DEADLINE + Duration::from_secs(2), "answered after {took:?}: {answer}");
        if took < TURNED_AWAY_WITHIN {
            assert_eq!(answer["errors"][0]["extensions"]["retryAfter"], 1, "{answer}");
            turned_away += 1;
        }
    }
    assert!(turned_away >= 40, "{turned_away} of {over} requests turned away at once");
    drop(http);

    // Requests whose answers are late (orders frozen) and whose clients give up first.
    let create = json!({
        "query": "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        "variables": { "i": { "items": [{ "menuItemId": item, "quantity": 1 }] } },
    })
    .to_string();
    let read =
        json!({ "query": "query($id: ID!) { order(id: $id) { status } }", "variables": { "id": order } }).to_string();
    let calls = cluster.metric(ops, "gateway_backend_calls_total").await?;
    let mut abandoned = vec![];
    for i in 0..CONNECTIONS {
        let body = if i % 2 == 0 { &create } else { &read };
        abandoned.push(send_and_abandon(gateway, customer.as_str(), body).await?);
    }
    // Every request is waiting for orders when its client gives up.
    until("every abandoned request to reach its backend call", || async {
        cluster.metric(ops, "gateway_backend_calls_total").await.unwrap_or_default() >= calls + CONNECTIONS as f64
    })
    .await?;
    until("every abandoned request to be counted in flight", || async {
        cluster.metric(ops, "gateway_requests_in_flight").await.is_ok_and(|served| served >= CONNECTIONS as f64)
    })
    .await?;
    drop(abandoned);
    // Orders stays frozen until the gateway has let go of every abandoned request (dropped with
    // its client, or failed at its backend call's deadline), so none is answered late.
    until("every abandoned request to have ended", || async {
        cluster.metric(ops, "gateway_requests_in_flight").await.is_ok_and(|served| served == 0.0)
    })
    .await?;
    cluster.orders[0].resume().await?;

    // Polled until the descriptors are back or SETTLE ran out; the assertion says which.
    let _ = testkit::within(SETTLE, "the gateway's descriptors to settle", || async {
        open_descriptors(pid) <= before + SLACK
    })
    .await;
    let now = open_descriptors(pid);
    assert!(
        now <= before + SLACK,
        "the gateway held {now} descriptors {SETTLE:?} after its clients left ({before} before they came):\n{}",
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .map(|target| target.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    // And it still serves.
    let answer = cluster.graphql(gateway, Some(&customer), "{ me { id } }", json!({})).await?;
    assert!(answer["errors"].is_null(), "{answer}");
    Ok(())
}
