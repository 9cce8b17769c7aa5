//! The menu: items, their categories, and a page of them.

use super::page::PageInfo;
use super::scalars::int;
use crate::graphql::Context;
use crate::model;
use juniper::{GraphQLEnum, ID, graphql_object};

#[derive(GraphQLEnum, Clone, Copy)]
pub enum MenuCategory {
    Starter,
    Main,
    Side,
    Dessert,
    Drink,
}

impl From<model::MenuCategory> for MenuCategory {
    fn from(category: model::MenuCategory) -> Self {
        match category {
            model::MenuCategory::Starter => Self::Starter,
            model::MenuCategory::Main => Self::Main,
            model::MenuCategory::Side => Self::Side,
            model::MenuCategory::Dessert => Self::Dessert,
            model::MenuCategory::Drink => Self::Drink,
        }
    }
}

impl From<MenuCategory> for model::MenuCategory {
    fn from(category: MenuCategory) -> Self {
        match category {
            MenuCategory::Starter => Self::Starter,
            MenuCategory::Main => Self::Main,
            MenuCategory::Side => Self::Side,
            MenuCategory::Dessert => Self::Dessert,
            MenuCategory::Drink => Self::Drink,
        }
    }
}

pub struct MenuItem(pub model::MenuItem);

#[graphql_object(context = Context)]
impl MenuItem {
    fn id(&self) -> ID {
        ID::new(&self.0.id)
    }
    fn name(&self) -> &str {
        &self.0.name
    }
    fn description(&self) -> &str {
        &self.0.description
    }
    fn category(&self) -> MenuCategory {
        self.0.category.into()
    }
    fn price_cents(&self) -> i32 {
        int(self.0.price_cents)
    }
    fn available(&self) -> bool {
        self.0.available
    }
    /// The kitchen station that prepares it.
    fn station(&self) -> &str {
        &self.0.station
    }
    /// How long the dish takes to prepare, in minutes.
    fn prep_minutes(&self) -> i32 {
        self.0.prep_minutes
    }
}

pub struct MenuItemEdge {
    pub cursor: String,
    pub node: MenuItem,
}

#[graphql_object(context = Context)]
impl MenuItemEdge {
    fn cursor(&self) -> &str {
        &self.cursor
    }
    fn node(&self) -> &MenuItem {
        &self.node
    }
}

pub struct MenuItemConnection {
    pub edges: Vec<MenuItemEdge>,
    pub page_info: PageInfo,
}

#[graphql_object(context = Context)]
impl MenuItemConnection {
    fn edges(&self) -> &[MenuItemEdge] {
        &self.edges
    }
    fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}
