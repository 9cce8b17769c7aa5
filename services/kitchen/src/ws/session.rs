use super::protocol::{self, TabletMessage};
use crate::actors::{Join, Leave, TabletId, TicketHub, TicketPush};
use crate::store;
use actix::prelude::*;
use actix_web_actors::ws;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use std::time::{Duration, Instant};
use tokens::{Access, Token, TokenError, TokenVerifier};

/// How often the kitchen pings a tablet.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A tablet silent (no pong, no message) for this long is considered gone.
pub const TABLET_TIMEOUT: Duration = Duration::from_secs(15);
/// A tablet that has not authenticated by then is disconnected.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a connected tablet's token is checked again (revocation, expiry): a revoked token
/// loses its socket within this.
pub const TOKEN_RECHECK_INTERVAL: Duration = Duration::from_secs(1);

/// May this token watch the board? Kitchen staff, reading.
pub fn check(verifier: &TokenVerifier, token: &Token) -> Result<(), TokenError> {
    verifier.authorize(token, &Access::read("ticket").for_roles(crate::http::STAFF)).map(|_| ())
}

/// One connected tablet: once authenticated, a snapshot of the open tickets, then every change
/// after it.
pub struct TabletSession {
    hub: Addr<TicketHub>,
    pool: Pool,
    verifier: TokenVerifier,
    /// The verified token; `None` until the tablet authenticates.
    token: Option<Token>,
    id: Option<TabletId>,
    /// Sequence number of the last message sent; changes at or below it are already shown.
    seq: i64,
    last_heard: Instant,
}

impl TabletSession {
    /// `token`: already verified from the upgrade request's header, if it had one.
    pub fn new(hub: Addr<TicketHub>, pool: Pool, verifier: TokenVerifier, token: Option<Token>) -> Self {
        Self { hub, pool, verifier, token, id: None, seq: 0, last_heard: Instant::now() }
    }

    /// Joins the hub and sends the snapshot. Both happen before anything else is handled
    /// (`wait`): pushes that arrive meanwhile queue up, and those the snapshot already covers
    /// are skipped by sequence number. Nothing falls between the two.
    fn open_board(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
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

    fn refuse(&self, error: &TokenError, ctx: &mut ws::WebsocketContext<Self>) {
        let code = if error.is_unauthenticated() { "UNAUTHENTICATED" } else { "FORBIDDEN" };
        ctx.text(protocol::error(code, error.to_string()));
        ctx.close(Some(ws::CloseCode::Policy.into()));
        ctx.stop();
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let message: TabletMessage = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(e) if self.token.is_some() => {
                ctx.text(protocol::error("BAD_USER_INPUT", format!("not a tablet message: {e}")));
                return;
            }
            Err(_) => {
                self.refuse(&TokenError::Missing, ctx);
                return;
            }
        };
        match message {
            TabletMessage::Auth { .. } if self.token.is_some() => {
                ctx.text(protocol::error("BAD_USER_INPUT", "this tablet is already authenticated"));
            }
            TabletMessage::Auth { token } => {
                let token = Token::new(token);
                match check(&self.verifier, &token) {
                    Ok(()) => {
                        self.token = Some(token);
                        self.open_board(ctx);
                    }
                    Err(e) => self.refuse(&e, ctx),
                }
            }
        }
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
        ctx.run_interval(TOKEN_RECHECK_INTERVAL, |session, ctx| {
            if let Some(token) = &session.token {
                if let Err(e) = check(&session.verifier, token) {
                    session.refuse(&e, ctx);
                }
            }
        });
        if self.token.is_some() {
            self.open_board(ctx);
        } else {
            ctx.run_later(AUTH_TIMEOUT, |session, ctx| {
                if session.token.is_none() {
                    session.refuse(&TokenError::Missing, ctx);
                }
            });
        }
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
            ws::Message::Text(text) => self.on_text(&text, ctx),
            ws::Message::Binary(_) => ctx.text(protocol::error("BAD_USER_INPUT", "tablet messages are JSON text")),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Continuation(_) | ws::Message::Nop => {}
        }
    }
}
