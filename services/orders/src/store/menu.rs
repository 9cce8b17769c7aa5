//! The menu: listing pages of items and looking items up by id.

use crate::domain::{Cents, MenuCategory, MenuItem, MenuItemId};
use anyhow::Context as _;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

const COLUMNS: &str = "id, name, description, category, price_cents, available, station, prep_minutes, position";

/// Where a page of the menu ends: opaque to clients (`<position>:<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuCursor {
    position: i32,
    id: uuid::Uuid,
}

impl MenuCursor {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.position, self.id)
    }

    pub fn decode(value: &str) -> Option<Self> {
        let (position, id) = value.split_once(':')?;
        Some(Self { position: position.parse().ok()?, id: uuid::Uuid::parse_str(id).ok()? })
    }
}

/// One page of the menu in menu order, each item with its cursor, and whether more follow.
pub async fn list(
    client: &impl GenericClient,
    first: i64,
    after: Option<MenuCursor>,
    category: Option<MenuCategory>,
) -> anyhow::Result<(Vec<(MenuItem, MenuCursor)>, bool)> {
    let (after_position, after_id) = after.map_or((i32::MIN, uuid::Uuid::nil()), |c| (c.position, c.id));
    let rows = client
        .query(
            &client
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM orders.menu_items
                 WHERE (position, id) > ($1, $2) AND ($3::text IS NULL OR category = $3)
                 ORDER BY position, id LIMIT $4"
                ))
                .await?,
            &[&after_position, &after_id, &category.map(MenuCategory::as_str), &(first + 1)],
        )
        .await
        .context("listing menu items")?;
    let more = rows.len() as i64 > first;
    let items = rows[..rows.len().min(first as usize)]
        .iter()
        .map(|r| Ok((menu_item(r)?, MenuCursor { position: r.get("position"), id: r.get("id") })))
        .collect::<anyhow::Result<_>>()?;
    Ok((items, more))
}

/// The items with these ids; unknown ids are left out.
pub async fn by_ids(client: &impl GenericClient, ids: &[MenuItemId]) -> anyhow::Result<Vec<MenuItem>> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(MenuItemId::as_uuid).collect();
    let rows = client
        .query(
            &client.prepare_cached(&format!("SELECT {COLUMNS} FROM orders.menu_items WHERE id = ANY($1)")).await?,
            &[&ids],
        )
        .await
        .context("looking up menu items")?;
    rows.iter().map(menu_item).collect()
}

/// Items whose name or description match `query` (full text, English stemming), or whose name
/// contains it; best match first.
pub async fn search(client: &impl GenericClient, query: &str, first: i64) -> anyhow::Result<Vec<MenuItem>> {
    let escaped = service_kit::db::like_literal(query);
    let rows = client
        .query(
            &client
                .prepare_cached(&format!(
                    "SELECT {COLUMNS},
                        ts_rank(to_tsvector('english', name || ' ' || description),
                                plainto_tsquery('english', $1)) AS rank,
                        lower(name) LIKE '%' || $2 || '%' AS in_name
                 FROM orders.menu_items
                 WHERE to_tsvector('english', name || ' ' || description) @@ plainto_tsquery('english', $1)
                    OR lower(name) LIKE '%' || $2 || '%'
                 ORDER BY in_name DESC, rank DESC, position LIMIT $3"
                ))
                .await?,
            &[&query, &escaped, &first],
        )
        .await
        .context("searching the menu")?;
    rows.iter().map(menu_item).collect()
}

fn menu_item(row: &Row) -> anyhow::Result<MenuItem> {
    let category: String = row.get("category");
    Ok(MenuItem {
        id: MenuItemId::from_uuid(row.get("id")),
        name: row.get("name"),
        description: row.get("description"),
        category: MenuCategory::parse(&category)
            .with_context(|| format!("unknown menu category {category:?} in the database"))?,
        price: Cents(row.get("price_cents")),
        available: row.get("available"),
        station: row.get("station"),
        prep_minutes: row.get("prep_minutes"),
    })
}

/// Marks an item available or sold out; `None` when there is no such item. The row's trigger
/// notifies every instance's menu feed on commit (only when the availability really changed).
pub async fn set_available(
    client: &impl GenericClient,
    id: MenuItemId,
    available: bool,
) -> anyhow::Result<Option<MenuItem>> {
    let row = client
        .query_opt(
            &client
                .prepare_cached(&format!(
                    "UPDATE orders.menu_items SET available = $2 WHERE id = $1 RETURNING {COLUMNS}"
                ))
                .await?,
            &[&id.as_uuid(), &available],
        )
        .await
        .context("changing a menu item's availability")?;
    row.as_ref().map(menu_item).transpose()
}
