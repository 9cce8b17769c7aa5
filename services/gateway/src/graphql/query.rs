use super::types::{MenuCategory, MenuItem, MenuItemConnection, MenuItemEdge, Order, PageInfo, User};
use super::{Context, ErrorCode, backend_error, error};
use juniper::{FieldResult, ID, graphql_object};

/// Menu items on one page when `first` is not given.
const DEFAULT_PAGE_SIZE: i32 = 50;

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
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if first < 1 {
            return Err(error(ErrorCode::BadUserInput, format!("first must be at least 1, not {first}")));
        }
        let page = context.orders.menu(first, after, category.map(Into::into)).await.map_err(backend_error)?;
        let end_cursor = page.items.last().map(|(_, cursor)| cursor.clone());
        Ok(MenuItemConnection {
            edges: page
                .items
                .into_iter()
                .map(|(item, cursor)| MenuItemEdge { cursor, node: MenuItem(item) })
                .collect(),
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor },
        })
    }

    /// The signed-in user.
    async fn me(context: &Context) -> FieldResult<User> {
        let caller = context.user()?;
        let user = context.users.get_user(&caller.token, caller.claims.user_id.to_string()).await.map_err(backend_error)?;
        Ok(User(user))
    }

    /// One order: customers only their own; kitchen staff any.
    async fn order(context: &Context, id: ID) -> FieldResult<Order> {
        let caller = context.user()?;
        let order = context.orders.get_order(&caller.token, id.to_string()).await.map_err(backend_error)?;
        Ok(Order(order))
    }
}
