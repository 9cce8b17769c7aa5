//! The orders core as the adapters see it: one method per operation, each with its own error
//! enum that separates the caller's mistakes from the unexpected, classified by the platform's
//! [`ErrorKind`]; `service_kit` maps kinds to status codes, once.

use crate::actors::{
    ChangeOrderStatus, ChangeStatus, ChangeStatusError, OrderRegistry, PlaceOrder, PlaceOrderError, Placed,
};
use crate::caller::Caller;
use crate::domain::{
    Cart, CartLineInput, CustomerId, DEFAULT_PREP_MINUTE, IdempotencyKey, KitchenLoad, MenuCategory, MenuItem,
    MenuItemId, Order, OrderId, OrderStatus, OrderType, Service, TableLabel,
};
use crate::store;
use crate::store::menu::MenuCursor;
use crate::store::orders::OrderCursor;
use actix::Addr;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use service_kit::trace::TraceParent;

/// Menu items on one page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Menu items on one page, at most.
pub const MAX_PAGE_SIZE: i64 = 100;

mod errors;

pub use errors::{
    ChangeOrderError, CreateOrderError, EstimateError, GetOrderError, ListError, MenuItemError, PromiseError,
};
pub use service_kit::{Classified, ErrorKind};

#[derive(Clone)]
pub struct OrdersService {
    registry: Addr<OrderRegistry>,
    pool: Pool,
}

/// Characters in a cancellation reason, at most.
pub const MAX_REASON_CHARS: usize = 200;
/// Ids per batch lookup, at most.
pub const MAX_BATCH: usize = 200;

/// Items per page when the caller does not say, for orders and searches.
pub const DEFAULT_LIST_SIZE: i64 = 20;
/// Characters in a search, at most.
pub const MAX_QUERY_CHARS: usize = 64;

/// `first`, or `default`, checked against the page bounds.
fn page_size(first: Option<i64>, default: i64) -> Result<i64, ListError> {
    let first = first.unwrap_or(default);
    if (1..=MAX_PAGE_SIZE).contains(&first) { Ok(first) } else { Err(ListError::BadPageSize(first)) }
}

/// A search's words, trimmed: 1 to 64 characters.
fn search_query(query: &str) -> Result<&str, ListError> {
    let query = query.trim();
    if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS { Err(ListError::BadQuery) } else { Ok(query) }
}

/// A page of orders, each with its cursor.
#[derive(Debug)]
pub struct OrderPage {
    pub orders: Vec<(Order, String)>,
    pub has_next_page: bool,
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
        (kind, table): (OrderType, Option<&str>),
        trace: Option<TraceParent>,
    ) -> Result<Placed, CreateOrderError> {
        let cart = Cart::parse(lines)?;
        let service = Service { kind, table: table.map(TableLabel::parse).transpose()? };
        let idempotency_key =
            idempotency_key.map(IdempotencyKey::parse).transpose().map_err(CreateOrderError::IdempotencyKey)?;
        let placed = self
            .registry
            .send(PlaceOrder { customer, cart, idempotency_key, service, trace })
            .await
            .map_err(|e| PlaceOrderError::Unexpected(anyhow::anyhow!("order registry unreachable: {e}")))??;
        Ok(placed)
    }

    /// One order, if the caller may see it.
    pub async fn get_order(&self, caller: &Caller, id: &str) -> Result<Order, GetOrderError> {
        let id = OrderId::parse(id)?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let order = store::orders::load(&client, id).await?.ok_or(GetOrderError::NotFound(id))?;
        // Someone else's order answers exactly like an unknown id: no existence oracle.
        if !caller.may_see(order.customer_id) {
            return Err(GetOrderError::NotFound(id));
        }
        Ok(order)
    }

    /// Moves an order along its lifecycle (kitchen), or cancels it (its customer, or the
    /// kitchen rejecting it).
    pub async fn change_status(
        &self,
        caller: &Caller,
        id: &str,
        to: OrderStatus,
        reason: Option<&str>,
        trace: Option<TraceParent>,
    ) -> Result<Order, ChangeOrderError> {
        let id = OrderId::parse(id)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(ChangeOrderError::ReasonTooLong);
        }
        let change = ChangeStatus { caller: caller.clone(), to, reason: reason.map(str::to_owned), trace };
        let order = self
            .registry
            .send(ChangeOrderStatus { id, change, attempt: 0 })
            .await
            .map_err(|e| ChangeStatusError::Unexpected(anyhow::anyhow!("order registry unreachable: {e}")))??;
        Ok(order)
    }

    /// The orders with these ids that the caller may see, in the order asked.
    pub async fn get_orders(&self, caller: &Caller, ids: &[String]) -> Result<Vec<Order>, ListError> {
        if ids.len() > MAX_BATCH {
            return Err(ListError::TooManyIds);
        }
        let ids = ids.iter().map(|id| OrderId::parse(id)).collect::<Result<Vec<_>, _>>()?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let orders = store::orders::load_many(&client, &ids).await?;
        Ok(orders.into_iter().filter(|o| caller.may_see(o.customer_id)).collect())
    }

    /// Newest first. Customers see their own; kitchen staff everyone's, or one customer's.
    pub async fn list_orders(
        &self,
        caller: &Caller,
        first: Option<i64>,
        after: Option<&str>,
        status: Option<OrderStatus>,
        customer: Option<&str>,
    ) -> Result<OrderPage, ListError> {
        let first = page_size(first, DEFAULT_LIST_SIZE)?;
        let after = after
            .map(|a| OrderCursor::decode(a).ok_or_else(|| ListError::BadCursor(a.chars().take(64).collect())))
            .transpose()?;
        let customer = customer.map(CustomerId::parse).transpose()?;
        let customer = match (caller, customer) {
            (Caller::Customer(me), Some(asked)) if asked != *me => return Err(ListError::OthersOrders),
            (Caller::Customer(me), _) => Some(*me),
            (Caller::Kitchen { .. }, asked) => asked,
        };
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let (orders, has_next_page) = store::orders::list(&client, customer, status, after, first).await?;
        Ok(OrderPage { orders: orders.into_iter().map(|(o, c)| (o, c.encode())).collect(), has_next_page })
    }

    /// Orders by id prefix or item name, scoped like [`Self::list_orders`].
    pub async fn search_orders(
        &self,
        caller: &Caller,
        query: &str,
        first: Option<i64>,
    ) -> Result<Vec<Order>, ListError> {
        let query = search_query(query)?;
        let first = page_size(first, DEFAULT_LIST_SIZE)?;
        let customer = match caller {
            Caller::Customer(me) => Some(*me),
            Caller::Kitchen { .. } => None,
        };
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        Ok(store::orders::search(&client, customer, query, first).await?)
    }

    /// The menu items with these ids (dataloaders); unknown ids are left out.
    pub async fn menu_items(&self, ids: &[String]) -> Result<Vec<MenuItem>, ListError> {
        if ids.len() > MAX_BATCH {
            return Err(ListError::TooManyIds);
        }
        let ids = ids.iter().map(|id| MenuItemId::parse(id)).collect::<Result<Vec<_>, _>>()?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let mut items = store::menu::by_ids(&client, &ids).await?;
        items.sort_by_key(|item| ids.iter().position(|id| *id == item.id));
        Ok(items)
    }

    pub async fn search_menu(&self, query: &str, first: Option<i64>) -> Result<Vec<MenuItem>, ListError> {
        let query = search_query(query)?;
        let first = page_size(first, DEFAULT_LIST_SIZE)?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        Ok(store::menu::search(&client, query, first).await?)
    }

    pub async fn menu(
        &self,
        first: Option<i64>,
        after: Option<&str>,
        category: Option<MenuCategory>,
    ) -> Result<MenuPage, ListError> {
        let first = page_size(first, DEFAULT_PAGE_SIZE)?;
        let after = after
            .map(|a| MenuCursor::decode(a).ok_or_else(|| ListError::BadCursor(a.chars().take(64).collect())))
            .transpose()?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let (items, has_next_page) = store::menu::list(&client, first, after, category).await?;
        Ok(MenuPage { items: items.into_iter().map(|(item, cursor)| (item, cursor.encode())).collect(), has_next_page })
    }

    /// The kitchen 86es a dish (`available` false) or brings it back. Orders for it are refused
    /// from the commit on; every menu watcher hears of it ([`crate::store::menu::set_available`]).
    pub async fn set_menu_item_available(
        &self,
        caller: &Caller,
        id: &str,
        available: bool,
    ) -> Result<MenuItem, MenuItemError> {
        if !matches!(caller, Caller::Kitchen { .. }) {
            return Err(MenuItemError::KitchenOnly);
        }
        let id = MenuItemId::parse(id)?;
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        store::menu::set_available(&client, id, available).await?.ok_or(MenuItemError::NotFound(id))
    }

    /// The kitchen's plan: each promise that moved is stored beside its order (same version,
    /// next promise revision) with an event for its watchers, and the load is kept for cart
    /// estimates. Returns how many promises moved.
    pub async fn keep_promises(
        &self,
        promises: &[(String, chrono::DateTime<chrono::Utc>)],
        load: &KitchenLoad,
    ) -> Result<usize, PromiseError> {
        let promises = promises
            .iter()
            .map(|(id, at)| Ok((OrderId::parse(id)?, *at)))
            .collect::<Result<Vec<_>, crate::domain::InvalidId>>()?;
        let mut client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let mut moved = 0;
        for (id, ready_by) in promises {
            let tx = client.transaction().await.context("starting the promise transaction")?;
            if let Some((_, event)) = store::orders::promise(&tx, id, ready_by).await? {
                store::outbox::append(&tx, &event, None).await?;
                moved += 1;
            }
            tx.commit().await.context("committing the promise")?;
        }
        store::promises::save(&client, load).await?;
        Ok(moved)
    }

    /// When these dishes would be ready if ordered now: behind the kitchen's last plan, at their
    /// stations (an idle kitchen, on a minute's clock, when it has not planned yet).
    pub async fn estimate_ready_by(
        &self,
        lines: Vec<CartLineInput>,
    ) -> Result<chrono::DateTime<chrono::Utc>, EstimateError> {
        let cart = Cart::parse(lines)?;
        let ids: Vec<MenuItemId> = cart.lines().iter().map(|l| l.menu_item_id).collect();
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        let menu: std::collections::HashMap<MenuItemId, MenuItem> =
            store::menu::by_ids(&client, &ids).await?.into_iter().map(|item| (item.id, item)).collect();
        let load = store::promises::last(&client).await?;
        let minute = load.as_ref().map_or(DEFAULT_PREP_MINUTE, |l| l.prep_minute);
        let mut planned = Vec::with_capacity(ids.len());
        for (index, id) in ids.iter().enumerate() {
            let item = menu.get(id).ok_or(EstimateError::UnknownMenuItem { line: index + 1, id: *id })?;
            let prep = minute.saturating_mul(u32::try_from(item.prep_minutes).unwrap_or(0));
            let prep = chrono::TimeDelta::from_std(prep).context("a prep time out of range")?;
            planned.push(ready_by::Line { station: item.station.clone(), prep });
        }
        let plan = ready_by::behind(crate::domain::now(), load.map(|l| l.stations).unwrap_or_default());
        Ok(plan.estimate(&planned))
    }
}
