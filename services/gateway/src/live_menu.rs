//! Live menu changes: [`LiveMenu`] follows **one** upstream `WatchMenu` stream (on the gateway's
//! own service token) and hands every menu item whose availability changed to every
//! `menuItemChanged` subscription, so an open menu or cart shows a dish sold out (86'd by the
//! kitchen) without a reload. The menu is public: anonymous sockets may follow it. The upstream
//! reconnects by itself (with backoff) after the orders service restarts; a subscriber that
//! falls [`MENU_BUFFER`] changes behind gets "fell behind" and subscribes again.

use crate::backends::OrdersBackend;
use crate::live::{MAX_RECONNECT_DELAY, RECONNECT_DELAY};
use crate::model::MenuItem;
use futures::StreamExt as _;
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Menu changes a subscriber may fall behind by (a kitchen 86es a few dishes a day).
pub const MENU_BUFFER: usize = 64;

/// What a `menuItemChanged` subscription receives.
#[derive(Debug, Clone)]
pub enum MenuChange {
    Item(Arc<MenuItem>),
    /// The subscriber missed changes; nothing follows (it reads the menu again).
    FellBehind,
}

#[derive(Clone)]
pub struct LiveMenu {
    sender: broadcast::Sender<Arc<MenuItem>>,
}

impl LiveMenu {
    /// Follows the orders service's menu changes until shutdown.
    pub fn start(orders: OrdersBackend, mut shutdown: ShutdownListener) -> Self {
        let (sender, _) = broadcast::channel(MENU_BUFFER);
        let feed = sender.clone();
        actix_rt::spawn(async move {
            let mut delay = RECONNECT_DELAY;
            loop {
                let follow = async {
                    let changes = orders.watch_menu().await?;
                    let mut changes = std::pin::pin!(changes);
                    tracing::info!("following menu changes");
                    delay = RECONNECT_DELAY;
                    while let Some(item) = changes.next().await {
                        // No subscriber is fine: nobody has the menu open.
                        drop(feed.send(Arc::new(item?)));
                    }
                    Ok::<_, service_kit::UpstreamError>(())
                };
                let ended = tokio::select! {
                    ended = follow => ended,
                    () = shutdown.recv() => return,
                };
                if let Err(error) = ended {
                    tracing::warn!(kind = ?error.kind, %error, "menu changes stream ended");
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.recv() => return,
                }
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
            }
        });
        Self { sender }
    }

    /// Every menu change from now on.
    pub fn watch(&self) -> impl futures::Stream<Item = MenuChange> + Send + use<> {
        tokio_stream::wrappers::BroadcastStream::new(self.sender.subscribe()).scan(false, |behind, change| {
            // After "fell behind", the stream ends.
            if *behind {
                return std::future::ready(None);
            }
            std::future::ready(Some(match change {
                Ok(item) => MenuChange::Item(item),
                Err(_) => {
                    *behind = true;
                    MenuChange::FellBehind
                }
            }))
        })
    }
}
