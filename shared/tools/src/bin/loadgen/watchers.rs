//! `watchers`: thousands of customers watching their orders. `--subscriptions` open
//! `orderStatusChanged` subscriptions, one per order, spread over `--sockets` sockets (each
//! customer's orders on that customer's own sockets, as browsers hold them), then a cook bumps
//! the orders at `--bump-rate`: bump → the customer's event, exactly once; the gateway's memory
//! per subscription and its CPU per delivered event.

use crate::client::{Placed, REFUSED, Subscriber, Tablet, key, place_orders, wait_for_all};
use crate::flags::Flags;
use crate::restaurant::{ARRIVAL_DEADLINE, PROBE_WAIT, Restaurant};
use crate::stats::{cpu_micros, summary};
use futures::StreamExt as _;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Sockets opened at once while setting up.
const CONNECT_CONCURRENCY: usize = 25;
/// A refusal comes within the gateway's backend deadline (5 s): subscriptions are taken for
/// settled once this long has passed without one, and refused ones are asked again after it.
const REFUSAL_WINDOW: Duration = Duration::from_secs(7);
/// Rounds of asking again for refused subscriptions before giving up.
const RESUBSCRIBE_ROUNDS: usize = 10;
const STATUS_QUERY: &str = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { orderId status } }";

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let subscriptions: usize = flags.get("subscriptions", 10_000)?;
    let sockets: usize = flags.get("sockets", 2_000)?;
    let (place_rate, bump_rate): (f64, f64) = (flags.get("place-rate", 150.0)?, flags.get("bump-rate", 100.0)?);
    flags.done()?;
    anyhow::ensure!(
        subscriptions > 0 && sockets > 0 && sockets <= subscriptions && place_rate > 0.0 && bump_rate > 0.0,
        "--subscriptions ≥ --sockets > 0 and positive rates"
    );
    let per_socket = subscriptions.div_ceil(sockets);
    let (api, services) = (&restaurant.api, &restaurant.services);
    let tablet = Tablet::connect(&restaurant.kitchen, &restaurant.chef).await?;

    // One order per subscription.
    let placing = place_orders(api, &restaurant.customers, &restaurant.dishes, subscriptions, place_rate).await;
    anyhow::ensure!(placing.errors.is_empty(), "{} orders failed, first: {}", placing.errors.len(), placing.errors[0]);
    let mut by_customer: BTreeMap<usize, Vec<&Placed>> = BTreeMap::new();
    for p in &placing.placed {
        by_customer.entry(p.customer).or_default().push(p);
    }
    // Each socket: a customer and up to `per_socket` of their orders.
    let groups: Vec<(usize, Vec<&Placed>)> = by_customer
        .into_iter()
        .flat_map(|(customer, orders)| {
            orders.chunks(per_socket).map(|chunk| (customer, chunk.to_vec())).collect::<Vec<_>>()
        })
        .collect();

    let gateway_before = services.rss_kib("gateway");
    let already_open = restaurant.subscriptions_open().await;
    let subscribers: Vec<(Subscriber, Vec<&Placed>)> = futures::stream::iter(groups)
        .map(|(customer, orders)| {
            let token = restaurant.customers[customer].clone();
            async move {
                let subscriber = Subscriber::connect(&api.url, &token).await?;
                for p in &orders {
                    subscriber.subscribe(&p.id, STATUS_QUERY, json!({ "id": p.id })).await?;
                }
                anyhow::Ok((subscriber, orders))
            }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;

    // 10,000 subscriptions asked for within seconds overrun the gateway's backend calls (each
    // asks orders whether the customer may see the order): the refused ones are asked again,
    // as the order page does, until a window passes with none refused.
    let mut refusals_seen: HashMap<&str, usize> = HashMap::new();
    let mut resubscribed = 0;
    for round in 0..=RESUBSCRIBE_ROUNDS {
        tokio::time::sleep(REFUSAL_WINDOW).await;
        let mut again = 0;
        for (subscriber, orders) in &subscribers {
            for p in orders {
                let refused = subscriber.arrivals.get(&key(&p.id, REFUSED)).map_or(0, |(_, n)| n);
                let seen = refusals_seen.entry(p.id.as_str()).or_default();
                if refused > *seen {
                    *seen = refused;
                    again += 1;
                    subscriber.subscribe(&p.id, STATUS_QUERY, json!({ "id": p.id })).await?;
                }
            }
        }
        if again == 0 {
            break;
        }
        anyhow::ensure!(round < RESUBSCRIBE_ROUNDS, "{again} subscriptions still refused after {round} rounds");
        resubscribed += again;
    }

    // Every subscription joined, then the last one of each socket bumped until its event
    // arrives: the whole way from a bump to a customer is live before anything is timed.
    restaurant.wait_for_subscriptions(already_open, placing.placed.len()).await;
    let mut probes = vec![];
    for (subscriber, orders) in &subscribers {
        let last = orders.last().expect("unwrap: every socket has at least one order");
        probes.push((subscriber, *last));
    }
    for (subscriber, p) in &probes {
        let mut live = false;
        for status in ["ACCEPTED", "PREPARING", "READY", "COMPLETED"] {
            tablet.bump(&p.id).await?;
            let seen = [key(&p.id, status)];
            wait_for_all(&[&subscriber.arrivals], &seen, Instant::now() + PROBE_WAIT).await;
            if subscriber.arrivals.get(&seen[0]).is_some() {
                live = true;
                break;
            }
        }
        anyhow::ensure!(live, "a customer's subscription never went live");
    }
    let gateway_live = services.rss_kib("gateway");
    let open = subscribers.iter().map(|(_, orders)| orders.len()).sum::<usize>();

    // The timed bumps: every order but the probes, at a steady rate.
    let timed: Vec<(&Subscriber, &Placed)> =
        subscribers.iter().flat_map(|(s, orders)| orders[..orders.len() - 1].iter().map(move |p| (s, *p))).collect();
    let gateway_pid = services.0.iter().find(|(n, _)| n == "gateway").map(|(_, pid)| *pid);
    let cpu_before = gateway_pid.and_then(cpu_micros);
    let interval = Duration::from_secs_f64(1.0 / bump_rate);
    let started = Instant::now();
    let mut bumped = Vec::with_capacity(timed.len());
    for (i, (subscriber, p)) in timed.iter().enumerate() {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let at = Instant::now();
        tablet.bump(&p.id).await?;
        bumped.push((*subscriber, *p, at));
    }
    let deadline = Instant::now() + ARRIVAL_DEADLINE;
    for (subscriber, p, _) in &bumped {
        wait_for_all(&[&subscriber.arrivals], &[key(&p.id, "ACCEPTED")], deadline).await;
    }
    let cpu_after = gateway_pid.and_then(cpu_micros);
    let (mut delays, mut missing, mut doubled) = (vec![], 0, 0);
    for (subscriber, p, at) in &bumped {
        match subscriber.arrivals.get(&key(&p.id, "ACCEPTED")) {
            Some((got, n)) => {
                delays.push(got.saturating_duration_since(*at));
                doubled += n - 1;
            }
            None => missing += 1,
        }
    }
    let memory = match (gateway_before, gateway_live) {
        (Some(before), Some(live)) => format!(
            "{:.1} KiB per subscription, sockets included (gateway {before} → {live} KiB)",
            live.saturating_sub(before) as f64 / open as f64
        ),
        _ => "unknown (pass --pids)".into(),
    };
    let cpu = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) if !delays.is_empty() => {
            format!("{:.0} µs", after.saturating_sub(before) as f64 / delays.len() as f64)
        }
        _ => "unknown (pass --pids)".into(),
    };
    let report = [
        format!(
            "watchers: {open} orderStatusChanged subscriptions on {} sockets ({} customers), {} bumps at {bump_rate:.0}/s; \
             {resubscribed} refused at first (the gateway shedding load) and asked again",
            subscribers.len(),
            restaurant.customers.len(),
            bumped.len()
        ),
        format!("bump → orderStatusChanged   {}  (missing {missing}, doubled {doubled})", summary(&mut delays)),
        format!("gateway memory: {memory}"),
        format!("gateway CPU per delivered event: {cpu}"),
    ]
    .join("\n");
    anyhow::ensure!(missing == 0 && doubled == 0, "{report}\nevery event must arrive exactly once");
    Ok(report)
}
