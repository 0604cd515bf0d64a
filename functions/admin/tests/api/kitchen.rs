//! The kitchen's calendar in the back office: `PATCH /admin/kitchen`, dishes' daily portions, and
//! the same limits on orders staff place.

use crate::orders::walk_in;
use devkit::testing::{Caller, TestApp, dish};
use kitchen::domain::Role;
use serde_json::{Value, json};

async fn app() -> (TestApp, String) {
    let (app, admin) = app_and_admin().await;
    (app, admin.access_token)
}

async fn app_and_admin() -> (TestApp, Caller) {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    (app, admin)
}

#[tokio::test]
async fn staff_change_the_calendar_and_what_is_left_out_stays() {
    let (app, token) = app().await;
    let change = json!({
        "timezone": "Africa/Lagos",
        "order_cutoff": {"days_before": 1, "time": "18:00"},
        "max_orders_per_day": 60,
        "closed_dates": ["2027-01-01", "2026-12-25", "2026-12-25"],
    });
    let changed = app.patch("/admin/kitchen", &change, Some(&token)).await;
    changed.assert_status(200);
    assert_eq!(
        changed.json["order_cutoff"],
        json!({"days_before": 1, "time": "18:00"})
    );
    assert_eq!(
        changed.json["closed_dates"],
        json!(["2026-12-25", "2027-01-01"])
    );
    assert_eq!(changed.json["next_open_dates"].as_array().unwrap().len(), 7);
    // Only what is sent changes; null lifts the cap.
    let lifted = app
        .patch(
            "/admin/kitchen",
            &json!({"max_orders_per_day": null}),
            Some(&token),
        )
        .await;
    lifted.assert_status(200);
    assert_eq!(lifted.json["max_orders_per_day"], Value::Null);
    assert_eq!(lifted.json["order_cutoff"]["time"], "18:00");
    let stored = app.db().kitchen().await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.settings.unwrap().closed_dates.len(), 2);
}

#[tokio::test]
async fn changing_the_calendar_needs_an_admin() {
    let (app, _) = app().await;
    let body = json!({"max_orders_per_day": 10});
    app.patch("/admin/kitchen", &body, None)
        .await
        .assert_problem(401);
    let customer = app.user(Role::Customer).await;
    app.patch("/admin/kitchen", &body, Some(&customer.access_token))
        .await
        .assert_problem(403);
    assert!(
        app.db().kitchen().await.unwrap().settings.is_none(),
        "nothing written"
    );
}

#[tokio::test]
async fn bad_settings_are_400_naming_the_field_and_change_nothing() {
    let (app, token) = app().await;
    for (body, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"timezone": "Europe/London"}), "timezone"),
        (json!({"timezone": ""}), "timezone"),
        (
            json!({"order_cutoff": {"days_before": 15, "time": "18:00"}}),
            "order_cutoff.days_before",
        ),
        (
            json!({"order_cutoff": {"days_before": 1, "time": "24:00"}}),
            "order_cutoff.time",
        ),
        (
            json!({"order_cutoff": {"days_before": 1, "time": "6pm"}}),
            "order_cutoff.time",
        ),
        (
            json!({"order_cutoff": {"days_before": 1}}),
            "order_cutoff.time",
        ),
        (json!({"max_orders_per_day": 0}), "max_orders_per_day"),
        (json!({"max_orders_per_day": 10001}), "max_orders_per_day"),
        (json!({"max_orders_per_day": "ten"}), "max_orders_per_day"),
        (json!({"closed_dates": ["2026-02-30"]}), "closed_dates[0]"),
        (json!({"closed_dates": null}), "closed_dates"),
        (json!({"opening_hours": "9-5"}), "opening_hours"),
    ] {
        let refused = app.patch("/admin/kitchen", &body, Some(&token)).await;
        refused.assert_problem(400);
        assert_eq!(refused.error_fields(), [field], "{body}");
    }
    assert!(
        app.db().kitchen().await.unwrap().settings.is_none(),
        "nothing written"
    );
}

#[tokio::test]
async fn a_dishes_daily_portions_are_set_changed_and_lifted() {
    let (app, token) = app().await;
    let body = json!({
        "name": "Egusi", "price": 300000, "currency": "NGN", "dish_type": "dinner",
        "available_from": "2026-11-01", "daily_portions": 40,
    });
    let created = app.post("/admin/dishes", &body, Some(&token)).await;
    created.assert_status(201);
    assert_eq!(created.json["daily_portions"], 40);
    let path = format!("/admin/dishes/{}", created.json["id"].as_str().unwrap());
    let lowered = app
        .patch(&path, &json!({"daily_portions": 12}), Some(&token))
        .await;
    lowered.assert_status(200);
    assert_eq!(lowered.json["daily_portions"], 12);
    let lifted = app
        .patch(&path, &json!({"daily_portions": null}), Some(&token))
        .await;
    lifted.assert_status(200);
    assert_eq!(lifted.json["daily_portions"], Value::Null);
    for bad in [json!(0), json!(10001), json!(2.5), json!("40")] {
        let refused = app
            .patch(&path, &json!({"daily_portions": bad}), Some(&token))
            .await;
        refused.assert_problem(400);
        assert_eq!(refused.error_fields(), ["daily_portions"], "{bad}");
    }
    let mut unlimited = body.clone();
    unlimited["name"] = json!("Rice");
    unlimited.as_object_mut().unwrap().remove("daily_portions");
    let plain = app.post("/admin/dishes", &unlimited, Some(&token)).await;
    plain.assert_status(201);
    assert_eq!(plain.json["daily_portions"], Value::Null);
}

#[tokio::test]
async fn staff_orders_hold_portions_and_a_limit_lowered_below_them_takes_nothing_but_new_orders() {
    let (app, admin) = app_and_admin().await;
    let token = admin.access_token.clone();
    let customer = walk_in(&app, &admin).await;
    let mut egusi = dish("Egusi", app.today());
    egusi.daily_portions = Some(kitchen::domain::DailyLimit::parse(5).unwrap());
    app.add_dishes(std::slice::from_ref(&egusi)).await;
    let date = app.today().add_days(1);
    let order = |quantity: u32| {
        json!({
            "user_id": customer, "items": [{"dish_id": egusi.id, "quantity": quantity}],
            "delivery_date": date.to_string(), "delivery_address": "Yaba market",
        })
    };
    let placed = app.post("/admin/orders", &order(4), Some(&token)).await;
    placed.assert_status(201);
    let refused = app.post("/admin/orders", &order(2), Some(&token)).await;
    refused.assert_problem(422);
    assert_eq!(refused.error_fields(), ["items[0].quantity"]);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("only 1 portions of Egusi")
    );

    // Lowered below what is held: the placed order keeps its portions, no new one is taken.
    app.patch(
        &format!("/admin/dishes/{}", egusi.id),
        &json!({"daily_portions": 2}),
        Some(&token),
    )
    .await
    .assert_status(200);
    app.post("/admin/orders", &order(1), Some(&token))
        .await
        .assert_problem(422);
    assert_eq!(
        app.db()
            .day_counts(date)
            .await
            .unwrap()
            .portions_of(&egusi.id),
        4
    );
    let id = placed.json["id"].as_str().unwrap();
    let kept = app.get(&format!("/admin/orders/{id}"), Some(&token)).await;
    assert_eq!(kept.json["status"], "pending_payment");
    assert_eq!(kept.json["items"][0]["quantity"], 4);

    // Staff cancelling it releases them; the cut-off holds for staff as for customers.
    app.patch(
        &format!("/admin/orders/{id}/status"),
        &json!({"status": "cancelled"}),
        Some(&token),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.db()
            .day_counts(date)
            .await
            .unwrap()
            .portions_of(&egusi.id),
        0
    );
    app.post("/admin/orders", &order(2), Some(&token))
        .await
        .assert_status(201);
    app.set_kitchen(json!({"order_cutoff": {"days_before": 3, "time": "12:00"}}))
        .await;
    let late = app.post("/admin/orders", &order(1), Some(&token)).await;
    late.assert_problem(422);
    assert_eq!(late.error_fields(), ["delivery_date"]);
}
