//! `loadgen`: the benchmark load generator. Customers place orders over GraphQL, kitchen
//! tablets and GraphQL subscribers listen, and every order is checked to arrive exactly once.
//!
//! ```text
//! loadgen hop     [--records N] [--rate R] [--brokers HOST:PORT] [--partitions P]
//! loadgen ramp    [--from R] [--step R] [--seconds S] [--ceiling ORDERS_PER_S]
//! loadgen latency [--orders N] [--rate R]
//! loadgen fanout  [--tablets T] [--subscribers S] [--orders N] [--rate R]
//! common: [--gateway URL] [--kitchen HOST:PORT] [--orders-metrics URL] [--pids name=pid,…]
//!         [--customers N]; kitchen staff from KITCHEN_USERNAME / KITCHEN_PASSWORD
//! ```
//!
//! - `hop`: the broker alone, producer → consumer with the services' settings (`hop.rs`).
//! - `ramp`: steps the order rate up until the pipeline falls behind; the highest rate that
//!   kept up, against the pgbench ceiling.
//! - `latency`: `createOrder` → ticket on the tablet, then a tablet bump →
//!   `orderStatusChanged` on the customer's subscription.
//! - `fanout`: many open sockets, each receiving every new order; idle memory per socket.
//!
//! Every figure goes to stdout, one line each, for `ci/bench` to record.

mod client;
mod hop;
mod stats;

use anyhow::Context as _;
use client::{Api, Subscriber, Tablet, key, place_orders, wait_for_all};
use futures::StreamExt as _;
use serde_json::json;
use stats::{Services, quantile, summary};
use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// How long after the last order is sent every order may take to arrive before it counts as
/// missing.
const ARRIVAL_DEADLINE: Duration = Duration::from_secs(30);
/// A step of the ramp keeps up when its p99 order-to-tablet delay stays under this…
const KEEPING_UP_P99: Duration = Duration::from_secs(1);
/// …and it delivers at least this share of the offered rate.
const KEEPING_UP_SHARE: f64 = 0.95;
/// How long one probe may take to arrive before another is sent.
const PROBE_WAIT: Duration = Duration::from_secs(3);
/// How often resident memory is sampled under load.
const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Sockets opened at once while setting up the fan-out.
const CONNECT_CONCURRENCY: usize = 25;

/// Command-line flags, `--name value`.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut flags = HashMap::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").with_context(|| format!("unexpected argument {arg:?}"))?;
            flags.insert(name.to_owned(), args.next().with_context(|| format!("{arg} needs a value"))?);
        }
        Ok(Self(flags))
    }

    fn get<T: std::str::FromStr>(&mut self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.0.remove(name) {
            Some(value) => value.parse().map_err(|e| anyhow::anyhow!("--{name}: {e}")),
            None => Ok(default),
        }
    }

    fn done(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.0.is_empty(), "unknown flags: {:?}", self.0.keys().collect::<Vec<_>>());
        Ok(())
    }
}

/// What every command talks to.
struct Restaurant {
    api: Api,
    kitchen: String,
    orders_metrics: String,
    services: Services,
    chef: String,
    customers: Vec<String>,
    dishes: Vec<String>,
}

impl Restaurant {
    async fn open(flags: &mut Flags) -> anyhow::Result<Self> {
        let api = Api::new(&flags.get("gateway", "http://127.0.0.1:8082/graphql".to_owned())?);
        let kitchen = flags.get("kitchen", "127.0.0.1:8081".to_owned())?;
        let orders_metrics = flags.get("orders-metrics", "http://127.0.0.1:8080/metrics".to_owned())?;
        let services = Services::parse(&flags.get("pids", String::new())?)?;
        let customers: usize = flags.get("customers", 10)?;
        let chef_name = std::env::var("KITCHEN_USERNAME").unwrap_or_else(|_| "kitchen".into());
        let chef_password = std::env::var("KITCHEN_PASSWORD").unwrap_or_else(|_| "kitchen".into());
        let chef = api.sign_in(&chef_name, &chef_password).await.context("signing in as kitchen staff")?;
        let customers = api.new_customers(customers.max(1)).await.context("registering customers")?;
        let dishes = api.available_dishes().await?;
        Ok(Self { api, kitchen, orders_metrics, services, chef, customers, dishes })
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let flags = Flags::parse(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(async move {
        match command.as_str() {
            "hop" => hop(flags).await,
            "ramp" => ramp(flags).await,
            "latency" => latency(flags).await,
            "fanout" => fanout(flags).await,
            _ => anyhow::bail!("usage: loadgen hop|ramp|latency|fanout [--flag value]… (see the source's header)"),
        }
    })?;
    writeln!(std::io::stdout().lock(), "{report}").context("writing the report")
}

async fn hop(mut flags: Flags) -> anyhow::Result<String> {
    let kafka = service_kit::config::KafkaSettings::from_env()?;
    let brokers = flags.get("brokers", kafka.brokers)?;
    let partitions = flags.get("partitions", kafka.orders_topic_partitions)?;
    let (records, rate) = (flags.get("records", 1000)?, flags.get("rate", 100.0)?);
    flags.done()?;
    anyhow::ensure!(records > 0 && rate > 0.0, "--records and --rate must be positive");
    hop::run(&brokers, partitions, records, rate).await
}

/// One step of the ramp, as measured.
struct Step {
    rate: f64,
    placed: Vec<client::Placed>,
    errors: usize,
    delivered_per_s: f64,
    p99: Duration,
    missing: usize,
    doubled: usize,
}

impl Step {
    fn kept_up(&self) -> bool {
        self.errors == 0
            && self.missing == 0
            && self.doubled == 0
            && self.p99 <= KEEPING_UP_P99
            && self.delivered_per_s >= KEEPING_UP_SHARE * self.rate
    }
}

async fn ramp(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let (from, step, seconds): (f64, f64, f64) =
        (flags.get("from", 50.0)?, flags.get("step", 50.0)?, flags.get("seconds", 8.0)?);
    let ceiling: f64 = flags.get("ceiling", 0.0)?;
    flags.done()?;
    anyhow::ensure!(from > 0.0 && step > 0.0 && seconds > 0.0, "--from, --step and --seconds must be positive");
    let tablet = Tablet::connect(&restaurant.kitchen, &restaurant.chef).await?;
    let mut lines = vec![format!("resident memory before the ramp: {}", restaurant.services.describe_now())];
    let peaks = restaurant.services.watch_peaks(MEMORY_SAMPLE_EVERY);
    let mut best: Option<(f64, f64)> = None;
    let mut all = vec![];
    let mut rate = from;
    loop {
        let count = (rate * seconds).round() as usize;
        let placing = place_orders(&restaurant.api, &restaurant.customers, &restaurant.dishes, count, rate).await;
        let keys: Vec<String> = placing.placed.iter().map(|p| key(&p.id, "PLACED")).collect();
        wait_for_all(&[&tablet.arrivals], &keys, Instant::now() + Duration::from_secs(10)).await;
        let mut delays = vec![];
        let (mut missing, mut doubled, mut last) = (0, 0, None::<Instant>);
        for p in &placing.placed {
            match tablet.arrivals.get(&key(&p.id, "PLACED")) {
                Some((at, n)) => {
                    delays.push(at.saturating_duration_since(p.sent));
                    doubled += n - 1;
                    last = Some(last.map_or(at, |l| l.max(at)));
                }
                None => missing += 1,
            }
        }
        let first = placing.placed.iter().map(|p| p.sent).min();
        let span = match (first, last) {
            (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64().max(seconds),
            _ => f64::INFINITY,
        };
        delays.sort();
        let step_result = Step {
            rate,
            errors: placing.errors.len(),
            delivered_per_s: delays.len() as f64 / span,
            p99: quantile(&delays, 0.99),
            missing,
            doubled,
            placed: placing.placed,
        };
        lines.push(format!(
            "ramp {:>5.0}/s offered: {:>6.1}/s delivered, order → tablet {}, errors {}, late {}, doubled {}{}",
            rate,
            step_result.delivered_per_s,
            summary(&mut delays),
            step_result.errors,
            missing,
            doubled,
            if step_result.kept_up() { "" } else { "  ← falls behind" }
        ));
        eprintln!("{}", lines.last().expect("unwrap: just pushed"));
        if let Some(e) = placing.errors.first() {
            eprintln!("  first error: {e}");
        }
        let kept_up = step_result.kept_up();
        if kept_up {
            best = Some((rate, step_result.delivered_per_s));
        }
        all.push(step_result);
        if !kept_up {
            break;
        }
        rate += step;
    }
    let memory = peaks.finish();

    // Exactly once, for every order of every step, the late ones included.
    let keys: Vec<String> = all.iter().flat_map(|s| s.placed.iter().map(|p| key(&p.id, "PLACED"))).collect();
    wait_for_all(&[&tablet.arrivals], &keys, Instant::now() + ARRIVAL_DEADLINE).await;
    let counts: Vec<usize> = keys.iter().map(|k| tablet.arrivals.get(k).map_or(0, |(_, n)| n)).collect();
    let (missing, doubled) =
        (counts.iter().filter(|&&n| n == 0).count(), counts.iter().map(|n| n.saturating_sub(1)).sum::<usize>());
    lines.push(format!(
        "ramp: {} orders placed, all arrived on the tablet: missing {missing}, doubled {doubled}",
        keys.len()
    ));
    match best {
        Some((rate, delivered)) => {
            let ratio = if ceiling > 0.0 {
                format!(", {:.0} % of the pgbench ceiling {ceiling:.0}/s", 100.0 * delivered / ceiling)
            } else {
                String::new()
            };
            lines.push(format!("max sustained throughput: {delivered:.0} orders/s (offered {rate:.0}/s){ratio}"));
        }
        None => lines.push(format!("max sustained throughput: below {from:.0} orders/s")),
    }
    lines.push(format!("resident memory at peak load: {memory}"));
    lines.push(format!(
        "relay commit → publish      {}",
        relay_delay(&restaurant.orders_metrics).await.unwrap_or_else(|e| format!("unavailable ({e})"))
    ));
    anyhow::ensure!(missing == 0 && doubled == 0, "{}\nevery order must arrive exactly once", lines.join("\n"));
    Ok(lines.join("\n"))
}

async fn latency(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let (count, rate) = (flags.get("orders", 1000)?, flags.get("rate", 100.0)?);
    flags.done()?;
    anyhow::ensure!(count > 0 && rate > 0.0, "--orders and --rate must be positive");
    let api = &restaurant.api;
    let tablet = Tablet::connect(&restaurant.kitchen, &restaurant.chef).await?;
    let mut subscribers = Vec::with_capacity(restaurant.customers.len());
    for token in &restaurant.customers {
        subscribers.push(Subscriber::connect(&api.url, token).await?);
    }

    // createOrder → ticket on the tablet.
    let placing = place_orders(api, &restaurant.customers, &restaurant.dishes, count, rate).await;
    anyhow::ensure!(placing.errors.is_empty(), "{} orders failed, first: {}", placing.errors.len(), placing.errors[0]);
    let keys: Vec<String> = placing.placed.iter().map(|p| key(&p.id, "PLACED")).collect();
    wait_for_all(&[&tablet.arrivals], &keys, Instant::now() + ARRIVAL_DEADLINE).await;
    let (mut to_tablet, mut missing, mut doubled) = (vec![], 0, 0);
    for p in &placing.placed {
        match tablet.arrivals.get(&key(&p.id, "PLACED")) {
            Some((at, n)) => {
                to_tablet.push(at.saturating_duration_since(p.sent));
                doubled += n - 1;
            }
            None => missing += 1,
        }
    }
    let mut responses: Vec<Duration> = placing.placed.iter().map(|p| p.response).collect();

    // Each customer watches each of their orders; a cook bumps them at the same rate.
    let status_query = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { orderId status } }";
    for p in &placing.placed {
        subscribers[p.customer].subscribe(&p.id, status_query, json!({ "id": p.id })).await?;
    }
    // The last subscription of each connection, bumped first and awaited, proves the
    // connection's subscriptions are live before anything is timed.
    let mut probes: HashMap<usize, &client::Placed> = HashMap::new();
    for p in &placing.placed {
        probes.insert(p.customer, p);
    }
    for (customer, p) in &probes {
        // A bump can overtake its own subscription's set-up: bump again (the next status) until
        // one reaches the customer.
        let mut live = false;
        for status in ["ACCEPTED", "PREPARING", "READY", "COMPLETED"] {
            tablet.bump(&p.id).await?;
            let seen = [key(&p.id, status)];
            wait_for_all(&[&subscribers[*customer].arrivals], &seen, Instant::now() + PROBE_WAIT).await;
            if subscribers[*customer].arrivals.get(&seen[0]).is_some() {
                live = true;
                break;
            }
        }
        anyhow::ensure!(live, "a customer's subscription never went live");
    }
    let timed: Vec<&client::Placed> =
        placing.placed.iter().filter(|p| !probes.values().any(|q| q.id == p.id)).collect();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut bumped = Vec::with_capacity(timed.len());
    for (i, p) in timed.iter().enumerate() {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let at = Instant::now();
        tablet.bump(&p.id).await?;
        bumped.push((*p, at));
    }
    let deadline = Instant::now() + ARRIVAL_DEADLINE;
    for (p, _) in &bumped {
        wait_for_all(&[&subscribers[p.customer].arrivals, &tablet.arrivals], &[key(&p.id, "ACCEPTED")], deadline).await;
    }
    let (mut to_customer, mut bump_to_tablet, mut status_missing) = (vec![], vec![], 0);
    for (p, at) in &bumped {
        match subscribers[p.customer].arrivals.get(&key(&p.id, "ACCEPTED")) {
            Some((got, n)) => {
                to_customer.push(got.saturating_duration_since(*at));
                doubled += n - 1;
            }
            None => status_missing += 1,
        }
        if let Some((got, _)) = tablet.arrivals.get(&key(&p.id, "ACCEPTED")) {
            bump_to_tablet.push(got.saturating_duration_since(*at));
        }
    }
    let report = [
        format!(
            "latency run: {} orders at {rate:.0}/s, {} customers each subscribed to their orders",
            placing.placed.len(),
            subscribers.len()
        ),
        format!("createOrder → tablet        {}  (missing {missing})", summary(&mut to_tablet)),
        format!("createOrder response        {}", summary(&mut responses)),
        format!(
            "bump → orderStatusChanged   {}  ({} bumps, missing {status_missing})",
            summary(&mut to_customer),
            bumped.len()
        ),
        format!("bump → ticket on the tablet {}", summary(&mut bump_to_tablet)),
        format!(
            "relay commit → publish      {}",
            relay_delay(&restaurant.orders_metrics).await.unwrap_or_else(|e| format!("unavailable ({e})"))
        ),
    ]
    .join("\n");
    anyhow::ensure!(
        missing == 0 && status_missing == 0 && doubled == 0,
        "{report}\nevery event must arrive exactly once (doubled {doubled})"
    );
    Ok(report)
}

async fn fanout(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let (tablets, subscribers) = (flags.get("tablets", 500)?, flags.get("subscribers", 500)?);
    let (count, rate) = (flags.get("orders", 100)?, flags.get("rate", 10.0)?);
    flags.done()?;
    anyhow::ensure!(count > 0 && rate > 0.0, "--orders and --rate must be positive");
    let (api, services) = (&restaurant.api, &restaurant.services);

    let before = (services.rss_kib("kitchen"), services.rss_kib("gateway"));
    let tablets: Vec<Tablet> = futures::stream::iter(0..tablets)
        .map(|_| Tablet::connect(&restaurant.kitchen, &restaurant.chef))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let subscribers: Vec<Subscriber> = futures::stream::iter(0..subscribers)
        .map(|_| async {
            let subscriber = Subscriber::connect(&api.url, &restaurant.chef).await?;
            subscriber.subscribe("new-orders", "subscription { orderCreated { id } }", json!({})).await?;
            anyhow::Ok(subscriber)
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let sockets: Vec<&client::Arrivals> =
        tablets.iter().map(|t| &t.arrivals).chain(subscribers.iter().map(|s| &s.arrivals)).collect();

    // Probe orders until one reaches every socket: from then on every subscription is live.
    let mut live = false;
    for _ in 0..10 {
        let probe = api.create_order(&restaurant.customers[0], &restaurant.dishes[0]).await?;
        wait_for_all(&sockets, &[key(&probe, "PLACED")], Instant::now() + PROBE_WAIT).await;
        if sockets.iter().all(|s| s.get(&key(&probe, "PLACED")).is_some()) {
            live = true;
            break;
        }
    }
    anyhow::ensure!(live, "not every socket received a probe order");
    let per_socket = |before: Option<u64>, now: Option<u64>, n: usize| match (before, now) {
        (Some(b), Some(a)) if n > 0 => format!("{:.1} KiB", (a.saturating_sub(b)) as f64 / n as f64),
        _ => "unknown (pass --pids)".into(),
    };
    let idle = (services.rss_kib("kitchen"), services.rss_kib("gateway"));
    let memory_line = format!(
        "memory per idle socket: tablet {} (kitchen {} → {} KiB), GraphQL subscription {} (gateway {} → {} KiB)",
        per_socket(before.0, idle.0, tablets.len()),
        before.0.unwrap_or_default(),
        idle.0.unwrap_or_default(),
        per_socket(before.1, idle.1, subscribers.len()),
        before.1.unwrap_or_default(),
        idle.1.unwrap_or_default(),
    );

    let peaks = services.watch_peaks(MEMORY_SAMPLE_EVERY);
    let placing = place_orders(api, &restaurant.customers, &restaurant.dishes, count, rate).await;
    anyhow::ensure!(placing.errors.is_empty(), "{} orders failed, first: {}", placing.errors.len(), placing.errors[0]);
    let keys: Vec<String> = placing.placed.iter().map(|p| key(&p.id, "PLACED")).collect();
    wait_for_all(&sockets, &keys, Instant::now() + ARRIVAL_DEADLINE).await;
    let memory = peaks.finish();
    let (mut to_tablets, mut to_subscribers, mut missing, mut doubled) = (vec![], vec![], 0, 0);
    for (i, socket) in sockets.iter().enumerate() {
        for p in &placing.placed {
            match socket.get(&key(&p.id, "PLACED")) {
                Some((at, n)) => {
                    let delay = at.saturating_duration_since(p.sent);
                    if i < tablets.len() {
                        to_tablets.push(delay)
                    } else {
                        to_subscribers.push(delay)
                    }
                    doubled += n - 1;
                }
                None => missing += 1,
            }
        }
    }
    let mut all: Vec<Duration> = to_tablets.iter().chain(&to_subscribers).copied().collect();
    let report = [
        format!(
            "fan-out: {} sockets ({} tablets, {} orderCreated subscriptions), {} orders at {rate:.0}/s",
            sockets.len(),
            tablets.len(),
            subscribers.len(),
            placing.placed.len()
        ),
        format!("createOrder → every socket  {}  (missing {missing}, doubled {doubled})", summary(&mut all)),
        format!("  → tablets                 {}", summary(&mut to_tablets)),
        format!("  → subscriptions           {}", summary(&mut to_subscribers)),
        memory_line,
        format!("resident memory at peak fan-out: {memory}"),
    ]
    .join("\n");
    anyhow::ensure!(missing == 0 && doubled == 0, "{report}\nevery socket must receive every order exactly once");
    Ok(report)
}

/// Quantiles of `orders_outbox_commit_to_publish_seconds`, from its histogram buckets (upper
/// bounds: a bucket's quantile is reported as its upper edge).
async fn relay_delay(url: &str) -> anyhow::Result<String> {
    let text = reqwest::get(url).await?.text().await?;
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
    let quantile = |q: f64| buckets.iter().find(|(_, c)| *c >= q * total).map_or(f64::INFINITY, |(le, _)| *le) * 1000.0;
    Ok(format!(
        "p50 ≤ {} ms  p99 ≤ {} ms  ({} events since start, bucket bounds)",
        quantile(0.5),
        quantile(0.99),
        total
    ))
}
