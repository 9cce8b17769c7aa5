//! The day's short order numbers (`DayNumbers`): unique across instances, in order within one,
//! from a reserve under load, and a new day starts at 1.

mod common;

use actix::{Actor as _, Addr};
use anyhow::Context as _;
use chrono::NaiveDate;
use orders::actors::{DayNumbers, MAX_RESERVE, TakeNumber};
use service_kit::db;

fn day(text: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").context("a test day")
}

/// `count` placements asking `numbers` at once (in this order) for a number of `day`.
async fn take_at_once(numbers: &[&Addr<DayNumbers>], day: NaiveDate, count: usize) -> anyhow::Result<Vec<u32>> {
    let takes = (0..count).map(|i| {
        let numbers = numbers[i % numbers.len()].clone();
        async move { numbers.send(TakeNumber { day }).await? }
    });
    futures::future::try_join_all(takes).await
}

/// The day's counter: the last number any instance took for it.
async fn counter(s: &common::Running, day: NaiveDate) -> anyhow::Result<u32> {
    let client = s.db.connect().await?;
    let row = client.query_one("SELECT last FROM orders.daily_order_numbers WHERE day = $1", &[&day]).await?;
    Ok(u32::try_from(row.get::<_, i32>(0))?)
}

#[actix_rt::test]
async fn numbers_are_unique_across_instances_and_in_order_within_one() -> anyhow::Result<()> {
    let s = common::start().await?;
    let today = day("2031-01-01")?;
    let first = DayNumbers::new(db::pool(&s.db.settings())?).start();
    let second = DayNumbers::new(db::pool(&s.db.settings())?).start();

    let taken = take_at_once(&[&first, &second], today, 200).await?;

    let mut distinct = taken.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), taken.len(), "no number is handed out twice: {taken:?}");
    assert!(distinct[0] >= 1, "numbers start at 1: {distinct:?}");
    for instance in 0..2 {
        let mine: Vec<u32> = taken.iter().skip(instance).step_by(2).copied().collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one instance hands its numbers out in order: {mine:?}");
    }
    let last = counter(&s, today).await?;
    let highest = *distinct.last().context("numbers were taken")?;
    assert!(
        (highest..=highest + 2 * MAX_RESERVE).contains(&last),
        "the counter is ahead of the numbers handed out by at most two reserves: {last} against {highest}"
    );
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn under_load_a_number_comes_from_the_reserve_without_the_counter() -> anyhow::Result<()> {
    let s = common::start().await?;
    let today = day("2031-02-01")?;
    let numbers = DayNumbers::new(db::pool(&s.db.settings())?).start();

    let burst = take_at_once(&[&numbers], today, 20).await?;
    assert_eq!(burst, (1..=20).collect::<Vec<_>>(), "one instance alone numbers the day from 1, in order");

    // Twenty orders at once: the instance takes more than it hands out.
    let reserved = testkit::eventually("a reserve beyond the numbers handed out", || async {
        counter(&s, today).await.ok().filter(|last| *last > 20)
    })
    .await;
    let next = numbers.send(TakeNumber { day: today }).await??;
    assert_eq!(next, 21, "the next placement gets the reserve's first number");
    assert!(next <= reserved, "taken from the reserve ({reserved} taken so far), not from the counter");
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_new_day_starts_at_one_and_the_old_days_reserve_is_a_gap() -> anyhow::Result<()> {
    let s = common::start().await?;
    let (before, after) = (day("2031-03-01")?, day("2031-03-02")?);
    let numbers = DayNumbers::new(db::pool(&s.db.settings())?).start();

    assert_eq!(take_at_once(&[&numbers], before, 5).await?, vec![1, 2, 3, 4, 5]);
    let reserved = testkit::eventually("a reserve for the first day", || async {
        counter(&s, before).await.ok().filter(|last| *last > 5)
    })
    .await;

    assert_eq!(numbers.send(TakeNumber { day: after }).await??, 1, "the new day's first order is #001");
    // A placement still stamped with the old day (it began just before midnight) gets a fresh
    // number of that day: the old day's reserve went when the new day began.
    let late = numbers.send(TakeNumber { day: before }).await??;
    assert_eq!(late, reserved + 1, "the old day's reserve is not handed out after the new day began");
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_placement_is_told_why_no_number_could_be_taken() -> anyhow::Result<()> {
    let s = common::start().await?;
    let mut settings = s.db.settings();
    settings.pg.dbname("no_such_database");
    let numbers = DayNumbers::new(db::pool(&settings)?).start();

    let refused = numbers.send(TakeNumber { day: day("2031-04-01")? }).await?;
    let why = format!("{:#}", refused.expect_err("no number without a database"));
    assert!(why.contains("taking the day's next order numbers"), "{why}");
    // The actor is still there for the next placement.
    assert!(numbers.send(TakeNumber { day: day("2031-04-01")? }).await?.is_err());
    s.app.stop().await;
    Ok(())
}
