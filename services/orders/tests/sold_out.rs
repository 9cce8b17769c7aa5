//! 86'd dishes: kitchen staff mark a menu item sold out and back; orders for it are refused
//! naming it, and every menu watcher hears of each change.

mod common;

use common::{GARLIC_BREAD, item, start};
use restaurant_proto::v1 as pb;
use tokens::Role;

#[actix_rt::test]
async fn the_kitchen_86es_a_dish_orders_for_it_are_refused_by_name_and_watchers_hear_of_it() -> anyhow::Result<()> {
    let s = start().await?;
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let mut menu = s.grpc.clone().watch_menu(s.as_service(pb::WatchMenuRequest {})).await?.into_inner();
    let set = |available: bool| pb::SetMenuItemAvailabilityRequest { id: GARLIC_BREAD.into(), available };

    // The watch is live from its answer on; the change may race the listener's start, so the
    // dish is 86ed until a watcher sees it (each change notifies only when it really changes).
    let changed = s.grpc.clone().set_menu_item_availability(s.as_user(&chef, set(false))).await?.into_inner();
    let changed = changed.item.expect("the item");
    assert_eq!((changed.name.as_str(), changed.available), ("Garlic Bread", false));
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), menu.message()).await??.expect("a change");
    assert_eq!((seen.id.as_str(), seen.available), (GARLIC_BREAD, false));

    let order =
        pb::CreateOrderRequest { items: vec![item(GARLIC_BREAD, 1)], idempotency_key: None, ..Default::default() };
    let refused = s.grpc.clone().create_order(s.as_customer(order.clone())).await.expect_err("a sold-out dish");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("Garlic Bread is sold out"), "{}", refused.message());
    assert!(refused.message().contains(GARLIC_BREAD), "the refusal names the item's id: {}", refused.message());
    assert_eq!(s.db.count("orders.orders").await?, 0);

    let back = s.grpc.clone().set_menu_item_availability(s.as_user(&chef, set(true))).await?.into_inner();
    assert!(back.item.expect("the item").available);
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), menu.message()).await??.expect("a change");
    assert_eq!((seen.id.as_str(), seen.available), (GARLIC_BREAD, true));
    s.grpc.clone().create_order(s.as_customer(order)).await.expect("available again");
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn only_kitchen_staff_86_a_dish_and_bad_ids_change_nothing() -> anyhow::Result<()> {
    let s = start().await?;
    let set = |id: &str| pb::SetMenuItemAvailabilityRequest { id: id.into(), available: false };
    let refused =
        s.grpc.clone().set_menu_item_availability(s.as_customer(set(GARLIC_BREAD))).await.expect_err("a customer");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let (_, chef) = s.auth.user_token(Role::KitchenStaff);
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing =
        s.grpc.clone().set_menu_item_availability(s.as_user(&chef, set(&unknown))).await.expect_err("no such item");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let bad = s.grpc.clone().set_menu_item_availability(s.as_user(&chef, set("garlic"))).await.expect_err("not an id");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    let available: i64 = s
        .db
        .connect()
        .await?
        .query_one("SELECT count(*) FROM orders.menu_items WHERE id = $1::text::uuid AND available", &[&GARLIC_BREAD])
        .await?
        .get(0);
    assert_eq!(available, 1, "refusals change nothing");
    s.app.stop().await;
    Ok(())
}
