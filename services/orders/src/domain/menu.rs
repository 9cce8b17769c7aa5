//! The menu: money in cents, categories and items as customers see them.

use super::MenuItemId;

/// An amount of money in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cents(pub i64);

impl std::ops::Add for Cents {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0 + other.0)
    }
}

impl Cents {
    pub fn times(self, quantity: u32) -> Self {
        Self(self.0 * i64::from(quantity))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuCategory {
    Starter,
    Main,
    Side,
    Dessert,
    Drink,
}

impl MenuCategory {
    pub const ALL: [Self; 5] = [Self::Starter, Self::Main, Self::Side, Self::Dessert, Self::Drink];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starter => "STARTER",
            Self::Main => "MAIN",
            Self::Side => "SIDE",
            Self::Dessert => "DESSERT",
            Self::Drink => "DRINK",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

/// An item on the menu, as the orders service keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub id: MenuItemId,
    pub name: String,
    pub description: String,
    pub category: MenuCategory,
    pub price: Cents,
    pub available: bool,
    /// Which kitchen station prepares it (grill, fry, cold, oven, stove, pastry, bar).
    pub station: String,
    pub prep_minutes: i32,
}
