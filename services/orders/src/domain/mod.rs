//! The restaurant's words for orders, parsed once at the edge: ids, quantities, notes, carts,
//! the menu, the order and its lifecycle. Nothing here knows Protobuf, JSON or SQL.

mod cart;
mod ids;
mod menu;
mod order;
mod promise;

pub use cart::{Cart, CartError, CartLine, CartLineInput, IdempotencyKey, Note, Quantity};
pub use ids::{CustomerId, InvalidId, MenuItemId, OrderId};
pub use menu::{Cents, Dish, MenuCategory, MenuItem};
pub use order::{
    BadTable, Change, MAX_TABLE_CHARS, Order, OrderEvent, OrderLine, OrderStatus, OrderType, Service, StatusReached,
    TableLabel, TransitionRefused, now,
};
pub use promise::{DEFAULT_PREP_MINUTE, KitchenLoad};
