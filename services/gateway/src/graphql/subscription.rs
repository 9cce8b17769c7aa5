//! The subscription root: live order events, from the gateway's one upstream stream
//! ([`crate::live`]).

use super::types::{Order, OrderStatus, int};
use super::{Context, Refusal, field_error};
use crate::model::{self, OrderChange};
use futures::{Stream, StreamExt as _};
use juniper::{FieldResult, GraphQLObject, ID, graphql_subscription};
use std::pin::Pin;
use tokens::Role;

type Live<T> = Pin<Box<dyn Stream<Item = FieldResult<T>> + Send>>;

/// An order moved to another status (or was cancelled).
#[derive(GraphQLObject)]
#[graphql(context = Context)]
pub struct OrderStatusEvent {
    pub order_id: ID,
    pub status: OrderStatus,
    pub previous_status: Option<OrderStatus>,
    pub version: i32,
    pub order: Order,
}

pub struct Subscription;

/// The live events `keep` lets through, mapped by `map`. A subscriber that falls too far behind
/// gets an UNAVAILABLE error and its stream ends.
fn live<T: Send + 'static>(
    context: &Context,
    order_id: Option<&str>,
    keep: impl Fn(&model::OrderEvent) -> bool + Send + 'static,
    map: impl Fn(&model::OrderEvent) -> T + Send + 'static,
) -> Live<T> {
    let (events, watching) = match order_id {
        Some(id) => context.live.subscribe_to_order(id),
        None => context.live.subscribe(),
    };
    let events = tokio_stream::wrappers::BroadcastStream::new(events);
    let stream = events
        .map(move |event| {
            let _counted = &watching;
            match event {
                Ok(event) if keep(&event) => Some(Ok(map(&event))),
                Ok(_) => None,
                Err(_) => Some(Err(field_error(&Refusal::FellBehind))),
            }
        })
        .take_while(|item| std::future::ready(!matches!(item, Some(Err(_)))))
        .filter_map(std::future::ready);
    Box::pin(stream)
}

#[graphql_subscription(context = Context)]
impl Subscription {
    /// Every new order, as it is placed (kitchen staff).
    async fn order_created(context: &Context) -> FieldResult<Live<Order>> {
        let caller = context.user()?;
        if caller.claims.role != Role::KitchenStaff {
            return Err(field_error(&Refusal::KitchenStaffOnly));
        }
        Ok(live(context, None, |e| e.change == OrderChange::Created, |e| Order(e.order.clone())))
    }

    /// Status changes of one order (customers: their own), or of every order (kitchen staff,
    /// without `orderId`).
    async fn order_status_changed(context: &Context, order_id: Option<ID>) -> FieldResult<Live<OrderStatusEvent>> {
        let caller = context.user()?;
        let order_id = order_id.map(|id| id.to_string());
        match (&order_id, caller.claims.role) {
            (None, Role::Customer) => {
                return Err(field_error(&Refusal::OneOrderOnly));
            }
            // The orders service decides whether this caller may see it (NOT_FOUND, FORBIDDEN).
            (Some(id), _) => {
                context.orders.get_order(&caller.token, id.clone()).await.map_err(|e| field_error(&e))?;
            }
            (None, Role::KitchenStaff) => {}
        }
        let channel = order_id.clone();
        let keep = move |e: &model::OrderEvent| {
            e.change != OrderChange::Created && order_id.as_ref().is_none_or(|id| *id == e.order.id)
        };
        Ok(live(context, channel.as_deref(), keep, |e| {
            let previous = match e.change {
                OrderChange::StatusChanged { from } | OrderChange::Cancelled { from } => Some(from.into()),
                OrderChange::Created => None,
            };
            OrderStatusEvent {
                order_id: ID::new(&e.order.id),
                status: e.order.status.into(),
                previous_status: previous,
                version: int(e.order.version),
                order: Order(e.order.clone()),
            }
        }))
    }
}
