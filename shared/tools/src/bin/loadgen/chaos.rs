//! `chaos`: customers place orders at a steady `--rate` while `ci/chaos` breaks the system
//! (it appends `<ms since epoch> <fault>` lines to `--faults`, then `done`); a cook's tablet
//! bumps every order to COMPLETED and a second tablet watches. Clients behave like real ones: a
//! `createOrder` that failed is retried with its idempotency key, sockets reconnect and resume
//! (`lastSeq`), a customer subscribes again and re-reads what it missed. Placing goes on until
//! `--orders` orders are placed and the fault schedule is `done` (or, with `--soak-minutes`,
//! for that long, with every `--pids` service's memory and open files each minute). Then the
//! accounting, against the database (`--database`): acknowledged orders = orders = tickets,
//! none doubled, every ticket's status its order's and final, every tablet's sequence gapless
//! and complete, every customer told its order's final status; and a table per fault. Fails
//! on any loss, doubling or stuck order.

use crate::client::Api;
use crate::flags::Flags;
use crate::reconnecting::{Customer, Tablet, now_ms};
use crate::restaurant::Restaurant;
use anyhow::Context as _;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long one `createOrder` may take before the customer gives up on that attempt: longer
/// than the gateway's own deadline (`gateway::http::REQUEST_DEADLINE`, 10 s), so an attempt
/// hears the gateway's answer instead of abandoning its connection.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// The first wait before a failed `createOrder` is retried; doubled up to [`MAX_RETRY_DELAY`].
const RETRY_DELAY: Duration = Duration::from_millis(250);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// How long a customer keeps retrying one order before it counts as never acknowledged.
const GIVE_UP_AFTER: Duration = Duration::from_secs(180);
/// How long after the last order every order may take to be completed and known to its
/// customer before the rest count as stuck.
const SETTLE_DEADLINE: Duration = Duration::from_secs(180);
/// An order whose ticket reached the tablet later than this after it was acknowledged counts
/// as affected by the fault of its time.
const AFFECTED_DELAY: Duration = Duration::from_secs(2);
/// How often `--soak-minutes` reports memory and open files.
const SOAK_REPORT_EVERY: Duration = Duration::from_secs(60);
/// How often the placing loop looks at the fault schedule.
const SCHEDULE_POLL: Duration = Duration::from_millis(500);

/// One order's way through `createOrder`.
struct Placing {
    customer: usize,
    /// When the first attempt was sent (ms since the epoch).
    first_attempt: u64,
    /// `(sent, answered, succeeded)` per attempt.
    attempts: Vec<(u64, u64, bool)>,
    /// The order id and when it was acknowledged.
    acked: Option<(String, u64)>,
}

pub async fn run(mut flags: Flags) -> anyhow::Result<String> {
    let restaurant = Restaurant::open(&mut flags).await?;
    let count: usize = flags.get("orders", 1000)?;
    let rate: f64 = flags.get("rate", 10.0)?;
    let faults_file: String = flags.get("faults", String::new())?;
    let ready_file: String = flags.get("ready", String::new())?;
    let database: String = flags.get("database", String::new())?;
    let soak_minutes: f64 = flags.get("soak-minutes", 0.0)?;
    flags.done()?;
    anyhow::ensure!(rate > 0.0, "--rate must be positive");
    anyhow::ensure!(!database.is_empty(), "--database is needed for the accounting");
    let api = restaurant.api.clone();
    let (stop, stopped) = watch::channel(false);
    let cook = Tablet::spawn(&restaurant.kitchen, &restaurant.chef, true, stopped.clone());
    let watcher = Tablet::spawn(&restaurant.kitchen, &restaurant.chef, false, stopped.clone());
    let customers: Vec<Customer> =
        restaurant.customers.iter().map(|token| Customer::spawn(api.clone(), token, stopped.clone())).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(cook.connected() && watcher.connected() && customers.iter().all(Customer::connected)) {
        anyhow::ensure!(Instant::now() < deadline, "the clients did not connect within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready_file.is_empty() {
        std::fs::write(&ready_file, "ready\n").context("writing the ready file")?;
    }

    // Placing, at a steady rate, each order on its own task.
    let customers = Arc::new(customers);
    let placings: Arc<Mutex<Vec<Placing>>> = Arc::default();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let soak = Duration::from_secs_f64(soak_minutes * 60.0);
    let mut soak_reports = vec![];
    let mut next_report = started + SOAK_REPORT_EVERY;
    let mut sends = vec![];
    let mut schedule_done = faults_file.is_empty();
    let mut last_poll = Instant::now();
    for i in 0usize.. {
        let enough = if soak_minutes > 0.0 { started.elapsed() >= soak } else { i >= count };
        if enough && schedule_done {
            break;
        }
        if !schedule_done && last_poll.elapsed() >= SCHEDULE_POLL {
            last_poll = Instant::now();
            schedule_done = read_faults(&faults_file).1;
        }
        if soak_minutes > 0.0 && Instant::now() >= next_report {
            next_report += SOAK_REPORT_EVERY;
            let line =
                format!("minute {:>3}: {}", started.elapsed().as_secs() / 60, restaurant.services.describe_with_fds());
            // As it happens, not only at the end: a soak is watched while it runs.
            writeln!(std::io::stdout().lock(), "{line}").context("writing the soak report")?;
            soak_reports.push(line);
        }
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let customer = i % customers.len();
        let (token, dish) =
            (restaurant.customers[customer].clone(), restaurant.dishes[i % restaurant.dishes.len()].clone());
        let (api, customers, placings) = (api.clone(), customers.clone(), placings.clone());
        sends.push(tokio::spawn(async move {
            let index = {
                let mut placings = placings.lock().expect("unwrap: no panics while held");
                placings.push(Placing { customer, first_attempt: now_ms(), attempts: vec![], acked: None });
                placings.len() - 1
            };
            let key = uuid::Uuid::new_v4().to_string();
            let given_up = Instant::now() + GIVE_UP_AFTER;
            let mut delay = RETRY_DELAY;
            while Instant::now() < given_up {
                let sent = now_ms();
                let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, create_order(&api, &token, &dish, &key)).await;
                let answered = now_ms();
                let acked = {
                    let mut placings = placings.lock().expect("unwrap: no panics while held");
                    let placing = &mut placings[index];
                    placing.attempts.push((sent, answered, matches!(answer, Ok(Ok(_)))));
                    if let Ok(Ok(id)) = answer {
                        placing.acked = Some((id.clone(), answered));
                        customers[customer].watch(&id);
                        true
                    } else {
                        false
                    }
                };
                if acked {
                    return;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }));
    }
    let placed = sends.len();
    let placing_took = started.elapsed();
    for send in sends {
        send.await.context("a customer's task panicked")?;
    }

    // Settling: every acknowledged order completed on the cook's tablet and known to its customer.
    let acked: Vec<(String, usize)> = placings
        .lock()
        .expect("unwrap: no panics while held")
        .iter()
        .filter_map(|p| p.acked.as_ref().map(|(id, _)| (id.clone(), p.customer)))
        .collect();
    let settle_deadline = Instant::now() + SETTLE_DEADLINE;
    loop {
        let cook_done = {
            let log = cook.log.lock().expect("unwrap: no panics while held");
            acked.iter().all(|(id, _)| log.status.get(id).is_some_and(|s| s.0 == "COMPLETED"))
        };
        let customers_done =
            acked.iter().all(|(id, c)| customers[*c].log.lock().expect("unwrap: no panics while held").knows_final(id));
        if (cook_done && customers_done) || Instant::now() >= settle_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settled_after = started.elapsed() - placing_took;
    // The watching tablet catches up with the last change before the sequences are compared.
    let last_seq = Accounting::last_seq(&database).await?;
    let catch_up = Instant::now() + Duration::from_secs(30);
    while watcher.log.lock().expect("unwrap: no panics while held").last_seq < Some(last_seq)
        && Instant::now() < catch_up
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);

    let accounting = Accounting::read(&database).await?;
    let faults = if faults_file.is_empty() { vec![] } else { read_faults(&faults_file).0 };
    let placings = placings.lock().expect("unwrap: no panics while held");
    let report = report(Report {
        placings: &placings,
        accounting: &accounting,
        tablets: [("cook", &cook), ("watcher", &watcher)],
        customers: &customers,
        faults: &faults,
        rate,
        placed,
        placing_took,
        settled_after,
        soak_reports: &soak_reports,
    });
    let (text, failed) = report;
    if failed {
        // The table on stdout like a passing run's, the verdict as the error.
        writeln!(std::io::stdout().lock(), "{text}").context("writing the report")?;
        anyhow::bail!("chaos: FAILED: orders lost, doubled or stuck, or a tablet's sequence broken (see the report)");
    }
    Ok(text)
}

/// `createOrder` with the order's idempotency key: a retry of an order that was placed but
/// whose answer was lost returns the same order.
async fn create_order(api: &Api, token: &str, dish: &str, key: &str) -> anyhow::Result<String> {
    let data = api
        .graphql(
            Some(token),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "items": [{ "menuItemId": dish, "quantity": 1 }], "idempotencyKey": key } }),
        )
        .await?;
    Ok(data["createOrder"]["id"].as_str().context("no order id")?.to_owned())
}

/// The faults so far (`(ms since the epoch, name)`), and whether the schedule is done.
fn read_faults(file: &str) -> (Vec<(u64, String)>, bool) {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut faults = vec![];
    let mut done = false;
    for line in text.lines() {
        if line.trim() == "done" {
            done = true;
        } else if let Some((at, name)) = line.split_once(' ')
            && let Ok(at) = at.parse()
        {
            faults.push((at, name.trim().to_owned()));
        }
    }
    faults.sort();
    (faults, done)
}

/// What the databases hold at the end.
struct Accounting {
    /// Order id → (status, created at in ms since the epoch).
    orders: HashMap<String, (String, u64)>,
    /// Order id → status.
    tickets: HashMap<String, String>,
    last_seq: i64,
}

impl Accounting {
    async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
        let (client, connection) =
            tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("connecting to the database")?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn last_seq(url: &str) -> anyhow::Result<i64> {
        let client = Self::connect(url).await?;
        Ok(client.query_one("SELECT last_seq FROM kitchen.tablet_sequence", &[]).await?.get(0))
    }

    async fn read(url: &str) -> anyhow::Result<Self> {
        let client = Self::connect(url).await?;
        let orders = client
            .query("SELECT id::text, status, (extract(epoch FROM created_at) * 1000)::bigint FROM orders.orders", &[])
            .await
            .context("reading the orders")?
            .into_iter()
            .map(|row| (row.get(0), (row.get(1), row.get::<_, i64>(2) as u64)))
            .collect();
        let tickets = client
            .query("SELECT order_id::text, status FROM kitchen.tickets", &[])
            .await
            .context("reading the tickets")?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let last_seq = client.query_one("SELECT last_seq FROM kitchen.tablet_sequence", &[]).await?.get(0);
        Ok(Self { orders, tickets, last_seq })
    }
}

struct Report<'a> {
    placings: &'a [Placing],
    accounting: &'a Accounting,
    tablets: [(&'a str, &'a Tablet); 2],
    customers: &'a [Customer],
    faults: &'a [(u64, String)],
    rate: f64,
    placed: usize,
    placing_took: Duration,
    settled_after: Duration,
    soak_reports: &'a [String],
}

/// What went wrong with one order, if anything.
#[derive(Default, Clone, Copy)]
struct Verdict {
    affected: bool,
    lost: bool,
    doubled: bool,
    stuck: bool,
}

/// The report and whether the run failed.
fn report(r: Report<'_>) -> (String, bool) {
    let a = r.accounting;
    // When each order first reached the cook's tablet (a copy: every tablet's log is locked below).
    let first_seen = r.tablets[0].1.log.lock().expect("unwrap: no panics while held").first_seen.clone();
    let acked: HashSet<&str> = r.placings.iter().filter_map(|p| p.acked.as_ref().map(|(id, _)| id.as_str())).collect();
    let doubled_changes: HashSet<String> = r
        .tablets
        .iter()
        .flat_map(|(_, t)| t.log.lock().expect("unwrap: no panics while held").doubled.clone())
        .collect();
    let verdicts: Vec<Verdict> = r
        .placings
        .iter()
        .map(|p| {
            let Some((id, at)) = &p.acked else {
                return Verdict { affected: true, stuck: true, ..Verdict::default() };
            };
            let order = a.orders.get(id);
            let ticket = a.tickets.get(id);
            let late =
                first_seen.get(id).is_none_or(|seen| seen.saturating_sub(*at) > AFFECTED_DELAY.as_millis() as u64);
            let known = r.customers[p.customer].log.lock().expect("unwrap: no panics while held").knows_final(id);
            Verdict {
                affected: p.attempts.len() > 1 || late,
                lost: order.is_none() || ticket.is_none(),
                doubled: doubled_changes.contains(id),
                stuck: order.is_some_and(|o| o.0 != "COMPLETED")
                    || ticket.is_some_and(|t| Some(t) != order.map(|o| &o.0))
                    || !known,
            }
        })
        .collect();
    // Orders in the database that no customer was told about: a retry placed a second one.
    let extra: Vec<u64> = a.orders.iter().filter(|(id, _)| !acked.contains(id.as_str())).map(|(_, o)| o.1).collect();
    let extra_tickets = a.tickets.keys().filter(|id| !a.orders.contains_key(*id)).count();

    let mut out = String::new();
    let total = |f: fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
    let _ = writeln!(
        out,
        "chaos run: {} orders placed at {:.0}/s over {:.0} s ({} customers, 2 tablets), settled {:.0} s after the last",
        r.placed,
        r.rate,
        r.placing_took.as_secs_f64(),
        r.customers.len(),
        r.settled_after.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "acknowledged {}  orders in the database {}  tickets {}  never acknowledged {}",
        acked.len(),
        a.orders.len(),
        a.tickets.len(),
        r.placings.iter().filter(|p| p.acked.is_none()).count()
    );
    let _ = writeln!(
        out,
        "lost {}  doubled {} (+{} orders nobody was told about, +{} tickets without an order)  stuck {}",
        total(|v| v.lost),
        total(|v| v.doubled),
        extra.len(),
        extra_tickets,
        total(|v| v.stuck)
    );
    let mut tablets_ok = true;
    for (name, tablet) in r.tablets {
        let log = tablet.log.lock().expect("unwrap: no panics while held");
        let complete = log.last_seq == Some(a.last_seq);
        tablets_ok &= complete && log.gaps.is_empty() && log.repeats == 0 && log.doubled.is_empty();
        let _ = writeln!(
            out,
            "tablet {name}: last seq {} of {} ({}), {} connects, {} snapshots, gaps {:?}, repeats {}, doubled {}",
            log.last_seq.unwrap_or(-1),
            a.last_seq,
            if complete { "complete" } else { "INCOMPLETE" },
            log.connects,
            log.snapshots,
            log.gaps,
            log.repeats,
            log.doubled.len()
        );
    }
    let (mut by_subscription, mut by_reread, mut connects, mut refused) = (0, 0, 0, 0);
    for (id, customer) in r.placings.iter().filter_map(|p| p.acked.as_ref().map(|(id, _)| (id, p.customer))) {
        let log = r.customers[customer].log.lock().expect("unwrap: no panics while held");
        if log.by_subscription.contains_key(id) {
            by_subscription += 1;
        } else if log.by_reread.contains_key(id) {
            by_reread += 1;
        }
    }
    for customer in r.customers {
        let log = customer.log.lock().expect("unwrap: no panics while held");
        connects += log.connects;
        refused += log.refused;
    }
    let _ = writeln!(
        out,
        "customers: final status seen on the subscription {by_subscription}, learned by re-reading after a reconnect \
         or a stall {by_reread}, unknown {} ({connects} connects, {refused} subscriptions refused or ended early and made again)",
        acked.len() - by_subscription - by_reread
    );

    // The table: each fault's window runs from its start to the next fault's.
    if !r.faults.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<28} {:>14} {:>14} {:>9} {:>5} {:>8} {:>6}",
            "fault", "first order s", "to tablet s", "affected", "lost", "doubled", "stuck"
        );
        let mut windows = vec![(0u64, "(before the first fault)".to_owned())];
        windows.extend(r.faults.iter().cloned());
        for (i, (start, name)) in windows.iter().enumerate() {
            let end = windows.get(i + 1).map_or(u64::MAX, |w| w.0);
            let in_window = |p: &Placing| (*start..end).contains(&p.first_attempt);
            let first_ok = r
                .placings
                .iter()
                .flat_map(|p| p.attempts.iter())
                .filter(|(sent, _, ok)| *ok && *sent >= *start)
                .map(|(_, answered, _)| answered - start)
                .min();
            let to_tablet = r
                .placings
                .iter()
                .filter(|p| p.first_attempt >= *start)
                .filter_map(|p| p.acked.as_ref().and_then(|(id, _)| first_seen.get(id)))
                .map(|seen| seen.saturating_sub(*start))
                .min();
            let count = |f: fn(&Verdict) -> bool| {
                r.placings.iter().zip(&verdicts).filter(|(p, v)| in_window(p) && f(v)).count()
            };
            let extra_here = extra.iter().filter(|at| (*start..end).contains(*at)).count();
            let seconds = |ms: Option<u64>| match (i, ms) {
                (0, _) => "-".to_owned(),
                (_, Some(ms)) => format!("{:.1}", ms as f64 / 1000.0),
                (_, None) => "never".to_owned(),
            };
            let _ = writeln!(
                out,
                "{:<28} {:>14} {:>14} {:>9} {:>5} {:>8} {:>6}",
                name,
                seconds(first_ok),
                seconds(to_tablet),
                count(|v| v.affected),
                count(|v| v.lost),
                count(|v| v.doubled) + extra_here,
                count(|v| v.stuck)
            );
        }
        let _ = writeln!(
            out,
            "(first order: from the fault to the first createOrder sent after it that succeeded; to tablet: to the \
             first order placed after it reaching the cook's tablet; affected: placed in the window and retried, or \
             on the tablet more than {} s after its acknowledgement)",
            AFFECTED_DELAY.as_secs()
        );
    }
    for line in r.soak_reports {
        let _ = writeln!(out, "{line}");
    }
    let failed = total(|v| v.lost) + total(|v| v.doubled) + total(|v| v.stuck) + extra.len() + extra_tickets > 0
        || !tablets_ok
        || a.orders.len() != acked.len()
        || a.tickets.len() != acked.len();
    (out.trim_end().to_owned(), failed)
}
