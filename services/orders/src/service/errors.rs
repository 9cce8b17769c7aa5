//! One error enum per operation, each saying which [`ErrorKind`] its variants are: the
//! caller's mistakes apart from the unexpected. `service_kit` maps kinds to codes, once.

use super::{MAX_BATCH, MAX_PAGE_SIZE, MAX_REASON_CHARS};
use crate::actors::{ChangeStatusError, PlaceOrderError};
use crate::domain::{BadTable, CartError, InvalidId, MenuItemId, OrderId};
use service_kit::{Classified, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum CreateOrderError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("{0}")]
    IdempotencyKey(String),
    #[error(transparent)]
    Table(#[from] BadTable),
    #[error(transparent)]
    Place(#[from] PlaceOrderError),
}

impl Classified for CreateOrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Cart(_) | Self::IdempotencyKey(_) | Self::Table(_) => ErrorKind::InvalidInput,
            Self::Place(PlaceOrderError::UnknownMenuItem { .. } | PlaceOrderError::Unavailable { .. }) => {
                ErrorKind::InvalidInput
            }
            Self::Place(PlaceOrderError::KeyReusedForOtherCart) => ErrorKind::Conflict,
            Self::Place(PlaceOrderError::Unexpected(e)) => e.kind(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GetOrderError {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("there is no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for GetOrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Unexpected(e) => e.kind(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeOrderError {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("a reason has at most {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error(transparent)]
    Change(#[from] ChangeStatusError),
}

impl Classified for ChangeOrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) | Self::ReasonTooLong => ErrorKind::InvalidInput,
            Self::Change(ChangeStatusError::NotFound(_)) => ErrorKind::NotFound,
            Self::Change(ChangeStatusError::CustomersOnlyCancel) => ErrorKind::Forbidden,
            Self::Change(ChangeStatusError::Refused(_) | ChangeStatusError::Busy(_)) => ErrorKind::Conflict,
            Self::Change(ChangeStatusError::Unexpected(e)) => e.kind(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a list, batch or search was refused (orders and the menu alike).
pub enum ListError {
    #[error("first must be between 1 and {MAX_PAGE_SIZE}, not {0}")]
    BadPageSize(i64),
    #[error("the cursor {0:?} is not one this service gave out")]
    BadCursor(String),
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("customers see only their own orders")]
    OthersOrders,
    #[error("a search needs 1 to 64 characters")]
    BadQuery,
    #[error("at most {MAX_BATCH} ids per lookup")]
    TooManyIds,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for ListError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::BadPageSize(_) | Self::BadCursor(_) | Self::InvalidId(_) | Self::BadQuery | Self::TooManyIds => {
                ErrorKind::InvalidInput
            }
            Self::OthersOrders => ErrorKind::Forbidden,
            Self::Unexpected(e) => e.kind(),
        }
    }
}

/// Why a menu item's availability was not changed.
#[derive(Debug, thiserror::Error)]
pub enum MenuItemError {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("there is no menu item {0}")]
    NotFound(MenuItemId),
    #[error("only kitchen staff mark dishes sold out or available")]
    KitchenOnly,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for MenuItemError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::KitchenOnly => ErrorKind::Forbidden,
            Self::Unexpected(e) => e.kind(),
        }
    }
}

/// Why a cart's ready-by was not estimated.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("line {line}: there is no menu item {id}")]
    UnknownMenuItem { line: usize, id: MenuItemId },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for EstimateError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Cart(_) | Self::UnknownMenuItem { .. } => ErrorKind::InvalidInput,
            Self::Unexpected(e) => e.kind(),
        }
    }
}

/// Why the kitchen's promises were not kept.
#[derive(Debug, thiserror::Error)]
pub enum PromiseError {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Classified for PromiseError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) => ErrorKind::InvalidInput,
            Self::Unexpected(e) => e.kind(),
        }
    }
}
