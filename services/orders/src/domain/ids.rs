//! Typed ids (orders, menu items, customers), parsed once from text at the edge.

use uuid::Uuid;

/// An id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not a valid id (expected a UUID)")]
pub struct InvalidId {
    pub what: &'static str,
    pub value: String,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                // At most a UUID's length is looked at, so an absurd input costs nothing.
                if value.len() > 36 {
                    return Err(InvalidId { what: $what, value: value.chars().take(40).collect() });
                }
                Uuid::parse_str(value)
                    .map(Self)
                    .map_err(|_| InvalidId { what: $what, value: value.to_owned() })
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// An order; time-ordered (UUIDv7) so new orders sort last.
    OrderId,
    "order id"
);
uuid_id!(
    /// A customer: the id of a user of the users service.
    CustomerId,
    "customer id"
);
uuid_id!(
    /// An item on the menu.
    MenuItemId,
    "menu item id"
);

impl OrderId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_in_any_spelling_and_print_in_one() {
        let id = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d";
        let parsed = MenuItemId::parse(id).expect("a UUID");
        assert_eq!(parsed.to_string(), id);
        assert_eq!(parsed.as_uuid(), Uuid::parse_str(id).expect("a UUID"));
        assert_eq!(MenuItemId::parse(&id.to_uppercase().replace('-', "")), Ok(parsed));
        assert_eq!(MenuItemId::from_uuid(parsed.as_uuid()), parsed);
        let refused = OrderId::parse("not-an-id").expect_err("not a UUID");
        assert_eq!(refused, InvalidId { what: "order id", value: "not-an-id".into() });
        // An absurd input is cut short in the error, not echoed whole.
        let long = "x".repeat(10_000);
        assert_eq!(CustomerId::parse(&long).map_err(|e| e.value.len()), Err(40));
        assert!(CustomerId::parse(&format!("{id}0")).is_err(), "37 characters");
    }

    #[test]
    fn new_order_ids_sort_in_the_order_they_were_made() {
        let first = OrderId::generate();
        let second = OrderId::generate();
        assert!(first < second, "{first} then {second}");
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }
}
