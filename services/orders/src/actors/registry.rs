use super::order::{OrderActor, Place, PlaceOrderError, Placed};
use crate::domain::{Cart, CustomerId, IdempotencyKey, OrderId};
use crate::metrics::OrdersMetrics;
use actix::prelude::*;
use deadpool_postgres::Pool;
use std::collections::HashMap;

/// Knows the live [`OrderActor`]s of this instance and starts them on demand.
pub struct OrderRegistry {
    pool: Pool,
    live: HashMap<OrderId, Addr<OrderActor>>,
    metrics: OrdersMetrics,
}

impl OrderRegistry {
    pub fn new(pool: Pool, metrics: OrdersMetrics) -> Self {
        Self { pool, live: HashMap::new(), metrics }
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
}

impl Handler<PlaceOrder> for OrderRegistry {
    type Result = ResponseFuture<Result<Placed, PlaceOrderError>>;

    fn handle(&mut self, msg: PlaceOrder, ctx: &mut Self::Context) -> Self::Result {
        let id = OrderId::generate();
        let actor = OrderActor::new(id, self.pool.clone(), ctx.address().recipient(), self.metrics.clone())
            .start();
        self.live.insert(id, actor.clone());
        self.metrics.live_order_actors.set(self.live.len() as i64);
        let place = Place { customer: msg.customer, cart: msg.cart, idempotency_key: msg.idempotency_key };
        Box::pin(async move {
            actor
                .send(place)
                .await
                .map_err(|e| PlaceOrderError::Unexpected(anyhow::anyhow!("order actor unreachable: {e}")))?
        })
    }
}

/// An order actor has stopped (idle, finished, or nothing to own).
#[derive(Message)]
#[rtype(result = "()")]
pub struct OrderActorStopped {
    pub id: OrderId,
}

impl Handler<OrderActorStopped> for OrderRegistry {
    type Result = ();

    fn handle(&mut self, msg: OrderActorStopped, _: &mut Self::Context) {
        self.live.remove(&msg.id);
        self.metrics.live_order_actors.set(self.live.len() as i64);
    }
}
