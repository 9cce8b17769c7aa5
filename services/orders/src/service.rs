//! The orders core as the adapters see it: one method per operation, each with its own error
//! enum that separates the caller's mistakes from the unexpected. `grpc/` and `http/` map
//! [`ErrorKind`] to their status codes, once each.

use crate::caller::Caller;
use crate::actors::{OrderRegistry, PlaceOrder, PlaceOrderError, Placed};
use crate::domain::{
    Cart, CartError, CartLineInput, CustomerId, IdempotencyKey, InvalidId, MenuCategory, MenuItem,
    Order, OrderId,
};
use crate::store;
use crate::store::menu::MenuCursor;
use actix::Addr;
use anyhow::Context as _;
use deadpool_postgres::Pool;

/// Menu items on one page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Menu items on one page, at most.
pub const MAX_PAGE_SIZE: i64 = 100;

/// How an adapter should answer an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong; repeating it will not help.
    InvalidInput,
    NotFound,
    /// The request clashes with the current state.
    Conflict,
    /// The caller may not do this.
    Forbidden,
    /// Our fault or a dependency's: log it, answer without details.
    Unexpected,
}

#[derive(Clone)]
pub struct OrdersService {
    registry: Addr<OrderRegistry>,
    pool: Pool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateOrderError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("{0}")]
    IdempotencyKey(String),
    #[error(transparent)]
    Place(#[from] PlaceOrderError),
}

impl CreateOrderError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Cart(_) | Self::IdempotencyKey(_) => ErrorKind::InvalidInput,
            Self::Place(PlaceOrderError::UnknownMenuItem { .. } | PlaceOrderError::Unavailable { .. }) => {
                ErrorKind::InvalidInput
            }
            Self::Place(PlaceOrderError::KeyReusedForOtherCart) => ErrorKind::Conflict,
            Self::Place(PlaceOrderError::Unexpected(_)) => ErrorKind::Unexpected,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GetOrderError {
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    #[error("there is no order {0}")]
    NotFound(OrderId),
    #[error("order {0} belongs to another customer")]
    NotYours(OrderId),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl GetOrderError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NotYours(_) => ErrorKind::Forbidden,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListMenuError {
    #[error("first must be between 1 and {MAX_PAGE_SIZE}, not {0}")]
    BadPageSize(i64),
    #[error("the cursor {0:?} is not one this service gave out")]
    BadCursor(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ListMenuError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadPageSize(_) | Self::BadCursor(_) => ErrorKind::InvalidInput,
            Self::Unexpected(_) => ErrorKind::Unexpected,
        }
    }
}

/// One page of the menu: each item with the cursor to pass as `after` to continue after it.
#[derive(Debug)]
pub struct MenuPage {
    pub items: Vec<(MenuItem, String)>,
    pub has_next_page: bool,
}

impl OrdersService {
    pub fn new(registry: Addr<OrderRegistry>, pool: Pool) -> Self {
        Self { registry, pool }
    }

    /// Places an order for `customer` (who comes from the caller's credentials, never from the
    /// request body).
    pub async fn create_order(
        &self,
        customer: CustomerId,
        lines: Vec<CartLineInput>,
        idempotency_key: Option<&str>,
    ) -> Result<Placed, CreateOrderError> {
        let cart = Cart::parse(lines)?;
        let idempotency_key = idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(CreateOrderError::IdempotencyKey)?;
        let placed = self
            .registry
            .send(PlaceOrder { customer, cart, idempotency_key })
            .await
            .map_err(|e| PlaceOrderError::Unexpected(anyhow::anyhow!("order registry unreachable: {e}")))??;
        Ok(placed)
    }

    /// One order, if the caller may see it.
    pub async fn get_order(&self, caller: &Caller, id: &str) -> Result<Order, GetOrderError> {
        let id = OrderId::parse(id)?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let order = store::orders::load(&**client, id).await?.ok_or(GetOrderError::NotFound(id))?;
        if !caller.may_see(order.customer_id) {
            return Err(GetOrderError::NotYours(id));
        }
        Ok(order)
    }

    pub async fn menu(
        &self,
        first: Option<i64>,
        after: Option<&str>,
        category: Option<MenuCategory>,
    ) -> Result<MenuPage, ListMenuError> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(ListMenuError::BadPageSize(first));
        }
        let after = after
            .map(|a| MenuCursor::decode(a).ok_or_else(|| ListMenuError::BadCursor(a.chars().take(64).collect())))
            .transpose()?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let (items, has_next_page) = store::menu::list(&**client, first, after, category).await?;
        Ok(MenuPage { items: items.into_iter().map(|(item, cursor)| (item, cursor.encode())).collect(), has_next_page })
    }
}
