//! The kitchen core as the adapters see it: applying an order event to the tickets, reading
//! them (the board, a replay, one ticket, a list) and a cook's commands. `kafka/`, `ws/` and
//! `http/` call [`Kitchen`] and never each other. Each operation has its own error enum that
//! separates the caller's mistakes from the unexpected, classified by the platform's
//! [`ErrorKind`]; `service_kit` (REST) and `ws::protocol` (tablets) turn kinds into answers.

use crate::actors::{PublishChange, TicketHub};
use crate::domain::{CookCommand, Refused, Ticket, TicketChange, TicketStatus};
use crate::grpc::OrdersClient;
use crate::metrics::KitchenMetrics;
use crate::store;
use actix::Addr;
use deadpool_postgres::{Pool, PoolError};
use service_kit::UpstreamError;
use tokens::{Access, Principal, Role, Token, TokenError, TokenVerifier, UserClaims};
use uuid::Uuid;

pub use service_kit::{Classified, ErrorKind};

/// Every kitchen endpoint and the tablet socket are for kitchen staff.
pub const STAFF: &[Role] = &[Role::KitchenStaff];

/// A reconnecting tablet is sent at most this many missed changes; further behind, a snapshot.
pub const MAX_REPLAY: i64 = 1_000;

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
    /// The ticket changed: stored with the next tablet sequence number, and pushed to the
    /// tablets.
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

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ApplyError {
    fn kind(&self) -> ErrorKind {
        match self {
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

#[derive(Debug, thiserror::Error)]
pub enum ListTicketsError {
    #[error("unknown status {0:?}; expected one of PLACED, ACCEPTED, PREPARING, READY, COMPLETED, CANCELLED")]
    UnknownStatus(String),
    #[error("the kitchen's database is unreachable: {0}")]
    Unreachable(#[from] PoolError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ListTicketsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownStatus(_) => ErrorKind::InvalidInput,
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

    /// Applies an order event's ticket: stored only if its order version is newer than the
    /// stored one, with the next tablet sequence number in the same statement; once that is
    /// committed, the change goes to the tablets. Applying the same event twice changes nothing.
    pub async fn apply(&self, ticket: &Ticket, trace_id: Option<String>) -> Result<Applied, ApplyError> {
        let client = self.pool.get().await?;
        match store::tickets::apply(&client, ticket).await? {
            Some(mut change) => {
                self.metrics.ticket_changes.inc();
                change.trace_id = trace_id;
                self.hub.do_send(PublishChange(change.clone()));
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

    /// Tickets with the given status (every ticket when `None`), oldest first.
    pub async fn tickets(&self, status: Option<&str>) -> Result<Vec<Ticket>, ListTicketsError> {
        let status = status
            .map(|value| {
                TicketStatus::parse(value)
                    .ok_or_else(|| ListTicketsError::UnknownStatus(value.chars().take(40).collect()))
            })
            .transpose()?;
        let client = self.pool.get().await?;
        Ok(store::tickets::by_status(&client, status).await?)
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
