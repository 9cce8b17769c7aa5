//! The query root: the menu, the caller, orders, users and search.

use super::types::{
    MenuCategory, MenuItem, MenuItemConnection, MenuItemEdge, Order, OrderConnection, OrderEdge, OrderStatus, PageInfo,
    User,
};
use super::types::{OrderItemInput, rfc3339};
use super::{Context, Refusal, field_error};
use crate::model::NewOrderLine;
use juniper::{FieldResult, ID, graphql_object};

/// Menu items on one page when `first` is not given.
const DEFAULT_MENU_PAGE_SIZE: i32 = 50;
/// Orders on one page when `first` is not given.
const DEFAULT_ORDERS_PAGE_SIZE: i32 = 20;
/// The longest search, in characters.
const MAX_SEARCH_CHARS: usize = 64;

/// What `search` finds.
#[derive(juniper::GraphQLUnion)]
#[graphql(context = Context)]
pub enum SearchResult {
    MenuItem(MenuItem),
    User(User),
    Order(Order),
}

pub struct Query;

#[graphql_object(context = Context)]
impl Query {
    /// The menu, in menu order; public.
    async fn menu_items(
        context: &Context,
        first: Option<i32>,
        after: Option<String>,
        category: Option<MenuCategory>,
    ) -> FieldResult<MenuItemConnection> {
        let first = first.unwrap_or(DEFAULT_MENU_PAGE_SIZE);
        if first < 1 {
            return Err(field_error(&Refusal::PageSize(first)));
        }
        let page = context.orders.menu(first, after, category.map(Into::into)).await.map_err(|e| field_error(&e))?;
        let end_cursor = page.items.last().map(|(_, cursor)| cursor.clone());
        Ok(MenuItemConnection {
            edges: page.items.into_iter().map(|(item, cursor)| MenuItemEdge { cursor, node: MenuItem(item) }).collect(),
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor },
        })
    }

    /// When these dishes would be ready if ordered now (RFC 3339): behind the work queued in the
    /// kitchen, at their stations. Public, like the menu.
    async fn ready_by_estimate(context: &Context, items: Vec<OrderItemInput>) -> FieldResult<String> {
        let lines = items
            .into_iter()
            .map(|i| NewOrderLine { menu_item_id: i.menu_item_id.to_string(), quantity: i.quantity, note: i.note })
            .collect();
        let at = context.orders.estimate_ready_by(lines).await.map_err(|e| field_error(&e))?;
        Ok(rfc3339(&at))
    }

    /// The signed-in user.
    async fn me(context: &Context) -> FieldResult<User> {
        let caller = context.user()?;
        let user = context
            .users
            .get_user(&caller.token, caller.claims.user_id.to_string())
            .await
            .map_err(|e| field_error(&e))?;
        Ok(User(user))
    }

    /// Orders, newest first: customers see their own, kitchen staff everyone's.
    async fn orders(
        context: &Context,
        first: Option<i32>,
        after: Option<String>,
        status: Option<OrderStatus>,
    ) -> FieldResult<OrderConnection> {
        let caller = context.user()?;
        let first = first.unwrap_or(DEFAULT_ORDERS_PAGE_SIZE);
        if first < 1 {
            return Err(field_error(&Refusal::PageSize(first)));
        }
        let page = context
            .orders
            .list_orders(&caller.token, first, after, status.map(Into::into))
            .await
            .map_err(|e| field_error(&e))?;
        let end_cursor = page.orders.last().map(|(_, cursor)| cursor.clone());
        Ok(OrderConnection {
            edges: page.orders.into_iter().map(|(order, cursor)| OrderEdge { cursor, node: Order(order) }).collect(),
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor },
        })
    }

    /// A user: customers may look up only themselves.
    async fn user(context: &Context, id: ID) -> FieldResult<User> {
        let caller = context.user()?;
        let user = context.users.get_user(&caller.token, id.to_string()).await.map_err(|e| field_error(&e))?;
        Ok(User(user))
    }

    /// Menu items for everyone; signed-in callers also find users and orders they may see.
    async fn search(context: &Context, query: String) -> FieldResult<Vec<SearchResult>> {
        let trimmed = query.trim();
        if trimmed.is_empty() || trimmed.chars().count() > MAX_SEARCH_CHARS {
            return Err(field_error(&Refusal::SearchLength { max: MAX_SEARCH_CHARS }));
        }
        let mut results: Vec<SearchResult> = context
            .orders
            .search_menu(trimmed.to_owned())
            .await
            .map_err(|e| field_error(&e))?
            .into_iter()
            .map(|item| SearchResult::MenuItem(MenuItem(item)))
            .collect();
        if let Ok(Some(caller)) = &context.caller {
            let (users, orders) = futures::join!(
                context.users.search_users(&caller.token, trimmed.to_owned()),
                context.orders.search_orders(&caller.token, trimmed.to_owned()),
            );
            results.extend(users.map_err(|e| field_error(&e))?.into_iter().map(|u| SearchResult::User(User(u))));
            results.extend(orders.map_err(|e| field_error(&e))?.into_iter().map(|o| SearchResult::Order(Order(o))));
        }
        Ok(results)
    }

    /// One order: customers only their own; kitchen staff any.
    async fn order(context: &Context, id: ID) -> FieldResult<Order> {
        let caller = context.user()?;
        let order = context.orders.get_order(&caller.token, id.to_string()).await.map_err(|e| field_error(&e))?;
        Ok(Order(order))
    }
}
