use super::types::{CreateOrderInput, Order};
use super::{Context, backend_error};
use crate::model::NewOrderLine;
use juniper::{FieldResult, graphql_object};

pub struct Mutation;

#[graphql_object(context = Context)]
impl Mutation {
    /// Places an order. With an `idempotencyKey`, retrying the same cart returns the first order.
    async fn create_order(context: &Context, input: CreateOrderInput) -> FieldResult<Order> {
        let lines = input
            .items
            .into_iter()
            .map(|i| NewOrderLine { menu_item_id: i.menu_item_id.to_string(), quantity: i.quantity, note: i.note })
            .collect();
        let order = context.orders.create_order(lines, input.idempotency_key).await.map_err(backend_error)?;
        Ok(Order(order))
    }
}
