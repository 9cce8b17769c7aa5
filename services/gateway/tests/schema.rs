//! The committed SDL (`services/gateway/schema.graphql`) is the API contract: this test fails
//! when the code's schema drifts from it. After an intended change, regenerate it with
//! `UPDATE_SCHEMA=1 cargo test -p gateway --test schema` and review the diff.

#[test]
fn the_committed_sdl_matches_the_code() {
    // At run time, not `env!`: a test binary may be reused by another checkout.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for the tests it runs");
    let path = std::path::Path::new(&dir).join("schema.graphql");
    let actual = gateway::graphql::schema().as_sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &actual).expect("unwrap: the crate folder is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == actual, "schema.graphql is out of date: regenerate it (see this file's docs)");
}

#[test]
fn the_contract_names_are_all_there() {
    let sdl = gateway::graphql::schema().as_sdl();
    for name in [
        "enum Role",
        "enum OrderStatus",
        "enum MenuCategory",
        "type User",
        "type MenuItem",
        "type OrderItem",
        "type Order",
        "type AuthPayload",
        "input RegisterInput",
        "input LoginInput",
        "input OrderItemInput",
        "input CreateOrderInput",
        "type OrderStatusEvent",
        "me: User!",
        "orderCreated: Order!",
        "orderStatusChanged(orderId: ID): OrderStatusEvent!",
        "createOrder(input: CreateOrderInput!): Order!",
        "updateOrderStatus(id: ID!, status: OrderStatus!): Order!",
        "completeOrder(orderId: ID!): Order!",
        "cancelOrder(orderId: ID!, reason: String): Order!",
        "customer: User!",
        "menuItem: MenuItem!",
    ] {
        assert!(sdl.contains(name), "the schema lacks `{name}`");
    }
}
