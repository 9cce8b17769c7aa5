//! Reading orders and the menu: pages, scopes, batches, searches, and their bad input.

mod common;

use common::{BRUSCHETTA, GARLIC_BREAD, item, start};
use restaurant_proto::v1 as pb;
use tokens::Role;

#[actix_rt::test]
async fn orders_page_newest_first_and_customers_see_only_their_own() -> anyhow::Result<()> {
    let s = start().await?;
    let (_, other) = s.auth.user_token(Role::Customer);
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let mut mine = vec![];
    for quantity in 1..=5 {
        let request = pb::CreateOrderRequest {
            items: vec![item(GARLIC_BREAD, quantity)],
            idempotency_key: None,
            ..Default::default()
        };
        mine.push(s.grpc.clone().create_order(s.as_customer(request)).await?.into_inner().order.expect("an order").id);
    }
    let request =
        pb::CreateOrderRequest { items: vec![item(BRUSCHETTA, 1)], idempotency_key: None, ..Default::default() };
    let theirs =
        s.grpc.clone().create_order(s.as_user(&other, request)).await?.into_inner().order.expect("an order").id;

    // Pages of two, newest first, following cursors to the end.
    let mut seen = vec![];
    let mut after = None;
    loop {
        let request = pb::ListOrdersRequest { first: 2, after: after.clone(), ..Default::default() };
        let page = s.grpc.clone().list_orders(s.as_customer(request)).await?.into_inner();
        seen.extend(page.edges.iter().map(|e| e.order.as_ref().expect("an order").id.clone()));
        after = page.edges.last().map(|e| e.cursor.clone());
        if !page.has_next_page {
            break;
        }
    }
    let newest_first: Vec<String> = mine.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "a customer pages through exactly their own orders");

    let all = s.grpc.clone().list_orders(s.as_user(&chef, pb::ListOrdersRequest::default())).await?.into_inner();
    assert_eq!(all.edges.len(), 6, "the kitchen sees everyone's");
    let placed = pb::ListOrdersRequest { status: Some(pb::OrderStatus::Cancelled.into()), ..Default::default() };
    assert!(s.grpc.clone().list_orders(s.as_user(&chef, placed)).await?.into_inner().edges.is_empty());

    // Batches leave out what the caller may not see.
    let batch = pb::GetOrdersRequest { ids: vec![mine[0].clone(), theirs.clone()] };
    let got = s.grpc.clone().get_orders(s.as_customer(batch.clone())).await?.into_inner().orders;
    assert_eq!(got.iter().map(|o| &o.id).collect::<Vec<_>>(), [&mine[0]]);
    assert_eq!(s.grpc.clone().get_orders(s.as_user(&chef, batch)).await?.into_inner().orders.len(), 2);

    // Searching by item name, scoped the same way.
    let search = |query: &str| pb::SearchOrdersRequest { query: query.into(), first: 0 };
    let found = s.grpc.clone().search_orders(s.as_customer(search("bruschetta"))).await?.into_inner();
    assert!(found.edges.is_empty(), "the bruschetta order is someone else's");
    let found = s.grpc.clone().search_orders(s.as_user(&chef, search("bruschetta"))).await?.into_inner();
    assert_eq!(found.edges.len(), 1);
    let prefix = &theirs[..8];
    let found = s.grpc.clone().search_orders(s.as_user(&chef, search(prefix))).await?.into_inner();
    assert!(found.edges.iter().any(|e| e.order.as_ref().is_some_and(|o| o.id == theirs)));

    // Bad input.
    let cases: Vec<(pb::ListOrdersRequest, &str)> = vec![
        (pb::ListOrdersRequest { first: 101, ..Default::default() }, "first must be between 1 and 100"),
        (pb::ListOrdersRequest { first: -1, ..Default::default() }, "first must be between 1 and 100"),
        (pb::ListOrdersRequest { after: Some("garbage".into()), ..Default::default() }, "cursor"),
        (pb::ListOrdersRequest { status: Some(99), ..Default::default() }, "unknown order status"),
        (pb::ListOrdersRequest { customer_id: Some("nope".into()), ..Default::default() }, "not a valid id"),
    ];
    for (request, expected) in cases {
        let refused = s.grpc.clone().list_orders(s.as_user(&chef, request)).await.expect_err(expected);
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains(expected), "{} should say {expected}", refused.message());
    }
    let someone_else =
        pb::ListOrdersRequest { customer_id: Some(uuid::Uuid::new_v4().to_string()), ..Default::default() };
    let refused = s.grpc.clone().list_orders(s.as_customer(someone_else)).await.expect_err("not theirs");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    for query in ["", &"q".repeat(65)] {
        let refused = s.grpc.clone().search_orders(s.as_customer(search(query))).await.expect_err("bad query");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    }
    let too_many = pb::GetOrdersRequest { ids: vec![mine[0].clone(); 201] };
    assert_eq!(
        s.grpc.clone().get_orders(s.as_customer(too_many)).await.expect_err("too many").code(),
        tonic::Code::InvalidArgument
    );
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_menu_pages_batches_and_searches() -> anyhow::Result<()> {
    let s = start().await?;
    let mut names = vec![];
    let mut after = None;
    loop {
        let page = s
            .grpc
            .clone()
            .list_menu_items(s.as_service(pb::ListMenuItemsRequest { first: 7, after: after.clone(), category: None }))
            .await?
            .into_inner();
        names.extend(page.edges.iter().map(|e| e.item.as_ref().expect("an item").name.clone()));
        after = page.edges.last().map(|e| e.cursor.clone());
        if !page.has_next_page {
            break;
        }
    }
    assert!(names.len() >= 20, "the demo menu has at least 20 items, not {}", names.len());
    let drinks = pb::ListMenuItemsRequest { first: 0, after: None, category: Some(pb::MenuCategory::Drink.into()) };
    let drinks = s.grpc.clone().list_menu_items(s.as_service(drinks)).await?.into_inner();
    assert!(drinks.edges.iter().all(|e| e.item.as_ref().is_some_and(|i| i.category == pb::MenuCategory::Drink as i32)));

    let batch =
        pb::GetMenuItemsRequest { ids: vec![BRUSCHETTA.into(), uuid::Uuid::new_v4().to_string(), GARLIC_BREAD.into()] };
    let items = s.grpc.clone().get_menu_items(s.as_service(batch)).await?.into_inner().items;
    assert_eq!(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["Tomato Bruschetta", "Garlic Bread"]);

    let search = |query: &str| s.as_service(pb::SearchMenuRequest { query: query.into(), first: 0 });
    let found = s.grpc.clone().search_menu(search("burger")).await?.into_inner().items;
    assert_eq!(found.first().map(|i| i.name.as_str()), Some("Classic Cheeseburger"));
    let found = s.grpc.clone().search_menu(search("fries")).await?.into_inner().items;
    let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"French Fries"), "a name match ranks first: {names:?}");
    assert!(names.contains(&"Steak Frites"), "descriptions match too (stemmed): {names:?}");
    let refused = s.grpc.clone().search_menu(search("  ")).await.expect_err("an empty query");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let refused = s
        .grpc
        .clone()
        .list_menu_items(s.as_service(pb::ListMenuItemsRequest { first: 0, after: None, category: Some(42) }))
        .await
        .expect_err("no such category");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    s.app.stop().await;
    Ok(())
}
