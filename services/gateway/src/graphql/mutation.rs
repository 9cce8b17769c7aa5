//! The mutation root: accounts and sessions, placing orders and moving them along.

use super::types::{AuthPayload, CreateOrderInput, LoginInput, MenuItem, Order, OrderStatus, RegisterInput};
use super::{Context, field_error};
use crate::model::NewOrderLine;
use juniper::{FieldResult, ID, graphql_object};

pub struct Mutation;

#[graphql_object(context = Context)]
impl Mutation {
    /// A new customer account, signed in.
    async fn register(context: &Context, input: RegisterInput) -> FieldResult<AuthPayload> {
        let session = context
            .users
            .register(input.username, input.password, context.client_address)
            .await
            .map_err(|e| field_error(&e))?;
        Ok(AuthPayload(session))
    }

    /// Signs in; the same error for an unknown user and a wrong password.
    async fn login(context: &Context, input: LoginInput) -> FieldResult<AuthPayload> {
        let session = context
            .users
            .login(input.username, input.password, context.client_address)
            .await
            .map_err(|e| field_error(&e))?;
        Ok(AuthPayload(session))
    }

    /// Revokes the token this request was made with, on every service.
    async fn logout(context: &Context) -> FieldResult<bool> {
        let caller = context.user()?;
        context.users.logout(&caller.token).await.map_err(|e| field_error(&e))?;
        // Refused in this process at once, not at the next revocation poll: this gateway's
        // sockets on the token get no event from now on and close at their next check.
        if let Ok(ids) = context.verifier.revocation_ids(&caller.token) {
            context.verifier.revocations().insert_all(ids);
        }
        Ok(true)
    }

    /// Places an order for the signed-in customer. With an `idempotencyKey`, retrying the same
    /// cart returns the first order.
    async fn create_order(context: &Context, input: CreateOrderInput) -> FieldResult<Order> {
        let caller = context.user()?;
        let lines = input
            .items
            .into_iter()
            .map(|i| NewOrderLine { menu_item_id: i.menu_item_id.to_string(), quantity: i.quantity, note: i.note })
            .collect();
        let order = context
            .orders
            .create_order(&caller.token, lines, input.idempotency_key, (input.order_type.map(Into::into), input.table))
            .await
            .map_err(|e| field_error(&e))?;
        Ok(Order(order))
    }

    /// Moves an order along its lifecycle (kitchen staff; READY → PREPARING is the recall).
    async fn update_order_status(context: &Context, id: ID, status: OrderStatus) -> FieldResult<Order> {
        let caller = context.user()?;
        let order = context
            .orders
            .update_status(&caller.token, id.to_string(), status.into())
            .await
            .map_err(|e| field_error(&e))?;
        Ok(Order(order))
    }

    /// Completes a READY order (kitchen staff).
    async fn complete_order(context: &Context, order_id: ID) -> FieldResult<Order> {
        let caller = context.user()?;
        let order = context.orders.complete(&caller.token, order_id.to_string()).await.map_err(|e| field_error(&e))?;
        Ok(Order(order))
    }

    /// Cancels the caller's own order while it is PLACED or ACCEPTED (kitchen staff may reject
    /// any such order), saying why if they like (at most 200 characters): the kitchen's tablets
    /// and the order's page show it.
    async fn cancel_order(context: &Context, order_id: ID, reason: Option<String>) -> FieldResult<Order> {
        let caller = context.user()?;
        let order =
            context.orders.cancel(&caller.token, order_id.to_string(), reason).await.map_err(|e| field_error(&e))?;
        Ok(Order(order))
    }

    /// Kitchen staff mark a dish sold out (`available: false`, 86'd) or available again. Orders
    /// for it are refused from then on, and every open menu and cart hears of it
    /// (`menuItemChanged`).
    async fn set_menu_item_available(context: &Context, id: ID, available: bool) -> FieldResult<MenuItem> {
        let caller = context.user()?;
        let item = context
            .orders
            .set_menu_item_available(&caller.token, id.to_string(), available)
            .await
            .map_err(|e| field_error(&e))?;
        Ok(MenuItem(item))
    }
}
