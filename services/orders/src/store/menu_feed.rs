//! `MenuFeed`: every menu item whose availability changes, whichever instance (or operator)
//! changed it, for the `WatchMenu` streams of this process. The `orders_menu` trigger notifies
//! on commit with the item's id; the feed reads the item back and hands it to every watcher.
//! Live, not durable: a watcher that reconnects reads the menu again.

use crate::domain::{MenuItem, MenuItemId};
use anyhow::Context as _;
use deadpool_postgres::Pool;
use futures::StreamExt as _;
use service_kit::shutdown::ShutdownListener;
use std::time::Duration;
use tokio::sync::broadcast;

/// The channel the menu trigger notifies on commit (`sql/orders/V5__menu_availability_feed.sql`).
pub const MENU_CHANNEL: &str = "orders_menu";
/// Changes a watcher may fall behind by before its stream is ended (it then watches again).
pub const MENU_BUFFER: usize = 256;
/// After the listening connection is lost, wait this long before listening again.
const RELISTEN_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct MenuFeed {
    sender: broadcast::Sender<MenuItem>,
}

impl MenuFeed {
    /// Listens on a connection of its own until shutdown, reconnecting when it is lost. The
    /// first `LISTEN` is in place when this returns, so a change made after the service started
    /// reaches its watchers; one made while a lost connection is being replaced does not (a
    /// watcher that needs every change reads the menu again when it reconnects).
    pub async fn start(
        pool: Pool,
        pg_config: tokio_postgres::Config,
        mut shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        let (sender, _) = broadcast::channel(MENU_BUFFER);
        let feed = sender.clone();
        let mut session = Some(Session::open(&pg_config).await?);
        actix_rt::spawn(async move {
            loop {
                let current = match session.take() {
                    Some(current) => current,
                    None => match Session::open(&pg_config).await {
                        Ok(current) => current,
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "the menu feed cannot listen; trying again");
                            tokio::select! {
                                () = tokio::time::sleep(RELISTEN_BACKOFF) => continue,
                                () = shutdown.recv() => return,
                            }
                        }
                    },
                };
                let result = tokio::select! {
                    result = current.forward(&pool, &feed) => result,
                    () = shutdown.recv() => return,
                };
                if let Err(e) = result {
                    tracing::warn!(error = format!("{e:#}"), "the menu feed lost its connection; listening again");
                }
                tokio::select! {
                    () = tokio::time::sleep(RELISTEN_BACKOFF) => {}
                    () = shutdown.recv() => return,
                }
            }
        });
        Ok(Self { sender })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MenuItem> {
        self.sender.subscribe()
    }
}

/// One listening connection: the ids its notifications carry, until it is lost.
struct Session {
    /// Kept for as long as the session: dropping it would end the connection.
    _client: tokio_postgres::Client,
    changed: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Session {
    async fn open(pg_config: &tokio_postgres::Config) -> anyhow::Result<Self> {
        let (client, mut connection) =
            pg_config.connect(tokio_postgres::NoTls).await.context("connecting the menu feed's session")?;
        let (ids, changed) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        // Drives the connection; ends (closing `changed`) when the connection is lost.
        actix_rt::spawn(async move {
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if ids.send(n.payload().to_owned()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the menu feed's connection failed");
                        return;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {MENU_CHANNEL}")).await.context("listening for menu changes")?;
        Ok(Self { _client: client, changed })
    }

    /// Each notified item, read back, to every watcher; an error once the connection is lost.
    async fn forward(mut self, pool: &Pool, feed: &broadcast::Sender<MenuItem>) -> anyhow::Result<()> {
        while let Some(id) = self.changed.recv().await {
            let Ok(id) = MenuItemId::parse(&id) else { continue };
            let db = pool.get().await.context("connecting to PostgreSQL")?;
            for item in super::menu::by_ids(&db, &[id]).await? {
                // No watcher is fine: nobody is looking at the menu.
                drop(feed.send(item));
            }
        }
        anyhow::bail!("the listening connection ended")
    }
}
