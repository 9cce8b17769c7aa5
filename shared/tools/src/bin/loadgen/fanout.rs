//! `fanout`: many open sockets (`--tablets` on the kitchen, `--subscribers` to `orderCreated`
//! on the gateway), each receiving every new order: the delay to every socket, exactly once,
//! and the services' memory per idle socket and at peak.

use crate::client::{Arrivals, Subscriber, Tablet, key, place_orders, wait_for_all};
use crate::flags::Flags;
use crate::restaurant::{ARRIVAL_DEADLINE, PROBE_WAIT, Restaurant};
use crate::stats::{MEMORY_SAMPLE_EVERY, summary};
use futures::StreamExt as _;
use serde_json::json;
use std::time::{Duration, Instant};

/// Sockets opened at once while setting up the fan-out.
const CONNECT_CONCURRENCY: usize = 25;

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
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
    let sockets: Vec<&Arrivals> =
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
    let (cpu_before, started) = (services.cpu_snapshot(), Instant::now());
    let placing = place_orders(api, &restaurant.customers, &restaurant.dishes, count, rate).await;
    anyhow::ensure!(placing.errors.is_empty(), "{} orders failed, first: {}", placing.errors.len(), placing.errors[0]);
    let keys: Vec<String> = placing.placed.iter().map(|p| key(&p.id, "PLACED")).collect();
    wait_for_all(&sockets, &keys, Instant::now() + ARRIVAL_DEADLINE).await;
    let cpu_line = services.cpu_use(&cpu_before, &services.cpu_snapshot(), started.elapsed());
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
    // By stage: the answer, the first socket of each kind (the pipeline: relay, broker, the
    // service's consumer) and the spread from its first socket to its last (the push to all).
    let mut responses: Vec<Duration> = placing.placed.iter().map(|p| p.response).collect();
    let stages = |group: &[&Arrivals]| {
        let (mut first, mut spread) = (vec![], vec![]);
        for p in &placing.placed {
            let key = key(&p.id, "PLACED");
            let times: Vec<Instant> = group.iter().filter_map(|s| s.get(&key).map(|(at, _)| at)).collect();
            if let (Some(earliest), Some(latest)) = (times.iter().min(), times.iter().max()) {
                first.push(earliest.saturating_duration_since(p.sent));
                spread.push(latest.saturating_duration_since(*earliest));
            }
        }
        (first, spread)
    };
    let (mut tablet_first, mut tablet_spread) = stages(&sockets[..tablets.len()]);
    let (mut subscription_first, mut subscription_spread) = stages(&sockets[tablets.len()..]);
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
        format!("  by stage: createOrder response     {}", summary(&mut responses)),
        format!("            → first tablet           {}", summary(&mut tablet_first)),
        format!("            first → last tablet      {}", summary(&mut tablet_spread)),
        format!("            → first subscription     {}", summary(&mut subscription_first)),
        format!("            first → last subscription {}", summary(&mut subscription_spread)),
        restaurant.relay_delay_line().await,
        cpu_line,
        memory_line,
        format!("resident memory at peak fan-out: {memory}"),
    ]
    .join("\n");
    anyhow::ensure!(missing == 0 && doubled == 0, "{report}\nevery socket must receive every order exactly once");
    Ok(report)
}
