//! `DayNumbers`: hands out the day's short order numbers (`#042`). Under load it keeps a
//! reserve, taken from the day's counter ahead of demand, so a placement does not wait for a
//! round trip of its own to the counter, nor queue behind other placements on the counter's
//! row. When orders come one at a time there is no reserve and every number is taken as it is
//! needed.
//!
//! Numbers stay unique per day: every one comes from the counter (`store::orders::take_numbers`).
//! One instance hands its numbers out in order. Two instances each hand out their own reserve,
//! so their numbers can interleave by up to [`MAX_RESERVE`]. Numbers still in a reserve when the
//! day ends or the instance stops are never used: a gap, as a refused placement leaves one.

use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use chrono::NaiveDate;
use deadpool_postgres::Pool;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The demand a reserve is sized to: the numbers handed out within this long.
pub const DEMAND_WINDOW: Duration = Duration::from_secs(1);
/// The most numbers a reserve holds, and so how far two instances' numbers can interleave.
pub const MAX_RESERVE: u32 = 32;

/// Owns this instance's reserve of the day's numbers and the placements waiting for one.
pub struct DayNumbers {
    pool: Pool,
    /// The day of the reserve; `None` before the first number.
    day: Option<NaiveDate>,
    /// Numbers of `day` taken from the counter and not handed out yet, in order.
    reserve: VecDeque<u32>,
    /// Placements waiting for a number of their day, first come first served.
    waiting: VecDeque<(NaiveDate, oneshot::Sender<Result<u32, String>>)>,
    /// Whether a take from the counter is on its way (at most one at a time).
    taking: bool,
    /// When numbers were handed out within the last [`DEMAND_WINDOW`].
    handed_out: VecDeque<Instant>,
}

impl DayNumbers {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            day: None,
            reserve: VecDeque::new(),
            waiting: VecDeque::new(),
            taking: false,
            handed_out: VecDeque::new(),
        }
    }

    /// How many numbers to keep in reserve: those handed out within the window, beyond the
    /// first (one order at a time keeps none, so a quiet restaurant's numbers stay in order
    /// across instances).
    fn reserve_target(&mut self, now: Instant) -> u32 {
        while self.handed_out.front().is_some_and(|at| now.duration_since(*at) > DEMAND_WINDOW) {
            self.handed_out.pop_front();
        }
        u32::try_from(self.handed_out.len().saturating_sub(1)).unwrap_or(MAX_RESERVE).min(MAX_RESERVE)
    }

    /// Takes more numbers from the counter unless a take is on its way: enough for the waiting
    /// placements of the first waiting one's day, plus, for the reserve's day (`refill`), the
    /// reserve's target.
    fn take_more(&mut self, refill: bool, ctx: &mut Context<Self>) {
        if self.taking {
            return;
        }
        let target = self.reserve_target(Instant::now());
        let (day, count) = match self.waiting.front() {
            Some(&(day, _)) => {
                let waiting = self.waiting.iter().filter(|(d, _)| *d == day).count();
                let waiting = u32::try_from(waiting).unwrap_or(u32::MAX);
                let newest = self.day.is_none_or(|current| day >= current);
                (day, waiting.saturating_add(if newest { target } else { 0 }))
            }
            None => match self.day {
                Some(day) if refill => {
                    let held = u32::try_from(self.reserve.len()).unwrap_or(u32::MAX);
                    (day, target.saturating_sub(held))
                }
                _ => return,
            },
        };
        if count == 0 {
            return;
        }
        self.taking = true;
        let pool = self.pool.clone();
        let take = async move {
            let client = pool.get().await.context("connecting to PostgreSQL")?;
            store::orders::take_numbers(&client, day, count).await
        };
        ctx.spawn(take.into_actor(self).map(move |taken, actor, ctx| {
            actor.taking = false;
            let took = taken.is_ok();
            actor.took(day, taken);
            // After a failed take, only placements that wait now start another: an unreachable
            // database is not asked again and again for a reserve nobody waits for.
            actor.take_more(took, ctx);
        }));
    }

    /// Numbers of `day` arrived (or could not be taken): the waiting placements of that day
    /// get theirs in order, and the rest go to the reserve unless an older day's.
    fn took(&mut self, day: NaiveDate, taken: anyhow::Result<std::ops::RangeInclusive<u32>>) {
        let mut numbers = match taken {
            Ok(numbers) => numbers,
            Err(e) => {
                let why = format!("{e:#}");
                let (failed, others) = self.waiting.drain(..).partition::<VecDeque<_>, _>(|(d, _)| *d == day);
                self.waiting = others;
                for (_, placement) in failed {
                    // A placement that gave up waiting has nothing to be told.
                    let _ = placement.send(Err(why.clone()));
                }
                return;
            }
        };
        let mut still_waiting = VecDeque::with_capacity(self.waiting.len());
        for (wanted, placement) in self.waiting.drain(..) {
            if wanted == day
                && let Some(number) = numbers.next()
            {
                // A placement that gave up waiting leaves a gap.
                let _ = placement.send(Ok(number));
                continue;
            }
            still_waiting.push_back((wanted, placement));
        }
        self.waiting = still_waiting;
        if self.day.is_none_or(|current| day >= current) {
            if self.day != Some(day) {
                self.day = Some(day);
                self.reserve.clear();
            }
            self.reserve.extend(numbers);
        }
    }
}

impl Actor for DayNumbers {
    type Context = Context<Self>;
}

/// A placement asks for its number of the day `day` (UTC): from the reserve at once, or as
/// soon as the counter gave more.
#[derive(Message)]
#[rtype(result = "anyhow::Result<u32>")]
pub struct TakeNumber {
    pub day: NaiveDate,
}

impl Handler<TakeNumber> for DayNumbers {
    type Result = ResponseFuture<anyhow::Result<u32>>;

    fn handle(&mut self, take: TakeNumber, ctx: &mut Self::Context) -> Self::Result {
        self.handed_out.push_back(Instant::now());
        let reserved = if self.day == Some(take.day) { self.reserve.pop_front() } else { None };
        let answer = match reserved {
            Some(number) => Ok(number),
            None => {
                let (placement, answer) = oneshot::channel();
                self.waiting.push_back((take.day, placement));
                Err(answer)
            }
        };
        self.take_more(true, ctx);
        Box::pin(async move {
            match answer {
                Ok(number) => Ok(number),
                Err(answer) => answer
                    .await
                    .context("the day's numbers stopped")?
                    .map_err(|why| anyhow::anyhow!("taking the day's next order numbers: {why}")),
            }
        })
    }
}
