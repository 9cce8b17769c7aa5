//! Live order events: [`OrderEventsHub`], the actor that follows **one** upstream
//! `WatchOrders` stream (on the gateway's own service token) and fans it out to the
//! subscriptions that joined it: kitchen-wide ones get every event, the subscribers of one order
//! only that order's, so a customer's page never wakes (or falls behind) for other people's
//! orders; subscriptions join and leave by message, and an order's entry goes when its last
//! subscriber leaves or the order finishes. The upstream reconnects by itself (with backoff)
//! after the orders service restarts. [`LiveOrders`] is the handle resolvers use.

use crate::backends::{BackendResult, OrdersBackend};
use crate::model::{OrderEvent, OrderStatus};
use actix::prelude::*;
use futures::Stream;
use service_kit::shutdown::ShutdownListener;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Events a kitchen-wide subscriber may fall behind by (every order's events reach it).
pub const SUBSCRIBER_BUFFER: usize = 256;
/// Events one order's subscriber may fall behind by (an order has only a handful).
pub const ORDER_BUFFER: usize = 16;
/// The first wait before reconnecting upstream; doubled up to [`MAX_RECONNECT_DELAY`].
pub const RECONNECT_DELAY: Duration = Duration::from_millis(200);
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// What a subscription receives from the hub.
#[derive(Debug, Clone)]
pub enum LiveItem {
    Event(Arc<OrderEvent>),
    /// The subscriber's buffer was full: it missed events and has been dropped from the hub
    /// (the last slot of every buffer is kept for this notice). Nothing follows.
    FellBehind,
}

/// A subscriber's handle within the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberId(u64);

/// What a subscription follows: every order (kitchen staff), or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    Everything,
    Order(Uuid),
}

/// The hub's gauges.
#[derive(Clone)]
pub struct LiveMetrics {
    /// Subscriptions joined to the hub (`gateway_subscriptions_open`).
    pub open: prometheus::IntGauge,
    /// Orders with at least one subscriber of their own (`gateway_live_orders_watched`): what
    /// the hub holds per order, so it must fall back when subscribers leave.
    pub orders_watched: prometheus::IntGauge,
}

impl LiveMetrics {
    pub fn register(registry: &prometheus::Registry) -> anyhow::Result<Self> {
        let open = prometheus::IntGauge::new("gateway_subscriptions_open", "Open GraphQL subscriptions")?;
        let orders_watched =
            prometheus::IntGauge::new("gateway_live_orders_watched", "Orders with a live subscriber of their own")?;
        registry.register(Box::new(open.clone()))?;
        registry.register(Box::new(orders_watched.clone()))?;
        Ok(Self { open, orders_watched })
    }
}

/// Follows the orders service's event stream and pushes each event to its subscribers without
/// ever waiting for one: pushes go into bounded buffers, and a subscriber whose buffer is full
/// is told it fell behind and dropped (the client subscribes again), like a slow tablet on the
/// kitchen's `TicketHub`.
pub struct OrderEventsHub {
    orders: OrdersBackend,
    kitchen_wide: HashMap<SubscriberId, mpsc::Sender<LiveItem>>,
    /// Subscribers of one order, by the order's id; an entry lives while it has subscribers
    /// and its order is not finished.
    by_order: HashMap<Uuid, HashMap<SubscriberId, mpsc::Sender<LiveItem>>>,
    /// The last (version, promise revision) pushed to an order's subscribers (kept while its
    /// entry in `by_order` lives): after a relay takeover the topic may carry an event again,
    /// and an order's page gets each state once; a moved promise keeps the version and raises
    /// the revision.
    delivered: HashMap<Uuid, (i64, i64)>,
    next_id: u64,
    /// The upstream stream being read, to drop it when it fails.
    upstream: Option<SpawnHandle>,
    /// The wait before the next reconnection.
    delay: Duration,
    metrics: LiveMetrics,
    /// Held until the actor has stopped, so the service's shutdown waits for it.
    shutdown: Option<ShutdownListener>,
}

impl OrderEventsHub {
    pub fn new(orders: OrdersBackend, metrics: LiveMetrics, shutdown: ShutdownListener) -> Self {
        Self {
            orders,
            kitchen_wide: HashMap::new(),
            by_order: HashMap::new(),
            delivered: HashMap::new(),
            next_id: 0,
            upstream: None,
            delay: RECONNECT_DELAY,
            metrics,
            shutdown: Some(shutdown),
        }
    }

    fn count(&self) {
        let per_order: usize = self.by_order.values().map(HashMap::len).sum();
        self.metrics.open.set((self.kitchen_wide.len() + per_order) as i64);
        self.metrics.orders_watched.set(self.by_order.len() as i64);
    }

    /// Opens the upstream stream; on failure, tries again after the current delay.
    fn follow(&mut self, ctx: &mut Context<Self>) {
        let orders = self.orders.clone();
        ctx.spawn(async move { orders.watch_all().await }.into_actor(self).map(|opened, hub, ctx| match opened {
            Ok(stream) => {
                tracing::info!("following order events");
                hub.delay = RECONNECT_DELAY;
                hub.upstream = Some(ctx.add_stream(stream));
            }
            Err(error) => {
                tracing::warn!(kind = ?error.kind, %error, "cannot follow order events");
                hub.reconnect_later(ctx);
            }
        }));
    }

    fn reconnect_later(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(delay = ?self.delay, "reconnecting to order events");
        ctx.run_later(self.delay, |hub, ctx| hub.follow(ctx));
        self.delay = (self.delay * 2).min(MAX_RECONNECT_DELAY);
    }

    fn publish(&mut self, event: OrderEvent) {
        let event = Arc::new(event);
        if let Ok(id) = Uuid::parse_str(&event.order.id) {
            let finished = matches!(event.order.status, OrderStatus::Completed | OrderStatus::Cancelled);
            if let Some(subscribers) = self.by_order.get_mut(&id) {
                let delivered = self.delivered.entry(id).or_default();
                // Events of one order arrive in version order; an older or equal version is
                // one published again, which its subscribers already have.
                if event.order.freshness() > *delivered {
                    *delivered = event.order.freshness();
                    push(subscribers, &event);
                    // A finished order changes no more: its subscriptions end (their buffers
                    // are dropped after this last event) and its entry goes.
                    if finished {
                        subscribers.clear();
                    }
                }
                if subscribers.is_empty() {
                    self.by_order.remove(&id);
                    self.delivered.remove(&id);
                }
            }
        }
        push(&mut self.kitchen_wide, &event);
        self.count();
    }
}

/// Pushes `event` to every subscriber without waiting; one whose buffer is down to its last
/// slot gets [`LiveItem::FellBehind`] there instead, and one that is gone or told is dropped.
fn push(subscribers: &mut HashMap<SubscriberId, mpsc::Sender<LiveItem>>, event: &Arc<OrderEvent>) {
    subscribers.retain(|_, subscriber| {
        if subscriber.capacity() <= 1 {
            let _ = subscriber.try_send(LiveItem::FellBehind);
            return false;
        }
        subscriber.try_send(LiveItem::Event(event.clone())).is_ok()
    });
}

impl Actor for OrderEventsHub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.follow(ctx);
        if let Some(mut shutdown) = self.shutdown.clone() {
            ctx.spawn(async move { shutdown.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Dropping the buffers ends every subscription; then the service's shutdown may finish.
        self.kitchen_wide.clear();
        self.by_order.clear();
        self.delivered.clear();
        self.count();
        self.shutdown.take();
    }
}

impl StreamHandler<BackendResult<OrderEvent>> for OrderEventsHub {
    fn handle(&mut self, event: BackendResult<OrderEvent>, ctx: &mut Context<Self>) {
        match event {
            Ok(event) => self.publish(event),
            Err(error) => {
                tracing::warn!(kind = ?error.kind, %error, "order events stream ended");
                if let Some(upstream) = self.upstream.take() {
                    ctx.cancel_future(upstream);
                }
                self.reconnect_later(ctx);
            }
        }
    }

    /// The stream also ends cleanly when its orders instance shuts down.
    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.upstream = None;
        self.reconnect_later(ctx);
    }
}

/// A subscription starts: push it the events of what it watches from now on.
#[derive(Message)]
#[rtype(result = "(SubscriberId, mpsc::Receiver<LiveItem>)")]
pub struct Join {
    pub watched: Watched,
}

/// A subscription ended (its stream was dropped).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub id: SubscriberId,
    pub watched: Watched,
}

impl Handler<Join> for OrderEventsHub {
    type Result = MessageResult<Join>;

    fn handle(&mut self, Join { watched }: Join, _: &mut Context<Self>) -> Self::Result {
        self.next_id += 1;
        let id = SubscriberId(self.next_id);
        let events = match watched {
            Watched::Everything => {
                let (sender, events) = mpsc::channel(SUBSCRIBER_BUFFER);
                self.kitchen_wide.insert(id, sender);
                events
            }
            Watched::Order(order) => {
                let (sender, events) = mpsc::channel(ORDER_BUFFER);
                self.by_order.entry(order).or_default().insert(id, sender);
                events
            }
        };
        self.count();
        MessageResult((id, events))
    }
}

impl Handler<Leave> for OrderEventsHub {
    type Result = ();

    fn handle(&mut self, Leave { id, watched }: Leave, _: &mut Context<Self>) {
        match watched {
            Watched::Everything => {
                self.kitchen_wide.remove(&id);
            }
            Watched::Order(order) => {
                if let Some(subscribers) = self.by_order.get_mut(&order) {
                    subscribers.remove(&id);
                    if subscribers.is_empty() {
                        self.by_order.remove(&order);
                        self.delivered.remove(&order);
                    }
                }
            }
        }
        self.count();
    }
}

/// The hub is gone (the service is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("live events are not available")]
pub struct HubGone;

/// Subscriptions of one order asking orders at once whether their caller may see it, per
/// gateway. 10,000 pages subscribing within seconds (a gateway restart with customers' pages
/// open) overran an orders instance when every one asked at once: its pool answered
/// UNAVAILABLE and retries did not converge (`ci/BENCHMARKS.md`, 2026-12-03). The rest wait
/// their turn, in order.
pub const ORDER_CHECKS_IN_FLIGHT: usize = 32;
/// How long a starting subscription waits for its turn before it is told UNAVAILABLE.
pub const ORDER_CHECK_WAIT: Duration = Duration::from_secs(30);

/// Too many subscriptions were starting: this one waited [`ORDER_CHECK_WAIT`] for its turn.
#[derive(Debug, thiserror::Error)]
#[error("too many subscriptions are starting at once; try again shortly")]
pub struct TooManyStarting;

impl service_kit::Classified for TooManyStarting {
    fn kind(&self) -> service_kit::ErrorKind {
        service_kit::ErrorKind::Unavailable
    }
}

/// Turns to ask orders about an order, at most [`ORDER_CHECKS_IN_FLIGHT`] at once; the rest
/// wait in order, at most [`ORDER_CHECK_WAIT`].
#[derive(Clone)]
pub struct CheckTurns {
    turns: Arc<tokio::sync::Semaphore>,
    wait: Duration,
}

impl CheckTurns {
    pub fn new(in_flight: usize, wait: Duration) -> Self {
        Self { turns: Arc::new(tokio::sync::Semaphore::new(in_flight)), wait }
    }

    /// A turn, held while the check runs.
    pub async fn take(&self) -> Result<tokio::sync::OwnedSemaphorePermit, TooManyStarting> {
        match tokio::time::timeout(self.wait, Arc::clone(&self.turns).acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            // The semaphore is never closed; a timeout is the answer either way.
            Ok(Err(_)) | Err(_) => Err(TooManyStarting),
        }
    }
}

/// The handle resolvers use to subscribe.
#[derive(Clone)]
pub struct LiveOrders {
    hub: Addr<OrderEventsHub>,
    checks: CheckTurns,
}

impl LiveOrders {
    pub fn new(hub: Addr<OrderEventsHub>) -> Self {
        Self { hub, checks: CheckTurns::new(ORDER_CHECKS_IN_FLIGHT, ORDER_CHECK_WAIT) }
    }

    /// A starting subscription's turn to ask orders about its order ([`ORDER_CHECKS_IN_FLIGHT`]).
    pub async fn check_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, TooManyStarting> {
        self.checks.take().await
    }

    /// The events of `watched` from now on; leaving the hub when the stream is dropped.
    pub async fn watch(&self, watched: Watched) -> Result<Watch, HubGone> {
        let (id, events) = self.hub.send(Join { watched }).await.map_err(|_| HubGone)?;
        Ok(Watch { events, leave: Some((self.hub.clone(), Leave { id, watched })) })
    }
}

/// One subscription's events; tells the hub it left when dropped.
pub struct Watch {
    events: mpsc::Receiver<LiveItem>,
    leave: Option<(Addr<OrderEventsHub>, Leave)>,
}

impl Stream for Watch {
    type Item = LiveItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LiveItem>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some((hub, leave)) = self.leave.take() {
            // A stopped hub has already let go of everyone.
            hub.do_send(leave);
        }
    }
}

impl service_kit::Classified for HubGone {
    fn kind(&self) -> service_kit::ErrorKind {
        service_kit::ErrorKind::Unavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starting subscriptions ask orders a few at a time: the next waits for a turn to end, and
    /// one that waits too long is told UNAVAILABLE instead of piling onto orders.
    #[tokio::test]
    async fn starting_subscriptions_ask_orders_in_turn() {
        let turns = CheckTurns::new(2, Duration::from_secs(30));
        let first = turns.take().await.expect("unwrap: a free turn");
        let _second = turns.take().await.expect("unwrap: a free turn");
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take().await.map(drop) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a third check went ahead of the two in flight");
        drop(first);
        waiting.await.expect("unwrap: the task ran").expect("a turn given back is taken");

        // With every turn held for longer than the wait, the answer is UNAVAILABLE.
        let busy = CheckTurns::new(1, Duration::from_millis(50));
        let _held = busy.take().await.expect("unwrap: a free turn");
        let waited = busy.take().await.expect_err("no turn is free");
        assert_eq!(service_kit::Classified::kind(&waited), service_kit::ErrorKind::Unavailable);
    }
}
