//! JSON shapes of the REST API. Field names are camelCase, as in GraphQL.

use crate::domain::{Note, Order};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrderBody {
    pub items: Vec<OrderItemBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderItemBody {
    pub menu_item_id: String,
    pub quantity: i64,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderBody {
    id: String,
    customer_id: String,
    status: &'static str,
    version: i64,
    items: Vec<OrderLineBody>,
    total_cents: i64,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineBody {
    menu_item_id: String,
    name: String,
    station: String,
    quantity: u32,
    unit_price_cents: i64,
    note: Option<String>,
}

impl From<&Order> for OrderBody {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id.to_string(),
            customer_id: order.customer_id.to_string(),
            status: order.status.as_str(),
            version: order.version,
            items: order
                .lines
                .iter()
                .map(|l| OrderLineBody {
                    menu_item_id: l.menu_item_id.to_string(),
                    name: l.name.clone(),
                    station: l.station.clone(),
                    quantity: l.quantity.get(),
                    unit_price_cents: l.unit_price.0,
                    note: l.note.as_ref().map(|n| Note::as_str(n).to_owned()),
                })
                .collect(),
            total_cents: order.total.0,
            created_at: order.created_at.to_rfc3339(),
            updated_at: order.updated_at.to_rfc3339(),
        }
    }
}
