//! # The kitchen's promise
//!
//! When each ticket in the kitchen's queue will be ready, and when a cart would be if it were
//! ordered now, from the work already queued at each station. Pure: no clock, no I/O; the
//! kitchen calls [`plan`] whenever its queue moves (a new order, a bump, a rush, a
//! cancellation) and the cart estimate asks the same [`Plan`].
//!
//! The model (and the simulated kitchen of `loadgen promise`, which follows it):
//! - every station has a number of cooks ([`Cooks`], 1 unless configured); a cook makes one line
//!   at a time, taking the dish's prep minutes for the whole line (a grill cooks three burgers
//!   side by side as fast as one);
//! - a ticket's lines at different stations are made in parallel; the ticket is ready when its
//!   last line is;
//! - the queue is served rushed tickets first, then in the order they were placed; each line
//!   goes to the cook of its station who is free first;
//! - a ticket being prepared (`started_at`) has its lines under way since then when a cook of
//!   their station is free now: they finish `prep` after the start, never before now (a late
//!   line is promised for now, and moves on as the queue is planned again).

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;

/// One line of a ticket as the kitchen plans it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub station: String,
    /// The dish's prep time (the menu's prep minutes, on the kitchen's clock).
    pub prep: TimeDelta,
}

/// A ticket waiting for, or under, the cooks' hands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTicket<Id> {
    pub id: Id,
    /// Rushed tickets are made before every other.
    pub rush: bool,
    pub placed_at: DateTime<Utc>,
    /// When the cooks started it (the ticket went to PREPARING); `None` while it waits.
    pub started_at: Option<DateTime<Utc>>,
    pub lines: Vec<Line>,
}

/// Cooks per station; a station not named has [`Cooks::DEFAULT`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cooks {
    per_station: HashMap<String, u32>,
}

impl Cooks {
    /// Cooks at a station nobody configured.
    pub const DEFAULT: u32 = 1;

    /// `station=cooks` pairs, comma-separated (`grill=2,fry=1`); a station with 0 cooks or a
    /// pair that does not parse is refused with the pair's text.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut per_station = HashMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (station, cooks) = pair.split_once('=').ok_or_else(|| pair.to_owned())?;
            let cooks: u32 = cooks.trim().parse().map_err(|_| pair.to_owned())?;
            if cooks == 0 || station.trim().is_empty() {
                return Err(pair.to_owned());
            }
            per_station.insert(station.trim().to_owned(), cooks);
        }
        Ok(Self { per_station })
    }

    pub fn at(&self, station: &str) -> u32 {
        self.per_station.get(station).copied().unwrap_or(Self::DEFAULT)
    }

    /// The stations configured by name.
    pub fn stations(&self) -> impl Iterator<Item = &str> {
        self.per_station.keys().map(String::as_str)
    }
}

/// The queue planned at one moment: each ticket's ready-by, and when each cook is free after
/// the whole queue (what a new ticket would wait for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<Id> {
    pub now: DateTime<Utc>,
    /// In the order the tickets were given.
    pub ready_by: Vec<(Id, DateTime<Utc>)>,
    /// Per station, when each of its cooks is free once the queue is made.
    free_at: HashMap<String, Vec<DateTime<Utc>>>,
    cooks: Cooks,
}

/// Plans `tickets` (every ticket still to be made: not ready, not cancelled) at `now`.
pub fn plan<Id: Clone>(now: DateTime<Utc>, tickets: &[QueuedTicket<Id>], cooks: &Cooks) -> Plan<Id> {
    let mut order: Vec<usize> = (0..tickets.len()).collect();
    // Rushed first, then oldest first; `sort_by_key` is stable, so ties keep the given order.
    order.sort_by_key(|&i| (!tickets[i].rush, tickets[i].placed_at));
    // Every configured station is in the load, busy or idle (an estimate needs its cooks).
    let mut free_at: HashMap<String, Vec<DateTime<Utc>>> =
        cooks.stations().map(|s| (s.to_owned(), vec![now; cooks.at(s) as usize])).collect();
    let mut ready = vec![now; tickets.len()];
    for i in order {
        let ticket = &tickets[i];
        ready[i] = schedule(&mut free_at, cooks, now, ticket.started_at, &ticket.lines);
    }
    Plan {
        now,
        ready_by: tickets.iter().zip(ready).map(|(t, at)| (t.id.clone(), at)).collect(),
        free_at,
        cooks: cooks.clone(),
    }
}

/// Gives each line to the first free cook of its station; when the last line is done.
fn schedule(
    free_at: &mut HashMap<String, Vec<DateTime<Utc>>>,
    cooks: &Cooks,
    now: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    lines: &[Line],
) -> DateTime<Utc> {
    let mut done = now;
    for line in lines {
        let station =
            free_at.entry(line.station.clone()).or_insert_with(|| vec![now; cooks.at(&line.station) as usize]);
        let (cook, free) = station
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|&(_, free)| free)
            .expect("a station has at least one cook: Cooks refuses 0");
        let finish = match started_at {
            // Under way since the ticket was started: a cook was on it.
            Some(started) if free <= now => (started + line.prep).max(now),
            _ => free.max(now) + line.prep,
        };
        station[cook] = finish;
        done = done.max(finish);
    }
    done
}

/// A plan known only by its load (what the orders service keeps of the kitchen's last plan):
/// for [`Plan::estimate`]. A station's cooks are as many as its free times; a station not in the
/// load has [`Cooks::DEFAULT`] cooks, free now.
pub fn behind(now: DateTime<Utc>, load: impl IntoIterator<Item = (String, Vec<DateTime<Utc>>)>) -> Plan<()> {
    let free_at: HashMap<String, Vec<DateTime<Utc>>> =
        load.into_iter().filter(|(_, cooks)| !cooks.is_empty()).collect();
    let cooks = Cooks {
        per_station: free_at
            .iter()
            .map(|(s, free)| (s.clone(), u32::try_from(free.len()).unwrap_or(u32::MAX)))
            .collect(),
    };
    Plan { now, ready_by: Vec::new(), free_at, cooks }
}

impl<Id> Plan<Id> {
    /// Per station, when each of its cooks is free once the queue is made (configured stations
    /// included, idle ones free now).
    pub fn load(&self) -> impl Iterator<Item = (&str, &[DateTime<Utc>])> {
        self.free_at.iter().map(|(station, free)| (station.as_str(), free.as_slice()))
    }

    /// When `lines` would be ready if they were ordered now: behind the whole queue, at their
    /// stations only (a drink does not wait for the grill).
    pub fn estimate(&self, lines: &[Line]) -> DateTime<Utc> {
        let mut free_at = self.free_at.clone();
        schedule(&mut free_at, &self.cooks, self.now, None, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time") + TimeDelta::minutes(minutes)
    }

    fn line(station: &str, minutes: i64) -> Line {
        Line { station: station.into(), prep: TimeDelta::minutes(minutes) }
    }

    fn ticket(id: u32, placed: i64, lines: Vec<Line>) -> QueuedTicket<u32> {
        QueuedTicket { id, rush: false, placed_at: at(placed), started_at: None, lines }
    }

    fn ready(plan: &Plan<u32>, id: u32) -> DateTime<Utc> {
        plan.ready_by.iter().find(|(t, _)| *t == id).expect("a planned ticket").1
    }

    #[test]
    fn an_idle_kitchen_makes_a_tickets_lines_in_parallel_across_stations() {
        let plan =
            plan(at(0), &[ticket(1, 0, vec![line("grill", 12), line("fry", 5), line("bar", 1)])], &Cooks::default());
        assert_eq!(ready(&plan, 1), at(12), "the slowest line, not the sum");
    }

    #[test]
    fn one_cook_makes_a_stations_lines_one_after_another_oldest_first() {
        let queue = [ticket(2, -1, vec![line("grill", 10)]), ticket(1, -2, vec![line("grill", 10)])];
        let plan = plan(at(0), &queue, &Cooks::default());
        assert_eq!((ready(&plan, 1), ready(&plan, 2)), (at(10), at(20)));
        // Two lines of one ticket at one station queue too.
        let plan = super::plan(at(0), &[ticket(1, 0, vec![line("grill", 10), line("grill", 4)])], &Cooks::default());
        assert_eq!(ready(&plan, 1), at(14));
    }

    #[test]
    fn more_cooks_at_a_station_make_its_lines_side_by_side() {
        let cooks = Cooks::parse("grill=2").expect("a valid spec");
        let queue = [
            ticket(1, 0, vec![line("grill", 10)]),
            ticket(2, 1, vec![line("grill", 10)]),
            ticket(3, 2, vec![line("grill", 10)]),
        ];
        let plan = plan(at(0), &queue, &cooks);
        assert_eq!([1, 2, 3].map(|id| ready(&plan, id)), [at(10), at(10), at(20)]);
        assert_eq!(cooks.at("fry"), 1, "a station nobody configured has one cook");
    }

    #[test]
    fn a_rushed_ticket_goes_before_older_ones() {
        let mut rushed = ticket(2, 5, vec![line("grill", 10)]);
        rushed.rush = true;
        let plan = plan(at(6), &[ticket(1, 0, vec![line("grill", 10)]), rushed], &Cooks::default());
        assert_eq!((ready(&plan, 2), ready(&plan, 1)), (at(16), at(26)));
    }

    #[test]
    fn a_started_ticket_counts_its_time_under_way_and_is_never_promised_for_the_past() {
        let mut started = ticket(1, -6, vec![line("grill", 10)]);
        started.started_at = Some(at(-4));
        let plan = plan(at(0), &[started.clone(), ticket(2, -1, vec![line("grill", 10)])], &Cooks::default());
        assert_eq!((ready(&plan, 1), ready(&plan, 2)), (at(6), at(16)));
        // Late: it should have been ready 5 minutes ago; it is promised for now, not the past.
        started.started_at = Some(at(-15));
        let plan = super::plan(at(0), &[started], &Cooks::default());
        assert_eq!(ready(&plan, 1), at(0));
    }

    #[test]
    fn work_that_leaves_the_queue_brings_the_tickets_behind_it_earlier() {
        let first = ticket(1, 0, vec![line("grill", 10)]);
        let second = ticket(2, 1, vec![line("grill", 8)]);
        let before = plan(at(2), &[first, second.clone()], &Cooks::default());
        // Ticket 1 bumped ready (or cancelled): no longer queued.
        let after = plan(at(2), &[second], &Cooks::default());
        assert_eq!((ready(&before, 2), ready(&after, 2)), (at(20), at(10)));
    }

    #[test]
    fn a_cart_waits_behind_the_queue_at_its_own_stations_only() {
        let queue = [ticket(1, 0, vec![line("grill", 10)]), ticket(2, 0, vec![line("grill", 10), line("bar", 2)])];
        let plan = plan(at(0), &queue, &Cooks::default());
        assert_eq!(plan.estimate(&[line("grill", 6)]), at(26));
        assert_eq!(plan.estimate(&[line("bar", 2)]), at(4));
        assert_eq!(plan.estimate(&[line("pastry", 3)]), at(3), "an idle station starts now");
        assert_eq!(plan.estimate(&[]), at(0));
        assert_eq!(plan.estimate(&[line("grill", 6)]), at(26), "estimating adds nothing to the queue");
    }

    #[test]
    fn a_plan_known_by_its_load_estimates_like_the_plan_itself() {
        let cooks = Cooks::parse("grill=2,pastry=1").expect("a valid spec");
        let queue = [ticket(1, 0, vec![line("grill", 10)]), ticket(2, 0, vec![line("grill", 10), line("grill", 5)])];
        let planned = plan(at(0), &queue, &cooks);
        let load: Vec<(String, Vec<DateTime<Utc>>)> = planned.load().map(|(s, f)| (s.to_owned(), f.to_vec())).collect();
        assert!(load.iter().any(|(s, f)| s == "pastry" && f == &[at(0)]), "idle configured stations are in the load");
        let known = behind(at(0), load.clone());
        for cart in [
            vec![line("grill", 6)],
            vec![line("grill", 6), line("grill", 6)],
            vec![line("pastry", 4)],
            vec![line("bar", 1)],
        ] {
            assert_eq!(known.estimate(&cart), planned.estimate(&cart), "{cart:?}");
        }
        // Later, the cooks' free times that passed count as now.
        assert_eq!(behind(at(30), load).estimate(&[line("grill", 6)]), at(36));
    }

    #[test]
    fn cooks_specs_that_make_no_sense_are_refused_by_their_text() {
        assert_eq!(Cooks::parse("grill=0"), Err("grill=0".into()));
        assert_eq!(Cooks::parse("grill"), Err("grill".into()));
        assert_eq!(Cooks::parse("grill=two"), Err("grill=two".into()));
        assert_eq!(Cooks::parse(" grill = 3 , fry=2 ").map(|c| (c.at("grill"), c.at("fry"))), Ok((3, 2)));
        assert_eq!(Cooks::parse(""), Ok(Cooks::default()));
    }
}
