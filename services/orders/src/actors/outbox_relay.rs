//! `OutboxRelay`: publishes the outbox to the broker in id order, in exactly one instance at a
//! time (an advisory lock), woken by `NOTIFY` with a fallback poll, marking rows published only
//! after the broker acknowledged them.

use crate::kafka::EventPublisher;
use crate::metrics::OrdersMetrics;
use crate::store::outbox;
use actix::prelude::*;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use futures::StreamExt as _;
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Without a notification, the relay still looks at the outbox this often (a notification can
/// be lost while the listening connection reconnects).
pub const FALLBACK_POLL: Duration = Duration::from_secs(2);
/// After a failed pass (broker or database down), wait this long before the next.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// A follower tries to take the relay lock this often: after the leader dies (its session
/// ends, and PostgreSQL releases the lock), another instance relays within about this.
pub const LEADERSHIP_RETRY: Duration = Duration::from_millis(500);
/// The active relay measures the backlog gauges this often, beside its passes rather than in
/// them: a pass's round trips are every order's way to the kitchen, and a pass waiting on a
/// broker that is down must not freeze the gauges the `OutboxNotDraining` alert reads.
pub const BACKLOG_INTERVAL: Duration = Duration::from_secs(1);
/// Rows read and published per round trip.
pub const BATCH_SIZE: i64 = 256;
/// Published rows are kept this long (for operators and replays), then pruned.
pub const OUTBOX_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the active relay prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(600);
/// The advisory lock that makes one relay active across all instances.
const RELAY_LOCK_KEY: i64 = 0x6f75_7462_6f78; // "outbox"
/// The channel the outbox trigger notifies on commit.
const OUTBOX_CHANNEL: &str = "orders_outbox";

/// Publishes outbox rows to the event log, in id order, marking them published only after the
/// broker acknowledged them. Only the instance holding the relay lock publishes.
pub struct OutboxRelay {
    pool: Pool,
    pg_config: tokio_postgres::Config,
    publisher: Arc<EventPublisher>,
    metrics: OrdersMetrics,
    shutdown: ShutdownListener,
    /// Holds the relay lock: the only state in which we publish. Shared with a running pass,
    /// which stops between batches once the lock is lost (another instance has taken over).
    leader: Arc<AtomicBool>,
    /// A pass is running; a wake-up now means "run another pass after it".
    publishing: bool,
    woken_while_publishing: bool,
    /// A backlog measurement is running (a slow database does not pile them up).
    measuring: bool,
}

impl OutboxRelay {
    pub fn new(
        pool: Pool,
        pg_config: tokio_postgres::Config,
        publisher: EventPublisher,
        metrics: OrdersMetrics,
        shutdown: ShutdownListener,
    ) -> Self {
        Self {
            pool,
            pg_config,
            publisher: Arc::new(publisher),
            metrics,
            shutdown,
            leader: Arc::new(AtomicBool::new(false)),
            publishing: false,
            woken_while_publishing: false,
            measuring: false,
        }
    }
}

impl OutboxRelay {
    /// Sets the backlog gauges from the outbox, if this instance relays and no measurement is
    /// still running.
    fn refresh_backlog_gauges(&mut self, ctx: &mut Context<Self>) {
        if !self.leader.load(Ordering::SeqCst) || self.measuring {
            return;
        }
        self.measuring = true;
        let (pool, metrics) = (self.pool.clone(), self.metrics.clone());
        ctx.spawn(
            async move {
                let client = pool.get().await.context("connecting to PostgreSQL")?;
                measure_backlog(&client, &metrics).await
            }
            .into_actor(self)
            .map(|result, relay, _| {
                relay.measuring = false;
                if let Err(e) = result {
                    tracing::warn!(error = format!("{e:#}"), "measuring the outbox backlog failed");
                }
            }),
        );
    }
}

impl Actor for OutboxRelay {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(FALLBACK_POLL, |_, ctx| ctx.notify(Wake));
        ctx.run_interval(BACKLOG_INTERVAL, |relay, ctx| relay.refresh_backlog_gauges(ctx));
        ctx.run_interval(PRUNE_INTERVAL, |relay, ctx| {
            if !relay.leader.load(Ordering::SeqCst) {
                return;
            }
            let pool = relay.pool.clone();
            ctx.spawn(
                async move {
                    let client = pool.get().await.context("connecting to PostgreSQL")?;
                    let outbox = outbox::prune(&client, OUTBOX_RETENTION).await?;
                    let keys = outbox::prune_idempotency_keys(&client).await?;
                    anyhow::Ok((outbox, keys))
                }
                .into_actor(relay)
                .map(|result, _, _| match result {
                    Ok((0, 0)) => {}
                    Ok((outbox, keys)) => tracing::info!(outbox, keys, "pruned published outbox rows and expired keys"),
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "pruning the outbox failed"),
                }),
            );
        });
        // Stop at shutdown; dropping the actor drops its shutdown listener, saying "finished".
        let mut shutdown = self.shutdown.clone();
        ctx.spawn(async move { shutdown.recv().await }.into_actor(self).map(|(), relay, ctx| {
            relay.publisher.flush();
            ctx.stop();
        }));
        actix_rt::spawn(hold_relay_lock(self.pg_config.clone(), ctx.address(), self.shutdown.clone()));
    }
}

/// Something may be waiting in the outbox.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake;

/// This instance took, or lost, the relay lock.
#[derive(Message)]
#[rtype(result = "()")]
struct Leadership(bool);

impl Handler<Leadership> for OutboxRelay {
    type Result = ();

    fn handle(&mut self, Leadership(leader): Leadership, ctx: &mut Self::Context) {
        if leader != self.leader.swap(leader, Ordering::SeqCst) {
            tracing::info!(leader, "outbox relay leadership changed");
        }
        self.metrics.relay_leader.set(i64::from(leader));
        if leader {
            // The gauges may still hold what this instance saw when it last relayed.
            self.refresh_backlog_gauges(ctx);
            ctx.notify(Wake);
        }
    }
}

impl Handler<Wake> for OutboxRelay {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        if !self.leader.load(Ordering::SeqCst) || self.shutdown.is_shutting_down() {
            return;
        }
        if self.publishing {
            self.woken_while_publishing = true;
            return;
        }
        self.publishing = true;
        self.woken_while_publishing = false;
        let pass = publish_pass(self.pool.clone(), self.publisher.clone(), self.metrics.clone(), self.leader.clone());
        ctx.spawn(pass.into_actor(self).map(|result, relay, ctx| {
            relay.publishing = false;
            match result {
                Ok(_) if relay.woken_while_publishing => ctx.notify(Wake),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "outbox relay pass failed; retrying");
                    ctx.notify_later(Wake, RETRY_BACKOFF);
                }
            }
        }));
    }
}

/// Publishes what is in the outbox as it reads it, batch after batch; returns how many rows it
/// published.
async fn publish_pass(
    pool: Pool,
    publisher: Arc<EventPublisher>,
    metrics: OrdersMetrics,
    leader: Arc<AtomicBool>,
) -> anyhow::Result<usize> {
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let mut published = 0;
    drain(&client, &publisher, &metrics, &leader, &mut published).await.map(|()| published)
}

async fn measure_backlog(client: &deadpool_postgres::Client, metrics: &OrdersMetrics) -> anyhow::Result<()> {
    let (waiting, oldest) = outbox::backlog(client).await?;
    metrics.outbox_unpublished.set(waiting);
    metrics.outbox_oldest_seconds.set(oldest);
    Ok(())
}

/// One batch after another until a batch is not full (the outbox was empty as it was read;
/// what commits after that notifies again), a batch is not fully acknowledged, or
/// this instance lost the relay lock (a lost lock session: another instance may be relaying
/// already, so at most the batch in hand is published by both — duplicates, which consumers
/// apply by version).
async fn drain(
    client: &deadpool_postgres::Client,
    publisher: &EventPublisher,
    metrics: &OrdersMetrics,
    leader: &AtomicBool,
    published: &mut usize,
) -> anyhow::Result<()> {
    while leader.load(Ordering::SeqCst) {
        let batch = outbox::unpublished(client, BATCH_SIZE).await?;
        if batch.is_empty() {
            break;
        }
        let started = Instant::now();
        let acknowledged = publisher.publish(&batch).await;
        let acked_at = chrono::Utc::now();
        for record in &batch[..acknowledged] {
            let delay = (acked_at - record.created_at).to_std().unwrap_or_default();
            metrics.commit_to_publish_seconds.observe(delay.as_secs_f64());
        }
        let ids: Vec<i64> = batch[..acknowledged].iter().map(|r| r.id).collect();
        if !ids.is_empty() {
            outbox::mark_published(client, &ids).await?;
            metrics.outbox_published.inc_by(ids.len() as u64);
            metrics.publish_seconds.observe(started.elapsed().as_secs_f64());
        }
        *published += acknowledged;
        anyhow::ensure!(
            acknowledged == batch.len(),
            "the broker acknowledged {acknowledged} of {} events",
            batch.len()
        );
        if batch.len() < BATCH_SIZE as usize {
            break;
        }
    }
    Ok(())
}

/// Keeps trying to take the relay lock on a dedicated connection; while held, listens for
/// outbox notifications and wakes the relay. Losing the connection loses the lock (PostgreSQL
/// releases a session's advisory locks when it ends), and the relay stops publishing.
async fn hold_relay_lock(pg_config: tokio_postgres::Config, relay: Addr<OutboxRelay>, mut shutdown: ShutdownListener) {
    loop {
        let session = async {
            let (client, mut connection) =
                pg_config.connect(tokio_postgres::NoTls).await.context("connecting the relay's lock session")?;
            // Drive the connection, turning notifications into wake-ups.
            let wake = relay.clone();
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            let connection_task = async move {
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(tokio_postgres::AsyncMessage::Notification(_)) => wake.do_send(Wake),
                        Ok(_) => {}
                        Err(e) => return Err(anyhow::Error::new(e).context("relay lock session")),
                    }
                }
                Ok(())
            };
            let lock = async {
                loop {
                    let row = client
                        .query_one("SELECT pg_try_advisory_lock($1)", &[&RELAY_LOCK_KEY])
                        .await
                        .context("trying the relay lock")?;
                    if row.get::<_, bool>(0) {
                        break;
                    }
                    tokio::time::sleep(LEADERSHIP_RETRY).await;
                }
                client
                    .batch_execute(&format!("LISTEN {OUTBOX_CHANNEL}"))
                    .await
                    .context("listening for outbox notifications")?;
                relay.do_send(Leadership(true));
                // Hold the lock for as long as the session lives.
                std::future::pending::<anyhow::Result<()>>().await
            };
            tokio::select! {
                result = connection_task => result,
                result = lock => result,
            }
        };
        let result = tokio::select! {
            result = session => result,
            () = shutdown.recv() => return,
        };
        relay.do_send(Leadership(false));
        if let Err(e) = result {
            tracing::warn!(error = format!("{e:#}"), "relay lock session ended; reconnecting");
        }
        tokio::select! {
            () = tokio::time::sleep(LEADERSHIP_RETRY) => {}
            () = shutdown.recv() => return,
        }
    }
}
