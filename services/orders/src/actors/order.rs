//! `OrderActor`: the one owner of a live order. It loads the order lazily, applies one command
//! at a time (the change, its timeline entry and its outbox event in one transaction), and
//! stops when idle or soon after the order finished.

use super::day_numbers::{DayNumbers, TakeNumber};
use crate::caller::Caller;
use crate::domain::{
    Cart, CustomerId, Dish, IdempotencyKey, MenuItemId, Order, OrderId, OrderLine, OrderStatus, Service,
    TransitionRefused,
};
use crate::metrics::OrdersMetrics;
use crate::store::{self, orders::Placement};
use actix::prelude::*;
use anyhow::Context as _;
use deadpool_postgres::Pool;
use service_kit::trace::TraceParent;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// An order actor with no command for this long stops; the next command starts a new one.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// A finished (or unknown) order's actor stops once no command came for this long.
pub const TERMINAL_LINGER: Duration = Duration::from_millis(500);
/// How often an order actor checks whether it has been idle too long.
pub const IDLE_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Owns one order: commands for it are handled one at a time, in arrival order.
pub struct OrderActor {
    id: OrderId,
    pool: Pool,
    /// The order as last written; `None` until placed.
    order: Option<Order>,
    last_command: Instant,
    registry: Recipient<super::registry::OrderActorStopped>,
    numbers: Addr<DayNumbers>,
    metrics: OrdersMetrics,
}

impl OrderActor {
    pub fn new(
        id: OrderId,
        pool: Pool,
        registry: Recipient<super::registry::OrderActorStopped>,
        numbers: Addr<DayNumbers>,
        metrics: OrdersMetrics,
    ) -> Self {
        Self { id, pool, order: None, last_command: Instant::now(), registry, numbers, metrics }
    }
}

impl Actor for OrderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(IDLE_CHECK_INTERVAL, |actor, ctx| {
            if actor.last_command.elapsed() >= IDLE_TIMEOUT {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.do_send(super::registry::OrderActorStopped { id: self.id, actor: ctx.address() });
    }
}

/// Place this actor's (new) order: the order, its lines, its first timeline entry, its
/// `Created` event and its idempotency key commit together, or nothing does
/// ([`store::orders::place`]).
#[derive(Message)]
#[rtype(result = "Result<Placed, PlaceOrderError>")]
pub struct Place {
    pub customer: CustomerId,
    pub cart: Cart,
    pub idempotency_key: Option<IdempotencyKey>,
    pub service: Service,
    pub trace: Option<TraceParent>,
    /// The cart's dishes as last seen placing orders (any may be missing or stale).
    pub dishes: HashMap<MenuItemId, Dish>,
}

/// The order a `Place` answered with.
#[derive(Debug)]
pub enum Placed {
    /// Written now.
    New(Order),
    /// Placed earlier with the same idempotency key and cart; as it is now.
    Replayed(Order),
}

/// Why an order was not placed. Everything but `Unexpected` is the caller's to fix.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error("line {line}: there is no menu item {id}")]
    UnknownMenuItem { line: usize, id: MenuItemId },
    /// 86'd by the kitchen: the words name the dish and its id, so a client can mark it.
    #[error("line {line}: {name} is sold out (not available right now; menu item {id})")]
    Unavailable { line: usize, name: String, id: MenuItemId },
    #[error("this idempotency key was already used for a different cart")]
    KeyReusedForOtherCart,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Handler<Place> for OrderActor {
    type Result = AtomicResponse<Self, Result<Placed, PlaceOrderError>>;

    fn handle(&mut self, place: Place, _: &mut Self::Context) -> Self::Result {
        self.last_command = Instant::now();
        let pool = self.pool.clone();
        let id = self.id;
        let numbers = self.numbers.clone();
        let round_trips = self.metrics.placement_round_trip_seconds.clone();
        AtomicResponse::new(Box::pin(place_order(pool, numbers, id, place, round_trips).into_actor(self).map(
            |result, actor, ctx| {
                match &result {
                    Ok(Placed::New(order)) => {
                        actor.metrics.orders_placed.inc();
                        actor.order = Some(order.clone());
                    }
                    // The order belongs to another actor (or none): this one has nothing to own.
                    Ok(Placed::Replayed(_)) | Err(_) => ctx.stop(),
                }
                result
            },
        )))
    }
}

/// Placements before giving up on a menu that keeps changing under them: each one that finds
/// the menu changed reads it again.
pub const MAX_PLACE_ATTEMPTS: usize = 3;

#[tracing::instrument(skip(pool, numbers, place, round_trips), fields(customer = %place.customer))]
async fn place_order(
    pool: Pool,
    numbers: Addr<DayNumbers>,
    id: OrderId,
    place: Place,
    round_trips: prometheus::HistogramVec,
) -> Result<Placed, PlaceOrderError> {
    // The day's number first, outside the placement's statement: inside it, the day's counter
    // row would stay locked until the commit, so every placement would queue behind the slowest
    // one. Under load it comes from this instance's reserve, without a round trip of its own. A
    // refused or replayed placement leaves a gap in the day's numbers; none is ever repeated.
    let now = crate::domain::now();
    let timer = round_trips.with_label_values(&["number"]).start_timer();
    let number = numbers
        .send(TakeNumber { day: now.date_naive() })
        .await
        .map_err(|e| anyhow::anyhow!("the day's numbers are unreachable: {e}"))??;
    timer.observe_duration();
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let fingerprint = place.cart.fingerprint();
    let key = place.idempotency_key.as_ref().map(|key| (key, fingerprint.as_str()));
    // The dishes as the registry last saw them: usually every one, so the order is checked and
    // written in one round trip. The statement checks them against the menu; if they are stale,
    // the menu is read and the order placed again.
    let mut dishes = place.dishes;
    for _ in 0..MAX_PLACE_ATTEMPTS {
        let cart = place.cart.lines();
        if cart.iter().any(|line| !dishes.contains_key(&line.menu_item_id)) {
            dishes = read_dishes(&client, &place.cart).await?;
        }
        let lines = cart.iter().map(|line| OrderLine::new(line, &dishes[&line.menu_item_id])).collect();
        let (order, event) = Order::place(id, place.customer, number, lines, place.service.clone(), now);
        let timer = round_trips.with_label_values(&["placement"]).start_timer();
        let placement = store::orders::place(&client, &order, &event, place.trace.as_ref(), key).await?;
        timer.observe_duration();
        let held = match placement {
            Placement::Placed => {
                let trace_id = place.trace.as_ref().map(TraceParent::trace_id);
                tracing::info!(order = %order.id, total_cents = order.total.0, trace_id, "order placed");
                return Ok(Placed::New(order));
            }
            Placement::MenuChanged => {
                dishes.clear();
                continue;
            }
            Placement::KeyHeld { fingerprint, order_id } => Some((fingerprint, order_id)),
            Placement::KeyRaced => {
                let (key, _) = key.context("a key race without a key")?;
                store::orders::idempotency_key(&client, place.customer, key).await?
            }
        };
        let Some((held_for, existing)) = held else { continue };
        if held_for != fingerprint {
            return Err(PlaceOrderError::KeyReusedForOtherCart);
        }
        let order = store::orders::load(&client, existing)
            .await?
            .context("an idempotency key names an order that does not exist")?;
        return Ok(Placed::Replayed(order));
    }
    Err(anyhow::anyhow!("the menu kept changing while order {id} was placed").into())
}

/// Every dish of the cart as the menu has it now; refuses an unknown or sold-out one, naming
/// its line.
async fn read_dishes(
    client: &impl deadpool_postgres::GenericClient,
    cart: &Cart,
) -> Result<HashMap<MenuItemId, Dish>, PlaceOrderError> {
    let ids: Vec<MenuItemId> = cart.lines().iter().map(|l| l.menu_item_id).collect();
    let menu: HashMap<MenuItemId, _> =
        store::menu::by_ids(client, &ids).await?.into_iter().map(|item| (item.id, item)).collect();
    for (index, line) in cart.lines().iter().enumerate() {
        let item = menu
            .get(&line.menu_item_id)
            .ok_or(PlaceOrderError::UnknownMenuItem { line: index + 1, id: line.menu_item_id })?;
        if !item.available {
            return Err(PlaceOrderError::Unavailable { line: index + 1, name: item.name.clone(), id: item.id });
        }
    }
    Ok(menu.into_iter().map(|(id, item)| (id, item.dish())).collect())
}

/// Attempts at a status change before giving up on a busy order: each lost race reloads the
/// order written by the winner and checks the change again.
pub const MAX_WRITE_ATTEMPTS: usize = 5;

/// Move this order to `to`: checked against who is asking and the lifecycle, then written with
/// its outbox event in one transaction that succeeds only if the order is still at the version
/// this actor checked (so two instances can never both win).
#[derive(Message, Clone)]
#[rtype(result = "Result<Order, ChangeStatusError>")]
pub struct ChangeStatus {
    pub caller: Caller,
    pub to: OrderStatus,
    pub reason: Option<String>,
    pub trace: Option<TraceParent>,
}

/// Why a status change was refused. Everything but `Unexpected` and `Busy` is final.
#[derive(Debug, thiserror::Error)]
pub enum ChangeStatusError {
    #[error("there is no order {0}")]
    NotFound(OrderId),
    #[error("customers may only cancel their orders")]
    CustomersOnlyCancel,
    #[error(transparent)]
    Refused(#[from] TransitionRefused),
    #[error("order {0} kept changing under this request; try again")]
    Busy(OrderId),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Handler<ChangeStatus> for OrderActor {
    type Result = AtomicResponse<Self, Result<Order, ChangeStatusError>>;

    fn handle(&mut self, change: ChangeStatus, _: &mut Self::Context) -> Self::Result {
        self.last_command = Instant::now();
        let work = change_status(self.pool.clone(), self.id, self.order.clone(), change);
        AtomicResponse::new(Box::pin(work.into_actor(self).map(|(latest, result), actor, ctx| {
            if result.is_ok() {
                actor.metrics.status_changes.inc();
            }
            actor.order = latest;
            // Finished or unknown orders are not kept in memory, but commands already queued
            // for them are answered first (stopping now would drop them unanswered).
            if actor.order.as_ref().is_none_or(|o| o.status.is_terminal()) {
                ctx.run_later(TERMINAL_LINGER, |actor, ctx| {
                    if actor.last_command.elapsed() >= TERMINAL_LINGER {
                        ctx.stop();
                    }
                });
            }
            result
        })))
    }
}

/// Returns the order as last seen (for the actor to keep) and the outcome.
#[tracing::instrument(skip(pool, known, change), fields(order = %id, to = change.to.as_str()))]
async fn change_status(
    pool: Pool,
    id: OrderId,
    known: Option<Order>,
    change: ChangeStatus,
) -> (Option<Order>, Result<Order, ChangeStatusError>) {
    let mut current = known;
    let outcome = async {
        let mut client = pool.get().await.context("connecting to PostgreSQL")?;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let order = match current.take() {
                Some(order) => order,
                None => store::orders::load(&client, id).await?.ok_or(ChangeStatusError::NotFound(id))?,
            };
            current = Some(order.clone());
            let by = match &change.caller {
                // Someone else's order does not exist for this caller: the same answer as an
                // unknown id, so ids cannot be probed.
                Caller::Customer(me) if *me != order.customer_id => return Err(ChangeStatusError::NotFound(id)),
                Caller::Customer(_) if change.to != OrderStatus::Cancelled => {
                    return Err(ChangeStatusError::CustomersOnlyCancel);
                }
                Caller::Customer(me) => me.to_string(),
                Caller::Kitchen { user_id } => user_id.to_string(),
            };
            let (next, event) = order.change_status(change.to, &by, change.reason.as_deref(), crate::domain::now())?;
            let tx = client.transaction().await.context("starting the status transaction")?;
            let Some((ready_by, promise_revision)) =
                store::orders::update_status(&tx, &next, order.version, &by).await?
            else {
                // Another instance changed it first: look again.
                drop(tx);
                current = None;
                continue;
            };
            // The promise as the row holds it (the kitchen moves it without a version).
            let (mut next, mut event) = (next, event);
            for state in [&mut next, &mut event.order] {
                state.ready_by = ready_by;
                state.promise_revision = promise_revision;
            }
            store::outbox::append(&tx, &event, change.trace.as_ref()).await?;
            tx.commit().await.context("committing the status change")?;
            let trace_id = change.trace.as_ref().map(TraceParent::trace_id);
            tracing::info!(order = %id, status = next.status.as_str(), version = next.version, trace_id, "order changed");
            current = Some(next.clone());
            return Ok(next);
        }
        Err(ChangeStatusError::Busy(id))
    }
    .await;
    (current, outcome)
}
