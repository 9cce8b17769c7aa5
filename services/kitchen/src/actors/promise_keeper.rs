//! `PromiseKeeper`: the kitchen's promise to its customers. Whenever the queue moves (the
//! change-log follower pushed ticket changes: a new order, a bump, a cancellation) and every
//! [`PromiseKeeper::replan_every`] besides (a late line moves the promises behind it), it plans
//! the queue with `shared/ready-by`, keeps each ticket's ready-by on the ticket and tells the
//! orders service the promises that moved by at least a quarter of a prep minute, with the
//! kitchen's load for cart estimates. One plan at a time; a wake-up during a plan plans again
//! after it.
//!
//! The queue lives in the actor: read once from PostgreSQL (with the tablet sequence number it
//! is current as of), then kept current by the changes the follower pushes, which carry each
//! ticket whole. A plan then costs no database read however long the queue is (it read the
//! whole queue, as full ticket rows, on every plan: with 10,000 open tickets the kitchen was the
//! busiest service). Every instance keeps its own from the shared change log and plans: what
//! they tell orders is the same, and orders stores only promises that really moved.

use crate::domain::{Ticket, TicketChange, TicketStatus};
use crate::grpc::{OrdersClient, PlanReport};
use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use deadpool_postgres::Pool;
use ready_by::{Cooks, Line, QueuedTicket};
use service_kit::shutdown::ShutdownListener;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Promises told to orders per plan, at most: every move is a transaction and an event, and a
/// late head of the queue moves every promise behind it.
pub const MAX_MOVES_PER_PLAN: usize = 64;
/// After a failed read of the queue (database down), read it again this soon.
pub const QUEUE_READ_RETRY: Duration = Duration::from_secs(1);

/// The kitchen's clock and cooks, as configured (`KITCHEN_PREP_MINUTE_MS`, `KITCHEN_COOKS`).
#[derive(Debug, Clone)]
pub struct PromiseSettings {
    /// How long a prep minute lasts: a minute, unless a simulation runs the kitchen faster.
    pub prep_minute: Duration,
    pub cooks: Cooks,
}

impl Default for PromiseSettings {
    fn default() -> Self {
        Self { prep_minute: Duration::from_secs(60), cooks: Cooks::default() }
    }
}

/// The queue moved: these tickets changed (from the change log, in sequence order).
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueueMoved(pub Vec<Arc<TicketChange>>);

/// The change log skipped changes this instance never read (pruned first): the queue kept in
/// memory may be wrong, so it is read afresh.
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueueLost;

/// Time to plan (the queue moved, or a late line may have moved the promises).
#[derive(Message)]
#[rtype(result = "()")]
struct Plan;

pub struct PromiseKeeper {
    pool: Pool,
    orders: OrdersClient,
    settings: PromiseSettings,
    /// What orders was last told: each ticket's promise, and the load.
    told: Told,
    /// The waiting queue, current with the change log; `None` while it is being read.
    queue: Option<Queue>,
    /// Changes pushed while the queue is being read: those newer than it are applied after.
    held: Vec<Arc<TicketChange>>,
    reading: bool,
    /// The queue was lost while a read was running (which may be older than the loss): read
    /// again after it.
    lost_while_reading: bool,
    planning: bool,
    moved_while_planning: bool,
    /// When the last plan started, and whether a plan is already set for later.
    last_plan: Option<std::time::Instant>,
    plan_set: bool,
    /// Held until the actor has stopped, so the service's shutdown waits for it.
    shutdown: Option<ShutdownListener>,
}

#[derive(Debug, Clone, Default)]
struct Told {
    promises: HashMap<Uuid, DateTime<Utc>>,
    stations: HashMap<String, Vec<DateTime<Utc>>>,
}

/// The waiting tickets (PLACED, ACCEPTED, PREPARING) as the planner sees them.
#[derive(Debug, Default)]
struct Queue {
    /// The last tablet change it reflects.
    as_of: i64,
    /// Oldest first, as the database read them (`placed_at, order_id`): the planner breaks ties
    /// in the order it is given.
    tickets: BTreeMap<(DateTime<Utc>, Uuid), QueuedTicket<Uuid>>,
    /// Where each ticket sits in `tickets`.
    placed: HashMap<Uuid, DateTime<Utc>>,
}

impl Queue {
    fn read(as_of: i64, tickets: &[Ticket], prep_minute: Duration) -> Self {
        let mut queue = Self { as_of, ..Self::default() };
        for ticket in tickets {
            queue.put(ticket, prep_minute);
        }
        queue
    }

    /// Takes a change in: the ticket joins, moves within or leaves the queue. Changes it
    /// already reflects are skipped.
    fn apply(&mut self, change: &TicketChange, prep_minute: Duration) {
        if change.seq <= self.as_of {
            return;
        }
        self.as_of = change.seq;
        self.put(&change.ticket, prep_minute);
    }

    fn put(&mut self, ticket: &Ticket, prep_minute: Duration) {
        if let Some(placed_at) = self.placed.remove(&ticket.order_id) {
            self.tickets.remove(&(placed_at, ticket.order_id));
        }
        if waiting(ticket) {
            self.placed.insert(ticket.order_id, ticket.placed_at);
            self.tickets.insert((ticket.placed_at, ticket.order_id), queued(ticket, prep_minute));
        }
    }
}

impl PromiseKeeper {
    pub fn new(pool: Pool, orders: OrdersClient, settings: PromiseSettings, shutdown: ShutdownListener) -> Self {
        Self {
            pool,
            orders,
            settings,
            told: Told::default(),
            queue: None,
            held: Vec::new(),
            reading: false,
            lost_while_reading: false,
            planning: false,
            moved_while_planning: false,
            last_plan: None,
            plan_set: false,
            shutdown: Some(shutdown),
        }
    }

    /// A promise (or a cook's free time) moves for orders when it moved by this much: the
    /// customer reads minutes, and every move is an event.
    fn step(&self) -> TimeDelta {
        TimeDelta::from_std(self.settings.prep_minute / 4).unwrap_or(TimeDelta::MAX)
    }

    /// Without a queue movement, the plan is made again this often (late lines move promises).
    pub fn replan_every(&self) -> Duration {
        self.settings.prep_minute / 4
    }

    /// Plans start at most this often, however fast the queue moves (a second, on a real
    /// kitchen's clock): with [`MAX_MOVES_PER_PLAN`], what bounds the promise events.
    fn plan_gap(&self) -> Duration {
        self.settings.prep_minute / 60
    }

    /// Reads the queue and the sequence number it is current as of, in one snapshot; then
    /// applies what was pushed meanwhile and plans.
    fn read_queue(&mut self, ctx: &mut Context<Self>) {
        if self.reading {
            return;
        }
        self.reading = true;
        let pool = self.pool.clone();
        let read = async move {
            let mut client = pool.get().await.context("connecting to PostgreSQL")?;
            store::tickets::queue(&mut client).await
        };
        ctx.spawn(read.into_actor(self).map(|read, keeper, ctx| {
            keeper.reading = false;
            if std::mem::take(&mut keeper.lost_while_reading) {
                keeper.read_queue(ctx);
                return;
            }
            match read {
                Ok((as_of, tickets)) => {
                    let prep_minute = keeper.settings.prep_minute;
                    let mut queue = Queue::read(as_of, &tickets, prep_minute);
                    for change in keeper.held.drain(..) {
                        queue.apply(&change, prep_minute);
                    }
                    keeper.queue = Some(queue);
                    ctx.notify(Plan);
                }
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "reading the kitchen's queue failed; retrying");
                    ctx.run_later(QUEUE_READ_RETRY, |keeper, ctx| keeper.read_queue(ctx));
                }
            }
        }));
    }
}

impl Actor for PromiseKeeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.replan_every(), |_, ctx| ctx.notify(Plan));
        if let Some(mut stop) = self.shutdown.clone() {
            ctx.spawn(async move { stop.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
        }
        self.read_queue(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.shutdown.take();
    }
}

impl Handler<QueueMoved> for PromiseKeeper {
    type Result = ();

    fn handle(&mut self, QueueMoved(changes): QueueMoved, ctx: &mut Self::Context) {
        match &mut self.queue {
            Some(queue) => {
                for change in &changes {
                    queue.apply(change, self.settings.prep_minute);
                }
                ctx.notify(Plan);
            }
            // Planned once the queue is read.
            None => self.held.extend(changes),
        }
    }
}

impl Handler<QueueLost> for PromiseKeeper {
    type Result = ();

    fn handle(&mut self, _: QueueLost, ctx: &mut Self::Context) {
        // What is held stays: the next read's snapshot decides which of it is newer.
        self.queue = None;
        if self.reading {
            self.lost_while_reading = true;
        } else {
            self.read_queue(ctx);
        }
    }
}

impl Handler<Plan> for PromiseKeeper {
    type Result = ();

    fn handle(&mut self, _: Plan, ctx: &mut Self::Context) {
        if self.planning {
            self.moved_while_planning = true;
            return;
        }
        if self.plan_set {
            return;
        }
        let Some(queue) = &self.queue else {
            return;
        };
        if let Some(wait) = self.last_plan.map(|at| at.elapsed()).and_then(|since| self.plan_gap().checked_sub(since)) {
            self.plan_set = true;
            ctx.run_later(wait, |keeper, ctx| {
                keeper.plan_set = false;
                ctx.notify(Plan);
            });
            return;
        }
        self.last_plan = Some(std::time::Instant::now());
        self.planning = true;
        self.moved_while_planning = false;
        let tickets: Vec<QueuedTicket<Uuid>> = queue.tickets.values().cloned().collect();
        let work = keep(
            self.pool.clone(),
            self.orders.clone(),
            self.settings.clone(),
            self.told.clone(),
            self.step(),
            tickets,
        );
        ctx.spawn(work.into_actor(self).map(|result, keeper, ctx| {
            keeper.planning = false;
            match result {
                Ok(told) => keeper.told = told,
                Err(e) => tracing::warn!(error = format!("{e:#}"), "planning the kitchen's promises failed"),
            }
            if keeper.moved_while_planning {
                ctx.notify(Plan);
            }
        }));
    }
}

/// Whether the ticket waits for the kitchen's work: what the planner plans.
fn waiting(ticket: &Ticket) -> bool {
    TicketStatus::WAITING.contains(&ticket.status)
}

/// A ticket as the planner sees it: its lines at their stations, on the kitchen's clock; a
/// ticket being prepared started when it reached PREPARING. A station that marked its lines
/// done has nothing left to cook for the ticket, so those lines drop out of the plan.
pub fn queued(t: &Ticket, prep_minute: Duration) -> QueuedTicket<Uuid> {
    QueuedTicket {
        id: t.order_id,
        rush: t.rush,
        placed_at: t.placed_at,
        started_at: (t.status == TicketStatus::Preparing)
            .then(|| t.timeline.iter().rev().find(|(s, _)| *s == TicketStatus::Preparing).map(|(_, at)| *at))
            .flatten(),
        lines: t
            .items
            .iter()
            .filter(|i| !t.stations_done.contains_key(&i.station))
            .map(|i| Line {
                station: i.station.clone(),
                prep: TimeDelta::from_std(prep_minute.saturating_mul(i.prep_minutes)).unwrap_or(TimeDelta::MAX),
            })
            .collect(),
    }
}

/// Plans the queue now; keeps and tells what moved. Returns what orders now knows.
async fn keep(
    pool: Pool,
    orders: OrdersClient,
    settings: PromiseSettings,
    mut told: Told,
    step: TimeDelta,
    tickets: Vec<QueuedTicket<Uuid>>,
) -> anyhow::Result<Told> {
    let now = Utc::now();
    // Off the actor's thread: the tablets' hub shares it, and a long queue takes milliseconds.
    let cooks = settings.cooks.clone();
    let plan = actix_web::rt::task::spawn_blocking(move || ready_by::plan(now, &tickets, &cooks))
        .await
        .context("planning the queue")?;
    let moved_by = |a: DateTime<Utc>, b: DateTime<Utc>| (a - b).abs() >= step;
    // Oldest tickets first (the queue's order), at most MAX_MOVES_PER_PLAN: the rest move at
    // the next plan.
    let promises: Vec<(Uuid, DateTime<Utc>)> = plan
        .ready_by
        .iter()
        .filter(|(id, at)| told.promises.get(id).is_none_or(|before| moved_by(*before, *at)))
        .take(MAX_MOVES_PER_PLAN)
        .copied()
        .collect();
    let stations: HashMap<String, Vec<DateTime<Utc>>> =
        plan.load().map(|(s, free)| (s.to_owned(), free.to_vec())).collect();
    let load_moved = stations.len() != told.stations.len()
        || stations.iter().any(|(station, free)| {
            told.stations.get(station).is_none_or(|before| {
                before.len() != free.len() || before.iter().zip(free).any(|(a, b)| moved_by((*a).max(now), *b))
            })
        });
    let planned: HashSet<Uuid> = plan.ready_by.iter().map(|(id, _)| *id).collect();
    told.promises.retain(|id, _| planned.contains(id));
    if promises.is_empty() && !load_moved {
        return Ok(told);
    }
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    store::tickets::promise(&client, &promises).await?;
    let report = PlanReport {
        planned_at: now,
        prep_minute: settings.prep_minute,
        promises: promises.clone(),
        stations: stations.iter().map(|(s, free)| (s.clone(), free.clone())).collect(),
    };
    orders.keep_promises(&report).await.map_err(|e| anyhow::anyhow!("telling orders the promises: {e}"))?;
    told.promises.extend(promises);
    told.stations = stations;
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TicketItem;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time") + TimeDelta::minutes(minutes)
    }

    fn ticket(status: TicketStatus, timeline: Vec<(TicketStatus, DateTime<Utc>)>) -> Ticket {
        let item = |station: &str, prep_minutes| TicketItem {
            menu_item_id: Uuid::nil(),
            name: "Dish".into(),
            station: station.into(),
            prep_minutes,
            quantity: 2,
            unit_price_cents: 100,
            note: None,
        };
        Ticket {
            order_id: Uuid::new_v4(),
            customer_id: Uuid::nil(),
            number: 1,
            status,
            order_version: 1,
            items: vec![item("grill", 12), item("bar", 2)],
            total_cents: 400,
            placed_at: at(0),
            updated_at: at(0),
            timeline,
            stations_done: Default::default(),
            details: Default::default(),
            rush: false,
            remake_since: None,
        }
    }

    #[test]
    fn the_queue_is_the_tickets_lines_on_the_kitchens_clock_started_when_last_preparing() {
        let waiting =
            ticket(TicketStatus::Accepted, vec![(TicketStatus::Placed, at(0)), (TicketStatus::Accepted, at(1))]);
        let recalled = ticket(
            TicketStatus::Preparing,
            vec![
                (TicketStatus::Placed, at(0)),
                (TicketStatus::Preparing, at(2)),
                (TicketStatus::Ready, at(9)),
                (TicketStatus::Preparing, at(10)),
            ],
        );
        // A fast clock: a prep minute lasts a second.
        let queue = [queued(&waiting, Duration::from_secs(1)), queued(&recalled, Duration::from_secs(1))];
        assert_eq!(queue[0].started_at, None, "an accepted ticket waits");
        assert_eq!(queue[1].started_at, Some(at(10)), "a recalled ticket started again when recalled");
        let lines: Vec<(&str, TimeDelta)> = queue[0].lines.iter().map(|l| (l.station.as_str(), l.prep)).collect();
        assert_eq!(lines, [("grill", TimeDelta::seconds(12)), ("bar", TimeDelta::seconds(2))]);
        assert_eq!((queue[0].id, queue[0].placed_at, queue[0].rush), (waiting.order_id, at(0), false));
    }

    #[test]
    fn a_rush_ticket_is_planned_as_rush_and_a_done_station_has_nothing_left_to_cook() {
        let mut rushed =
            ticket(TicketStatus::Preparing, vec![(TicketStatus::Placed, at(0)), (TicketStatus::Preparing, at(1))]);
        rushed.rush = true;
        rushed.stations_done.insert("grill".to_owned(), at(5));
        let queue = [queued(&rushed, Duration::from_secs(1))];
        assert!(queue[0].rush, "the kitchen's rush mark reaches the planner");
        let stations: Vec<&str> = queue[0].lines.iter().map(|l| l.station.as_str()).collect();
        assert_eq!(stations, ["bar"], "the grill marked its lines done; only the bar's are left");
    }

    fn change(seq: i64, ticket: &Ticket) -> TicketChange {
        TicketChange { seq, ticket: ticket.clone(), trace_id: None }
    }

    fn ids(queue: &Queue) -> Vec<Uuid> {
        queue.tickets.values().map(|t| t.id).collect()
    }

    #[test]
    fn the_queue_kept_in_memory_follows_the_change_log_and_skips_what_it_already_reflects() {
        let minute = Duration::from_secs(1);
        let mut first = ticket(TicketStatus::Placed, vec![(TicketStatus::Placed, at(0))]);
        let mut second = ticket(TicketStatus::Placed, vec![(TicketStatus::Placed, at(1))]);
        second.placed_at = at(1);
        let handed_over = ticket(TicketStatus::Completed, vec![(TicketStatus::Placed, at(0))]);
        let mut queue = Queue::read(10, &[second.clone(), first.clone(), handed_over.clone()], minute);
        assert_eq!(ids(&queue), [first.order_id, second.order_id], "oldest first, only the waiting");

        // A change the read already reflects (the first's bump at seq 9) is skipped.
        first.status = TicketStatus::Ready;
        queue.apply(&change(9, &first), minute);
        assert_eq!(ids(&queue), [first.order_id, second.order_id]);
        // A newer one takes the ticket out of the queue…
        queue.apply(&change(11, &first), minute);
        assert_eq!(ids(&queue), [second.order_id]);
        // …a recall puts it back, in its place, with what is left to cook…
        first.status = TicketStatus::Preparing;
        first.timeline.push((TicketStatus::Preparing, at(5)));
        first.stations_done.insert("bar".to_owned(), at(4));
        queue.apply(&change(12, &first), minute);
        assert_eq!(ids(&queue), [first.order_id, second.order_id]);
        let recalled = &queue.tickets[&(first.placed_at, first.order_id)];
        assert_eq!((recalled.started_at, recalled.lines.len()), (Some(at(5)), 1));
        // …and a new order joins at its end; one that leaves is gone from the index too.
        let mut third = ticket(TicketStatus::Placed, vec![(TicketStatus::Placed, at(2))]);
        third.placed_at = at(2);
        queue.apply(&change(13, &third), minute);
        second.status = TicketStatus::Cancelled;
        queue.apply(&change(14, &second), minute);
        assert_eq!(ids(&queue), [first.order_id, third.order_id]);
        assert_eq!((queue.placed.len(), queue.as_of), (2, 14));
    }
}
