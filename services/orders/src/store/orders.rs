//! Orders with their lines and timeline.

use crate::domain::{
    Cents, CustomerId, IdempotencyKey, MenuItemId, Note, Order, OrderId, OrderLine, OrderStatus,
    Quantity, StatusReached,
};
use anyhow::Context as _;
use tokio_postgres::{GenericClient, Transaction};

/// Writes a new order (version 1) with its lines and first timeline entry.
pub async fn insert(tx: &Transaction<'_>, order: &Order, changed_by: &str) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO orders.orders (id, customer_id, status, version, total_cents, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &order.id.as_uuid(),
            &order.customer_id.as_uuid(),
            &order.status.as_str(),
            &order.version,
            &order.total.0,
            &order.created_at,
            &order.updated_at,
        ],
    )
    .await
    .context("inserting the order")?;
    let statement = tx
        .prepare(
            "INSERT INTO orders.order_items
               (order_id, line_no, menu_item_id, name, station, quantity, unit_price_cents, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await
        .context("preparing the line insert")?;
    for (index, line) in order.lines.iter().enumerate() {
        let line_no = index as i32 + 1;
        let quantity = line.quantity.get() as i32;
        tx.execute(
            &statement,
            &[
                &order.id.as_uuid(),
                &line_no,
                &line.menu_item_id.as_uuid(),
                &line.name,
                &line.station,
                &quantity,
                &line.unit_price.0,
                &line.note.as_ref().map(Note::as_str),
            ],
        )
        .await
        .context("inserting an order line")?;
    }
    record_status(tx, order, changed_by).await
}

/// Adds the order's latest status to its timeline.
async fn record_status(tx: &Transaction<'_>, order: &Order, changed_by: &str) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO orders.order_status_history (order_id, version, status, reached_at, changed_by)
         VALUES ($1, $2, $3, $4, $5)",
        &[&order.id.as_uuid(), &order.version, &order.status.as_str(), &order.updated_at, &changed_by],
    )
    .await
    .context("recording the status change")?;
    Ok(())
}

/// How an idempotency key stands when an order is about to be placed with it.
#[derive(Debug)]
pub enum KeyClaim {
    /// The key is ours now (new, or its earlier use expired): place the order.
    Claimed,
    /// The key already placed this order with this cart: return that order.
    Replay(OrderId),
    /// The key already placed an order with another cart.
    OtherCart,
}

/// Claims `key` for `order_id` within the transaction. A concurrent transaction holding the same
/// key makes this wait until it commits or rolls back, so a duplicate click waits for the first
/// and then sees its order. Keys are kept 24 hours.
pub async fn claim_idempotency_key(
    tx: &Transaction<'_>,
    customer: CustomerId,
    key: &IdempotencyKey,
    fingerprint: &str,
    order_id: OrderId,
) -> anyhow::Result<KeyClaim> {
    let claimed = tx
        .query_opt(
            "INSERT INTO orders.idempotency_keys (customer_id, key, cart_fingerprint, order_id)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (customer_id, key) DO UPDATE
               SET cart_fingerprint = EXCLUDED.cart_fingerprint, order_id = EXCLUDED.order_id,
                   created_at = now()
               WHERE orders.idempotency_keys.created_at < now() - interval '24 hours'
             RETURNING 1",
            &[&customer.as_uuid(), &key.as_str(), &fingerprint, &order_id.as_uuid()],
        )
        .await
        .context("claiming the idempotency key")?;
    if claimed.is_some() {
        return Ok(KeyClaim::Claimed);
    }
    let row = tx
        .query_one(
            "SELECT cart_fingerprint, order_id FROM orders.idempotency_keys
             WHERE customer_id = $1 AND key = $2",
            &[&customer.as_uuid(), &key.as_str()],
        )
        .await
        .context("reading the idempotency key")?;
    let stored: String = row.get("cart_fingerprint");
    Ok(if stored == fingerprint {
        KeyClaim::Replay(OrderId::from_uuid(row.get("order_id")))
    } else {
        KeyClaim::OtherCart
    })
}

/// The order as stored, or `None`.
pub async fn load(client: &impl GenericClient, id: OrderId) -> anyhow::Result<Option<Order>> {
    let Some(row) = client
        .query_opt(
            "SELECT id, customer_id, status, version, total_cents, created_at, updated_at
             FROM orders.orders WHERE id = $1",
            &[&id.as_uuid()],
        )
        .await
        .context("loading the order")?
    else {
        return Ok(None);
    };
    let lines = client
        .query(
            "SELECT menu_item_id, name, station, quantity, unit_price_cents, note
             FROM orders.order_items WHERE order_id = $1 ORDER BY line_no",
            &[&id.as_uuid()],
        )
        .await
        .context("loading the order's lines")?
        .iter()
        .map(|r| {
            let quantity: i32 = r.get("quantity");
            let note: Option<String> = r.get("note");
            Ok(OrderLine {
                menu_item_id: MenuItemId::from_uuid(r.get("menu_item_id")),
                name: r.get("name"),
                station: r.get("station"),
                quantity: Quantity::parse(i64::from(quantity))
                    .with_context(|| format!("stored quantity {quantity} out of range"))?,
                unit_price: Cents(r.get("unit_price_cents")),
                note: Note::parse(note.as_deref())
                    .map_err(|_| anyhow::anyhow!("stored note is invalid"))?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let timeline = client
        .query(
            "SELECT status, reached_at FROM orders.order_status_history
             WHERE order_id = $1 ORDER BY version",
            &[&id.as_uuid()],
        )
        .await
        .context("loading the order's timeline")?
        .iter()
        .map(|r| Ok(StatusReached { status: status(r.get("status"))?, at: r.get("reached_at") }))
        .collect::<anyhow::Result<_>>()?;
    Ok(Some(Order {
        id,
        customer_id: CustomerId::from_uuid(row.get("customer_id")),
        status: status(row.get("status"))?,
        version: row.get("version"),
        lines,
        total: Cents(row.get("total_cents")),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        timeline,
    }))
}

fn status(value: &str) -> anyhow::Result<OrderStatus> {
    OrderStatus::parse(value).with_context(|| format!("unknown order status {value:?} in the database"))
}
