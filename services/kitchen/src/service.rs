//! The kitchen core as the adapters see it: applying an order event to the tickets, reading
//! them (the board, a replay, one ticket, a list) and a cook's commands. `kafka/`, `ws/` and
//! `http/` call [`Kitchen`] and never each other. Each operation has its own error enum that
//! separates the caller's mistakes from the unexpected, classified by the platform's
//! [`ErrorKind`]; `service_kit` (REST) and `ws::protocol` (tablets) turn kinds into answers.

use crate::actors::TicketHub;
use crate::domain::{
    BadView, CookCommand, DeviceName, Refused, SpeedReport, Station, StationCommand, Ticket, TicketChange,
    TicketStatus, View,
};
use crate::grpc::OrdersClient;
use crate::metrics::KitchenMetrics;
use crate::store;
use actix::Addr;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Pool, PoolError};
use service_kit::UpstreamError;
use tokens::{Access, Principal, Role, Token, TokenError, TokenLease, TokenVerifier, UserClaims};
use uuid::Uuid;

pub use service_kit::{Classified, ErrorKind};

/// Every kitchen endpoint and the tablet socket are for kitchen staff.
pub const STAFF: &[Role] = &[Role::KitchenStaff];

/// A reconnecting tablet is sent at most this many missed changes; further behind, a snapshot.
pub const MAX_REPLAY: i64 = 1_000;

/// `GET /tickets` answers this many tickets when the caller does not say (`first`)…
pub const DEFAULT_PAGE: i64 = 100;
/// …and never more than this many at once.
pub const MAX_PAGE: i64 = 500;

/// The kitchen: its tickets (PostgreSQL), the hub that pushes their changes to tablets, the
/// orders service that cooks' commands go to, and who may do what.
#[derive(Clone)]
pub struct Kitchen {
    pool: Pool,
    hub: Addr<TicketHub>,
    orders: OrdersClient,
    verifier: TokenVerifier,
    metrics: KitchenMetrics,
}

/// What an order event did to the tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The ticket changed: stored with the next tablet sequence number (every instance's
    /// change-log follower then pushes it to its tablets).
    Changed(Box<TicketChange>),
    /// A duplicate or an older version: nothing changed.
    Unchanged,
}

/// What a tablet is shown when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Board {
    /// Every ticket on the board (open, or being remade), and the last handed-over ones
    /// (newest first: what the expo may recall), current as of `seq`.
    Snapshot { seq: i64, tickets: Vec<Ticket>, handed_over: Vec<Ticket> },
    /// Exactly the changes a reconnecting tablet missed, in order, up to `seq`.
    Missed { seq: i64, changes: Vec<TicketChange> },
}

/// Why an order event's ticket was not stored. Only [`ApplyError::Refused`] is for good: the
/// others may pass, and the same event should be tried again.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The database refuses this ticket's data and always will (a NUL in a note, a time out of
    /// its range…): the event is poison.
    #[error("the kitchen cannot store this ticket: {0}")]
    Refused(String),
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ApplyError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Refused(_) => ErrorKind::InvalidInput,
            Self::Unreachable(_) => ErrorKind::Unavailable,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for BoardError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unreachable(_) => ErrorKind::Unavailable,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

/// One page of `GET /tickets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// Where the next page starts (`after`), when there may be one.
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ListTicketsError {
    #[error("unknown status {0:?}; expected one of PLACED, ACCEPTED, PREPARING, READY, COMPLETED, CANCELLED")]
    UnknownStatus(String),
    #[error("first must be between 1 and {MAX_PAGE}")]
    BadPageSize,
    #[error("after is not a cursor this kitchen gave out")]
    BadCursor,
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ListTicketsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownStatus(_) | Self::BadPageSize | Self::BadCursor => ErrorKind::InvalidInput,
            Self::Unreachable(_) => ErrorKind::Unavailable,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GetTicketError {
    #[error("the order id is not a UUID")]
    BadOrderId,
    #[error("there is no ticket for order {0}")]
    NotFound(Uuid),
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for GetTicketError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::BadOrderId => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Unreachable(_) => ErrorKind::Unavailable,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

/// Why a cook's command was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The cook's token does not allow changing this ticket (read-only, expired, not staff…).
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Ticket(#[from] GetTicketError),
    /// The ticket's status does not allow the command.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The orders service refused the change, or could not be reached.
    #[error(transparent)]
    Orders(#[from] UpstreamError),
}

impl Classified for CommandError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Token(e) => e.kind(),
            Self::Ticket(e) => e.kind(),
            Self::Refused(_) => ErrorKind::Conflict,
            Self::Orders(e) => e.kind(),
        }
    }
}

/// Why a tablet's view (its device name and stations) was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Bad(#[from] BadView),
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ViewError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bad(_) => ErrorKind::InvalidInput,
            Self::Unreachable(_) => ErrorKind::Unavailable,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

/// Why a station's command on a ticket (its item bump or recall) was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Station(#[from] BadView),
    #[error(transparent)]
    Ticket(#[from] GetTicketError),
    #[error("order {order} has nothing for the {station} station")]
    NotOnTicket { order: String, station: String },
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The station's lines are marked; the orders service refused the order's move (or could
    /// not be reached): the same command again tries the move again.
    #[error(transparent)]
    Orders(#[from] UpstreamError),
}

impl Classified for StationError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Token(e) => e.kind(),
            Self::Station(_) | Self::NotOnTicket { .. } => ErrorKind::InvalidInput,
            Self::Ticket(e) => e.kind(),
            Self::Refused(_) => ErrorKind::Conflict,
            Self::Orders(e) => e.kind(),
        }
    }
}

impl From<PoolError> for StationError {
    fn from(e: PoolError) -> Self {
        Self::Ticket(GetTicketError::Unreachable(e))
    }
}

impl From<anyhow::Error> for StationError {
    fn from(e: anyhow::Error) -> Self {
        Self::Ticket(GetTicketError::Unexpected(e))
    }
}

impl Kitchen {
    pub fn new(
        pool: Pool,
        hub: Addr<TicketHub>,
        orders: OrdersClient,
        verifier: TokenVerifier,
        metrics: KitchenMetrics,
    ) -> Self {
        Self { pool, hub, orders, verifier, metrics }
    }

    /// The hub that tablet sessions join to receive changes.
    pub fn hub(&self) -> &Addr<TicketHub> {
        &self.hub
    }

    /// Checks that `token` is a kitchen staff member's and allows `access`: the one rule for
    /// REST, SSE and tablets.
    pub fn authorize(&self, token: &Token, access: Access) -> Result<UserClaims, TokenError> {
        match self.verifier.authorize(token, &access.for_roles(STAFF))? {
            Principal::User(user) => Ok(user),
            Principal::Service(_) => Err(TokenError::Forbidden("kitchen endpoints are for kitchen staff".into())),
        }
    }

    /// [`Self::authorize`] for a long-lived session (a tablet socket, an SSE stream): the lease
    /// it then checks locally, every tick, to end when the token is revoked or expires.
    pub fn lease(&self, token: &Token, access: Access) -> Result<TokenLease, TokenError> {
        self.authorize(token, access)?;
        self.verifier.lease(token)
    }

    /// Applies an order event's ticket: stored only if its order version is newer than the
    /// stored one, with the next tablet sequence number (and the trace) in the same statement.
    /// The tablets hear of it from the change log, on every instance. Applying the same event
    /// twice changes nothing.
    pub async fn apply(&self, ticket: &Ticket, trace_id: Option<&str>) -> Result<Applied, ApplyError> {
        let client = self.pool.get().await?;
        let stored = store::tickets::apply(&client, ticket, trace_id)
            .await
            .map_err(|e| store::refused_for_good(&e).map_or(ApplyError::Unexpected(e), ApplyError::Refused))?;
        match stored {
            Some(change) => {
                self.metrics.ticket_changes.inc();
                // The stage this event finished, timed once: only the consumer that stored it.
                if let [.., (_, before), (reached, at)] = change.ticket.timeline.as_slice()
                    && *reached == change.ticket.status
                {
                    let seconds = (*at - *before).num_milliseconds().max(0) as f64 / 1000.0;
                    let stage = reached.as_str().to_lowercase();
                    self.metrics.stage_seconds.with_label_values(&[stage.as_str()]).observe(seconds);
                }
                Ok(Applied::Changed(Box::new(change)))
            }
            None => {
                self.metrics.stale_events.inc();
                Ok(Applied::Unchanged)
            }
        }
    }

    /// What a tablet with `view` is shown: the changes since `resume_from` when it reconnects
    /// and the kitchen still has them all (at most [`MAX_REPLAY`]), a snapshot otherwise. A
    /// station's tablet gets only the tickets with its lines, and of them only its lines.
    pub async fn board(&self, resume_from: Option<i64>, view: &View) -> Result<Board, BoardError> {
        let mut client = self.pool.get().await?;
        if let Some(after) = resume_from
            && let Some((seq, changes)) = store::tickets::changes_after(&client, after, MAX_REPLAY).await?
        {
            let changes = changes
                .into_iter()
                .filter(|c| view.concerns(&c.ticket))
                .map(|c| TicketChange { ticket: view.restrict(&c.ticket), ..c })
                .collect();
            return Ok(Board::Missed { seq, changes });
        }
        let (seq, tickets, handed_over) = store::tickets::board(&mut client, HANDED_OVER_SHOWN).await?;
        let shown =
            |tickets: Vec<Ticket>| tickets.iter().filter(|t| view.concerns(t)).map(|t| view.restrict(t)).collect();
        Ok(Board::Snapshot { seq, tickets: shown(tickets), handed_over: shown(handed_over) })
    }

    /// The view a tablet shows: the `stations` it names (remembered for `device`, when it gives
    /// one), or the stations `device` showed last when it names none, or the expo's.
    pub async fn view(&self, device: Option<&str>, stations: Option<&[String]>) -> Result<View, ViewError> {
        let device = device.map(DeviceName::parse).transpose()?;
        if let Some(stations) = stations {
            let view = View::of(stations.iter().map(String::as_str))?;
            if let Some(device) = &device {
                let names: Vec<&str> = view.stations().map(Station::as_str).collect();
                store::devices::remember(&self.pool.get().await?, device.as_str(), &names).await?;
            }
            return Ok(view);
        }
        let Some(device) = device else { return Ok(View::expo()) };
        match store::devices::recall(&self.pool.get().await?, device.as_str()).await? {
            Some(stations) => Ok(View::of(stations.iter().map(String::as_str))?),
            None => Ok(View::expo()),
        }
    }

    /// A station's command on its lines of one order (the item bump): marks them done (or not
    /// done) in the kitchen's own record — a ticket change every tablet sees —, then, when the
    /// last station finished, moves the order to READY through the orders service on the cook's
    /// behalf (a recalled station takes a READY order back to PREPARING). Marking twice changes
    /// nothing, but tries the order's move again. Returns the ticket as it is now.
    pub async fn station(
        &self,
        cook: &Token,
        order_id: &str,
        station: &str,
        command: StationCommand,
    ) -> Result<Ticket, StationError> {
        self.authorize(cook, Access::write("ticket").of(order_id))?;
        let order = Uuid::parse_str(order_id).map_err(|_| GetTicketError::BadOrderId)?;
        let station = Station::parse(station)?;
        let mut client = self.pool.get().await?;
        let mut refused = None;
        let changed = store::tickets::change_locally(&mut client, order, |ticket| {
            if !ticket.has_station(&station) {
                return false;
            }
            if let Err(e) = ticket.steps_after_station(command) {
                refused = Some(e);
                return false;
            }
            match command {
                StationCommand::Done => {
                    ticket.stations_done.entry(station.as_str().to_owned()).or_insert_with(Utc::now);
                    true
                }
                StationCommand::Recall => ticket.stations_done.remove(station.as_str()).is_some(),
            }
        })
        .await?;
        let Some((ticket, change)) = changed else { return Err(GetTicketError::NotFound(order).into()) };
        if let Some(refused) = refused {
            return Err(refused.into());
        }
        if !ticket.has_station(&station) {
            return Err(StationError::NotOnTicket {
                order: ticket.order_id.to_string(),
                station: station.as_str().to_owned(),
            });
        }
        // Timed once, when the mark is new.
        if change.is_some()
            && let (StationCommand::Done, Some(done_at)) = (command, ticket.stations_done.get(station.as_str()))
        {
            let seconds = (*done_at - ticket.placed_at).num_milliseconds().max(0) as f64 / 1000.0;
            self.metrics.station_seconds.with_label_values(&[station.as_str()]).observe(seconds);
        }
        let steps = ticket.steps_after_station(command)?;
        let last = steps.len();
        for (n, step) in steps.into_iter().enumerate() {
            match self.orders.set_status(cook, ticket.order_id, step).await {
                Ok(()) => {}
                // The order may be ahead of its ticket (an event on its way): a step it is past
                // is refused as a conflict, and the next step is what counts.
                Err(e) if e.kind() == ErrorKind::Conflict && n + 1 < last => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ticket)
    }

    /// Tickets with the given status (every ticket when `None`), oldest first: `first` of them
    /// ([`DEFAULT_PAGE`] when `None`, at most [`MAX_PAGE`]), after the cursor `after` that the
    /// previous page gave.
    pub async fn tickets(
        &self,
        status: Option<&str>,
        first: Option<i64>,
        after: Option<&str>,
    ) -> Result<TicketPage, ListTicketsError> {
        let status = status
            .map(|value| {
                TicketStatus::parse(value)
                    .ok_or_else(|| ListTicketsError::UnknownStatus(value.chars().take(40).collect()))
            })
            .transpose()?;
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ListTicketsError::BadPageSize);
        }
        let after = after.map(|cursor| PageCursor::parse(cursor).ok_or(ListTicketsError::BadCursor)).transpose()?;
        let client = self.pool.get().await?;
        // One more than asked tells whether there is a next page.
        let mut tickets =
            store::tickets::page(&client, status, after.map(|c| (c.placed_at, c.order_id)), first + 1).await?;
        let more = tickets.len() as i64 > first;
        tickets.truncate(first as usize);
        let next = tickets
            .last()
            .filter(|_| more)
            .map(|t| PageCursor { placed_at: t.placed_at, order_id: t.order_id }.to_string());
        Ok(TicketPage { tickets, next })
    }

    /// Speed of service today (since midnight UTC, the day order numbers count): tickets,
    /// placed → READY, placed → each station done, the slowest items.
    pub async fn speed_today(&self) -> Result<SpeedReport, BoardError> {
        let midnight = Utc::now().date_naive().and_hms_opt(0, 0, 0).expect("unwrap: midnight exists").and_utc();
        let client = self.pool.get().await?;
        Ok(store::speed::since(&client, midnight).await?)
    }

    /// The ticket of one order.
    pub async fn ticket(&self, order_id: &str) -> Result<Ticket, GetTicketError> {
        let order_id = Uuid::parse_str(order_id).map_err(|_| GetTicketError::BadOrderId)?;
        let client = self.pool.get().await?;
        store::tickets::by_order(&client, order_id).await?.ok_or(GetTicketError::NotFound(order_id))
    }

    /// A cook's command on one order: checked against the cook's token (write access to this
    /// ticket) and the ticket's status, then sent to the orders service on the cook's behalf.
    /// Returns the status the order moved to; the ticket follows through the event log, like
    /// every other change. On a handed-over ticket, a recall or a bump is a remake, which only
    /// the kitchen's own record keeps ([`Ticket::remake`]): its order stays COMPLETED.
    pub async fn command(
        &self,
        cook: &Token,
        order_id: &str,
        command: CookCommand,
    ) -> Result<TicketStatus, CommandError> {
        self.authorize(cook, Access::write("ticket").of(order_id))?;
        let ticket = self.ticket(order_id).await?;
        if ticket.status == TicketStatus::Completed {
            return self.remake(ticket.order_id, command).await;
        }
        let next = ticket.status.after(command)?;
        self.orders.set_status(cook, ticket.order_id, next).await?;
        Ok(next)
    }

    /// A handed-over ticket recalled to be made again, or a remake handed over again: a ticket
    /// change every tablet sees, in the kitchen's own record.
    async fn remake(&self, order: Uuid, command: CookCommand) -> Result<TicketStatus, CommandError> {
        let mut client = self.pool.get().await.map_err(GetTicketError::from)?;
        let mut refused = None;
        let changed = store::tickets::change_locally(&mut client, order, |ticket| {
            ticket.remake(command, Utc::now()).unwrap_or_else(|e| {
                refused = Some(e);
                false
            })
        })
        .await
        .map_err(GetTicketError::from)?;
        let Some((ticket, _)) = changed else { return Err(GetTicketError::NotFound(order).into()) };
        match refused {
            Some(refused) => Err(refused.into()),
            None => Ok(ticket.status),
        }
    }

    /// The kitchen rejects an order it will not make (PLACED or ACCEPTED), saying why: the
    /// order is cancelled through the orders service with the reason, which reaches the ticket
    /// (a void on every tablet) and the customer's page through the event log.
    pub async fn reject(&self, cook: &Token, order_id: &str, reason: &str) -> Result<TicketStatus, MarkError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(MarkError::BadReason);
        }
        self.authorize(cook, Access::write("ticket").of(order_id)).map_err(CommandError::from)?;
        let ticket = self.ticket(order_id).await.map_err(CommandError::from)?;
        let next = ticket.status.after(CookCommand::Reject).map_err(CommandError::from)?;
        self.orders.cancel(cook, ticket.order_id, reason).await.map_err(CommandError::from)?;
        Ok(next)
    }

    /// Marks an open ticket rush (first on every station's list) or not: the kitchen's own
    /// record, a ticket change every tablet sees. Returns the ticket as it is now.
    pub async fn rush(&self, cook: &Token, order_id: &str, rush: bool) -> Result<Ticket, MarkError> {
        self.authorize(cook, Access::write("ticket").of(order_id)).map_err(CommandError::from)?;
        let order = Uuid::parse_str(order_id).map_err(|_| CommandError::from(GetTicketError::BadOrderId))?;
        let mut finished = None;
        let mut client = self.pool.get().await.map_err(|e| CommandError::from(GetTicketError::from(e)))?;
        let changed = store::tickets::change_locally(&mut client, order, |ticket| {
            if matches!(ticket.status, TicketStatus::Completed | TicketStatus::Cancelled) {
                finished = Some(Refused::Finished(ticket.status));
                return false;
            }
            let changed = ticket.rush != rush;
            ticket.rush = rush;
            changed
        })
        .await
        .map_err(|e| CommandError::from(GetTicketError::from(e)))?;
        let Some((ticket, _)) = changed else {
            return Err(CommandError::from(GetTicketError::NotFound(order)).into());
        };
        if let Some(refused) = finished {
            return Err(CommandError::from(refused).into());
        }
        Ok(ticket)
    }
}

/// Handed-over tickets a board's snapshot lists for the expo to recall, newest first.
pub const HANDED_OVER_SHOWN: i64 = 8;

/// Characters in a rejection's reason, at most (the orders service's limit too).
pub const MAX_REASON_CHARS: usize = 200;

/// Why a rejection or a rush mark was not taken.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error("a rejection says why, in 1 to {MAX_REASON_CHARS} characters")]
    BadReason,
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl Classified for MarkError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::BadReason => ErrorKind::InvalidInput,
            Self::Command(e) => e.kind(),
        }
    }
}

/// Where a page of tickets ends: the last ticket's place in the (placed at, order id) order.
/// Callers treat it as opaque; it is `<placed_at in µs since the epoch>_<order id>`.
struct PageCursor {
    placed_at: DateTime<Utc>,
    order_id: Uuid,
}

impl PageCursor {
    fn parse(text: &str) -> Option<Self> {
        /// 4714-11-24 BC, PostgreSQL's first day: a cursor before it would be refused there.
        const FIRST_DAY: i64 = -210_866_803_200_000_000;
        let (micros, order_id) = text.split_once('_')?;
        let micros: i64 = micros.parse().ok().filter(|m| *m >= FIRST_DAY)?;
        Some(Self { placed_at: DateTime::from_timestamp_micros(micros)?, order_id: Uuid::try_parse(order_id).ok()? })
    }
}

impl std::fmt::Display for PageCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.placed_at.timestamp_micros(), self.order_id.simple())
    }
}
