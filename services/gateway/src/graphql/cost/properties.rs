//! Random documents against the request cost: any text is costed without panicking, and a
//! generated document — root fields under aliases, inline fragments and named fragments spread
//! any number of times, expensive fields nested where they cost nothing — costs exactly what a
//! simple model says; adding a field never makes a refused request acceptable. `ci/fuzz` runs
//! these for minutes.

use super::*;
use proptest::prelude::*;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Schema> = LazyLock::new(crate::graphql::schema);

const ROOT_FIELDS: &[&str] = &[
    "login",
    "register",
    "createOrder",
    "orders",
    "search",
    "menuItems",
    "me",
    "user",
    "order",
    "logout",
    "cancelOrder",
    "orderCreated",
    "__typename",
    "somethingElse",
];

/// How a root field reaches the operation's selection set.
#[derive(Debug, Clone)]
enum Packaging {
    Direct,
    InlineFragment,
    /// In a named fragment spread this many times.
    Spread(usize),
}

#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    alias: bool,
    /// An expensive field selected under this one: nested fields cost nothing of their own.
    nested: Option<&'static str>,
    packaging: Packaging,
}

fn field() -> impl Strategy<Value = Field> {
    let packaging =
        prop_oneof![Just(Packaging::Direct), Just(Packaging::InlineFragment), (1..4usize).prop_map(Packaging::Spread)];
    (
        prop::sample::select(ROOT_FIELDS),
        any::<bool>(),
        proptest::option::of(prop::sample::select(ROOT_FIELDS)),
        packaging,
    )
        .prop_map(|(name, alias, nested, packaging)| Field { name, alias, nested, packaging })
}

/// One operation's text (and its fragments'), with `prefix` keeping names apart.
fn render(fields: &[Field], keyword: &str, name: &str, prefix: &str) -> (String, Vec<String>) {
    let mut selections = Vec::new();
    let mut fragments = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let alias = if field.alias { format!("{prefix}a{i}: ") } else { String::new() };
        let inner = match field.nested {
            Some(nested) if field.name != "__typename" => format!(" {{ {nested} {{ __typename }} }}"),
            _ if field.name == "__typename" => String::new(),
            _ => " { __typename }".to_owned(),
        };
        let text = format!("{alias}{}{inner}", field.name);
        match field.packaging {
            Packaging::Direct => selections.push(text),
            Packaging::InlineFragment => selections.push(format!("... on Query {{ {text} }}")),
            Packaging::Spread(times) => {
                let fragment = format!("{prefix}F{i}");
                fragments.push(format!("fragment {fragment} on Query {{ {text} }}"));
                selections.extend(std::iter::repeat_n(format!("...{fragment}"), times));
            }
        }
    }
    if selections.is_empty() {
        selections.push("__typename".to_owned());
    }
    (format!("{keyword} {name} {{ {} }}", selections.join(" ")), fragments)
}

/// What the fields should cost: each root selection once per time it is reached.
fn model(fields: &[Field]) -> u32 {
    fields
        .iter()
        .map(|field| {
            let times = match field.packaging {
                Packaging::Spread(times) => times,
                Packaging::Direct | Packaging::InlineFragment => 1,
            };
            field_cost(field.name) * u32::try_from(times).expect("unwrap: at most 3")
        })
        .sum()
}

fn document(operations: &[(String, Vec<String>)]) -> String {
    operations
        .iter()
        .flat_map(|(operation, fragments)| std::iter::once(operation).chain(fragments))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #[test]
    fn any_text_is_costed_without_panicking_and_refused_only_over_budget(text in ".{0,300}") {
        let cost = request_cost(&SCHEMA, &text, None);
        prop_assert_eq!(check(&SCHEMA, &text, None).is_err(), cost > MAX_REQUEST_COST);
    }

    #[test]
    fn a_document_costs_what_its_root_selections_cost(
        fields in proptest::collection::vec(field(), 0..12),
        keyword in prop::sample::select(&["query", "mutation", "subscription"][..]),
    ) {
        let text = document(&[render(&fields, keyword, "One", "")]);
        prop_assert_eq!(request_cost(&SCHEMA, &text, None), model(&fields), "{}", text);
        prop_assert_eq!(request_cost(&SCHEMA, &text, Some("One")), model(&fields));
        prop_assert_eq!(request_cost(&SCHEMA, &text, Some("Other")), 0);
    }

    #[test]
    fn one_more_field_never_turns_a_refusal_into_an_answer(
        fields in proptest::collection::vec(field(), 0..10),
        extra in field(),
    ) {
        let before = document(&[render(&fields, "query", "Q", "")]);
        let mut more = fields.clone();
        more.push(extra);
        let after = document(&[render(&more, "query", "Q", "")]);
        prop_assert!(request_cost(&SCHEMA, &after, None) >= request_cost(&SCHEMA, &before, None));
        if check(&SCHEMA, &before, None).is_err() {
            prop_assert!(check(&SCHEMA, &after, None).is_err(), "{}", after);
        }
    }

    #[test]
    fn without_an_operation_name_the_dearest_operation_counts(
        first in proptest::collection::vec(field(), 0..8),
        second in proptest::collection::vec(field(), 0..8),
    ) {
        let text = document(&[render(&first, "query", "First", "x"), render(&second, "mutation", "Second", "y")]);
        prop_assert_eq!(request_cost(&SCHEMA, &text, None), model(&first).max(model(&second)), "{}", text);
        prop_assert_eq!(request_cost(&SCHEMA, &text, Some("First")), model(&first));
        prop_assert_eq!(request_cost(&SCHEMA, &text, Some("Second")), model(&second));
    }
}
