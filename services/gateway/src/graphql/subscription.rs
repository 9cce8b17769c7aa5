//! The subscription root: live order events, from the gateway's one upstream stream
//! ([`crate::live`]).

use super::types::{MenuItem, Order, OrderStatus, int};
use super::{Context, Refusal, field_error};
use crate::live::{LiveItem, Watched};
use crate::live_menu::MenuChange;
use crate::model::{self, OrderChange};
use futures::{Stream, StreamExt as _};
use juniper::{FieldResult, GraphQLObject, ID, graphql_subscription};
use std::pin::Pin;
use tokens::Role;
use uuid::Uuid;

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

/// The live events of `watched` that `keep` lets through, mapped by `map`. On a socket, the
/// subscription takes one of its slots until it ends. A subscriber that falls too far behind
/// gets an UNAVAILABLE error and its stream ends; so does every subscription of an order once
/// the order is finished (after its last event).
async fn live<T: Send + 'static>(
    context: &Context,
    watched: Watched,
    keep: impl Fn(&model::OrderEvent) -> bool + Send + 'static,
    map: impl Fn(&model::OrderEvent) -> T + Send + 'static,
) -> FieldResult<Live<T>> {
    let slot = match &context.socket {
        Some(socket) => {
            Some(socket.take().ok_or_else(|| field_error(&Refusal::TooManySubscriptions { max: socket.max() }))?)
        }
        None => None,
    };
    let events = context.live.watch(watched).await.map_err(|e| field_error(&e))?;
    let session = context.session.clone();
    let stream = events.filter_map(move |item| {
        // Held as long as the stream: the socket's slot is taken until the subscription ends.
        let _slot = &slot;
        // A token revoked or expired sees nothing more (its socket is about to close).
        if session.as_ref().is_some_and(|s| s.check().is_err()) {
            return std::future::ready(None);
        }
        std::future::ready(match item {
            LiveItem::Event(event) if keep(&event) => Some(Ok(map(&event))),
            LiveItem::Event(_) => None,
            LiveItem::FellBehind => Some(Err(field_error(&Refusal::FellBehind))),
        })
    });
    Ok(Box::pin(stream))
}

/// An order id in its one spelling (lower-case, hyphenated), whatever spelling of the UUID the
/// client sent: what the hub, the backends and the events all key on.
fn order_id_of(id: &ID) -> FieldResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| field_error(&Refusal::NotAnOrderId(id.to_string())))
}

#[graphql_subscription(context = Context)]
impl Subscription {
    /// Every new order, as it is placed (kitchen staff).
    async fn order_created(context: &Context) -> FieldResult<Live<Order>> {
        let caller = context.user()?;
        if caller.claims.role != Role::KitchenStaff {
            return Err(field_error(&Refusal::KitchenStaffOnly));
        }
        live(context, Watched::Everything, |e| e.change == OrderChange::Created, |e| Order(e.order.clone())).await
    }

    /// Status changes of one order (customers: their own), or of every order (kitchen staff,
    /// without `orderId`).
    async fn order_status_changed(context: &Context, order_id: Option<ID>) -> FieldResult<Live<OrderStatusEvent>> {
        let caller = context.user()?;
        let order_id = order_id.as_ref().map(order_id_of).transpose()?;
        match (order_id, caller.claims.role) {
            (None, Role::Customer) => {
                return Err(field_error(&Refusal::OneOrderOnly));
            }
            // The orders service decides whether this caller may see it (NOT_FOUND, FORBIDDEN),
            // asked in turn with every other starting subscription.
            (Some(id), _) => {
                let _turn = context.live.check_turn().await.map_err(|e| field_error(&e))?;
                context.orders.get_order(&caller.token, id.to_string()).await.map_err(|e| field_error(&e))?;
            }
            (None, Role::KitchenStaff) => {}
        }
        let watched = order_id.map_or(Watched::Everything, Watched::Order);
        // Status changes only: a moved promise is no status change (`orderUpdated` has those).
        let keep = |e: &model::OrderEvent| !matches!(e.change, OrderChange::Created | OrderChange::Promised);
        live(context, watched, keep, |e| {
            let previous = match e.change {
                OrderChange::StatusChanged { from } | OrderChange::Cancelled { from } => Some(from.into()),
                OrderChange::Created | OrderChange::Promised => None,
            };
            OrderStatusEvent {
                order_id: ID::new(&e.order.id),
                status: e.order.status.into(),
                previous_status: previous,
                version: int(e.order.version),
                order: Order(e.order.clone()),
            }
        })
        .await
    }

    /// The order as it is now (customers: their own), then every later change as its page
    /// shows it: status changes and the kitchen's moved ready-by promise (which keeps the
    /// version and raises `promiseRevision`). Ends after the order's last event, or at once
    /// when the order is already finished.
    async fn order_updated(context: &Context, order_id: ID) -> FieldResult<Live<Order>> {
        let caller = context.user()?;
        let id = order_id_of(&order_id)?;
        // Joined before the order is read, so no change falls between the two: one committed
        // before the read is in the snapshot, one after it arrives as an event. Nothing is sent
        // before the orders service has said this caller may see it (NOT_FOUND, FORBIDDEN).
        let changes =
            live(context, Watched::Order(id), |e| e.change != OrderChange::Created, |e| e.order.clone()).await?;
        let now = {
            let _turn = context.live.check_turn().await.map_err(|e| field_error(&e))?;
            context.orders.get_order(&caller.token, id.to_string()).await.map_err(|e| field_error(&e))?
        };
        let seen = now.freshness();
        let finished = matches!(now.status, model::OrderStatus::Completed | model::OrderStatus::Cancelled);
        let snapshot = futures::stream::once(std::future::ready(Ok(Order(now))));
        if finished {
            return Ok(Box::pin(snapshot));
        }
        // An event the snapshot already holds (or an older one) is not sent again.
        let newer = changes.filter_map(move |change| {
            std::future::ready(match change {
                Ok(order) if order.freshness() <= seen => None,
                other => Some(other.map(Order)),
            })
        });
        Ok(Box::pin(snapshot.chain(newer)))
    }

    /// Every menu item whose availability changes from now on: a dish the kitchen 86ed (sold
    /// out) or brought back. Public, like the menu.
    async fn menu_item_changed(context: &Context) -> FieldResult<Live<MenuItem>> {
        let slot = match &context.socket {
            Some(socket) => {
                Some(socket.take().ok_or_else(|| field_error(&Refusal::TooManySubscriptions { max: socket.max() }))?)
            }
            None => None,
        };
        let stream = context.menu.watch().map(move |change| {
            // Held as long as the stream: the socket's slot is taken until the subscription ends.
            let _slot = &slot;
            match change {
                MenuChange::Item(item) => Ok(MenuItem((*item).clone())),
                MenuChange::FellBehind => Err(field_error(&Refusal::FellBehind)),
            }
        });
        Ok(Box::pin(stream))
    }
}
