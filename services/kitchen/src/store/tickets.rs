//! Tickets and the tablet change log.

use crate::domain::{OrderDetails, OrderKind, Ticket, TicketChange, TicketItem, TicketStatus};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio_postgres::{IsolationLevel, Row};
use uuid::Uuid;

/// Stores `ticket` unless the stored one is at the same or a higher order version; when it is
/// stored, it also takes the next tablet sequence number and records the change. One statement
/// (so one round trip, atomic without BEGIN/COMMIT): this is on every order's way to the
/// tablets. The change's insert notifies every kitchen instance's change-log follower on
/// commit (a trigger). `None`: nothing changed (a duplicate or an older event).
///
/// A refusal by the database comes back as the `tokio_postgres::Error` (with its SQLSTATE)
/// under the context, for the caller to tell a refused ticket from an outage.
pub async fn apply(
    client: &deadpool_postgres::Object,
    ticket: &Ticket,
    trace_id: Option<&str>,
) -> anyhow::Result<Option<TicketChange>> {
    let stored = StoredTicket::from(ticket);
    let items = serde_json::to_value(&stored.items).context("encoding ticket items")?;
    let timeline = serde_json::to_value(&stored.timeline).context("encoding the timeline")?;
    let snapshot = serde_json::to_value(&stored).context("encoding the ticket")?;
    let number = i32::try_from(ticket.number).context("an order number out of range")?;
    let details = serde_json::to_value(&stored.details).context("encoding the order's details")?;
    // The sequence row stays locked until the statement commits: numbers become visible in
    // order, without gaps.
    let statement = client
        .prepare_cached(
            "WITH stored AS (
               INSERT INTO kitchen.tickets
                 (order_id, customer_id, status, order_version, total_cents, items, timeline, placed_at, updated_at, number,
                  details)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12, $13)
               ON CONFLICT (order_id) DO UPDATE SET
                 customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, number = EXCLUDED.number,
                 details = EXCLUDED.details,
                 order_version = EXCLUDED.order_version, total_cents = EXCLUDED.total_cents,
                 items = EXCLUDED.items, timeline = EXCLUDED.timeline,
                 placed_at = EXCLUDED.placed_at, updated_at = EXCLUDED.updated_at
               WHERE kitchen.tickets.order_version < EXCLUDED.order_version
               RETURNING order_id, stations_done, rush, remake_since
             ), next AS (
               UPDATE kitchen.tablet_sequence SET last_seq = last_seq + 1
               WHERE EXISTS (SELECT 1 FROM stored)
               RETURNING last_seq
             )
             INSERT INTO kitchen.tablet_changes (seq, order_id, ticket, trace_id)
             SELECT last_seq, $1,
                    $10::jsonb || jsonb_build_object('stationsDone', stored.stations_done, 'rush', stored.rush,
                                                   'remakeSince', stored.remake_since), $11
             FROM next, stored
             RETURNING seq, ticket",
        )
        .await
        .context("preparing the ticket statement")?;
    let seq = client
        .query_opt(
            &statement,
            &[
                &ticket.order_id,
                &ticket.customer_id,
                &ticket.status.as_str(),
                &ticket.order_version,
                &ticket.total_cents,
                &items,
                &timeline,
                &ticket.placed_at,
                &ticket.updated_at,
                &snapshot,
                &trace_id,
                &number,
                &details,
            ],
        )
        .await
        .context("storing the ticket")?;
    // The ticket as recorded: the event's, with the kitchen's own stations, rush and remake kept.
    seq.map(|row| {
        let stored: StoredTicket = serde_json::from_value(row.get("ticket")).context("decoding the stored change")?;
        Ok(TicketChange { seq: row.get("seq"), ticket: stored.try_into()?, trace_id: trace_id.map(str::to_owned) })
    })
    .transpose()
}

/// Changes what the kitchen itself keeps on a ticket (its stations' progress, rush, a remake) with
/// `change`, which says whether it changed anything; when it did, the change takes the next
/// tablet sequence number and goes into the change log, in one transaction (the ticket's row,
/// then the sequence row: the order [`apply`] locks them in). `None`: no ticket for the order;
/// otherwise the ticket as it is now, and the change when there was one.
pub async fn change_locally(
    client: &mut deadpool_postgres::Object,
    order_id: Uuid,
    change: impl FnOnce(&mut Ticket) -> bool,
) -> anyhow::Result<Option<(Ticket, Option<TicketChange>)>> {
    let tx = client.transaction().await.context("starting a ticket change")?;
    let Some(mut ticket) = tickets_where(&tx, "order_id = $1 FOR UPDATE", &[&order_id]).await?.pop() else {
        return Ok(None);
    };
    if !change(&mut ticket) {
        tx.commit().await.context("ending a ticket change")?;
        return Ok(Some((ticket, None)));
    }
    let stored = StoredTicket::from(&ticket);
    let stations_done = serde_json::to_value(&stored.stations_done).context("encoding stations")?;
    tx.execute(
        &tx.prepare_cached(
            "UPDATE kitchen.tickets SET stations_done = $2, rush = $3, remake_since = $4 WHERE order_id = $1",
        )
        .await?,
        &[&order_id, &stations_done, &ticket.rush, &ticket.remake_since],
    )
    .await
    .context("storing a ticket's stations")?;
    let seq: i64 = tx
        .query_one(
            &tx.prepare_cached("UPDATE kitchen.tablet_sequence SET last_seq = last_seq + 1 RETURNING last_seq").await?,
            &[],
        )
        .await
        .context("taking a tablet sequence number")?
        .get(0);
    let snapshot = serde_json::to_value(&stored).context("encoding the ticket")?;
    tx.execute(
        &tx.prepare_cached("INSERT INTO kitchen.tablet_changes (seq, order_id, ticket) VALUES ($1, $2, $3)").await?,
        &[&seq, &order_id, &snapshot],
    )
    .await
    .context("recording a ticket change")?;
    tx.commit().await.context("committing a ticket change")?;
    Ok(Some((ticket.clone(), Some(TicketChange { seq, ticket, trace_id: None }))))
}

/// The last sequence number handed out.
pub async fn last_seq(client: &impl GenericClient) -> anyhow::Result<i64> {
    Ok(client
        .query_one(&client.prepare_cached("SELECT last_seq FROM kitchen.tablet_sequence").await?, &[])
        .await
        .context("reading the tablet sequence")?
        .get(0))
}

/// The committed changes after `after_seq`, in sequence order, at most `limit`, with their
/// traces: what a change-log follower pushes next. The caller checks they are contiguous.
pub async fn changes_from(
    client: &impl GenericClient,
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<TicketChange>> {
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT seq, ticket, trace_id FROM kitchen.tablet_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .await?,
            &[&after_seq, &limit],
        )
        .await
        .context("reading the tablet change log")?;
    rows.iter()
        .map(|r| {
            let stored: StoredTicket = serde_json::from_value(r.get("ticket")).context("decoding a stored change")?;
            Ok(TicketChange { seq: r.get("seq"), ticket: stored.try_into()?, trace_id: r.get("trace_id") })
        })
        .collect()
}

/// Deletes every change but the last `kept`; returns how many it deleted.
pub async fn prune_changes(client: &impl GenericClient, kept: i64) -> anyhow::Result<u64> {
    client
        .execute(
            &client
                .prepare_cached(
                    "DELETE FROM kitchen.tablet_changes
                     WHERE seq <= (SELECT last_seq FROM kitchen.tablet_sequence) - $1",
                )
                .await?,
            &[&kept],
        )
        .await
        .context("pruning the tablet change log")
}

/// The tickets on the board: open or being remade (oldest first); the last `handed_over`
/// handed-over ones (newest first, not being remade); and the sequence number both are
/// current as of, read in one snapshot so that no change falls between them.
pub async fn board(
    client: &mut deadpool_postgres::Object,
    handed_over: i64,
) -> anyhow::Result<(i64, Vec<Ticket>, Vec<Ticket>)> {
    let tx = snapshot(client).await?;
    let seq = last_seq(&tx).await?;
    let open: Vec<&str> = TicketStatus::OPEN.iter().map(|s| s.as_str()).collect();
    // `Ticket::on_the_board`, in SQL.
    let tickets =
        tickets_where(&tx, "(status = ANY($1) OR remake_since IS NOT NULL) ORDER BY placed_at, order_id", &[&open])
            .await?;
    let last = tickets_where(
        &tx,
        "status = 'COMPLETED' AND remake_since IS NULL ORDER BY updated_at DESC, order_id DESC LIMIT $1",
        &[&handed_over],
    )
    .await?;
    tx.commit().await.context("ending the snapshot transaction")?;
    Ok((seq, tickets, last))
}

/// A read-only transaction on one snapshot: what is read in it, and the tablet sequence number
/// read with it, are current as of the same moment.
async fn snapshot(client: &mut deadpool_postgres::Object) -> anyhow::Result<deadpool_postgres::Transaction<'_>> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .context("starting the snapshot transaction")
}

/// What a tablet that last saw `after_seq` missed: every change since, in order, and the
/// sequence number they bring it to. `None` when that is more than `limit` changes (the tablet
/// is better served by a fresh snapshot).
pub async fn changes_after(
    client: &impl GenericClient,
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<Option<(i64, Vec<TicketChange>)>> {
    let last: i64 = client
        .query_one(&client.prepare_cached("SELECT last_seq FROM kitchen.tablet_sequence").await?, &[])
        .await
        .context("reading the tablet sequence")?
        .get(0);
    if after_seq > last || last - after_seq > limit || after_seq < 0 {
        return Ok(None);
    }
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT seq, ticket FROM kitchen.tablet_changes WHERE seq > $1 AND seq <= $2 ORDER BY seq",
                )
                .await?,
            &[&after_seq, &last],
        )
        .await
        .context("reading tablet changes")?;
    if rows.len() as i64 != last - after_seq {
        // Pruned or missing changes: a snapshot is the safe answer.
        return Ok(None);
    }
    let changes = rows
        .iter()
        .map(|r| {
            let stored: StoredTicket = serde_json::from_value(r.get("ticket")).context("decoding a stored change")?;
            Ok(TicketChange { seq: r.get("seq"), ticket: stored.try_into()?, trace_id: None })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Some((last, changes)))
}

/// At most `limit` tickets with the given status (any, when `None`), oldest first (by
/// `placed_at`, then order id), after the ticket at `after` (placed at, order id) when given.
pub async fn page(
    client: &impl GenericClient,
    status: Option<TicketStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<Ticket>> {
    // Four statement shapes (each prepared once), so that each can use its index.
    let status = status.map(TicketStatus::as_str);
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&limit];
    let mut condition = String::from("true");
    if let Some(status) = &status {
        params.push(status);
        condition.push_str(&format!(" AND status = ${}", params.len()));
    }
    if let Some((placed_at, order_id)) = &after {
        params.push(placed_at);
        params.push(order_id);
        condition.push_str(&format!(" AND (placed_at, order_id) > (${}, ${})", params.len() - 1, params.len()));
    }
    condition.push_str(" ORDER BY placed_at, order_id LIMIT $1");
    tickets_where(client, &condition, &params).await
}

pub async fn by_order(client: &impl GenericClient, order_id: Uuid) -> anyhow::Result<Option<Ticket>> {
    Ok(tickets_where(client, "order_id = $1", &[&order_id]).await?.pop())
}

async fn tickets_where(
    client: &impl GenericClient,
    condition: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> anyhow::Result<Vec<Ticket>> {
    let rows = client
        .query(
            &client
                .prepare_cached(&format!(
                    "SELECT order_id, customer_id, status, order_version, total_cents, items, timeline,
                        placed_at, updated_at, number, stations_done, rush, details, remake_since
                 FROM kitchen.tickets WHERE {condition}"
                ))
                .await?,
            params,
        )
        .await
        .context("reading tickets")?;
    rows.iter().map(ticket).collect()
}

fn ticket(row: &Row) -> anyhow::Result<Ticket> {
    let stored = StoredTicket {
        order_id: row.get("order_id"),
        customer_id: row.get("customer_id"),
        number: u32::try_from(row.get::<_, i32>("number")).context("a negative order number in the database")?,
        status: row.get("status"),
        order_version: row.get("order_version"),
        total_cents: row.get("total_cents"),
        items: serde_json::from_value(row.get("items")).context("decoding stored ticket items")?,
        timeline: serde_json::from_value(row.get("timeline")).context("decoding a stored timeline")?,
        placed_at: row.get("placed_at"),
        updated_at: row.get("updated_at"),
        stations_done: serde_json::from_value(row.get("stations_done")).context("decoding stored stations")?,
        rush: row.get("rush"),
        remake_since: row.get("remake_since"),
        details: serde_json::from_value(row.get("details")).context("decoding stored order details")?,
    };
    stored.try_into()
}

/// How a ticket is kept as JSON in the kitchen schema (the `tablet_changes.ticket` column, and
/// the `items` and `timeline` columns of `tickets`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredTicket {
    order_id: Uuid,
    customer_id: Uuid,
    /// Absent from changes recorded before numbers existed.
    #[serde(default)]
    number: u32,
    status: String,
    order_version: i64,
    total_cents: i64,
    items: Vec<StoredItem>,
    timeline: Vec<(String, DateTime<Utc>)>,
    placed_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Absent from changes recorded before stations, rush and details existed.
    #[serde(default)]
    stations_done: BTreeMap<String, DateTime<Utc>>,
    #[serde(default)]
    rush: bool,
    /// Absent from changes recorded before remakes existed.
    #[serde(default)]
    remake_since: Option<DateTime<Utc>>,
    #[serde(default)]
    details: StoredDetails,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StoredDetails {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    cancel_reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredItem {
    menu_item_id: Uuid,
    name: String,
    station: String,
    /// Absent in tickets stored before prep minutes travelled with the lines.
    #[serde(default)]
    prep_minutes: u32,
    quantity: u32,
    unit_price_cents: i64,
    note: Option<String>,
}

impl From<&Ticket> for StoredTicket {
    fn from(t: &Ticket) -> Self {
        Self {
            order_id: t.order_id,
            customer_id: t.customer_id,
            number: t.number,
            status: t.status.as_str().to_owned(),
            order_version: t.order_version,
            total_cents: t.total_cents,
            items: t
                .items
                .iter()
                .map(|i| StoredItem {
                    menu_item_id: i.menu_item_id,
                    name: i.name.clone(),
                    station: i.station.clone(),
                    prep_minutes: i.prep_minutes,
                    quantity: i.quantity,
                    unit_price_cents: i.unit_price_cents,
                    note: i.note.clone(),
                })
                .collect(),
            timeline: t.timeline.iter().map(|(s, at)| (s.as_str().to_owned(), *at)).collect(),
            placed_at: t.placed_at,
            updated_at: t.updated_at,
            stations_done: t.stations_done.clone(),
            rush: t.rush,
            remake_since: t.remake_since,
            details: StoredDetails {
                kind: Some(t.details.kind.as_str().to_owned()),
                table: t.details.table.clone(),
                cancel_reason: t.details.cancel_reason.clone(),
            },
        }
    }
}

impl TryFrom<StoredTicket> for Ticket {
    type Error = anyhow::Error;

    fn try_from(s: StoredTicket) -> anyhow::Result<Self> {
        let status = |value: &str| {
            TicketStatus::parse(value).with_context(|| format!("unknown ticket status {value:?} in the database"))
        };
        Ok(Self {
            order_id: s.order_id,
            customer_id: s.customer_id,
            number: s.number,
            status: status(&s.status)?,
            order_version: s.order_version,
            total_cents: s.total_cents,
            items: s
                .items
                .into_iter()
                .map(|i| TicketItem {
                    menu_item_id: i.menu_item_id,
                    name: i.name,
                    station: i.station,
                    prep_minutes: i.prep_minutes,
                    quantity: i.quantity,
                    unit_price_cents: i.unit_price_cents,
                    note: i.note,
                })
                .collect(),
            timeline: s.timeline.into_iter().map(|(st, at)| Ok((status(&st)?, at))).collect::<anyhow::Result<_>>()?,
            placed_at: s.placed_at,
            updated_at: s.updated_at,
            stations_done: s.stations_done,
            rush: s.rush,
            remake_since: s.remake_since,
            details: OrderDetails {
                kind: match s.details.kind.as_deref() {
                    None => OrderKind::Unspecified,
                    Some(kind) => OrderKind::parse(kind)
                        .with_context(|| format!("unknown order kind {kind:?} in the database"))?,
                },
                table: s.details.table,
                cancel_reason: s.details.cancel_reason,
            },
        })
    }
}

/// The tickets still to be made (placed, accepted or being prepared), oldest first: the queue
/// the kitchen plans its promises with; and the tablet sequence number it is current as of,
/// read in one snapshot (the change log keeps it current from there).
pub async fn queue(client: &mut deadpool_postgres::Object) -> anyhow::Result<(i64, Vec<Ticket>)> {
    let tx = snapshot(client).await?;
    let seq = last_seq(&tx).await?;
    let waiting: Vec<&str> = TicketStatus::WAITING.iter().map(|s| s.as_str()).collect();
    let tickets = tickets_where(&tx, "status = ANY($1) ORDER BY placed_at, order_id", &[&waiting]).await?;
    tx.commit().await.context("ending the snapshot transaction")?;
    Ok((seq, tickets))
}

/// Keeps each ticket's promised ready-by time (as told to the orders service).
pub async fn promise(client: &impl GenericClient, promises: &[(Uuid, DateTime<Utc>)]) -> anyhow::Result<()> {
    let (ids, times): (Vec<Uuid>, Vec<DateTime<Utc>>) = promises.iter().copied().unzip();
    client
        .execute(
            &client
                .prepare_cached(
                    "UPDATE kitchen.tickets t SET ready_by = p.ready_by
                     FROM unnest($1::uuid[], $2::timestamptz[]) AS p(order_id, ready_by)
                     WHERE t.order_id = p.order_id",
                )
                .await?,
            &[&ids, &times],
        )
        .await
        .context("keeping the promised ready-by times")?;
    Ok(())
}

/// The ready-by time promised for a ticket, if it was planned.
pub async fn promised(client: &impl GenericClient, order_id: Uuid) -> anyhow::Result<Option<DateTime<Utc>>> {
    let row = client
        .query_opt(
            &client.prepare_cached("SELECT ready_by FROM kitchen.tickets WHERE order_id = $1").await?,
            &[&order_id],
        )
        .await
        .context("reading a promise")?;
    Ok(row.and_then(|r| r.get("ready_by")))
}
