//! [`TabletSession`]: one connected tablet, from authentication to its last frame. It reads
//! and commands through the kitchen core, and receives changes from the `TicketHub`.

use super::protocol::{self, TabletMessage};
use crate::actors::{CaughtUp, Join, Leave, TabletId, TicketPush};
use crate::domain::{CookCommand, StationCommand, View};
use crate::service::{Board, Classified as _, ErrorKind, Kitchen};
use actix::prelude::*;
use actix_web_actors::ws;
use std::time::{Duration, Instant};
use tokens::{Access, Token, TokenError, TokenLease};

/// How often the kitchen pings a tablet.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A tablet silent (no pong, no message) for this long is considered gone.
pub const TABLET_TIMEOUT: Duration = Duration::from_secs(15);
/// A tablet that has not authenticated by then is disconnected.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Changes that may wait for one tablet before it is told to resync.
pub const TABLET_BUFFER: usize = 256;

/// May this token watch the board? Kitchen staff, reading; the lease says until when.
pub fn check(kitchen: &Kitchen, token: &Token) -> Result<TokenLease, TokenError> {
    kitchen.lease(token, Access::read("ticket"))
}

/// What a tablet asked to be shown when it connected: its name and stations (see
/// [`Kitchen::view`]).
#[derive(Debug, Clone, Default)]
pub struct Wants {
    pub device: Option<String>,
    pub stations: Option<Vec<String>>,
}

/// One connected tablet: once authenticated, a snapshot of the open tickets (or, when it
/// reconnects with its last sequence number, exactly what it missed), then every change.
pub struct TabletSession {
    kitchen: Kitchen,
    /// The verified token; `None` until the tablet authenticates.
    token: Option<Token>,
    /// The lease of a token that came with the upgrade request, until `started` watches it
    /// (the session ends when the token is revoked or expires).
    lease: Option<TokenLease>,
    /// The sequence number a reconnecting tablet last saw.
    resume_from: Option<i64>,
    /// What the tablet shows: whole tickets (the expo) or its stations' lines.
    view: View,
    /// The name the tablet gave, under which its stations are remembered.
    device: Option<String>,
    /// What a tablet that authenticated in its upgrade request asked for, until it is settled.
    wants: Option<Wants>,
    /// The tablet named a device or stations: it is told its `view` and `caughtUp` after a
    /// replay (tablets from before views are not).
    told_views: bool,
    id: Option<TabletId>,
    /// Sequence number of the last change shown; changes at or below it are already shown.
    seq: i64,
    last_heard: Instant,
}

impl TabletSession {
    /// `token`: already verified from the upgrade request's header, if it had one, with its
    /// lease.
    pub fn new(kitchen: Kitchen, token: Option<(Token, TokenLease)>, resume_from: Option<i64>, wants: Wants) -> Self {
        let (token, lease) = token.unzip();
        Self {
            kitchen,
            token,
            lease,
            resume_from,
            view: View::expo(),
            device: None,
            wants: Some(wants),
            told_views: false,
            id: None,
            seq: 0,
            last_heard: Instant::now(),
        }
    }

    /// Settles what the tablet shows (what it asked for, or what its device showed last), tells
    /// it, then joins the hub and shows the board. A view the kitchen refuses ends the socket
    /// during authentication (`join`), and only answers an error afterwards.
    fn choose_view(&mut self, ctx: &mut ws::WebsocketContext<Self>, wants: Wants, join: bool) {
        let kitchen = self.kitchen.clone();
        let asked = wants.clone();
        let resolve = async move { kitchen.view(asked.device.as_deref(), asked.stations.as_deref()).await };
        // A tablet that names neither a device nor stations is the expo, as before views existed,
        // and is not told.
        let tell = wants.device.is_some() || wants.stations.is_some();
        ctx.wait(resolve.into_actor(self).map(move |view, session, ctx| match view {
            Ok(view) => {
                session.device = wants.device;
                session.view = view;
                session.told_views |= tell;
                if tell {
                    ctx.text(protocol::view(session.device.as_deref(), &session.view));
                }
                if join {
                    session.open_board(ctx);
                } else {
                    session.show_board(ctx, None);
                }
            }
            Err(e) => {
                ctx.text(protocol::error(e.kind(), e.kind().public_message(&e)));
                e.kind().log(&e);
                if join {
                    ctx.close(Some(ws::CloseCode::Policy.into()));
                    ctx.stop();
                }
            }
        }));
    }

    /// Joins the hub, then shows the board. Both happen before anything else is handled
    /// (`wait`): pushes that arrive meanwhile queue up, and those already shown are skipped by
    /// sequence number. Nothing falls between the two.
    fn open_board(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let join = self.kitchen.hub().send(Join { tablet: ctx.address().recipient() });
        ctx.wait(join.into_actor(self).map(|joined, session, ctx| match joined {
            Ok(id) => {
                session.id = Some(id);
                let resume_from = session.resume_from.take();
                session.show_board(ctx, resume_from);
            }
            Err(_) => ctx.stop(),
        }));
    }

    /// Sends what the tablet missed since `resume_from`, or a snapshot, of its view.
    fn show_board(&mut self, ctx: &mut ws::WebsocketContext<Self>, resume_from: Option<i64>) {
        let (kitchen, view) = (self.kitchen.clone(), self.view.clone());
        ctx.wait(async move { kitchen.board(resume_from, &view).await }.into_actor(self).map(|board, session, ctx| {
            match board {
                Ok(Board::Missed { seq, changes }) => {
                    session.seq = seq;
                    for change in &changes {
                        ctx.text(protocol::ticket(change));
                    }
                    // A tablet that speaks of views also hears that its replay is over (even an
                    // empty one): its board is live.
                    if session.told_views {
                        ctx.text(protocol::caught_up(seq));
                    }
                }
                Ok(Board::Snapshot { seq, tickets, handed_over }) => {
                    session.seq = seq;
                    ctx.text(protocol::snapshot(seq, &tickets, &handed_over));
                }
                Err(e) => {
                    e.kind().log(&e);
                    // Whatever failed, the tablet's answer is the same: reconnect in a moment.
                    ctx.text(protocol::error(ErrorKind::Unavailable, "the kitchen cannot load tickets right now"));
                    ctx.close(Some(ws::CloseCode::Again.into()));
                    ctx.stop();
                }
            }
        }));
    }

    fn refuse(&self, error: &TokenError, ctx: &mut ws::WebsocketContext<Self>) {
        ctx.text(protocol::error(error.kind(), error.to_string()));
        ctx.close(Some(ws::CloseCode::Policy.into()));
        ctx.stop();
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let message = match TabletMessage::parse(text) {
            Ok(message) => message,
            Err(e) if self.token.is_some() => {
                ctx.text(protocol::error(ErrorKind::InvalidInput, format!("not a tablet message: {e}")));
                return;
            }
            Err(_) => return self.refuse(&TokenError::Missing, ctx),
        };
        let Some(token) = self.token.clone() else {
            return match message {
                TabletMessage::Auth { token, last_seq, device, stations } => {
                    let token = Token::new(token);
                    match check(&self.kitchen, &token) {
                        Ok(lease) => {
                            self.token = Some(token);
                            self.close_when_token_ends(&lease, ctx);
                            self.resume_from = last_seq;
                            self.choose_view(ctx, Wants { device, stations }, true);
                        }
                        Err(e) => self.refuse(&e, ctx),
                    }
                }
                _ => self.refuse(&TokenError::Missing, ctx),
            };
        };
        match message {
            TabletMessage::Auth { .. } => {
                ctx.text(protocol::error(ErrorKind::InvalidInput, "this tablet is already authenticated"));
            }
            TabletMessage::Bump { order_id } => self.command(ctx, token, order_id, CookCommand::Bump),
            TabletMessage::Recall { order_id } => self.command(ctx, token, order_id, CookCommand::Recall),
            TabletMessage::View { device, stations } => {
                let device = device.or_else(|| self.device.clone());
                self.choose_view(ctx, Wants { device, stations: Some(stations) }, false);
            }
            TabletMessage::StationBump { order_id, station } => {
                self.station(ctx, token, order_id, station, StationCommand::Done);
            }
            TabletMessage::StationRecall { order_id, station } => {
                self.station(ctx, token, order_id, station, StationCommand::Recall);
            }
            TabletMessage::Reject { order_id, reason } => {
                let (kitchen, id) = (self.kitchen.clone(), order_id.clone());
                let answer = async move { kitchen.reject(&token, &id, &reason).await };
                ctx.spawn(answer.into_actor(self).map(move |result, _, ctx| match result {
                    Ok(status) => ctx.text(protocol::ack(&order_id, status)),
                    Err(refused) => ctx.text(protocol::command_refused(&refused, &order_id)),
                }));
            }
            TabletMessage::Rush { order_id, rush } => {
                let (kitchen, id) = (self.kitchen.clone(), order_id.clone());
                let answer = async move { kitchen.rush(&token, &id, rush).await };
                ctx.spawn(answer.into_actor(self).map(move |result, _, ctx| match result {
                    Ok(ticket) => ctx.text(protocol::ack(&order_id, ticket.status)),
                    Err(refused) => ctx.text(protocol::command_refused(&refused, &order_id)),
                }));
            }
        }
    }

    /// A station's command (the item bump or its recall) through the kitchen core: answered by
    /// an ack or an error; the ticket's change follows through the change log.
    fn station(
        &mut self,
        ctx: &mut ws::WebsocketContext<Self>,
        token: Token,
        order_id: String,
        station: String,
        command: StationCommand,
    ) {
        let (kitchen, id, name) = (self.kitchen.clone(), order_id.clone(), station.clone());
        let answer = async move { kitchen.station(&token, &id, &name, command).await };
        ctx.spawn(answer.into_actor(self).map(move |result, _, ctx| match result {
            Ok(ticket) => ctx.text(protocol::station_ack(&order_id, &station, ticket.status)),
            Err(refused) => ctx.text(protocol::command_refused(&refused, &order_id)),
        }));
    }

    /// Sends a cook's command through the kitchen core. The ticket's change comes back through
    /// the event log like any other; the answer here is an ack or an error, and the socket stays
    /// open either way.
    fn command(&mut self, ctx: &mut ws::WebsocketContext<Self>, token: Token, order_id: String, command: CookCommand) {
        let (kitchen, id) = (self.kitchen.clone(), order_id.clone());
        let answer = async move { kitchen.command(&token, &id, command).await };
        ctx.spawn(answer.into_actor(self).map(move |result, _, ctx| match result {
            Ok(status) => ctx.text(protocol::ack(&order_id, status)),
            Err(refused) => ctx.text(protocol::command_refused(&refused, &order_id)),
        }));
    }

    /// Refuses the tablet when its token ends: revoked (looked up whenever the process's
    /// revocation list grows, which it polls every `tokens::revocation::POLL_INTERVAL`) or
    /// expired. No timer per tablet: idle tablets cost no wake-ups.
    fn close_when_token_ends(&self, lease: &TokenLease, ctx: &mut ws::WebsocketContext<Self>) {
        ctx.spawn(lease.ended().into_actor(self).map(|ended, session, ctx| session.refuse(&ended, ctx)));
    }
}

impl Actor for TabletSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(TABLET_BUFFER);
        ctx.run_interval(HEARTBEAT_INTERVAL, |session, ctx| {
            if session.last_heard.elapsed() > TABLET_TIMEOUT {
                tracing::info!("tablet timed out");
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
        if let Some(lease) = self.lease.take() {
            self.close_when_token_ends(&lease, ctx);
        }
        if self.token.is_some() {
            let wants = self.wants.take().unwrap_or_default();
            self.choose_view(ctx, wants, true);
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
            self.kitchen.hub().do_send(Leave { id });
        }
    }
}

impl Handler<TicketPush> for TabletSession {
    type Result = ();

    fn handle(&mut self, push: TicketPush, ctx: &mut Self::Context) {
        match push {
            TicketPush::Change(shared) if shared.change.seq > self.seq => {
                self.seq = shared.change.seq;
                if self.view.is_expo() {
                    ctx.text(shared.wire.get_or_init(|| protocol::ticket(&shared.change)).clone());
                } else if let Some(text) = protocol::ticket_for(&self.view, &shared.change) {
                    // A station's view of a change is its own (few tablets share one).
                    ctx.text(text);
                }
            }
            // Already shown.
            TicketPush::Change(_) => {}
            TicketPush::Resync => {
                ctx.text(protocol::resync());
                self.show_board(ctx, None);
                if let Some(id) = self.id {
                    self.kitchen.hub().do_send(CaughtUp { id });
                }
            }
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
            ws::Message::Binary(_) => {
                ctx.text(protocol::error(ErrorKind::InvalidInput, "tablet messages are JSON text"));
            }
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Continuation(_) | ws::Message::Nop => {}
        }
    }
}
