//! `promise`: the kitchen's ready-by promise against a simulated kitchen. Customers order one
//! or two dishes at a steady rate (`--per-minute` orders per prep minute); the simulated cooks,
//! one per station, make each station's lines oldest order first, each line taking its dish's
//! prep minutes, and move the order along as a kitchen would (ACCEPTED at once, PREPARING when
//! its first line starts, READY when its last is done). Each customer's promise is read as the
//! order page shows it: the first `readyBy` after placing, and the last one before READY. The
//! clock may run fast (`--minute-ms`, the kitchen's `KITCHEN_PREP_MINUTE_MS`): the estimate
//! runs on the same clock, and every figure is in prep minutes.

use crate::flags::Flags;
use crate::restaurant::Restaurant;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One order's life in the simulation.
#[derive(Debug, Default, Clone)]
struct Life {
    first_promise: Option<DateTime<Utc>>,
    last_promise: Option<DateTime<Utc>>,
    ready_at: Option<DateTime<Utc>>,
}

/// A dish as the simulated cooks need it.
#[derive(Debug, Clone)]
struct Dish {
    id: String,
    station: String,
    prep_minutes: u32,
}

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let count: usize = flags.get("orders", 100)?;
    let per_minute: f64 = flags.get("per-minute", 0.2)?;
    let minute = Duration::from_millis(flags.get("minute-ms", 250u64)?);
    flags.done()?;
    anyhow::ensure!(
        count > 0 && per_minute > 0.0 && !minute.is_zero(),
        "--orders, --per-minute and --minute-ms must be positive"
    );
    let menu = restaurant
        .api
        .graphql(None, "{ menuItems(first: 100) { edges { node { id station prepMinutes available } } } }", json!({}))
        .await?;
    let dishes: Vec<Dish> = menu["menuItems"]["edges"]
        .as_array()
        .context("no menu")?
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["available"] == true)
        .map(|n| Dish {
            id: n["id"].as_str().unwrap_or_default().to_owned(),
            station: n["station"].as_str().unwrap_or_default().to_owned(),
            prep_minutes: n["prepMinutes"].as_u64().unwrap_or_default() as u32,
        })
        .collect();
    anyhow::ensure!(!dishes.is_empty(), "nothing on the menu can be ordered");

    // The simulated cooks: when each station's one cook is free.
    let cooks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let lives: Arc<Mutex<HashMap<String, Life>>> = Arc::default();
    let interval = minute.div_f64(per_minute);
    let started = Instant::now();
    let mut kitchen = Vec::with_capacity(count);
    // A fixed sequence (a linear congruential generator): every run orders the same dishes.
    let mut seed: u64 = 20;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    for i in 0..count {
        tokio::time::sleep_until(started + interval.mul_f64(i as f64)).await;
        let customer = restaurant.customers[i % restaurant.customers.len()].clone();
        let lines: Vec<Dish> = (0..1 + next(2)).map(|_| dishes[next(dishes.len())].clone()).collect();
        let items: Vec<_> = lines.iter().map(|d| json!({ "menuItemId": d.id, "quantity": 1 })).collect();
        let placed = restaurant
            .api
            .graphql(
                Some(&customer),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                json!({ "i": { "items": items } }),
            )
            .await?;
        let id = placed["createOrder"]["id"].as_str().context("no order id")?.to_owned();
        // The cooks take the order's lines behind what their stations already have.
        let now = Instant::now();
        let (first_start, done) = {
            let mut free = cooks.lock().expect("the cooks' lock is never poisoned: nothing panics holding it");
            let mut first_start: Option<Instant> = None;
            let mut done = now;
            for line in &lines {
                let cook = free.entry(line.station.clone()).or_insert(now);
                let start = (*cook).max(now);
                let finish = start + minute * line.prep_minutes;
                *cook = finish;
                first_start = Some(first_start.map_or(start, |s| s.min(start)));
                done = done.max(finish);
            }
            (first_start.unwrap_or(now), done)
        };
        lives.lock().expect("the lives' lock is never poisoned").insert(id.clone(), Life::default());
        kitchen.push(tokio::spawn(make(
            restaurant.api.clone(),
            restaurant.chef.clone(),
            customer,
            id,
            first_start,
            done,
            minute,
            lives.clone(),
        )));
    }
    for order in kitchen {
        order.await.context("a simulated order's task")??;
    }

    let lives = lives.lock().expect("the lives' lock is never poisoned").clone();
    let in_minutes = |ready: DateTime<Utc>, promised: DateTime<Utc>| {
        (ready - promised).num_milliseconds() as f64 / minute.as_millis() as f64
    };
    let mut first: Vec<f64> = Vec::new();
    let mut last: Vec<f64> = Vec::new();
    let mut unpromised = 0;
    for life in lives.values() {
        let Some(ready) = life.ready_at else { continue };
        match (life.first_promise, life.last_promise) {
            (Some(f), Some(l)) => {
                first.push(in_minutes(ready, f));
                last.push(in_minutes(ready, l));
            }
            _ => unpromised += 1,
        }
    }
    let report = [
        format!(
            "promise run: {} orders of 1–2 dishes at {per_minute} per prep minute, one cook per station, a prep minute = {} ms",
            lives.len(),
            minute.as_millis()
        ),
        format!("first promise (as ordered)  {}", describe(&mut first)),
        format!("last promise before READY   {}", describe(&mut last)),
        format!("orders never promised       {unpromised}"),
    ]
    .join("\n");
    anyhow::ensure!(unpromised == 0, "{report}\nevery order must be promised");
    Ok(report)
}

/// One order through the simulated kitchen, its promise read as its customer's page would.
#[allow(clippy::too_many_arguments)]
async fn make(
    api: crate::client::Api,
    chef: String,
    customer: String,
    id: String,
    first_start: Instant,
    done: Instant,
    minute: Duration,
    lives: Arc<Mutex<HashMap<String, Life>>>,
) -> anyhow::Result<()> {
    let set = |status: &'static str| {
        let (api, chef, id) = (api.clone(), chef.clone(), id.clone());
        async move {
            api.graphql(
                Some(&chef),
                "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id } }",
                json!({ "id": id, "s": status }),
            )
            .await
        }
    };
    let watch = {
        let (api, id, lives) = (api.clone(), id.clone(), lives.clone());
        async move {
            // A customer's page reads the promise; every quarter prep minute here.
            loop {
                let order = api
                    .graphql(Some(&customer), "query($id: ID!) { order(id: $id) { readyBy } }", json!({ "id": id }))
                    .await?;
                if let Some(at) = order["order"]["readyBy"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                {
                    let mut lives = lives.lock().expect("the lives' lock is never poisoned");
                    let life = lives.entry(id.clone()).or_default();
                    life.first_promise.get_or_insert(at.to_utc());
                    life.last_promise = Some(at.to_utc());
                }
                tokio::time::sleep(minute / 4).await;
            }
            #[allow(unreachable_code)]
            anyhow::Ok(())
        }
    };
    let cook = async {
        set("ACCEPTED").await?;
        tokio::time::sleep_until(first_start).await;
        set("PREPARING").await?;
        tokio::time::sleep_until(done).await;
        let ready_at = Utc::now();
        set("READY").await?;
        anyhow::Ok(ready_at)
    };
    let ready_at = tokio::select! {
        ready = cook => ready?,
        failed = watch => { failed?; anyhow::bail!("the promise watch ended") }
    };
    lives.lock().expect("the lives' lock is never poisoned").entry(id).or_default().ready_at = Some(ready_at);
    Ok(())
}

/// p50 and p90 of the signed error (READY minus promised, in prep minutes), p90 of its size,
/// and the share of orders ready by their promise.
fn describe(errors: &mut [f64]) -> String {
    if errors.is_empty() {
        return "no data".into();
    }
    errors.sort_by(f64::total_cmp);
    let at = |sorted: &[f64], q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
    let mut sizes: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    sizes.sort_by(f64::total_cmp);
    let kept = errors.iter().filter(|e| **e <= 0.0).count();
    format!(
        "error p50 {:+.2} min  p90 {:+.2} min  |error| p90 {:.2} min  ready by the promise {:.0} % ({kept}/{})",
        at(errors, 0.5),
        at(errors, 0.9),
        at(&sizes, 0.9),
        100.0 * kept as f64 / errors.len() as f64,
        errors.len()
    )
}
