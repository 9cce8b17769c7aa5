//! Dataloaders (the `dataloader` crate): within one request, every `order.customer` and
//! `orderItem.menuItem` asked for in the same tick becomes one batch call, so a page of 50
//! orders costs a constant number of backend calls. Made per request, so the cache never
//! outlives it and batches always carry the caller's own token.

use crate::backends::{OrdersBackend, UsersBackend};
use crate::model::{MenuItem, User};
use dataloader::BatchFn;
use dataloader::cached::Loader;
use service_kit::UpstreamError;
use std::collections::HashMap;
use tokens::Token;

/// One key's answer: found, not found, or the failure of the batch that covered it (copied to
/// every key of that batch).
type Loaded<T> = Result<Option<T>, UpstreamError>;

pub struct UserBatch {
    users: UsersBackend,
    token: Token,
}

impl BatchFn<String, Loaded<User>> for UserBatch {
    async fn load(&mut self, ids: &[String]) -> HashMap<String, Loaded<User>> {
        match self.users.get_users(&self.token, ids.to_vec()).await {
            Ok(found) => {
                let mut by_id: HashMap<String, User> = found.into_iter().map(|u| (u.id.clone(), u)).collect();
                ids.iter().map(|id| (id.clone(), Ok(by_id.remove(id)))).collect()
            }
            Err(error) => ids.iter().map(|id| (id.clone(), Err(error.clone()))).collect(),
        }
    }
}

pub struct MenuItemBatch {
    orders: OrdersBackend,
}

impl BatchFn<String, Loaded<MenuItem>> for MenuItemBatch {
    async fn load(&mut self, ids: &[String]) -> HashMap<String, Loaded<MenuItem>> {
        match self.orders.menu_items(ids.to_vec()).await {
            Ok(found) => {
                let mut by_id: HashMap<String, MenuItem> = found.into_iter().map(|i| (i.id.clone(), i)).collect();
                ids.iter().map(|id| (id.clone(), Ok(by_id.remove(id)))).collect()
            }
            Err(error) => ids.iter().map(|id| (id.clone(), Err(error.clone()))).collect(),
        }
    }
}

/// The loaders of one request.
#[derive(Clone)]
pub struct Loaders {
    /// Only for a signed-in caller (users are looked up on their behalf).
    pub users: Option<Loader<String, Loaded<User>, UserBatch>>,
    pub menu_items: Loader<String, Loaded<MenuItem>, MenuItemBatch>,
}

impl Loaders {
    pub fn new(orders: &OrdersBackend, users: &UsersBackend, token: Option<&Token>) -> Self {
        Self {
            users: token.map(|token| Loader::new(UserBatch { users: users.clone(), token: token.clone() })),
            menu_items: Loader::new(MenuItemBatch { orders: orders.clone() }),
        }
    }
}
