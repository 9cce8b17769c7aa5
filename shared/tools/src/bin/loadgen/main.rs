//! `loadgen`: the benchmark load generator. Customers place orders over GraphQL, kitchen
//! tablets and GraphQL subscribers listen, and every order is checked to arrive exactly once.
//!
//! ```text
//! loadgen hop     [--records N] [--rate R] [--brokers HOST:PORT] [--partitions P]
//! loadgen broker  [--from R] [--step R] [--seconds S] [--max R] [--brokers HOST:PORT]
//! loadgen ramp    [--from R] [--step R] [--to R] [--seconds S] [--idle-seconds S] [--ceiling ORDERS_PER_S]
//!                 [--broker-ceiling RECORDS_PER_S] [--chart FILE.svg]
//! loadgen latency [--orders N] [--rate R] [--chart FILE.svg]
//! loadgen fanout  [--tablets T] [--subscribers S] [--orders N] [--rate R]
//! loadgen watchers [--subscriptions N] [--sockets S] [--place-rate R] [--bump-rate R]
//! loadgen chaos   --database URL [--orders N] [--rate R] [--faults FILE] [--ready FILE]
//!                 [--soak-minutes M]
//! loadgen promise [--orders N] [--per-minute R] [--minute-ms MS]
//! common: [--gateway URL] [--kitchen HOST:PORT] [--orders-metrics URL] [--pids name=pid,…]
//!         [--customers N]; kitchen staff from KITCHEN_USERNAME / KITCHEN_PASSWORD
//! ```
//!
//! One file per command, each taking its own flags:
//! - `hop` (`hop.rs`): the broker alone, producer → consumer with the services' settings.
//! - `broker` (`broker.rs`): the broker's own ceiling, one producer and two consumer groups
//!   with the services' settings, at rising rates.
//! - `ramp` (`ramp.rs`): steps the order rate up until the pipeline falls behind; the highest
//!   rate that kept up, against the pgbench and broker ceilings; each step's CPU per order of
//!   every `--pids` process (`broker=…,postgres=…` too) and of loadgen itself.
//! - `latency` (`latency.rs`): `createOrder` → ticket on the tablet, then a tablet bump →
//!   `orderStatusChanged` on the customer's subscription.
//! - `fanout` (`fanout.rs`): many open sockets, each receiving every new order; idle memory
//!   per socket.
//! - `watchers` (`watchers.rs`): thousands of customers each watching their orders; bump →
//!   customer, the gateway's memory per subscription and CPU per delivered event.
//! - `chaos` (`chaos.rs`): orders at a steady rate through the faults `ci/chaos` causes, with
//!   clients that reconnect and retry (`reconnecting.rs`), then exactly-once accounting against
//!   the database; `ci/chaos --soak` adds memory and open files each minute.
//! - `promise` (`promise.rs`): a simulated kitchen (one cook per station, each line its prep
//!   minutes) under a steady order rate; the ready-by promise's error, in prep minutes.
//!
//! And what they share: `flags.rs` (`--name value`), `restaurant.rs` (the API with a cook,
//! customers and dishes; the relay delay), `client.rs` (the sockets and their arrival stamps),
//! `stats.rs` (quantiles, and `/proc` memory, open files and CPU time), `chart.rs` (SVG
//! charts).
//!
//! Every figure goes to stdout, one line each, for `ci/bench` to record.

mod broker;
mod chaos;
mod chart;
mod client;
mod fanout;
mod flags;
mod hop;
mod latency;
mod promise;
mod ramp;
mod reconnecting;
mod restaurant;
mod stats;
mod watchers;

use anyhow::Context as _;
use flags::Flags;
use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let flags = Flags::parse(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(async move {
        match command.as_str() {
            "hop" => hop::run(flags).await,
            "broker" => broker::run(flags).await,
            "ramp" => ramp::run(flags).await,
            "latency" => latency::run(flags).await,
            "fanout" => fanout::run(flags).await,
            "chaos" => chaos::run(flags).await,
            "watchers" => watchers::run(flags).await,
            "promise" => promise::run(flags).await,
            _ => {
                anyhow::bail!(
                    "usage: loadgen hop|broker|ramp|latency|fanout|watchers|chaos|promise [--flag value]… (see the source's header)"
                )
            }
        }
    })?;
    writeln!(std::io::stdout().lock(), "{report}").context("writing the report")
}
