//! The kitchen's calendar as the public sees it: `GET /kitchen`, and the menu of a date with what
//! is left of each dish and whether that date still takes orders.

use devkit::testing::{TestApp, dish};
use kitchen::{
    app::pricing::new_order,
    db::Limits,
    domain::{Actor, Address, DailyLimit, Date, Dish, Money, OrderItem, Quantity},
};
use serde_json::json;

async fn app() -> TestApp {
    TestApp::spawn(dishes::FUNCTION).await
}

/// An order of `portions` of `dish` for `date`, written as placing writes it (with its portions).
async fn hold(app: &TestApp, dish: &Dish, portions: u32, date: Date) {
    let customer = app.user(kitchen::domain::Role::Customer).await;
    let quantity = Quantity::parse(portions).unwrap();
    let unit_price = Money::from(dish.price);
    let item = OrderItem {
        dish_id: dish.id.clone(),
        dish_name: dish.name.to_string(),
        unit_price,
        quantity,
        line_total: unit_price.times(quantity),
        currency: dish.currency,
    };
    let order = new_order(
        &customer.user,
        vec![item],
        unit_price.times(quantity),
        date,
        Address::parse("12 Marina, Lagos").unwrap(),
        Actor::Customer,
        kitchen::now(),
    );
    app.db()
        .place_order(&order, None, None, &Limits::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_kitchen_takes_orders_until_each_dates_end_until_staff_say_otherwise() {
    let app = app().await;
    let shown = app.get("/kitchen", None).await;
    shown.assert_status(200);
    assert_eq!(shown.json["timezone"], "Africa/Lagos");
    assert_eq!(
        shown.json["order_cutoff"],
        json!({"days_before": 0, "time": "23:59"})
    );
    assert_eq!(shown.json["max_orders_per_day"], serde_json::Value::Null);
    assert_eq!(shown.json["closed_dates"], json!([]));
    let today = app.today();
    let open: Vec<String> = (0..7).map(|d| today.add_days(d).to_string()).collect();
    assert_eq!(shown.json["next_open_dates"], json!(open));
}

#[tokio::test]
async fn closed_dates_and_the_cut_off_show_in_the_open_dates_and_on_the_menu() {
    let app = app().await;
    let today = app.today();
    let closed = today.add_days(3);
    app.set_kitchen(json!({
        "order_cutoff": {"days_before": 1, "time": "00:00"},
        "closed_dates": [closed.to_string()],
        "max_orders_per_day": 40,
    }))
    .await;
    let shown = app.get("/kitchen", None).await;
    shown.assert_status(200);
    assert_eq!(shown.json["max_orders_per_day"], 40);
    let open = shown.json["next_open_dates"].as_array().unwrap();
    assert_eq!(open.len(), 7);
    // Today and tomorrow closed at midnight at the latest; the closed date never opens.
    assert!(!open.contains(&json!(today.to_string())));
    assert!(!open.contains(&json!(today.add_days(1).to_string())));
    assert!(!open.contains(&json!(closed.to_string())));
    assert_eq!(open[0], today.add_days(2).to_string());

    let moi_moi = dish("Moi Moi", today);
    app.add_dishes(std::slice::from_ref(&moi_moi)).await;
    for (date, open) in [
        (closed, false),
        (today.add_days(1), false),
        (today.add_days(2), true),
    ] {
        let menu = app.get(&format!("/dishes?date={date}"), None).await;
        menu.assert_status(200);
        assert_eq!(menu.json["items"][0]["ordering_open"], open, "{date}");
        let one = app
            .get(&format!("/dishes/{}?date={date}", moi_moi.id), None)
            .await;
        assert_eq!(one.json["ordering_open"], open, "{date}");
        assert_eq!(one.json["date"], date.to_string());
    }
}

#[tokio::test]
async fn the_menu_shows_the_portions_left_of_each_limited_dish_for_its_date() {
    let app = app().await;
    let today = app.today();
    let date = today.add_days(1);
    let mut egusi = dish("Egusi", today);
    egusi.daily_portions = Some(DailyLimit::parse(5).unwrap());
    let mut suya = dish("Suya", today);
    suya.daily_portions = Some(DailyLimit::parse(2).unwrap());
    let rice = dish("Rice", today);
    app.add_dishes(&[egusi.clone(), suya.clone(), rice.clone()])
        .await;
    hold(&app, &egusi, 3, date).await;
    hold(&app, &suya, 2, date).await;
    hold(&app, &rice, 7, date).await;

    let menu = app.get(&format!("/dishes?date={date}"), None).await;
    menu.assert_status(200);
    let by_name = |name: &str| {
        menu.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Egusi")["portions_left"], 2);
    assert_eq!(by_name("Egusi")["sold_out"], false);
    assert_eq!(by_name("Egusi")["daily_portions"], 5);
    assert_eq!(by_name("Suya")["portions_left"], 0);
    assert_eq!(by_name("Suya")["sold_out"], true);
    assert_eq!(by_name("Rice")["portions_left"], serde_json::Value::Null);
    assert_eq!(by_name("Rice")["sold_out"], false);
    assert!(
        menu.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["date"] == date.to_string())
    );

    // Another date has all its portions.
    let one = app
        .get(
            &format!("/dishes/{}?date={}", suya.id, date.add_days(1)),
            None,
        )
        .await;
    one.assert_status(200);
    assert_eq!(one.json["portions_left"], 2);
    // One dish on the held date; a bad date is 400 naming it.
    let held = app
        .get(&format!("/dishes/{}?date={date}", egusi.id), None)
        .await;
    assert_eq!(held.json["portions_left"], 2);
    let bad = app
        .get(&format!("/dishes/{}?date=tomorrow", egusi.id), None)
        .await;
    bad.assert_problem(400);
    assert_eq!(bad.error_fields(), ["date"]);
}
