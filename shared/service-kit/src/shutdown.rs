//! One shutdown pattern for every service (after mini-redis): a [`Shutdown`] tells every
//! component to stop through a watch channel, and each component holds a [`ShutdownListener`]
//! whose drop says "I have finished"; [`Shutdown::complete`] returns once all have.

use tokio::sync::{mpsc, watch};

pub struct Shutdown {
    notify: watch::Sender<bool>,
    finished_tx: mpsc::Sender<()>,
    finished_rx: mpsc::Receiver<()>,
}

/// Held by one component: [`recv`](Self::recv) resolves when it should stop; dropping it says
/// it has.
#[derive(Clone)]
pub struct ShutdownListener {
    notify: watch::Receiver<bool>,
    _finished: mpsc::Sender<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (notify, _) = watch::channel(false);
        let (finished_tx, finished_rx) = mpsc::channel(1);
        Self { notify, finished_tx, finished_rx }
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn listener(&self) -> ShutdownListener {
        ShutdownListener { notify: self.notify.subscribe(), _finished: self.finished_tx.clone() }
    }

    /// Runs `task` (a loop that has no step worth finishing, such as a poller) until it ends
    /// or shutdown begins. A loop whose step must finish holds a [`ShutdownListener`] instead.
    pub fn run_until_shutdown<F>(&self, name: &'static str, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut listener = self.listener();
        tokio::spawn(async move {
            tokio::select! {
                () = task => tracing::debug!(task = name, "finished"),
                () = listener.recv() => tracing::debug!(task = name, "stopped for shutdown"),
            }
            drop(listener);
        });
    }

    /// Tells every listener to stop, and waits until every listener has been dropped.
    pub async fn complete(self) {
        let Self { notify, finished_tx, mut finished_rx } = self;
        notify.send_replace(true);
        drop(finished_tx);
        // `None` once every listener's sender is gone.
        let _ = finished_rx.recv().await;
    }
}

impl ShutdownListener {
    /// Resolves once shutdown has begun (at once if it already has).
    pub async fn recv(&mut self) {
        // An error means the `Shutdown` is gone, which also means: stop.
        let _ = self.notify.wait_for(|stop| *stop).await;
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.notify.borrow()
    }
}

/// Waits for SIGTERM or Ctrl-C, then runs `stop`: an application's graceful stop, a future
/// that does nothing until then (`run_until_signalled(app.stop())`).
pub async fn run_until_signalled(stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    os_signal().await;
    stop.await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn os_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn complete_waits_for_every_listener_to_finish() {
        let shutdown = Shutdown::new();
        let mut listener = shutdown.listener();
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            listener.recv().await;
            // Still holding the listener: `complete` must not have returned yet.
            let _ = done_tx.send(());
            drop(listener);
        });
        shutdown.complete().await;
        assert!(done_rx.try_recv().is_ok(), "complete returned before the listener finished");
    }
}
