//! `OrderRegistry`: finds or starts the `OrderActor` of an order, and the messages that reach
//! it (place an order, change its status).

use super::day_numbers::DayNumbers;
use super::order::{ChangeStatus, ChangeStatusError, OrderActor, Place, PlaceOrderError, Placed};
use crate::domain::{Cart, CustomerId, Dish, IdempotencyKey, MenuItemId, Order, OrderId, Service};
use crate::metrics::OrdersMetrics;
use actix::prelude::*;
use deadpool_postgres::Pool;
use std::collections::HashMap;

/// Knows the live [`OrderActor`]s of this instance and starts them on demand.
pub struct OrderRegistry {
    pool: Pool,
    /// The day's short order numbers, shared by this instance's order actors.
    numbers: Addr<DayNumbers>,
    live: HashMap<OrderId, Addr<OrderActor>>,
    /// Every dish as the last order placed with it saw it, so that the next placement can check
    /// and write in one round trip. A stale dish costs only a menu read: the placement checks
    /// each one against the menu in the same statement. At most the menu's size.
    dishes: HashMap<MenuItemId, Dish>,
    metrics: OrdersMetrics,
}

impl OrderRegistry {
    pub fn new(pool: Pool, numbers: Addr<DayNumbers>, metrics: OrdersMetrics) -> Self {
        Self { pool, numbers, live: HashMap::new(), dishes: HashMap::new(), metrics }
    }

    /// What a placement showed of the menu: the dishes of a new order as it saw them; an unknown
    /// or sold-out dish is forgotten (the next order with it reads the menu).
    fn learn(&mut self, outcome: &Result<Placed, PlaceOrderError>) {
        match outcome {
            Ok(Placed::New(order)) => {
                for line in &order.lines {
                    self.dishes.insert(line.menu_item_id, line.dish());
                }
            }
            Err(PlaceOrderError::UnknownMenuItem { id, .. } | PlaceOrderError::Unavailable { id, .. }) => {
                self.dishes.remove(id);
            }
            // A replay shows the menu as it was then.
            Ok(Placed::Replayed(_)) | Err(_) => {}
        }
    }
}

impl Actor for OrderRegistry {
    type Context = Context<Self>;
}

/// A customer places a new order.
#[derive(Message)]
#[rtype(result = "Result<Placed, PlaceOrderError>")]
pub struct PlaceOrder {
    pub customer: CustomerId,
    pub cart: Cart,
    pub idempotency_key: Option<IdempotencyKey>,
    /// How and where it is served.
    pub service: Service,
    /// The trace the request came with, written with the event.
    pub trace: Option<service_kit::trace::TraceParent>,
}

impl Handler<PlaceOrder> for OrderRegistry {
    type Result = ResponseActFuture<Self, Result<Placed, PlaceOrderError>>;

    fn handle(&mut self, msg: PlaceOrder, ctx: &mut Self::Context) -> Self::Result {
        let id = OrderId::generate();
        let dishes = msg
            .cart
            .lines()
            .iter()
            .filter_map(|line| self.dishes.get(&line.menu_item_id).map(|dish| (line.menu_item_id, dish.clone())))
            .collect();
        let actor = self.start_actor(id, ctx);
        let place = Place {
            customer: msg.customer,
            cart: msg.cart,
            idempotency_key: msg.idempotency_key,
            service: msg.service,
            trace: msg.trace,
            dishes,
        };
        // Not atomic: placements run side by side; only learning what they saw is the registry's.
        Box::pin(
            async move {
                actor
                    .send(place)
                    .await
                    .map_err(|e| PlaceOrderError::Unexpected(anyhow::anyhow!("order actor unreachable: {e}")))?
            }
            .into_actor(self)
            .map(|outcome, registry, _| {
                registry.learn(&outcome);
                outcome
            }),
        )
    }
}

/// A command that finds its order's actor stopping is routed again, at most this many times.
pub const MAX_ROUTING_ATTEMPTS: u8 = 3;

/// A command for one existing order, routed to its actor (started on demand).
#[derive(Message)]
#[rtype(result = "Result<Order, ChangeStatusError>")]
pub struct ChangeOrderStatus {
    pub id: OrderId,
    pub change: ChangeStatus,
    /// How many times this command has been routed already (0 when it comes in).
    pub attempt: u8,
}

impl OrderRegistry {
    /// Starts the actor of `id` (with nothing loaded yet) and counts it live.
    fn start_actor(&mut self, id: OrderId, ctx: &mut Context<Self>) -> Addr<OrderActor> {
        let actor = OrderActor::new(
            id,
            self.pool.clone(),
            ctx.address().recipient(),
            self.numbers.clone(),
            self.metrics.clone(),
        )
        .start();
        self.live.insert(id, actor.clone());
        self.metrics.live_order_actors.set(self.live.len() as i64);
        actor
    }

    /// The live actor of `id`, started (with nothing loaded yet) if there is none.
    fn actor_for(&mut self, id: OrderId, ctx: &mut Context<Self>) -> Addr<OrderActor> {
        if let Some(actor) = self.live.get(&id).filter(|a| a.connected()) {
            return actor.clone();
        }
        self.start_actor(id, ctx)
    }
}

impl Handler<ChangeOrderStatus> for OrderRegistry {
    type Result = ResponseFuture<Result<Order, ChangeStatusError>>;

    fn handle(&mut self, msg: ChangeOrderStatus, ctx: &mut Self::Context) -> Self::Result {
        let actor = self.actor_for(msg.id, ctx);
        let registry = ctx.address();
        Box::pin(async move {
            match actor.send(msg.change.clone()).await {
                Ok(answer) => answer,
                // The actor stopped with this command still queued (its order just finished, or it
                // went idle): ask again, and a fresh actor answers from the stored order.
                Err(_) if msg.attempt < MAX_ROUTING_ATTEMPTS => registry
                    .send(ChangeOrderStatus { attempt: msg.attempt + 1, ..msg })
                    .await
                    .map_err(|e| ChangeStatusError::Unexpected(anyhow::anyhow!("order registry unreachable: {e}")))?,
                Err(e) => Err(ChangeStatusError::Unexpected(anyhow::anyhow!("order actor unreachable: {e}"))),
            }
        })
    }
}

/// An order actor has stopped (idle, finished, or nothing to own).
#[derive(Message)]
#[rtype(result = "()")]
pub struct OrderActorStopped {
    pub id: OrderId,
    pub actor: Addr<OrderActor>,
}

impl Handler<OrderActorStopped> for OrderRegistry {
    type Result = ();

    fn handle(&mut self, msg: OrderActorStopped, _: &mut Self::Context) {
        // A newer actor may already own the id: remove only the one that stopped.
        if self.live.get(&msg.id) == Some(&msg.actor) {
            self.live.remove(&msg.id);
        }
        self.metrics.live_order_actors.set(self.live.len() as i64);
    }
}
