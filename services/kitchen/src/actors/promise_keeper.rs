//! `PromiseKeeper`: the kitchen's promise to its customers. Whenever the queue moves (the
//! change-log follower pushed ticket changes: a new order, a bump, a cancellation) and every
//! [`PromiseKeeper::replan_every`] besides (a late line moves the promises behind it), it plans
//! the queue with `shared/ready-by`, keeps each ticket's ready-by on the ticket and tells the
//! orders service the promises that moved by at least a quarter of a prep minute, with the
//! kitchen's load for cart estimates. One plan at a time; a wake-up during a plan plans again
//! after it. Every instance plans (each from the whole queue in PostgreSQL): what they tell
//! orders is the same, and orders stores only promises that really moved.

use crate::domain::{Ticket, TicketStatus};
use crate::grpc::{OrdersClient, PlanReport};
use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use deadpool_postgres::Pool;
use ready_by::{Cooks, Line, QueuedTicket};
use service_kit::shutdown::ShutdownListener;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// Promises told to orders per plan, at most: every move is a transaction and an event, and a
/// late head of the queue moves every promise behind it.
pub const MAX_MOVES_PER_PLAN: usize = 64;

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

/// The queue moved: plan it again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueueMoved;

pub struct PromiseKeeper {
    pool: Pool,
    orders: OrdersClient,
    settings: PromiseSettings,
    /// What orders was last told: each ticket's promise, and the load.
    told: Told,
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

impl PromiseKeeper {
    pub fn new(pool: Pool, orders: OrdersClient, settings: PromiseSettings, shutdown: ShutdownListener) -> Self {
        Self {
            pool,
            orders,
            settings,
            told: Told::default(),
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
}

impl Actor for PromiseKeeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.replan_every(), |_, ctx| ctx.notify(QueueMoved));
        if let Some(mut stop) = self.shutdown.clone() {
            ctx.spawn(async move { stop.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
        }
        ctx.notify(QueueMoved);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.shutdown.take();
    }
}

impl Handler<QueueMoved> for PromiseKeeper {
    type Result = ();

    fn handle(&mut self, _: QueueMoved, ctx: &mut Self::Context) {
        if self.planning {
            self.moved_while_planning = true;
            return;
        }
        if self.plan_set {
            return;
        }
        if let Some(wait) = self.last_plan.map(|at| at.elapsed()).and_then(|since| self.plan_gap().checked_sub(since)) {
            self.plan_set = true;
            ctx.run_later(wait, |keeper, ctx| {
                keeper.plan_set = false;
                ctx.notify(QueueMoved);
            });
            return;
        }
        self.last_plan = Some(std::time::Instant::now());
        self.planning = true;
        self.moved_while_planning = false;
        let work = keep(self.pool.clone(), self.orders.clone(), self.settings.clone(), self.told.clone(), self.step());
        ctx.spawn(work.into_actor(self).map(|result, keeper, ctx| {
            keeper.planning = false;
            match result {
                Ok(told) => keeper.told = told,
                Err(e) => tracing::warn!(error = format!("{e:#}"), "planning the kitchen's promises failed"),
            }
            if keeper.moved_while_planning {
                ctx.notify(QueueMoved);
            }
        }));
    }
}

/// The queue as the planner sees it: each ticket's lines at their stations, on the kitchen's
/// clock; a ticket being prepared started when it reached PREPARING. A station that marked its
/// lines done has nothing left to cook for the ticket, so those lines drop out of the plan.
pub fn queued(tickets: &[Ticket], prep_minute: Duration) -> Vec<QueuedTicket<Uuid>> {
    tickets
        .iter()
        .map(|t| QueuedTicket {
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
        })
        .collect()
}

/// Plans the queue now; keeps and tells what moved. Returns what orders now knows.
async fn keep(
    pool: Pool,
    orders: OrdersClient,
    settings: PromiseSettings,
    mut told: Told,
    step: TimeDelta,
) -> anyhow::Result<Told> {
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let tickets = store::tickets::queue(&client).await?;
    let now = Utc::now();
    let plan = ready_by::plan(now, &queued(&tickets, settings.prep_minute), &settings.cooks);
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
    told.promises.retain(|id, _| plan.ready_by.iter().any(|(queued, _)| queued == id));
    if promises.is_empty() && !load_moved {
        return Ok(told);
    }
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
        let queue = queued(&[waiting.clone(), recalled], Duration::from_secs(1));
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
        let queue = queued(&[rushed], Duration::from_secs(1));
        assert!(queue[0].rush, "the kitchen's rush mark reaches the planner");
        let stations: Vec<&str> = queue[0].lines.iter().map(|l| l.station.as_str()).collect();
        assert_eq!(stations, ["bar"], "the grill marked its lines done; only the bar's are left");
    }
}
