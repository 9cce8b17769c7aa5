//! What the `ramp`, `latency` and `fanout` commands talk to: the GraphQL API with a signed-in
//! cook, fresh customers and the dishes on the menu; the kitchen's address; the processes
//! whose memory is watched; and the orders service's relay delay.

use crate::client::Api;
use crate::flags::Flags;
use crate::stats::Services;
use anyhow::Context as _;
use std::time::{Duration, Instant};

/// How long after the last order is sent every order may take to arrive before it counts as
/// missing.
pub const ARRIVAL_DEADLINE: Duration = Duration::from_secs(30);
/// How often the gateway's open subscriptions are read while waiting for them to go live.
const SUBSCRIPTIONS_POLL: Duration = Duration::from_millis(20);
/// How long one probe may take to arrive before another is sent.
pub const PROBE_WAIT: Duration = Duration::from_secs(3);

pub struct Restaurant {
    pub api: Api,
    /// The kitchen's `HOST:PORT`, for tablets.
    pub kitchen: String,
    /// The orders service's `/metrics` (on its ops port), for the relay delay.
    orders_metrics: String,
    /// The gateway's `/metrics` (on its ops port), for where a createOrder's time goes.
    gateway_metrics: String,
    pub services: Services,
    /// The kitchen staff's token.
    pub chef: String,
    /// One token per customer.
    pub customers: Vec<String>,
    /// Ids of the menu items that can be ordered.
    pub dishes: Vec<String>,
}

impl Restaurant {
    /// Takes the common flags, signs in the kitchen staff (`KITCHEN_USERNAME` /
    /// `KITCHEN_PASSWORD`), registers `--customers` customers and reads the menu.
    pub async fn open(flags: &mut Flags) -> anyhow::Result<Self> {
        let api = Api::new(&flags.get("gateway", "http://127.0.0.1:8082/graphql".to_owned())?);
        let kitchen = flags.get("kitchen", "127.0.0.1:8081".to_owned())?;
        let orders_metrics = flags.get("orders-metrics", "http://127.0.0.1:9180/metrics".to_owned())?;
        let gateway_metrics = flags.get("gateway-metrics", "http://127.0.0.1:9182/metrics".to_owned())?;
        let services = Services::parse(&flags.get("pids", String::new())?)?;
        let customers: usize = flags.get("customers", 10)?;
        let chef_name = std::env::var("KITCHEN_USERNAME").unwrap_or_else(|_| "kitchen".into());
        let chef_password = std::env::var("KITCHEN_PASSWORD").unwrap_or_else(|_| "kitchen-local".into());
        let chef = api.sign_in(&chef_name, &chef_password).await.context("signing in as kitchen staff")?;
        let customers = api.new_customers(customers.max(1)).await.context("registering customers")?;
        let dishes = api.available_dishes().await?;
        Ok(Self { api, kitchen, orders_metrics, gateway_metrics, services, chef, customers, dishes })
    }

    /// The report line of the outbox relay's commit → publish delay, or why it is unknown.
    pub async fn relay_delay_line(&self) -> String {
        format!(
            "relay commit → publish      {}",
            relay_delay(&self.orders_metrics).await.unwrap_or_else(|e| format!("unavailable ({e})"))
        )
    }

    /// Subscriptions the gateway has joined to its hub (`gateway_subscriptions_open`), or why
    /// that is unknown.
    async fn read_subscriptions_open(&self) -> anyhow::Result<i64> {
        let text = scrape(&self.gateway_metrics).await?;
        let open = series(&text, "gateway_subscriptions_open", &[]).next();
        Ok(open.context("the gateway reports no gateway_subscriptions_open")?.1 as i64)
    }

    /// The gateway's open subscriptions before a run opens its own; `None` (said on stderr)
    /// where its metrics cannot be read (compose: several gateways, ops ports unpublished).
    pub async fn subscriptions_open(&self) -> Option<i64> {
        self.read_subscriptions_open()
            .await
            .inspect_err(|e| eprintln!("gateway_subscriptions_open unreadable ({e:#}); the probes alone show liveness"))
            .ok()
    }

    /// Waits until the gateway holds `count` more subscriptions than `before`: each one checked
    /// and joined. A socket's subscriptions are checked side by side, so the last one of a
    /// socket being live says nothing of the others. Without a reading, or if the count is not
    /// reached (another gateway holds some), it says so and leaves it to the probes.
    pub async fn wait_for_subscriptions(&self, before: Option<i64>, count: usize) {
        let Some(before) = before else { return };
        let wanted = before + count as i64;
        let deadline = Instant::now() + ARRIVAL_DEADLINE;
        loop {
            match self.read_subscriptions_open().await {
                Ok(open) if open >= wanted => return,
                Ok(open) if Instant::now() >= deadline => {
                    return eprintln!("only {} of {count} subscriptions joined on this gateway", open - before);
                }
                Ok(_) => tokio::time::sleep(SUBSCRIPTIONS_POLL).await,
                Err(e) => return eprintln!("gateway_subscriptions_open unreadable ({e:#})"),
            }
        }
    }

    /// The services' own timings of a createOrder so far, to subtract one reading from the next.
    pub async fn create_order_timings(&self) -> anyhow::Result<CreateOrderTimings> {
        let gateway = scrape(&self.gateway_metrics).await?;
        let orders = scrape(&self.orders_metrics).await?;
        Ok(CreateOrderTimings {
            gateway: histogram_total(
                &gateway,
                "http_request_duration_seconds",
                &["method=\"POST\"", "route=\"/graphql\""],
            ),
            grpc: histogram_total(&orders, "grpc_request_duration_seconds", &["/CreateOrder\""]),
            number: histogram_total(&orders, "orders_placement_round_trip_seconds", &["step=\"number\""]),
            placement: histogram_total(&orders, "orders_placement_round_trip_seconds", &["step=\"placement\""]),
        })
    }
}

/// Running (sum of seconds, count) of the histograms that time one createOrder at each layer:
/// the gateway's POST /graphql, orders' CreateOrder gRPC call, and its two PostgreSQL round trips.
#[derive(Debug, Default, Clone, Copy)]
pub struct CreateOrderTimings {
    gateway: (f64, f64),
    grpc: (f64, f64),
    number: (f64, f64),
    placement: (f64, f64),
}

impl CreateOrderTimings {
    /// The mean of each layer between `before` and `self`, as a report line.
    pub fn split_since(&self, before: &Self) -> String {
        let mean = |now: (f64, f64), then: (f64, f64)| {
            let calls = now.1 - then.1;
            if calls > 0.0 { format!("{:.2}", (now.0 - then.0) / calls * 1000.0) } else { "-".to_owned() }
        };
        format!(
            "gateway POST /graphql {} ms ⊃ orders CreateOrder (gRPC) {} ms ⊃ day's number {} ms + PostgreSQL placement {} ms",
            mean(self.gateway, before.gateway),
            mean(self.grpc, before.grpc),
            mean(self.number, before.number),
            mean(self.placement, before.placement),
        )
    }
}

/// A service's Prometheus exposition.
async fn scrape(url: &str) -> anyhow::Result<String> {
    Ok(reqwest::get(url).await?.text().await?)
}

/// The samples of metric `name` (exactly: not a longer name it begins) whose labels contain
/// every one of `labels`: each line with its value.
fn series<'a>(text: &'a str, name: &'a str, labels: &'a [&'a str]) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    text.lines()
        .filter(move |l| {
            l.strip_prefix(name).is_some_and(|rest| rest.starts_with(['{', ' ']))
                && labels.iter().all(|label| l.contains(label))
        })
        .filter_map(|l| Some((l, l.rsplit(' ').next()?.parse::<f64>().ok()?)))
}

/// (sum, count) of the series of histogram `name` whose labels contain every one of `labels`.
fn histogram_total(text: &str, name: &str, labels: &[&str]) -> (f64, f64) {
    let total = |suffix: &str| series(text, &format!("{name}_{suffix}"), labels).map(|(_, v)| v).sum();
    (total("sum"), total("count"))
}

/// Quantiles of `orders_outbox_commit_to_publish_seconds`, from its histogram buckets (upper
/// bounds: a bucket's quantile is reported as its upper edge).
async fn relay_delay(url: &str) -> anyhow::Result<String> {
    let text = scrape(url).await?;
    let mut buckets: Vec<(f64, f64)> = series(&text, "orders_outbox_commit_to_publish_seconds_bucket", &[])
        .filter_map(|(l, count)| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histograms_total_adds_only_the_series_with_every_label() {
        let text = "\
# TYPE grpc_request_duration_seconds histogram
grpc_request_duration_seconds_bucket{method=\"/restaurant.v1.OrderService/CreateOrder\",le=\"0.005\"} 3
grpc_request_duration_seconds_sum{method=\"/restaurant.v1.OrderService/CreateOrder\"} 0.012
grpc_request_duration_seconds_count{method=\"/restaurant.v1.OrderService/CreateOrder\"} 4
grpc_request_duration_seconds_sum{method=\"/restaurant.v1.OrderService/CreateOrderTwice\"} 9
grpc_request_duration_seconds_count{method=\"/restaurant.v1.OrderService/CreateOrderTwice\"} 9
grpc_request_duration_seconds_sum{method=\"/restaurant.v1.OrderService/GetOrder\"} 1.5
grpc_request_duration_seconds_count{method=\"/restaurant.v1.OrderService/GetOrder\"} 10
";
        let total = histogram_total(text, "grpc_request_duration_seconds", &["/CreateOrder\""]);
        assert_eq!(total, (0.012, 4.0));
        assert_eq!(series(text, "grpc_request_duration_seconds", &[]).count(), 0, "only the exact name counts");
        let later = CreateOrderTimings { grpc: (0.032, 8.0), ..Default::default() };
        let before = CreateOrderTimings { grpc: total, ..Default::default() };
        assert!(
            later.split_since(&before).contains("orders CreateOrder (gRPC) 5.00 ms"),
            "{}",
            later.split_since(&before)
        );
    }
}
