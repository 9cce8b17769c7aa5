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

impl MenuItem {
    /// The dish as an order line copies it.
    pub fn dish(&self) -> Dish {
        Dish {
            name: self.name.clone(),
            station: self.station.clone(),
            prep_minutes: self.prep_minutes,
            price: self.price,
        }
    }
}

/// What an order line copies from its menu item when the order is placed: what the kitchen
/// cooks, where, for how long, and what the customer pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dish {
    pub name: String,
    pub station: String,
    pub prep_minutes: i32,
    pub price: Cents,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_spelled_as_the_api_spells_them_and_read_back() {
        let spelled: Vec<&str> = MenuCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(spelled, ["STARTER", "MAIN", "SIDE", "DESSERT", "DRINK"]);
        for category in MenuCategory::ALL {
            assert_eq!(MenuCategory::parse(category.as_str()), Some(category));
        }
        assert_eq!(MenuCategory::parse("main"), None);
        assert_eq!(MenuCategory::parse(""), None);
    }

    #[test]
    fn money_adds_and_multiplies_in_cents() {
        assert_eq!(Cents(450) + Cents(75), Cents(525));
        assert_eq!(Cents(450).times(3), Cents(1350));
        assert_eq!(Cents(450).times(0), Cents(0));
    }
}
