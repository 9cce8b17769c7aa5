use super::protocol;
use crate::actors::{Join, Leave, TabletId, TicketHub, TicketPush};
use crate::store;
use actix::prelude::*;
use actix_web_actors::ws;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use std::time::{Duration, Instant};

/// How often the kitchen pings a tablet.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A tablet silent (no pong, no message) for this long is considered gone.
pub const TABLET_TIMEOUT: Duration = Duration::from_secs(15);

/// One connected tablet: sends it a snapshot of the open tickets, then every change after it.
pub struct TabletSession {
    hub: Addr<TicketHub>,
    pool: Pool,
    id: Option<TabletId>,
    /// Sequence number of the last message sent; changes at or below it are already shown.
    seq: i64,
    last_heard: Instant,
}

impl TabletSession {
    pub fn new(hub: Addr<TicketHub>, pool: Pool) -> Self {
        Self { hub, pool, id: None, seq: 0, last_heard: Instant::now() }
    }
}

impl Actor for TabletSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HEARTBEAT_INTERVAL, |session, ctx| {
            if session.last_heard.elapsed() > TABLET_TIMEOUT {
                tracing::info!("tablet timed out");
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
        // Join the hub first and then read the snapshot, both before handling anything else
        // (`wait`): pushes that arrive meanwhile queue up, and those the snapshot already
        // covers are skipped by sequence number. Nothing falls between the two.
        let join = self.hub.send(Join { tablet: ctx.address().recipient() });
        let pool = self.pool.clone();
        ctx.wait(
            async move {
                let id = join.await.context("the ticket hub is gone")?;
                let mut client = pool.get().await.context("connecting to PostgreSQL")?;
                let (seq, tickets) = store::tickets::open_tickets(&mut client).await?;
                anyhow::Ok((id, seq, protocol::snapshot(seq, &tickets)))
            }
            .into_actor(self)
            .map(|result, session, ctx| match result {
                Ok((id, seq, snapshot)) => {
                    session.id = Some(id);
                    session.seq = seq;
                    ctx.text(snapshot);
                }
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "tablet snapshot failed");
                    ctx.text(protocol::error("UNAVAILABLE", "the kitchen cannot load tickets right now"));
                    ctx.close(Some(ws::CloseCode::Again.into()));
                    ctx.stop();
                }
            }),
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(id) = self.id {
            self.hub.do_send(Leave { id });
        }
    }
}

impl Handler<TicketPush> for TabletSession {
    type Result = ();

    fn handle(&mut self, push: TicketPush, ctx: &mut Self::Context) {
        match push {
            TicketPush::Change(change) if change.seq > self.seq => {
                self.seq = change.seq;
                ctx.text(protocol::ticket(&change));
            }
            // Already in the snapshot this tablet got.
            TicketPush::Change(_) => {}
            TicketPush::Closing => {
                ctx.close(Some(ws::CloseCode::Restart.into()));
                ctx.stop();
            }
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for TabletSession {
    fn handle(&mut self, message: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                tracing::info!(error = %e, "tablet protocol error");
                ctx.stop();
                return;
            }
        };
        self.last_heard = Instant::now();
        match message {
            ws::Message::Ping(bytes) => ctx.pong(&bytes),
            ws::Message::Pong(_) => {}
            ws::Message::Text(_) | ws::Message::Binary(_) => {
                ctx.text(protocol::error("UNSUPPORTED", "tablet commands are not accepted yet"));
            }
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Continuation(_) | ws::Message::Nop => {}
        }
    }
}
