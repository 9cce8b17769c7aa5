use crate::domain::TicketChange;
use crate::metrics::KitchenMetrics;
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Knows every connected tablet session and pushes each ticket change to all of them.
pub struct TicketHub {
    tablets: HashMap<TabletId, Recipient<TicketPush>>,
    next_id: u64,
    metrics: KitchenMetrics,
}

impl TicketHub {
    pub fn new(metrics: KitchenMetrics) -> Self {
        Self { tablets: HashMap::new(), next_id: 0, metrics }
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

/// A ticket changed and the change is committed: tell the tablets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishChange(pub TicketChange);

/// What the hub tells one tablet session.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum TicketPush {
    /// A ticket changed (shared, not copied, between tablets).
    Change(Arc<TicketChange>),
    /// The kitchen is shutting down: close the socket so the tablet reconnects elsewhere.
    Closing,
}

/// Close every tablet's socket (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAll;

impl Handler<CloseAll> for TicketHub {
    type Result = ();

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) {
        for tablet in self.tablets.values() {
            tablet.do_send(TicketPush::Closing);
        }
    }
}

impl Handler<Join> for TicketHub {
    type Result = MessageResult<Join>;

    fn handle(&mut self, join: Join, _: &mut Self::Context) -> Self::Result {
        self.next_id += 1;
        let id = TabletId(self.next_id);
        self.tablets.insert(id, join.tablet);
        self.metrics.tablets_connected.set(self.tablets.len() as i64);
        MessageResult(id)
    }
}

impl Handler<Leave> for TicketHub {
    type Result = ();

    fn handle(&mut self, leave: Leave, _: &mut Self::Context) {
        self.tablets.remove(&leave.id);
        self.metrics.tablets_connected.set(self.tablets.len() as i64);
    }
}

impl Handler<PublishChange> for TicketHub {
    type Result = ();

    fn handle(&mut self, PublishChange(change): PublishChange, _: &mut Self::Context) {
        let push = TicketPush::Change(Arc::new(change));
        // A session that is gone is dropped here rather than waiting for its Leave.
        self.tablets.retain(|_, tablet| tablet.try_send(push.clone()).is_ok() || tablet.connected());
        self.metrics.tablets_connected.set(self.tablets.len() as i64);
    }
}
