//! What one request may cost: every selection of an expensive root field counts, under any
//! alias and through fragments, and a request over [`MAX_REQUEST_COST`] is refused before anything
//! runs. Juniper's own limits (depth, tokens, fields) bound the document's size; this bounds
//! the work behind it, which aliases otherwise multiply (fifty aliased `login`s are fifty
//! password guesses and fifty argon2 hashes in one request).

use super::{Refusal, Schema};
use juniper::{DefaultScalarValue, Definition, Selection};
use std::collections::HashMap;

/// A request's budget. One sign-in spends all of it: a password hash is the platform's
/// costliest operation and no client needs two in one request.
pub const MAX_REQUEST_COST: u32 = 20;

/// What one selection of root field `name` costs.
pub fn field_cost(name: &str) -> u32 {
    match name {
        // An argon2 hash on users (~19 MiB, tens of ms of a core), and a password guess.
        "login" | "register" => MAX_REQUEST_COST,
        // A transaction, an outbox row and an event, and a ticket in the kitchen.
        "createOrder" => 5,
        // Lists and searches: a page or a scan on the backends.
        "orders" | "search" | "menuItems" => 4,
        // Every other root field is one backend call; nested fields are batched by the
        // dataloaders, and Juniper's field limit already bounds them.
        "me"
        | "user"
        | "order"
        | "logout"
        | "updateOrderStatus"
        | "completeOrder"
        | "cancelOrder"
        | "orderCreated"
        | "orderStatusChanged"
        | "orderUpdated"
        | "setMenuItemAvailable"
        | "menuItemChanged"
        | "readyByEstimate"
        | "__schema"
        | "__type" => 1,
        _ => 0,
    }
}

/// The cost of the operation that would run (`operation_name`, or every operation of the
/// document when none is named: the dearest one counts). A document that does not parse costs
/// nothing here: Juniper then refuses it with its own error.
pub fn request_cost(schema: &Schema, query: &str, operation_name: Option<&str>) -> u32 {
    let Ok(document) = juniper::parser::parse_document_source::<DefaultScalarValue>(query, &schema.schema) else {
        return 0;
    };
    let fragments: HashMap<&str, &[Selection<'_, DefaultScalarValue>]> = document
        .iter()
        .filter_map(|definition| match definition {
            Definition::Fragment(fragment) => Some((fragment.item.name.item, fragment.item.selection_set.as_slice())),
            Definition::Operation(_) => None,
        })
        .collect();
    document
        .iter()
        .filter_map(|definition| match definition {
            Definition::Operation(operation) => Some(&operation.item),
            Definition::Fragment(_) => None,
        })
        .filter(|operation| {
            operation_name.is_none_or(|wanted| operation.name.as_ref().is_some_and(|name| name.item == wanted))
        })
        .map(|operation| selections_cost(&operation.selection_set, &fragments, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

/// Refuses a request over budget, saying what it costs.
pub fn check(schema: &Schema, query: &str, operation_name: Option<&str>) -> Result<(), Refusal> {
    let cost = request_cost(schema, query, operation_name);
    if cost > MAX_REQUEST_COST {
        return Err(Refusal::TooCostly { cost, max: MAX_REQUEST_COST });
    }
    Ok(())
}

/// The cost of an operation's root selection set, fragments expanded. `inside`: the fragments being expanded,
/// so a cycle (which validation refuses later anyway) cannot loop here.
fn selections_cost<'a>(
    selections: &'a [Selection<'a, DefaultScalarValue>],
    fragments: &HashMap<&'a str, &'a [Selection<'a, DefaultScalarValue>]>,
    inside: &mut Vec<&'a str>,
) -> u32 {
    selections.iter().fold(0u32, |total, selection| {
        let cost = match selection {
            // Only root fields call the backends per selection; what is nested under them is
            // batched by the dataloaders (and bounded by Juniper's field limit).
            Selection::Field(field) => field_cost(field.item.name.item),
            Selection::InlineFragment(fragment) => selections_cost(&fragment.item.selection_set, fragments, inside),
            Selection::FragmentSpread(spread) => {
                let name = spread.item.name.item;
                match fragments.get(name) {
                    Some(selections) if !inside.contains(&name) => {
                        inside.push(name);
                        let cost = selections_cost(selections, fragments, inside);
                        inside.pop();
                        cost
                    }
                    _ => 0,
                }
            }
        };
        total.saturating_add(cost)
    })
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str) -> u32 {
        request_cost(&crate::graphql::schema(), query, None)
    }

    #[test]
    fn what_the_web_ui_sends_fits() {
        for query in [
            "mutation($i: LoginInput!) { login(input: $i) { token user { id username role } } }",
            "query($s: OrderStatus) { orders(first: 50, status: $s) { edges { node { id items { name } } } } }",
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            "{ orders { edges { node { id } } } me { id } menuItems { edges { node { id } } } }",
        ] {
            assert!(cost(query) <= MAX_REQUEST_COST, "{query}: {}", cost(query));
        }
    }

    #[test]
    fn aliases_and_fragments_each_count() {
        let guesses: String = (0..30)
            .map(|i| format!("g{i}: login(input: {{ username: \"ada\", password: \"p{i}\" }}) {{ token }} "))
            .collect();
        assert_eq!(cost(&format!("mutation {{ {guesses} }}")), 30 * MAX_REQUEST_COST);
        assert_eq!(cost("{ a: orders { pageInfo { hasNextPage } } b: orders { pageInfo { hasNextPage } } }"), 8);
        let spread =
            "query { ...Two ...Two } fragment Two on Query { a: search(query: \"x\") { __typename } b: me { id } }";
        assert_eq!(cost(spread), 10);
        let cycle = "query { ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }";
        assert_eq!(cost(cycle), 1);
        assert_eq!(cost("{ not graphql"), 0);
    }

    #[test]
    fn over_budget_is_refused_with_the_cost() {
        let schema = crate::graphql::schema();
        let two = "mutation { a: login(input: { username: \"a\", password: \"b\" }) { token } \
                   b: register(input: { username: \"c\", password: \"d\" }) { token } }";
        assert!(matches!(check(&schema, two, None), Err(Refusal::TooCostly { cost: 40, max: MAX_REQUEST_COST })));
        assert!(check(&schema, "{ me { id } }", None).is_ok());
        let named = "query Cheap { me { id } } query Dear { a: orders { __typename } b: orders { __typename } \
                     c: orders { __typename } d: orders { __typename } e: orders { __typename } f: search(query: \"x\") { __typename } }";
        assert!(check(&schema, named, Some("Cheap")).is_ok());
        assert!(check(&schema, named, Some("Dear")).is_err());
    }
}
