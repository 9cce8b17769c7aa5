//! Orders with their lines and timeline.

use crate::domain::{
    Cents, CustomerId, IdempotencyKey, MenuItemId, Note, Order, OrderEvent, OrderId, OrderLine, OrderStatus, OrderType,
    Quantity, Service, StatusReached, TableLabel,
};
use anyhow::Context as _;
use deadpool_postgres::{GenericClient, Transaction};
use std::collections::HashMap;

/// What came of [`place`]: the statement writes the order only if the menu still is as the
/// order saw it and its idempotency key is free.
#[derive(Debug, PartialEq, Eq)]
pub enum Placement {
    /// The order, its lines, first timeline entry, `Created` event and key are written.
    Placed,
    /// A dish is gone, sold out, or no longer named, priced or prepared as the order has it:
    /// nothing is written; read the menu again.
    MenuChanged,
    /// The key is held (unexpired) by the order `order_id`, placed with the cart of `fingerprint`;
    /// nothing is written.
    KeyHeld { fingerprint: String, order_id: OrderId },
    /// A placement with the same key committed while this one ran: nothing is written; ask
    /// [`idempotency_key`] who holds it.
    KeyRaced,
}

/// Places a new order (version 1) in one statement, one round trip: it checks every line's dish
/// against the menu (available, and named, priced and prepared as the line has it), claims the
/// idempotency key, and writes the order, its lines, its first timeline entry and its outbox
/// event (with the request's trace context) — all of them or, if a check fails, none. A single
/// statement is its own transaction: no BEGIN and COMMIT on every order's way to the kitchen.
/// Keys are kept 24 hours; a concurrent placement with the same key makes this one wait for it.
pub async fn place(
    client: &impl GenericClient,
    order: &Order,
    event: &OrderEvent,
    trace: Option<&service_kit::trace::TraceParent>,
    key: Option<(&IdempotencyKey, &str)>,
) -> anyhow::Result<Placement> {
    let statement = client
        .prepare_cached(
            "WITH menu_as_seen AS (
               SELECT coalesce(bool_and(m.available AND m.name = l.name AND m.station = l.station
                                        AND m.price_cents = l.price AND m.prep_minutes = l.prep), false)
                      AND count(m.id) = count(*) AS holds
               FROM unnest($9::uuid[], $10::text[], $11::text[], $13::bigint[], $19::integer[])
                      AS l(dish, name, station, price, prep)
               LEFT JOIN orders.menu_items m ON m.id = l.dish
             ), key_holder AS (
               SELECT cart_fingerprint, order_id FROM orders.idempotency_keys
               WHERE customer_id = $2 AND key = $24::text AND created_at >= now() - interval '24 hours'
             ), claim AS (
               INSERT INTO orders.idempotency_keys (customer_id, key, cart_fingerprint, order_id)
               SELECT $2, $24::text, $25::text, $1 FROM menu_as_seen
               WHERE holds AND $24::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM key_holder)
               ON CONFLICT (customer_id, key) DO UPDATE
                 SET cart_fingerprint = EXCLUDED.cart_fingerprint, order_id = EXCLUDED.order_id,
                     created_at = now()
                 WHERE orders.idempotency_keys.created_at < now() - interval '24 hours'
               RETURNING 1
             ), placed AS (
               INSERT INTO orders.orders
                 (id, customer_id, status, version, total_cents, created_at, updated_at, number, order_type, table_label)
               SELECT $1, $2, $3, $4, $5, $6, $7, $16, $17, $18 FROM menu_as_seen
               WHERE holds AND ($24::text IS NULL OR EXISTS (SELECT 1 FROM claim))
               RETURNING id
             ), lines AS (
               INSERT INTO orders.order_items
                 (order_id, line_no, menu_item_id, name, station, quantity, unit_price_cents, note, prep_minutes)
               SELECT placed.id, line.*
               FROM placed, unnest($8::integer[], $9::uuid[], $10::text[], $11::text[], $12::integer[],
                                   $13::bigint[], $14::text[], $19::integer[]) AS line
             ), history AS (
               INSERT INTO orders.order_status_history (order_id, version, status, reached_at, changed_by)
               SELECT id, $4, $3, $7, $15 FROM placed
             ), outbox AS (
               INSERT INTO orders.outbox (event_id, order_id, event_type, payload, traceparent)
               SELECT $20, id, $21, $22, $23 FROM placed
             )
             SELECT (SELECT holds FROM menu_as_seen) AS menu_holds,
                    EXISTS (SELECT 1 FROM placed) AS placed,
                    (SELECT cart_fingerprint FROM key_holder) AS held_fingerprint,
                    (SELECT order_id FROM key_holder) AS held_order",
        )
        .await
        .context("preparing the order placement")?;
    let lines = &order.lines;
    let line_nos: Vec<i32> = (1..).take(lines.len()).collect();
    let dishes: Vec<uuid::Uuid> = lines.iter().map(|l| l.menu_item_id.as_uuid()).collect();
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    let stations: Vec<&str> = lines.iter().map(|l| l.station.as_str()).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity.get() as i32).collect();
    let prices: Vec<i64> = lines.iter().map(|l| l.unit_price.0).collect();
    let notes: Vec<Option<&str>> = lines.iter().map(|l| l.note.as_ref().map(Note::as_str)).collect();
    let preps: Vec<i32> = lines.iter().map(|l| l.prep_minutes).collect();
    let number = i32::try_from(order.number).context("an order number out of range")?;
    let changed_by = order.customer_id.to_string();
    let (event_type, payload) = crate::wire::encode_event(event);
    let traceparent = trace.map(service_kit::trace::TraceParent::header);
    let row = client
        .query_one(
            &statement,
            &[
                &order.id.as_uuid(),
                &order.customer_id.as_uuid(),
                &order.status.as_str(),
                &order.version,
                &order.total.0,
                &order.created_at,
                &order.updated_at,
                &line_nos,
                &dishes,
                &names,
                &stations,
                &quantities,
                &prices,
                &notes,
                &changed_by,
                &number,
                &order.service.kind.as_str(),
                &order.service.table.as_ref().map(TableLabel::as_str),
                &preps,
                &event.event_id,
                &event_type,
                &payload,
                &traceparent,
                &key.map(|(key, _)| key.as_str()),
                &key.map(|(_, fingerprint)| fingerprint),
            ],
        )
        .await
        .context("placing the order")?;
    if row.get::<_, bool>("placed") {
        return Ok(Placement::Placed);
    }
    if let Some(fingerprint) = row.get::<_, Option<String>>("held_fingerprint") {
        return Ok(Placement::KeyHeld { fingerprint, order_id: OrderId::from_uuid(row.get("held_order")) });
    }
    Ok(if row.get::<_, bool>("menu_holds") { Placement::KeyRaced } else { Placement::MenuChanged })
}

/// Takes the next `count` short numbers of `day` (UTC) from its counter: 1 is the day's first.
/// Run it outside any order's transaction: the day's row is locked only for this statement, so
/// placements do not queue behind each other's commits. Numbers are never repeated; one taken
/// and not used leaves a gap.
pub async fn take_numbers(
    client: &impl GenericClient,
    day: chrono::NaiveDate,
    count: u32,
) -> anyhow::Result<std::ops::RangeInclusive<u32>> {
    anyhow::ensure!(count >= 1, "taking no order numbers");
    let count = i32::try_from(count).context("too many order numbers at once")?;
    let row = client
        .query_one(
            &client
                .prepare_cached(
                    "INSERT INTO orders.daily_order_numbers (day, last) VALUES ($1, $2)
                     ON CONFLICT (day) DO UPDATE SET last = orders.daily_order_numbers.last + $2
                     RETURNING last",
                )
                .await?,
            &[&day, &count],
        )
        .await
        .context("taking the day's next order numbers")?;
    let last = u32::try_from(row.get::<_, i32>("last")).context("a negative order number")?;
    let count = count.unsigned_abs();
    Ok(last + 1 - count..=last)
}

/// Adds the order's latest status to its timeline.
async fn record_status(tx: &Transaction<'_>, order: &Order, changed_by: &str) -> anyhow::Result<()> {
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO orders.order_status_history (order_id, version, status, reached_at, changed_by)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .await?,
        &[&order.id.as_uuid(), &order.version, &order.status.as_str(), &order.updated_at, &changed_by],
    )
    .await
    .context("recording the status change")?;
    Ok(())
}

/// Who holds `key` of `customer` (an unexpired one): the cart fingerprint it was used with and
/// the order it placed.
pub async fn idempotency_key(
    client: &impl GenericClient,
    customer: CustomerId,
    key: &IdempotencyKey,
) -> anyhow::Result<Option<(String, OrderId)>> {
    let row = client
        .query_opt(
            &client
                .prepare_cached(
                    "SELECT cart_fingerprint, order_id FROM orders.idempotency_keys
                     WHERE customer_id = $1 AND key = $2 AND created_at >= now() - interval '24 hours'",
                )
                .await?,
            &[&customer.as_uuid(), &key.as_str()],
        )
        .await
        .context("reading the idempotency key")?;
    Ok(row.map(|r| (r.get("cart_fingerprint"), OrderId::from_uuid(r.get("order_id")))))
}

/// The order as stored, or `None`.
pub async fn load(client: &impl GenericClient, id: OrderId) -> anyhow::Result<Option<Order>> {
    Ok(load_many(client, &[id]).await?.pop())
}

/// The orders with these ids, in the order asked; unknown ids are left out. Three queries
/// whatever the number of orders.
pub async fn load_many(client: &impl GenericClient, ids: &[OrderId]) -> anyhow::Result<Vec<Order>> {
    let uuids: Vec<uuid::Uuid> = ids.iter().map(OrderId::as_uuid).collect();
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT id, customer_id, status, version, total_cents, created_at, updated_at, number,
                    order_type, table_label, cancel_reason, ready_by, promise_revision
             FROM orders.orders WHERE id = ANY($1)",
                )
                .await?,
            &[&uuids],
        )
        .await
        .context("loading orders")?;
    let mut lines: HashMap<uuid::Uuid, Vec<OrderLine>> = HashMap::new();
    for r in client
        .query(
            &client
                .prepare_cached(
                    "SELECT order_id, menu_item_id, name, station, quantity, unit_price_cents, note, prep_minutes
             FROM orders.order_items WHERE order_id = ANY($1) ORDER BY order_id, line_no",
                )
                .await?,
            &[&uuids],
        )
        .await
        .context("loading order lines")?
    {
        let quantity: i32 = r.get("quantity");
        let note: Option<String> = r.get("note");
        lines.entry(r.get("order_id")).or_default().push(OrderLine {
            menu_item_id: MenuItemId::from_uuid(r.get("menu_item_id")),
            name: r.get("name"),
            station: r.get("station"),
            prep_minutes: r.get("prep_minutes"),
            quantity: Quantity::parse(i64::from(quantity))
                .with_context(|| format!("stored quantity {quantity} out of range"))?,
            unit_price: Cents(r.get("unit_price_cents")),
            note: Note::parse(note.as_deref()).map_err(|_| anyhow::anyhow!("stored note is invalid"))?,
        });
    }
    let mut timelines: HashMap<uuid::Uuid, Vec<StatusReached>> = HashMap::new();
    for r in client
        .query(
            &client
                .prepare_cached(
                    "SELECT order_id, status, reached_at FROM orders.order_status_history
             WHERE order_id = ANY($1) ORDER BY order_id, version",
                )
                .await?,
            &[&uuids],
        )
        .await
        .context("loading order timelines")?
    {
        timelines
            .entry(r.get("order_id"))
            .or_default()
            .push(StatusReached { status: status(r.get("status"))?, at: r.get("reached_at") });
    }
    let mut found: HashMap<uuid::Uuid, Order> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: uuid::Uuid = row.get("id");
        found.insert(
            id,
            Order {
                id: OrderId::from_uuid(id),
                customer_id: CustomerId::from_uuid(row.get("customer_id")),
                number: u32::try_from(row.get::<_, i32>("number")).context("a negative order number")?,
                status: status(row.get("status"))?,
                version: row.get("version"),
                lines: lines.remove(&id).unwrap_or_default(),
                total: Cents(row.get("total_cents")),
                created_at: row.get("created_at"),
                updated_at: row.get("updated_at"),
                timeline: timelines.remove(&id).unwrap_or_default(),
                service: Service {
                    kind: OrderType::parse(row.get("order_type")).context("an unknown order type")?,
                    table: row
                        .get::<_, Option<&str>>("table_label")
                        .map(|t| TableLabel::parse(t).context("a stored table label is invalid"))
                        .transpose()?,
                },
                cancel_reason: row.get("cancel_reason"),
                ready_by: row.get("ready_by"),
                promise_revision: row.get("promise_revision"),
            },
        );
    }
    Ok(uuids.iter().filter_map(|id| found.remove(id)).collect())
}

/// The kitchen's promise as stored: when, and its revision.
pub type StoredPromise = (Option<chrono::DateTime<chrono::Utc>>, i64);

/// Writes a status change made from `expected_version`: the order row (only if nobody changed
/// it meanwhile) and its timeline entry, answering the promise the row holds now (the kitchen
/// moves it without a version, so the caller's copy may be behind). `Ok(None)`: another writer
/// got there first; nothing was written.
pub async fn update_status(
    tx: &Transaction<'_>,
    order: &Order,
    expected_version: i64,
    changed_by: &str,
) -> anyhow::Result<Option<StoredPromise>> {
    let updated = tx
        .query_opt(
            &tx.prepare_cached(
                "UPDATE orders.orders SET status = $2, version = $3, updated_at = $4, cancel_reason = $6
             WHERE id = $1 AND version = $5
             RETURNING ready_by, promise_revision",
            )
            .await?,
            &[
                &order.id.as_uuid(),
                &order.status.as_str(),
                &order.version,
                &order.updated_at,
                &expected_version,
                &order.cancel_reason,
            ],
        )
        .await
        .context("updating the order")?;
    let Some(row) = updated else { return Ok(None) };
    record_status(tx, order, changed_by).await?;
    Ok(Some((row.get("ready_by"), row.get("promise_revision"))))
}

/// Writes a promise the kitchen moved, if the order still waits and the promise is not that
/// already; the row lock orders it with status changes (each reads what the other committed).
/// `Ok(None)`: nothing to write.
pub async fn promise(
    tx: &Transaction<'_>,
    id: OrderId,
    ready_by: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<(Order, crate::domain::OrderEvent)>> {
    let locked = tx
        .query_opt(&tx.prepare_cached("SELECT 1 FROM orders.orders WHERE id = $1 FOR UPDATE").await?, &[&id.as_uuid()])
        .await
        .context("locking the order for its promise")?;
    if locked.is_none() {
        return Ok(None);
    }
    let Some(order) = load(tx, id).await? else { return Ok(None) };
    let Some((next, event)) = order.promise(ready_by) else { return Ok(None) };
    tx.execute(
        &tx.prepare_cached("UPDATE orders.orders SET ready_by = $2, promise_revision = $3 WHERE id = $1").await?,
        &[&id.as_uuid(), &next.ready_by, &next.promise_revision],
    )
    .await
    .context("storing the promise")?;
    Ok(Some((next, event)))
}

/// Where a page of orders ends (newest first): opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    created_at: chrono::DateTime<chrono::Utc>,
    id: uuid::Uuid,
}

impl OrderCursor {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.created_at.timestamp_micros(), self.id)
    }

    pub fn decode(value: &str) -> Option<Self> {
        let (micros, id) = value.split_once(':')?;
        Some(Self {
            created_at: chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: uuid::Uuid::parse_str(id).ok()?,
        })
    }

    fn of(order: &Order) -> Self {
        Self { created_at: order.created_at, id: order.id.as_uuid() }
    }
}

/// A page of orders, newest first, optionally of one customer and/or in one status.
pub async fn list(
    client: &impl GenericClient,
    customer: Option<CustomerId>,
    status: Option<OrderStatus>,
    after: Option<OrderCursor>,
    first: i64,
) -> anyhow::Result<(Vec<(Order, OrderCursor)>, bool)> {
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT id FROM orders.orders
             WHERE ($1::uuid IS NULL OR customer_id = $1)
               AND ($2::text IS NULL OR status = $2)
               AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
             ORDER BY created_at DESC, id DESC LIMIT $5",
                )
                .await?,
            &[
                &customer.map(|c| c.as_uuid()),
                &status.map(OrderStatus::as_str),
                &after.map(|a| a.created_at),
                &after.map_or(uuid::Uuid::nil(), |a| a.id),
                &(first + 1),
            ],
        )
        .await
        .context("listing orders")?;
    let more = rows.len() as i64 > first;
    let ids: Vec<OrderId> = rows.iter().take(first as usize).map(|r| OrderId::from_uuid(r.get("id"))).collect();
    let orders = load_many(client, &ids).await?;
    Ok((
        orders
            .into_iter()
            .map(|o| {
                let c = OrderCursor::of(&o);
                (o, c)
            })
            .collect(),
        more,
    ))
}

/// Orders whose id starts with `query` or with a line whose name contains it, newest first.
pub async fn search(
    client: &impl GenericClient,
    customer: Option<CustomerId>,
    query: &str,
    first: i64,
) -> anyhow::Result<Vec<Order>> {
    let escaped = service_kit::db::like_literal(query);
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT o.id FROM orders.orders o
             WHERE ($1::uuid IS NULL OR o.customer_id = $1)
               AND (o.id::text LIKE $2 || '%'
                    OR EXISTS (SELECT 1 FROM orders.order_items i
                               WHERE i.order_id = o.id AND lower(i.name) LIKE '%' || $2 || '%'))
             ORDER BY o.created_at DESC, o.id DESC LIMIT $3",
                )
                .await?,
            &[&customer.map(|c| c.as_uuid()), &escaped, &first],
        )
        .await
        .context("searching orders")?;
    let ids: Vec<OrderId> = rows.iter().map(|r| OrderId::from_uuid(r.get("id"))).collect();
    load_many(client, &ids).await
}

fn status(value: &str) -> anyhow::Result<OrderStatus> {
    OrderStatus::parse(value).with_context(|| format!("unknown order status {value:?} in the database"))
}
