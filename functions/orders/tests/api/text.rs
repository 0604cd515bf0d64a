//! A delivery address is one line of visible text; an order stored before that rule (an address
//! with a line break) still reads and can still be cancelled.

use devkit::testing::TestApp;
use kitchen::domain::{Order, Role};
use serde_json::json;

#[tokio::test]
async fn an_order_stored_with_an_old_address_still_reads_and_a_new_one_must_be_one_line() {
    let app = TestApp::spawn(orders::FUNCTION).await;
    let customer = app.user(Role::Customer).await;
    let token = Some(customer.access_token.as_str());
    let placed = app.unpaid_order(&customer, 1).await;
    // As the old rule stored it, line break and all.
    let stored = app.db().get_order(&placed.id).await.unwrap().unwrap();
    let mut old = serde_json::to_value(&stored.order).unwrap();
    old["delivery_address"] = json!("12 Marina\nLagos");
    let old: Order = serde_json::from_value(old).expect("a stored order reads whatever its text");
    assert!(app.db().replace_order(&stored, &old).await.unwrap());

    let path = format!("/orders/{}", placed.id);
    let fetched = app.get(&path, token).await;
    fetched.assert_status(200);
    assert_eq!(fetched.json["delivery_address"], "12 Marina\nLagos");
    app.get("/orders", token).await.assert_status(200);
    for address in ["12 Marina\nLagos", "12 Marina, \u{202E}sogaL"] {
        let response = app
            .patch(&path, &json!({"delivery_address": address}), token)
            .await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["delivery_address"], "{address:?}");
    }
    app.delete(&path, token).await.assert_status(204);
    assert_eq!(app.get(&path, token).await.json["status"], "cancelled");
}
