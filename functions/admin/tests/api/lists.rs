//! The lists the kitchen works from: `GET /admin/kitchen/prep` and `GET /admin/reports/sales`,
//! as JSON and as CSV, against DynamoDB Local.

use crate::orders::{move_to, walk_in};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use axum::body::Body;
use devkit::testing::{Caller, TestApp, TestResponse, dish};
use http::{Method, Request, header};
use kitchen::{
    db::meter::{Usage, metered},
    domain::{Actor, Date, Dish, OrderId, OrderStatus, Role},
};
use serde_json::{Value, json};
use std::sync::Arc;

async fn app() -> (TestApp, Caller, Dish, Dish) {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    let jollof = dish("Jollof", app.today());
    let egusi = dish("Egusi", app.today());
    app.add_dishes(&[jollof.clone(), egusi.clone()]).await;
    (app, admin, jollof, egusi)
}

/// An order staff place for `customer` on `date` with `lines` of (dish, quantity); its id.
async fn place(
    app: &TestApp,
    admin: &Caller,
    customer: &str,
    date: Date,
    lines: &[(&Dish, u32)],
    note: Option<&str>,
) -> String {
    let items: Vec<_> = lines
        .iter()
        .map(|(dish, quantity)| json!({"dish_id": dish.id, "quantity": quantity}))
        .collect();
    let mut body = json!({
        "user_id": customer, "items": items, "delivery_date": date.to_string(),
        "delivery_address": "4 Ojuelegba Road, Surulere, Lagos",
    });
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    let response = app
        .post("/admin/orders", &body, Some(&admin.access_token))
        .await;
    response.assert_status(201);
    response.json["id"].as_str().unwrap().to_string()
}

/// What a refund of `kobo` leaves on its order: the counter the refund's transaction adds to.
async fn refunded(app: &TestApp, id: &str, kobo: i64) {
    let key = kitchen::db::order_key(&OrderId::parse(id).unwrap());
    app.db()
        .client()
        .update_item()
        .table_name(app.db().table_name())
        .set_key(Some(key))
        .update_expression("ADD refunded_amount :amount")
        .expression_attribute_values(
            ":amount",
            aws_sdk_dynamodb::types::AttributeValue::N(kobo.to_string()),
        )
        .send()
        .await
        .unwrap();
}

async fn get_as(app: &TestApp, path: &str, token: &str, accept: &str) -> TestResponse {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

/// The rows of a CSV answer, as a spreadsheet would read them.
fn rows(response: &TestResponse) -> Vec<Vec<String>> {
    assert!(
        response.text.starts_with('\u{feff}'),
        "a byte-order mark first"
    );
    assert!(response.text.ends_with("\r\n"), "CRLF line ends");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(response.text.as_bytes());
    reader
        .records()
        .map(|record| record.unwrap().iter().map(String::from).collect())
        .collect()
}

#[tokio::test]
async fn the_prep_list_adds_up_the_day_s_paid_orders_with_their_customers_and_notes() {
    let (app, admin, jollof, egusi) = app().await;
    let day = app.today().add_days(1);
    let customer = walk_in(&app, &admin).await;
    let paid = place(
        &app,
        &admin,
        &customer,
        day,
        &[(&jollof, 2), (&egusi, 1)],
        Some("No pepper, please.\nCall at the gate."),
    )
    .await;
    move_to(&app, &paid, OrderStatus::Paid, Actor::System).await;
    let cooking = place(&app, &admin, &customer, day, &[(&egusi, 4)], None).await;
    move_to(&app, &cooking, OrderStatus::Paid, Actor::System).await;
    move_to(&app, &cooking, OrderStatus::Preparing, Actor::Admin).await;
    let on_the_road = place(&app, &admin, &customer, day, &[(&jollof, 1)], None).await;
    for status in [
        OrderStatus::Paid,
        OrderStatus::Preparing,
        OrderStatus::OutForDelivery,
    ] {
        let by = if status == OrderStatus::Paid {
            Actor::System
        } else {
            Actor::Admin
        };
        move_to(&app, &on_the_road, status, by).await;
    }
    // Not to cook: unpaid, delivered, cancelled, or another day.
    place(&app, &admin, &customer, day, &[(&jollof, 9)], None).await;
    let delivered = place(&app, &admin, &customer, day, &[(&jollof, 9)], None).await;
    move_to(&app, &delivered, OrderStatus::Paid, Actor::System).await;
    for status in [
        OrderStatus::Preparing,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
    ] {
        move_to(&app, &delivered, status, Actor::Admin).await;
    }
    let cancelled = place(&app, &admin, &customer, day, &[(&egusi, 9)], None).await;
    move_to(&app, &cancelled, OrderStatus::Cancelled, Actor::Admin).await;
    let tomorrow = place(
        &app,
        &admin,
        &customer,
        day.add_days(1),
        &[(&egusi, 9)],
        None,
    )
    .await;
    move_to(&app, &tomorrow, OrderStatus::Paid, Actor::System).await;

    let path = format!("/admin/kitchen/prep?date={day}");
    let list = app.get(&path, Some(&admin.access_token)).await;
    list.assert_status(200);
    assert_eq!(list.json["date"], day.to_string());
    assert_eq!(
        list.json["dishes"],
        json!([
            {"dish_id": egusi.id, "dish_name": "Egusi", "quantity": 5, "orders": 2},
            {"dish_id": jollof.id, "dish_name": "Jollof", "quantity": 3, "orders": 2},
        ])
    );
    let orders = list.json["orders"].as_array().unwrap();
    let ids: Vec<_> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [&paid, &cooking, &on_the_road], "oldest first");
    assert_eq!(
        orders[0]["customer"],
        json!({"name": "Mama Put", "phone": "+2348031112222"})
    );
    assert_eq!(orders[0]["note"], "No pepper, please.\nCall at the gate.");
    assert_eq!(orders[0]["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        orders[0]["delivery_address"],
        "4 Ojuelegba Road, Surulere, Lagos"
    );
    assert_eq!(orders[2]["status"], "out_for_delivery");
    assert_eq!(orders[1]["note"], Value::Null);

    // The same list for a spreadsheet: one row per line, the note's line break quoted.
    let csv = get_as(&app, &path, &admin.access_token, "text/csv").await;
    csv.assert_status(200);
    assert_eq!(
        csv.headers[header::CONTENT_TYPE],
        "text/csv; charset=utf-8; header=present"
    );
    assert_eq!(
        csv.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"prep-{day}.csv\"").as_str()
    );
    assert_eq!(csv.headers[header::VARY], "accept");
    let rows = rows(&csv);
    assert_eq!(
        rows[0],
        [
            "order_id",
            "status",
            "customer_name",
            "customer_phone",
            "delivery_address",
            "dish_id",
            "dish_name",
            "quantity",
            "note"
        ]
    );
    assert_eq!(rows.len(), 1 + 4, "a header and one row per line");
    assert_eq!(
        rows[1],
        [
            paid.as_str(),
            "paid",
            "Mama Put",
            "'+2348031112222",
            "4 Ojuelegba Road, Surulere, Lagos",
            jollof.id.as_str(),
            "Jollof",
            "2",
            "No pepper, please.\nCall at the gate."
        ]
    );
    assert!(
        csv.text
            .contains("\"No pepper, please.\nCall at the gate.\"\r\n"),
        "a field with a line break is quoted: {}",
        csv.text
    );
    // JSON unless CSV is preferred.
    let json = get_as(
        &app,
        &path,
        &admin.access_token,
        "application/json, text/csv",
    )
    .await;
    assert_eq!(json.json, list.json);
}

#[tokio::test]
async fn a_day_without_orders_has_an_empty_prep_list_and_a_header_only_csv() {
    let (app, admin, _, _) = app().await;
    let path = format!("/admin/kitchen/prep?date={}", app.today());
    let list = app.get(&path, Some(&admin.access_token)).await;
    list.assert_status(200);
    assert_eq!(list.json["dishes"], json!([]));
    assert_eq!(list.json["orders"], json!([]));
    let csv = get_as(&app, &path, &admin.access_token, "text/csv").await;
    assert_eq!(rows(&csv).len(), 1);
}

#[tokio::test]
async fn the_sales_report_counts_paid_orders_by_delivery_day_with_refunds_and_best_sellers() {
    let (app, admin, jollof, egusi) = app().await;
    let first = app.today().add_days(1);
    let customer = walk_in(&app, &admin).await;
    // Day one: two paid orders (one later cancelled and half refunded), one never paid.
    let a = place(&app, &admin, &customer, first, &[(&jollof, 2)], None).await;
    move_to(&app, &a, OrderStatus::Paid, Actor::System).await;
    let b = place(
        &app,
        &admin,
        &customer,
        first,
        &[(&egusi, 3), (&jollof, 1)],
        None,
    )
    .await;
    move_to(&app, &b, OrderStatus::Paid, Actor::System).await;
    move_to(&app, &b, OrderStatus::Cancelled, Actor::Admin).await;
    refunded(&app, &b, 250_000).await;
    place(&app, &admin, &customer, first, &[(&jollof, 9)], None).await;
    // Day three: one paid order; day two has none.
    let c = place(
        &app,
        &admin,
        &customer,
        first.add_days(2),
        &[(&egusi, 1)],
        None,
    )
    .await;
    move_to(&app, &c, OrderStatus::Paid, Actor::System).await;
    // Outside the range: not counted.
    let d = place(
        &app,
        &admin,
        &customer,
        first.add_days(3),
        &[(&egusi, 5)],
        None,
    )
    .await;
    move_to(&app, &d, OrderStatus::Paid, Actor::System).await;

    let (from, to) = (first, first.add_days(2));
    let path = format!("/admin/reports/sales?from={from}&to={to}");
    let report = app.get(&path, Some(&admin.access_token)).await;
    report.assert_status(200);
    let price = 250_000; // every test dish costs ₦2,500.00
    assert_eq!(
        report.json["days"],
        json!([
            {"date": from.to_string(), "orders_paid": 2, "revenue": 6 * price, "refunded": price, "net": 5 * price},
            {"date": from.add_days(1).to_string(), "orders_paid": 0, "revenue": 0, "refunded": 0, "net": 0},
            {"date": to.to_string(), "orders_paid": 1, "revenue": price, "refunded": 0, "net": price},
        ])
    );
    assert_eq!(
        report.json["totals"],
        json!({"orders_paid": 3, "revenue": 7 * price, "refunded": price, "net": 6 * price})
    );
    assert_eq!(
        report.json["top_dishes"],
        json!([
            {"dish_id": egusi.id, "dish_name": "Egusi", "quantity": 4, "revenue": 4 * price},
            {"dish_id": jollof.id, "dish_name": "Jollof", "quantity": 3, "revenue": 3 * price},
        ])
    );
    assert_eq!(report.json["from"], from.to_string());
    assert_eq!(report.json["to"], to.to_string());

    let csv = get_as(&app, &path, &admin.access_token, "text/csv").await;
    csv.assert_status(200);
    assert_eq!(
        csv.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"sales-{from}-to-{to}.csv\"").as_str()
    );
    assert_eq!(
        rows(&csv),
        [
            vec!["date", "orders_paid", "revenue", "refunded", "net"],
            vec![&from.to_string(), "2", "15000.00", "2500.00", "12500.00"],
            vec![&from.add_days(1).to_string(), "0", "0.00", "0.00", "0.00"],
            vec![&to.to_string(), "1", "2500.00", "0.00", "2500.00"],
            vec!["total", "3", "17500.00", "2500.00", "15000.00"],
        ]
    );
}

#[tokio::test]
async fn a_report_reads_only_the_days_asked_for() {
    let (app, admin, jollof, _) = app().await;
    let day = app.today().add_days(2);
    let customer = walk_in(&app, &admin).await;
    for _ in 0..3 {
        let id = place(&app, &admin, &customer, day, &[(&jollof, 1)], None).await;
        move_to(&app, &id, OrderStatus::Paid, Actor::System).await;
    }
    let cost = || async {
        let usage = Arc::new(Usage::default());
        let sales = metered(usage.clone(), app.db().sales_between(day, day))
            .await
            .unwrap();
        assert_eq!(sales.len(), 3);
        usage.snapshot()
    };
    let before = cost().await;
    assert_eq!(before.reads, 1, "one Query: {before:?}");
    // Many more paid orders on the days around it cost the report nothing.
    for offset in [-1, 1, 2, 3] {
        for _ in 0..5 {
            let id = place(
                &app,
                &admin,
                &customer,
                day.add_days(offset),
                &[(&jollof, 2)],
                None,
            )
            .await;
            move_to(&app, &id, OrderStatus::Paid, Actor::System).await;
        }
    }
    let after = cost().await;
    assert_eq!(after.reads, 1);
    assert_eq!(
        after.read_units, before.read_units,
        "{before:?} then {after:?}"
    );
    assert!(before.read_units > 0.0, "the table reports what it read");
}

/// What a month of a busy kitchen costs the report: 30 days of 100 paid orders, each of two dishes
/// with a note and the history of its placing and payment (copies of one placed and paid through
/// the API, written straight to the table), read in a handful of Query pages.
#[tokio::test]
async fn a_month_of_a_hundred_orders_a_day_is_a_handful_of_reads() {
    const DAYS: i64 = 30;
    const PER_DAY: usize = 100;
    let (app, admin, jollof, egusi) = app().await;
    let first = app.today().add_days(1);
    let customer = walk_in(&app, &admin).await;
    let note =
        Some("No pepper in the egusi, please. Call when you reach the gate; the bell is broken.");
    let id = place(
        &app,
        &admin,
        &customer,
        first,
        &[(&jollof, 2), (&egusi, 1)],
        note,
    )
    .await;
    move_to(&app, &id, OrderStatus::Paid, Actor::System).await;
    let paid = app.stored_order(&id).await.order;
    let mut items = Vec::new();
    for day in 0..DAYS {
        let copies = if day == 0 { PER_DAY - 1 } else { PER_DAY };
        for _ in 0..copies {
            let mut order = paid.clone();
            order.id = OrderId::new();
            order.delivery_date = first.add_days(day);
            items.push(order.to_item(1).unwrap());
        }
    }
    let client = app.db().client();
    for chunk in items.chunks(25) {
        let mut writes: Vec<_> = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item.clone()))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        while !writes.is_empty() {
            let answer = client
                .batch_write_item()
                .request_items(app.db().table_name(), writes)
                .send()
                .await
                .unwrap();
            writes = answer
                .unprocessed_items
                .and_then(|mut left| left.remove(app.db().table_name()))
                .unwrap_or_default();
        }
    }
    let usage = Arc::new(Usage::default());
    let sales = metered(
        usage.clone(),
        app.db().sales_between(first, first.add_days(DAYS - 1)),
    )
    .await
    .unwrap();
    let cost = usage.snapshot();
    assert_eq!(sales.len(), DAYS as usize * PER_DAY);
    println!(
        "a {DAYS}-day report of {PER_DAY} orders a day: {} Query requests, {} read units",
        cost.reads, cost.read_units
    );
    // Each page reads up to 1 MB of orders; 3,000 orders of about 1 KB are a few pages, and never
    // a read per order or per day.
    assert!((1..=6).contains(&cost.reads), "{cost:?}");
    assert!(cost.read_units < 500.0, "{cost:?}");
    // The report adds them up to the same figures the route answers.
    let report = app
        .get(
            &format!(
                "/admin/reports/sales?from={first}&to={}",
                first.add_days(DAYS - 1)
            ),
            Some(&admin.access_token),
        )
        .await;
    report.assert_status(200);
    assert_eq!(report.json["totals"]["orders_paid"], DAYS * PER_DAY as i64);
    assert_eq!(
        report.json["totals"]["revenue"],
        paid.total.minor_units() * DAYS * PER_DAY as i64
    );
}

#[tokio::test]
async fn the_lists_are_for_staff_only() {
    let (app, _, _, _) = app().await;
    let customer = app.user(Role::Customer).await;
    let day = app.today();
    for path in [
        format!("/admin/kitchen/prep?date={day}"),
        format!("/admin/reports/sales?from={day}&to={day}"),
    ] {
        app.get(&path, None).await.assert_problem(401);
        app.get(&path, Some(&customer.access_token))
            .await
            .assert_problem(403);
        get_as(&app, &path, &customer.access_token, "text/csv")
            .await
            .assert_problem(403);
    }
}

#[tokio::test]
async fn bad_dates_and_ranges_are_400_naming_the_parameter() {
    let (app, admin, _, _) = app().await;
    let token = Some(admin.access_token.as_str());
    for (query, field) in [
        ("/admin/kitchen/prep", "date"),
        ("/admin/kitchen/prep?date=2026-02-30", "date"),
        ("/admin/kitchen/prep?date=tomorrow", "date"),
        ("/admin/kitchen/prep?date=2026-12-01&limit=5", "limit"),
        ("/admin/reports/sales?from=2026-12-01", "to"),
        ("/admin/reports/sales?to=2026-12-01", "from"),
        ("/admin/reports/sales?from=2026-12-02&to=2026-12-01", "to"),
        ("/admin/reports/sales?from=2026-12-01&to=2027-03-03", "to"),
        ("/admin/reports/sales?from=2026-13-01&to=2026-12-01", "from"),
        (
            "/admin/reports/sales?from=2026-12-01&to=2026-12-02&day=1",
            "day",
        ),
    ] {
        let response = app.get(query, token).await;
        response.assert_problem(400);
        assert_eq!(
            response.error_fields(),
            [field],
            "{query}: {}",
            response.text
        );
    }
    // 92 days is the longest report.
    app.get("/admin/reports/sales?from=2026-12-01&to=2027-03-02", token)
        .await
        .assert_status(200);
}
