//! [`ChangeLogFollower`]: the actor that feeds this instance's `TicketHub` from the durable
//! tablet change log — every change, whichever instance's consumer wrote it, in sequence order,
//! without gaps, once — woken by `NOTIFY` on commit with a fallback poll; and that prunes the
//! log to what a reconnecting tablet may still replay.

use super::{PromiseKeeper, PublishChange, QueueLost, QueueMoved, ResyncAll, TicketHub};
use crate::domain::TicketChange;
use crate::store;
use actix::prelude::*;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use futures::StreamExt as _;
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Without a notification, the follower still reads the log this often (a notification can be
/// lost while the listening connection reconnects).
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);
/// After a failed read (database down), wait this long before the next.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// Changes read per round trip.
pub const BATCH_SIZE: i64 = 256;
/// A gap in the log (seq 7 readable, 6 not) is looked at again this soon…
pub const GAP_RECHECK: Duration = Duration::from_millis(50);
/// …and taken as changes pruned before this follower read them after this long: the tablets
/// are then told to resync (take a fresh snapshot). Sequence numbers come from a locked row, so
/// commit order is sequence order and a gap should never be a change still committing; this
/// only guards against a follower that fell behind the pruning.
pub const GAP_PATIENCE: Duration = Duration::from_secs(2);
/// The channel the `tablet_changes` trigger notifies on commit.
const CHANNEL: &str = "kitchen_tablet_changes";

/// How much of the tablet change log is kept.
#[derive(Debug, Clone, Copy)]
pub struct ChangeLogRetention {
    /// The last this many changes are kept (older ones are pruned). At least
    /// `service::MAX_REPLAY`, the most a reconnecting tablet is replayed: a tablet further
    /// behind gets a snapshot anyway. The margin above it is for followers that lag.
    pub kept: i64,
    /// How often each instance prunes (a `DELETE` by primary key range; instances may race
    /// harmlessly).
    pub prune_interval: Duration,
}

/// Follows the tablet change log from the last sequence number it pushed and hands each change
/// to the hub, in order. One per instance; stopped by the service's shutdown.
pub struct ChangeLogFollower {
    pool: Pool,
    /// For the dedicated listening connection (a pooled one would be recycled).
    pg_config: tokio_postgres::Config,
    hub: Addr<TicketHub>,
    retention: ChangeLogRetention,
    /// The last sequence number pushed to the hub: the next read starts after it.
    last: i64,
    /// A read is running; a wake-up now means "read again after it".
    reading: bool,
    woken_while_reading: bool,
    /// Since when the log has shown a gap right after `last`.
    gap_since: Option<Instant>,
    /// Held until the actor has stopped, so the service's shutdown waits for it.
    shutdown: Option<ShutdownListener>,
    /// Given every change pushed (it keeps the queue it plans from them), and told when the
    /// log skipped changes.
    keeper: Option<Addr<PromiseKeeper>>,
}

impl ChangeLogFollower {
    /// Gives `keeper` every change this instance pushes, and tells it when changes were
    /// skipped.
    pub fn telling(mut self, keeper: Addr<PromiseKeeper>) -> Self {
        self.keeper = Some(keeper);
        self
    }

    /// `last`: the sequence number the hub is current with — read before any tablet could
    /// connect (see [`store::tickets::last_seq`]), so that no change falls between.
    pub fn new(
        pool: Pool,
        pg_config: tokio_postgres::Config,
        hub: Addr<TicketHub>,
        retention: ChangeLogRetention,
        last: i64,
        shutdown: ShutdownListener,
    ) -> Self {
        Self {
            pool,
            pg_config,
            hub,
            retention,
            last,
            reading: false,
            woken_while_reading: false,
            gap_since: None,
            shutdown: Some(shutdown),
            keeper: None,
        }
    }
}

impl Actor for ChangeLogFollower {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(FALLBACK_POLL, |_, ctx| ctx.notify(Wake));
        ctx.run_interval(self.retention.prune_interval, |follower, ctx| {
            let (pool, kept) = (follower.pool.clone(), follower.retention.kept);
            ctx.spawn(
                async move {
                    let client = pool.get().await.context("connecting to PostgreSQL")?;
                    store::tickets::prune_changes(&client, kept).await
                }
                .into_actor(follower)
                .map(|result, _, _| match result {
                    Ok(0) => {}
                    Ok(pruned) => tracing::debug!(pruned, "pruned the tablet change log"),
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "pruning the tablet change log failed"),
                }),
            );
        });
        if let Some(shutdown) = self.shutdown.clone() {
            let mut stop = shutdown.clone();
            ctx.spawn(async move { stop.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
            actix_rt::spawn(listen(self.pg_config.clone(), ctx.address(), shutdown));
        }
        ctx.notify(Wake);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!("change-log follower stopped");
        // Tells the service's shutdown this follower has finished.
        self.shutdown.take();
    }
}

/// Changes may be waiting in the log.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake;

impl Handler<Wake> for ChangeLogFollower {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        if self.reading {
            self.woken_while_reading = true;
            return;
        }
        self.reading = true;
        self.woken_while_reading = false;
        let pass = follow(self.pool.clone(), self.hub.clone(), self.last, self.keeper.is_some());
        ctx.spawn(pass.into_actor(self).map(|pass, follower, ctx| {
            follower.reading = false;
            if !pass.pushed.is_empty()
                && let Some(keeper) = &follower.keeper
            {
                keeper.do_send(QueueMoved(pass.pushed));
            }
            follower.last = pass.last;
            match (pass.gap_before, pass.failure) {
                (_, Some(e)) => {
                    tracing::warn!(error = format!("{e:#}"), "reading the tablet change log failed; retrying");
                    ctx.notify_later(Wake, RETRY_BACKOFF);
                }
                (Some(next), None) => follower.on_gap(next, ctx),
                (None, None) => {
                    follower.gap_since = None;
                    if follower.woken_while_reading {
                        ctx.notify(Wake);
                    }
                }
            }
        }));
    }
}

impl ChangeLogFollower {
    /// The log goes on at `next`, but `last + 1` is not there: wait a little for it, then take
    /// it as pruned and have the tablets resync.
    fn on_gap(&mut self, next: i64, ctx: &mut Context<Self>) {
        let since = *self.gap_since.get_or_insert_with(Instant::now);
        if since.elapsed() < GAP_PATIENCE {
            ctx.notify_later(Wake, GAP_RECHECK);
            return;
        }
        tracing::warn!(
            missing_from = self.last + 1,
            next,
            "tablet changes were pruned before this instance pushed them; tablets resync"
        );
        self.hub.do_send(ResyncAll);
        if let Some(keeper) = &self.keeper {
            keeper.do_send(QueueLost);
        }
        self.last = next - 1;
        self.gap_since = None;
        ctx.notify(Wake);
    }
}

/// What one read of the log did.
struct Pass {
    /// The last sequence number pushed.
    last: i64,
    /// The changes pushed, when the promise keeper takes them too (shared with the hub).
    pushed: Vec<Arc<TicketChange>>,
    /// The log goes on at this sequence number, but the one after `last` is missing.
    gap_before: Option<i64>,
    failure: Option<anyhow::Error>,
}

/// Pushes every change after `last` to the hub, in order, as long as they are contiguous (and
/// keeps each for the promise keeper too, with `keep`).
async fn follow(pool: Pool, hub: Addr<TicketHub>, mut last: i64, keep: bool) -> Pass {
    let mut pushed = Vec::new();
    let read = async {
        let client = pool.get().await.context("connecting to PostgreSQL")?;
        loop {
            let changes = store::tickets::changes_from(&client, last, BATCH_SIZE).await?;
            let full = changes.len() as i64 == BATCH_SIZE;
            for change in changes {
                if change.seq != last + 1 {
                    return Ok(Some(change.seq));
                }
                last = change.seq;
                let change = Arc::new(change);
                if keep {
                    pushed.push(change.clone());
                }
                hub.do_send(PublishChange(change));
            }
            if !full {
                return Ok(None);
            }
        }
    };
    let result: anyhow::Result<Option<i64>> = read.await;
    match result {
        Ok(gap_before) => Pass { last, pushed, gap_before, failure: None },
        Err(e) => Pass { last, pushed, gap_before: None, failure: Some(e) },
    }
}

/// Listens for change-log notifications on a connection of its own and wakes the follower;
/// reconnects when the connection is lost (waking the follower once listening again, for what
/// was committed meanwhile). Holds a shutdown listener, so the service's shutdown waits for it.
async fn listen(pg_config: tokio_postgres::Config, follower: Addr<ChangeLogFollower>, mut shutdown: ShutdownListener) {
    loop {
        let session = async {
            let (client, mut connection) =
                pg_config.connect(tokio_postgres::NoTls).await.context("connecting the change-log listener")?;
            let wake = follower.clone();
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            let connection_task = async move {
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(tokio_postgres::AsyncMessage::Notification(_)) => wake.do_send(Wake),
                        Ok(_) => {}
                        Err(e) => return Err(anyhow::Error::new(e).context("change-log listener")),
                    }
                }
                anyhow::Ok(())
            };
            let subscribe = async {
                client.batch_execute(&format!("LISTEN {CHANNEL}")).await.context("listening for tablet changes")?;
                follower.do_send(Wake);
                // Listen for as long as the connection lives.
                std::future::pending::<anyhow::Result<()>>().await
            };
            tokio::select! {
                result = connection_task => result,
                result = subscribe => result,
            }
        };
        let result = tokio::select! {
            result = session => result,
            () = shutdown.recv() => return,
        };
        if let Err(e) = result {
            tracing::warn!(error = format!("{e:#}"), "change-log listener lost its connection; reconnecting");
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_BACKOFF) => {}
            () = shutdown.recv() => return,
        }
    }
}
