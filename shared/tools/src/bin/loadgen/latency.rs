//! `latency`: `createOrder` → ticket on the tablet for `--orders` orders at `--rate`, then a
//! tablet bump → `orderStatusChanged` on the customer's subscription (and → the tablet), each
//! event checked to arrive exactly once.

use crate::client::{Placed, Subscriber, Tablet, key, place_orders, wait_for_all};
use crate::flags::Flags;
use crate::restaurant::{ARRIVAL_DEADLINE, PROBE_WAIT, Restaurant};
use crate::stats::summary;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let (count, rate) = (flags.get("orders", 1000)?, flags.get("rate", 100.0)?);
    let chart_file: String = flags.get("chart", String::new())?;
    flags.done()?;
    anyhow::ensure!(count > 0 && rate > 0.0, "--orders and --rate must be positive");
    let api = &restaurant.api;
    let tablet = Tablet::connect(&restaurant.kitchen, &restaurant.chef).await?;
    let mut subscribers = Vec::with_capacity(restaurant.customers.len());
    for token in &restaurant.customers {
        subscribers.push(Subscriber::connect(&api.url, token).await?);
    }

    // createOrder → ticket on the tablet.
    let timings_before = restaurant.create_order_timings().await;
    let placing = place_orders(api, &restaurant.customers, &restaurant.dishes, count, rate).await;
    let split = match (timings_before, restaurant.create_order_timings().await) {
        (Ok(before), Ok(after)) => after.split_since(&before),
        (Err(e), _) | (_, Err(e)) => format!("unavailable ({e})"),
    };
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
    let already_open = restaurant.subscriptions_open().await;
    for p in &placing.placed {
        subscribers[p.customer].subscribe(&p.id, status_query, json!({ "id": p.id })).await?;
    }
    // Every subscription joined, then the last one of each connection bumped and awaited: the
    // whole way from a bump to a customer is live before anything is timed.
    restaurant.wait_for_subscriptions(already_open, placing.placed.len()).await;
    let mut probes: HashMap<usize, &Placed> = HashMap::new();
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
    let timed: Vec<&Placed> = placing.placed.iter().filter(|p| !probes.values().any(|q| q.id == p.id)).collect();
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
            "createOrder, mean by layer  client {:.2} ms ⊃ {split}",
            responses.iter().map(Duration::as_secs_f64).sum::<f64>() / responses.len().max(1) as f64 * 1000.0
        ),
        format!(
            "bump → orderStatusChanged   {}  ({} bumps, missing {status_missing})",
            summary(&mut to_customer),
            bumped.len()
        ),
        format!("bump → ticket on the tablet {}", summary(&mut bump_to_tablet)),
        restaurant.relay_delay_line().await,
    ]
    .join("\n");
    let mut report = report;
    if !chart_file.is_empty() {
        crate::chart::distributions(
            &chart_file,
            &format!("Latency at {rate:.0} orders/s"),
            &[
                ("createOrder → tablet", &to_tablet),
                ("createOrder response", &responses),
                ("bump → orderStatusChanged", &to_customer),
                ("bump → tablet", &bump_to_tablet),
            ],
        )?;
        report.push_str(&format!("\nlatency chart: {chart_file}"));
    }
    anyhow::ensure!(
        missing == 0 && status_missing == 0 && doubled == 0,
        "{report}\nevery event must arrive exactly once (doubled {doubled})"
    );
    Ok(report)
}
