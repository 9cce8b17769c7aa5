//! [`TicketHub`]: the actor that pushes every committed ticket change (handed to it in sequence
//! order by the `ChangeLogFollower`) to the connected tablets and the SSE feed, without letting
//! a slow tablet slow the others.

use crate::domain::TicketChange;
use crate::metrics::KitchenMetrics;
use actix::dev::SendError;
use actix::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Changes the SSE stream may fall behind by before a listener skips ahead.
pub const STREAM_BUFFER: usize = 256;

/// Knows every connected tablet session and pushes each ticket change to all of them. A slow
/// tablet never slows the others: pushes go into its bounded mailbox, and a tablet whose
/// mailbox is full is told to resync (and skipped) until it has caught up.
pub struct TicketHub {
    tablets: HashMap<TabletId, Recipient<TicketPush>>,
    /// Tablets told to resync, skipped until they say they have caught up.
    behind: HashSet<TabletId>,
    next_id: u64,
    metrics: KitchenMetrics,
    /// Every change, for the SSE stream.
    stream: broadcast::Sender<Arc<TicketChange>>,
}

impl TicketHub {
    pub fn new(metrics: KitchenMetrics) -> Self {
        let (stream, _) = broadcast::channel(STREAM_BUFFER);
        Self { tablets: HashMap::new(), behind: HashSet::new(), next_id: 0, metrics, stream }
    }

    fn count(&self) {
        self.metrics.tablets_connected.set(self.tablets.len() as i64);
    }
}

impl Actor for TicketHub {
    type Context = Context<Self>;
}

/// A tablet session's handle within the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TabletId(u64);

/// A tablet session connected: push it every change from now on.
#[derive(Message)]
#[rtype(result = "TabletId")]
pub struct Join {
    pub tablet: Recipient<TicketPush>,
}

/// A tablet session ended.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub id: TabletId,
}

/// A tablet told to resync has a fresh snapshot: push it changes again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CaughtUp {
    pub id: TabletId,
}

/// A ticket changed and the change is committed: tell the tablets. Sent by the change-log
/// follower only, once per change, in sequence order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishChange(pub Arc<TicketChange>);

/// Changes were lost to this instance (pruned before it pushed them): every tablet takes a
/// fresh snapshot.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ResyncAll;

/// Every change from now on, as a stream (the SSE endpoint).
#[derive(Message)]
#[rtype(result = "broadcast::Receiver<Arc<TicketChange>>")]
pub struct SubscribeStream;

/// Close every tablet's socket (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAll;

/// A change as every tablet gets it: put into its wire form once, by the first session that
/// sends it, and reused by the others (with hundreds of tablets, serialising per tablet was
/// most of the hub's fan-out cost).
pub struct SharedChange {
    pub change: Arc<TicketChange>,
    pub wire: std::sync::OnceLock<String>,
}

/// What the hub tells one tablet session.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum TicketPush {
    /// A ticket changed (shared, not copied, between tablets).
    Change(Arc<SharedChange>),
    /// The tablet fell too far behind: it missed changes and must take a fresh snapshot.
    Resync,
    /// The kitchen is shutting down: close the socket so the tablet reconnects elsewhere.
    Closing,
}

impl Handler<Join> for TicketHub {
    type Result = MessageResult<Join>;

    fn handle(&mut self, join: Join, _: &mut Self::Context) -> Self::Result {
        self.next_id += 1;
        let id = TabletId(self.next_id);
        self.tablets.insert(id, join.tablet);
        self.count();
        MessageResult(id)
    }
}

impl Handler<Leave> for TicketHub {
    type Result = ();

    fn handle(&mut self, leave: Leave, _: &mut Self::Context) {
        self.tablets.remove(&leave.id);
        self.behind.remove(&leave.id);
        self.count();
    }
}

impl Handler<CaughtUp> for TicketHub {
    type Result = ();

    fn handle(&mut self, caught_up: CaughtUp, _: &mut Self::Context) {
        self.behind.remove(&caught_up.id);
    }
}

impl Handler<PublishChange> for TicketHub {
    type Result = ();

    fn handle(&mut self, PublishChange(change): PublishChange, _: &mut Self::Context) {
        let push =
            TicketPush::Change(Arc::new(SharedChange { change: change.clone(), wire: std::sync::OnceLock::new() }));
        let mut gone = Vec::new();
        for (id, tablet) in &self.tablets {
            if self.behind.contains(id) {
                continue;
            }
            match tablet.try_send(push.clone()) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    // `do_send` ignores the bound: the one message that tells it what happened.
                    tablet.do_send(TicketPush::Resync);
                    self.behind.insert(*id);
                    self.metrics.tablet_resyncs.inc();
                }
                Err(SendError::Closed(_)) => gone.push(*id),
            }
        }
        for id in gone {
            self.tablets.remove(&id);
            self.behind.remove(&id);
        }
        self.count();
        // No SSE listener is fine.
        let _ = self.stream.send(change);
    }
}

impl Handler<ResyncAll> for TicketHub {
    type Result = ();

    fn handle(&mut self, _: ResyncAll, _: &mut Self::Context) {
        for (id, tablet) in &self.tablets {
            if self.behind.insert(*id) {
                tablet.do_send(TicketPush::Resync);
                self.metrics.tablet_resyncs.inc();
            }
        }
    }
}

impl Handler<SubscribeStream> for TicketHub {
    type Result = MessageResult<SubscribeStream>;

    fn handle(&mut self, _: SubscribeStream, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.stream.subscribe())
    }
}

impl Handler<CloseAll> for TicketHub {
    type Result = ();

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) {
        for tablet in self.tablets.values() {
            tablet.do_send(TicketPush::Closing);
        }
    }
}
