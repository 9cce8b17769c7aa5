//! Live order events: the gateway keeps **one** upstream `WatchOrders` stream (on its own
//! service token) and fans it out in-process: to every kitchen-wide subscription, and to the
//! subscriptions of one order through a channel of that order only, so a customer's page never
//! wakes (or falls behind) for other people's orders. The upstream reconnects by itself after
//! the orders service restarts.

use crate::backends::OrdersBackend;
use crate::model::OrderEvent;
use futures::StreamExt as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// Events a subscriber may fall behind by; a slower one is dropped rather than allowed to
/// stall the others (its stream ends with an error; the client resubscribes).
pub const SUBSCRIBER_BUFFER: usize = 256;
/// The first wait before reconnecting upstream; doubled up to [`MAX_RECONNECT_DELAY`].
pub const RECONNECT_DELAY: Duration = Duration::from_millis(200);
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
/// Events one order's subscriber may fall behind by (an order has only a handful).
pub const ORDER_BUFFER: usize = 16;

/// The channels of orders someone is watching, by order id.
type ByOrder = Arc<Mutex<HashMap<String, broadcast::Sender<Arc<OrderEvent>>>>>;

#[derive(Clone)]
pub struct LiveOrders {
    sender: broadcast::Sender<Arc<OrderEvent>>,
    by_order: ByOrder,
    /// Open subscriptions (`gateway_subscriptions_open`).
    open: prometheus::IntGauge,
}

/// Held by one subscription's stream: counts it as open until dropped.
pub struct Watching(prometheus::IntGauge);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl LiveOrders {
    /// The fan-out, and the loop that follows the orders service (run it until shutdown).
    pub fn start(
        orders: OrdersBackend,
        open: prometheus::IntGauge,
    ) -> (Self, impl std::future::Future<Output = ()> + Send + 'static) {
        let (sender, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        let feed = sender.clone();
        let by_order: ByOrder = Arc::default();
        let watched = by_order.clone();
        let task = async move {
            let mut delay = RECONNECT_DELAY;
            loop {
                match orders.watch_all().await {
                    Ok(stream) => {
                        tracing::info!("following order events");
                        delay = RECONNECT_DELAY;
                        futures::pin_mut!(stream);
                        while let Some(event) = stream.next().await {
                            // (The stream also ends cleanly when its orders instance shuts down.)
                            match event {
                                Ok(event) => {
                                    let event = Arc::new(event);
                                    let mut watched = watched.lock().expect("unwrap: no panics while held");
                                    let id = &event.order.id;
                                    // Nobody watching any more: forget the order's channel.
                                    if watched.get(id).is_some_and(|one| one.send(event.clone()).is_err()) {
                                        watched.remove(id);
                                    }
                                    drop(watched);
                                    // No kitchen-wide subscriber is fine.
                                    drop(feed.send(event));
                                }
                                Err(error) => {
                                    tracing::warn!(kind = ?error.kind, %error, "order events stream ended");
                                    break;
                                }
                            }
                        }
                    }
                    Err(error) => tracing::warn!(kind = ?error.kind, %error, "cannot follow order events"),
                }
                tracing::info!(?delay, "reconnecting to order events");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
            }
        };
        (Self { sender, by_order, open }, task)
    }

    /// Every event from now on, and the guard that counts this subscription as open.
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<OrderEvent>>, Watching) {
        self.open.inc();
        (self.sender.subscribe(), Watching(self.open.clone()))
    }

    /// Events of order `id` from now on, and the guard that counts this subscription as open.
    pub fn subscribe_to_order(&self, id: &str) -> (broadcast::Receiver<Arc<OrderEvent>>, Watching) {
        self.open.inc();
        let mut watched = self.by_order.lock().expect("unwrap: no panics while held");
        let events = match watched.get(id) {
            Some(channel) => channel.subscribe(),
            None => {
                let (channel, events) = broadcast::channel(ORDER_BUFFER);
                watched.insert(id.to_owned(), channel);
                events
            }
        };
        (events, Watching(self.open.clone()))
    }
}
