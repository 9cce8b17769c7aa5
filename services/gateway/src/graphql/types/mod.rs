//! The API's object and input types, by area (names fixed by the API contract in SPEC.md).
//! Each wraps a [`crate::model`] value and says how it reads in GraphQL.
//!
//! - `menu`: menu items, their categories and pages.
//! - `orders`: orders, their lines, statuses, timelines and pages.
//! - `users`: users, roles and the session a sign-in returns.
//! - `inputs`: what mutations take.
//! - `page`: `PageInfo`, shared by every connection.
//! - `scalars`: how the model's numbers and times become GraphQL scalars.

mod inputs;
mod menu;
mod orders;
mod page;
mod scalars;
mod users;

pub use inputs::{CreateOrderInput, LoginInput, OrderItemInput, RegisterInput};
pub use menu::{MenuCategory, MenuItem, MenuItemConnection, MenuItemEdge};
pub use orders::{Order, OrderConnection, OrderEdge, OrderStatus, OrderType};
pub use page::PageInfo;
pub use scalars::{int, rfc3339};
pub use users::{AuthPayload, User};
