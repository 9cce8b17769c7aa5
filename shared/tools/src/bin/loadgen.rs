//! `loadgen`: places orders over GraphQL as customers would, at a steady rate, with a kitchen
//! tablet connected, and reports how long each order took to reach the tablet, whether every
//! order arrived exactly once, and the relay's commit-to-publish delay.
//!
//! ```text
//! loadgen [--orders N] [--rate PER_SECOND] [--gateway URL] [--kitchen HOST:PORT]
//!         [--orders-metrics URL] [--kitchen-user NAME] (password from KITCHEN_PASSWORD)
//! ```
//! Everything it talks to is on this machine (defaults: the local ports of `ci/dev`).

use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _};

struct Options {
    orders: usize,
    rate: f64,
    gateway: String,
    kitchen: String,
    orders_metrics: String,
    kitchen_user: String,
    kitchen_password: String,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        orders: 200,
        rate: 50.0,
        gateway: "http://127.0.0.1:8082/graphql".into(),
        kitchen: "127.0.0.1:8081".into(),
        orders_metrics: "http://127.0.0.1:8080/metrics".into(),
        kitchen_user: std::env::var("KITCHEN_USERNAME").unwrap_or_else(|_| "kitchen".into()),
        kitchen_password: std::env::var("KITCHEN_PASSWORD").unwrap_or_else(|_| "kitchen".into()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--orders" => o.orders = value()?.parse()?,
            "--rate" => o.rate = value()?.parse()?,
            "--gateway" => o.gateway = value()?,
            "--kitchen" => o.kitchen = value()?,
            "--orders-metrics" => o.orders_metrics = value()?,
            "--kitchen-user" => o.kitchen_user = value()?,
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    anyhow::ensure!(o.rate > 0.0 && o.orders > 0, "--orders and --rate must be positive");
    Ok(o)
}

async fn graphql(http: &reqwest::Client, url: &str, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
    let mut request = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await?.json().await?;
    anyhow::ensure!(answer["errors"].is_null(), "GraphQL error: {}", answer["errors"]);
    Ok(answer["data"].clone())
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(options))
}

async fn run(o: Options) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let chef = graphql(
        &http,
        &o.gateway,
        None,
        "mutation($i: LoginInput!) { login(input: $i) { token } }",
        json!({ "i": { "username": o.kitchen_user, "password": o.kitchen_password } }),
    )
    .await
    .context("signing in as kitchen staff")?["login"]["token"]
        .as_str()
        .context("no kitchen token")?
        .to_owned();
    let username = format!("load-{}", uuid::Uuid::new_v4().simple());
    let customer = graphql(
        &http,
        &o.gateway,
        None,
        "mutation($i: RegisterInput!) { register(input: $i) { token } }",
        json!({ "i": { "username": &username[..24], "password": "load generator" } }),
    )
    .await?["register"]["token"]
        .as_str()
        .context("no customer token")?
        .to_owned();
    let menu = graphql(&http, &o.gateway, None, "{ menuItems(first: 50) { edges { node { id available } } } }", json!({})).await?;
    let items: Vec<String> = menu["menuItems"]["edges"]
        .as_array()
        .context("no menu")?
        .iter()
        .filter(|e| e["node"]["available"] == true)
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect();

    // The tablet: records when each order's first ticket message arrives, and counts repeats.
    let mut request = format!("ws://{}/ws", o.kitchen).into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {chef}").parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("connecting the tablet")?;
    let arrivals: Arc<Mutex<HashMap<String, (Instant, usize)>>> = Arc::default();
    let seen = arrivals.clone();
    let tablet = tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            match frame {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if message["type"] == "ticket" && message["ticket"]["version"] == 1 {
                        let id = message["orderId"].as_str().unwrap_or_default().to_owned();
                        let mut seen = seen.lock().expect("unwrap: no panics while held");
                        seen.entry(id).and_modify(|(_, n)| *n += 1).or_insert((Instant::now(), 1));
                    }
                }
                Message::Ping(payload) => {
                    let _ = socket.send(Message::Pong(payload)).await;
                }
                _ => {}
            }
        }
    });

    let interval = Duration::from_secs_f64(1.0 / o.rate);
    let started = Instant::now();
    let mut sends = Vec::with_capacity(o.orders);
    for i in 0..o.orders {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (http, url, token) = (http.clone(), o.gateway.clone(), customer.clone());
        let item = items[i % items.len()].clone();
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let data = graphql(
                &http,
                &url,
                Some(&token),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                json!({ "i": { "items": [{ "menuItemId": item, "quantity": 1 }] } }),
            )
            .await?;
            anyhow::Ok((data["createOrder"]["id"].as_str().unwrap_or_default().to_owned(), sent, sent.elapsed()))
        }));
    }
    let mut placed = Vec::with_capacity(o.orders);
    for send in sends {
        placed.push(send.await??);
    }
    let sending = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().expect("unwrap: no panics while held").len() < placed.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tablet.abort();

    let arrivals = arrivals.lock().expect("unwrap: no panics while held");
    let mut latencies: Vec<Duration> = Vec::new();
    let mut missing = 0;
    let mut doubled = 0;
    for (id, sent, _) in &placed {
        match arrivals.get(id) {
            Some((at, count)) => {
                latencies.push(at.saturating_duration_since(*sent));
                doubled += count - 1;
            }
            None => missing += 1,
        }
    }
    let mut responses: Vec<Duration> = placed.iter().map(|(_, _, r)| *r).collect();
    let relay = relay_delay(&http, &o.orders_metrics).await.unwrap_or_else(|e| format!("unavailable ({e})"));
    let mut out = std::io::stdout().lock();
    writeln!(out, "orders sent                 {} at {:.0}/s over {:.1}s ({:.1}/s achieved)", placed.len(), o.rate, sending.as_secs_f64(), placed.len() as f64 / sending.as_secs_f64())?;
    writeln!(out, "arrived on the tablet       {} (missing {missing}, doubled {doubled})", latencies.len())?;
    writeln!(out, "createOrder → tablet        {}", summary(&mut latencies))?;
    writeln!(out, "createOrder response        {}", summary(&mut responses))?;
    writeln!(out, "relay commit → publish      {relay}")?;
    anyhow::ensure!(missing == 0 && doubled == 0, "every order must arrive exactly once");
    Ok(())
}

fn summary(values: &mut [Duration]) -> String {
    if values.is_empty() {
        return "no data".into();
    }
    values.sort();
    let at = |q: f64| values[((values.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    format!("p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms", at(0.5), at(0.95), at(0.99), at(1.0))
}

/// Quantiles of `orders_outbox_commit_to_publish_seconds`, from its histogram buckets (upper
/// bounds: a bucket's quantile is reported as its upper edge).
async fn relay_delay(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let text = http.get(url).send().await?.text().await?;
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with("orders_outbox_commit_to_publish_seconds_bucket"))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let count: f64 = l.rsplit(' ').next()?.parse().ok()?;
            Some((if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? }, count))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map_or(0.0, |b| b.1);
    anyhow::ensure!(total > 0.0, "no events published yet");
    let quantile = |q: f64| {
        buckets.iter().find(|(_, c)| *c >= q * total).map_or(f64::INFINITY, |(le, _)| *le) * 1000.0
    };
    Ok(format!("p50 ≤ {} ms  p99 ≤ {} ms  ({} events, bucket bounds)", quantile(0.5), quantile(0.99), total))
}
