//! `ramp`: steps the order rate up (`--from`, `--step`, each step `--seconds` long) until the
//! pipeline falls behind (or past `--to`); first measures every process's CPU use while idle
//! (`--idle-seconds`), so each step's CPU per order is also told above that idle floor; reports every step's order → tablet delay, the highest rate that kept
//! up (against the pgbench `--ceiling`), peak memory, and checks that every order of every step
//! reached the tablet exactly once.

use crate::chart;
use crate::client::{Placed, Tablet, key, place_orders, wait_for_all};
use crate::flags::Flags;
use crate::restaurant::{ARRIVAL_DEADLINE, Restaurant};
use crate::stats::{MEMORY_SAMPLE_EVERY, Services, quantile, summary};
use std::time::{Duration, Instant};

/// A step of the ramp keeps up when its p99 order-to-tablet delay stays under this…
const KEEPING_UP_P99: Duration = Duration::from_secs(1);
/// …and it delivers at least this share of the offered rate.
const KEEPING_UP_SHARE: f64 = 0.95;

/// One step of the ramp, as measured.
struct Step {
    rate: f64,
    placed: Vec<Placed>,
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

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let (from, step, seconds): (f64, f64, f64) =
        (flags.get("from", 50.0)?, flags.get("step", 50.0)?, flags.get("seconds", 8.0)?);
    let ceiling: f64 = flags.get("ceiling", 0.0)?;
    // The broker's own ceiling (`loadgen broker`), records/s: one record per order here.
    let broker_ceiling: f64 = flags.get("broker-ceiling", 0.0)?;
    let chart_file: String = flags.get("chart", String::new())?;
    // The last rate to offer, kept up or not; 0: until the pipeline falls behind.
    let to: f64 = flags.get("to", 0.0)?;
    let idle_seconds: f64 = flags.get("idle-seconds", 5.0)?;
    flags.done()?;
    anyhow::ensure!(from > 0.0 && step > 0.0 && seconds > 0.0, "--from, --step and --seconds must be positive");
    anyhow::ensure!(idle_seconds > 0.0, "--idle-seconds must be positive");
    let tablet = Tablet::connect(&restaurant.kitchen, &restaurant.chef).await?;
    let mut lines = vec![format!("resident memory before the ramp: {}", restaurant.services.describe_now())];
    // What the processes spend with no order at all (timers, the consumers' fetch polling): the
    // floor under every step's CPU per order.
    let idle = restaurant.services.cpu_snapshot();
    let idle_started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(idle_seconds)).await;
    let (idle_end, idle_span) = (restaurant.services.cpu_snapshot(), idle_started.elapsed());
    let idle_floor = Services::services_micros(&idle, &idle_end) / idle_span.as_secs_f64();
    lines.push(format!(
        "idle before the ramp ({idle_seconds:.0} s), {}",
        restaurant.services.cpu_use(&idle, &idle_end, idle_span)
    ));
    let peaks = restaurant.services.watch_peaks(MEMORY_SAMPLE_EVERY);
    let mut best: Option<(f64, f64)> = None;
    let mut plot = vec![];
    let mut all = vec![];
    let mut rate = from;
    loop {
        let count = (rate * seconds).round() as usize;
        let (cpu_before, step_started) = (restaurant.services.cpu_snapshot(), Instant::now());
        let placing = place_orders(&restaurant.api, &restaurant.customers, &restaurant.dishes, count, rate).await;
        let keys: Vec<String> = placing.placed.iter().map(|p| key(&p.id, "PLACED")).collect();
        wait_for_all(&[&tablet.arrivals], &keys, Instant::now() + Duration::from_secs(10)).await;
        let cpu_after = restaurant.services.cpu_snapshot();
        let above_idle = (Services::services_micros(&cpu_before, &cpu_after)
            - idle_floor * step_started.elapsed().as_secs_f64())
            / count.max(1) as f64;
        let cpu = format!(
            "{}; services above idle {}",
            restaurant.services.cpu_per_order(&cpu_before, &cpu_after, count),
            crate::stats::micros(above_idle.max(0.0))
        );
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
        lines.push(format!("  at {rate:.0}/s {cpu}"));
        plot.push(chart::RampStep {
            offered: rate,
            delivered: step_result.delivered_per_s,
            p50_ms: ms(quantile(&delays, 0.5)),
            p95_ms: ms(quantile(&delays, 0.95)),
            p99_ms: ms(quantile(&delays, 0.99)),
        });
        if let Some(e) = placing.errors.first() {
            eprintln!("  first error: {e}");
        }
        let kept_up = step_result.kept_up();
        if kept_up {
            best = Some((rate, step_result.delivered_per_s));
        }
        all.push(step_result);
        if !kept_up || (to > 0.0 && rate + step > to) {
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
            let mut ratio = if ceiling > 0.0 {
                format!(", {:.0} % of the pgbench ceiling {ceiling:.0}/s", 100.0 * delivered / ceiling)
            } else {
                String::new()
            };
            if broker_ceiling > 0.0 {
                let limit = if ceiling > 0.0 { ceiling.min(broker_ceiling) } else { broker_ceiling };
                ratio.push_str(&format!(
                    ", {:.0} % of min(database, broker {broker_ceiling:.0}/s) = {limit:.0}/s",
                    100.0 * delivered / limit
                ));
            }
            lines.push(format!("max sustained throughput: {delivered:.0} orders/s (offered {rate:.0}/s){ratio}"));
        }
        None => lines.push(format!("max sustained throughput: below {from:.0} orders/s")),
    }
    lines.push(format!("resident memory at peak load: {memory}"));
    if !chart_file.is_empty() {
        chart::ramp(&chart_file, &plot)?;
        lines.push(format!("ramp chart: {chart_file}"));
    }
    lines.push(restaurant.relay_delay_line().await);
    anyhow::ensure!(missing == 0 && doubled == 0, "{}\nevery order must arrive exactly once", lines.join("\n"));
    Ok(lines.join("\n"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
