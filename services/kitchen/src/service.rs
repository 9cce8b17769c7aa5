//! The kitchen core as the adapters see it: applying an order event to the tickets, reading
//! them (the board, a replay, one ticket, a list) and a cook's commands. `kafka/`, `ws/` and
//! `http/` call [`Kitchen`] and never each other. Each operation has its own error enum that
//! separates the caller's mistakes from the unexpected, classified by the platform's
//! [`ErrorKind`]; `service_kit` (REST) and `ws::protocol` (tablets) turn kinds into answers.

use crate::actors::TicketHub;
use crate::domain::{CookCommand, Refused, Ticket, TicketChange, TicketStatus};
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
    Changed(TicketChange),
    /// A duplicate or an older version: nothing changed.
    Unchanged,
}

/// What a tablet is shown when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Board {
    /// Every open ticket, current as of `seq`.
    Snapshot { seq: i64, tickets: Vec<Ticket> },
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
                Ok(Applied::Changed(change))
            }
            None => {
                self.metrics.stale_events.inc();
                Ok(Applied::Unchanged)
            }
        }
    }

    /// What a tablet is shown: the changes since `resume_from` when it reconnects and the
    /// kitchen still has them all (at most [`MAX_REPLAY`]), a snapshot otherwise.
    pub async fn board(&self, resume_from: Option<i64>) -> Result<Board, BoardError> {
        let mut client = self.pool.get().await?;
        if let Some(after) = resume_from
            && let Some((seq, changes)) = store::tickets::changes_after(&client, after, MAX_REPLAY).await?
        {
            return Ok(Board::Missed { seq, changes });
        }
        let (seq, tickets) = store::tickets::open_tickets(&mut client).await?;
        Ok(Board::Snapshot { seq, tickets })
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

    /// The ticket of one order.
    pub async fn ticket(&self, order_id: &str) -> Result<Ticket, GetTicketError> {
        let order_id = Uuid::parse_str(order_id).map_err(|_| GetTicketError::BadOrderId)?;
        let client = self.pool.get().await?;
        store::tickets::by_order(&client, order_id).await?.ok_or(GetTicketError::NotFound(order_id))
    }

    /// A cook's command on one order: checked against the cook's token (write access to this
    /// ticket) and the ticket's status, then sent to the orders service on the cook's behalf.
    /// Returns the status the order moved to; the ticket follows through the event log, like
    /// every other change.
    pub async fn command(
        &self,
        cook: &Token,
        order_id: &str,
        command: CookCommand,
    ) -> Result<TicketStatus, CommandError> {
        self.authorize(cook, Access::write("ticket").of(order_id))?;
        let ticket = self.ticket(order_id).await?;
        let next = ticket.status.after(command)?;
        self.orders.set_status(cook, ticket.order_id, next).await?;
        Ok(next)
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
