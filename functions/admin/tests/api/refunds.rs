//! Refunds from the back office, asked of the in-process Paystack simulator.

use devkit::testing::{Caller, TestApp, dish};
use kitchen::{
    app::record_charge::ReadAlong,
    domain::{Dish, Order, OrderId, Payment, PaymentReference, Role},
};
use serde_json::json;
use std::time::Duration;

use crate::orders::{order_for, walk_in};

/// The admin function with the Paystack simulator, an admin and a dish (₦2,500.00, two a order).
async fn app() -> (TestApp, Caller, Dish) {
    let app = TestApp::builder()
        .paystack_sim()
        .parameter("PaystackTimeoutMs", "500")
        .spawn(admin::FUNCTION)
        .await;
    let admin = app.user(Role::Admin).await;
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    (app, admin, jollof)
}

/// A staff-placed ₦5,000.00 order paid through the simulator (charged there, recorded here by the
/// same path verify takes); the order and its payment.
async fn charged_order(app: &TestApp, admin: &Caller, dish: &Dish) -> (Order, Payment) {
    let order = placed_order(app, admin, dish).await;
    let recorded = app.charge(&order).await;
    (order, recorded)
}

/// A staff-placed ₦5,000.00 order for a new phone-only customer, unpaid.
async fn placed_order(app: &TestApp, admin: &Caller, dish: &Dish) -> Order {
    let customer = walk_in(app, admin).await;
    let placed = app
        .post(
            "/admin/orders",
            &order_for(app, &customer, dish),
            Some(&admin.access_token),
        )
        .await;
    placed.assert_status(201);
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    app.db().get_order(&id).await.unwrap().unwrap().order
}

async fn payment_now(app: &TestApp, reference: &PaymentReference) -> Payment {
    app.db()
        .get_payment(reference)
        .await
        .unwrap()
        .unwrap()
        .payment
}

fn refunds_path(order: &Order) -> String {
    format!("/admin/orders/{}/refunds", order.id)
}

#[tokio::test]
async fn a_full_refund_is_asked_of_paystack_and_counted_on_payment_and_order() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = Some(admin.access_token.as_str());
    let response = app
        .post(
            &refunds_path(&order),
            &json!({"reason": "The kitchen could not cook it."}),
            token,
        )
        .await;
    response.assert_status(201);
    let refund = &response.json;
    assert_eq!(refund["amount"], 500_000);
    assert_eq!(refund["status"], "pending");
    assert_eq!(refund["requested_by"], "admin");
    assert_eq!(refund["admin_id"], json!(admin.user.id.to_string()));
    assert_eq!(
        refund["payment_reference"],
        json!(payment.reference.as_str())
    );
    let paystack_id = refund["paystack_id"]
        .as_u64()
        .expect("Paystack's refund id");
    // Paystack holds the refund of the whole charge.
    let at_paystack = app.paystack().state().refunds();
    assert_eq!(at_paystack.len(), 1);
    assert_eq!(at_paystack[0].id, paystack_id);
    assert_eq!(at_paystack[0].amount, 500_000);
    assert_eq!(
        payment_now(&app, &payment.reference)
            .await
            .refunded_amount
            .minor_units(),
        500_000
    );
    let shown = app.get(&format!("/admin/orders/{}", order.id), token).await;
    assert_eq!(shown.json["refunded_amount"], 500_000);
    // Nothing is left: another refund is 422 and Paystack is not asked.
    app.post(&refunds_path(&order), &json!({"reason": "again"}), token)
        .await
        .assert_problem(422);
    assert_eq!(app.paystack().state().refunds().len(), 1);
    // The list shows it, by order and by status.
    let listed = app.get("/admin/refunds", token).await;
    listed.assert_status(200);
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
    let by_order = app
        .get(&format!("/admin/refunds?order_id={}", order.id), token)
        .await;
    assert_eq!(by_order.json["items"][0]["id"], refund["id"]);
    let none = app.get("/admin/refunds?status=processed", token).await;
    assert_eq!(none.json["items"], json!([]));
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_charge_and_no_further() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = Some(admin.access_token.as_str());
    let first = app
        .post(
            &refunds_path(&order),
            &json!({"amount": 200_000, "reason": "One plate was cold."}),
            token,
        )
        .await;
    first.assert_status(201);
    assert_eq!(first.json["amount"], 200_000);
    let too_much = app
        .post(
            &refunds_path(&order),
            &json!({"amount": 300_001, "reason": "More"}),
            token,
        )
        .await;
    too_much.assert_problem(422);
    assert_eq!(too_much.json["errors"][0]["field"], "amount");
    // Without an amount, what is left.
    let rest = app
        .post(&refunds_path(&order), &json!({"reason": "The rest"}), token)
        .await;
    rest.assert_status(201);
    assert_eq!(rest.json["amount"], 300_000);
    assert_eq!(
        payment_now(&app, &payment.reference)
            .await
            .refunded_amount
            .minor_units(),
        500_000
    );
}

#[tokio::test]
async fn racing_refunds_never_give_back_more_than_was_paid() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = admin.access_token.clone();
    let path = refunds_path(&order);
    // Ten refunds of ₦2,000.00 against a ₦5,000.00 charge: two fit.
    let body = json!({"amount": 200_000, "reason": "race"});
    let answers =
        futures::future::join_all((0..10).map(|_| app.post(&path, &body, Some(&token)))).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        2,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|r| r.status == 201 || r.status == 422));
    let counted = payment_now(&app, &payment.reference).await.refunded_amount;
    assert_eq!(counted.minor_units(), 400_000);
    let at_paystack: u64 = app
        .paystack()
        .state()
        .refunds()
        .iter()
        .map(|r| r.amount)
        .sum();
    assert_eq!(at_paystack, 400_000);
}

#[tokio::test]
async fn an_idempotency_key_answers_the_first_refund_again() {
    let (app, admin, jollof) = app().await;
    let (order, _) = charged_order(&app, &admin, &jollof).await;
    let body = json!({"amount": 100_000, "reason": "Late delivery"});
    let send = || {
        app.send(
            http::Request::builder()
                .method("POST")
                .uri(refunds_path(&order))
                .header("authorization", format!("Bearer {}", admin.access_token))
                .header("content-type", "application/json")
                .header("idempotency-key", "refund-1")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
    };
    let first = send().await;
    first.assert_status(201);
    let again = send().await;
    again.assert_status(201);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.json["paystack_id"], first.json["paystack_id"]);
    assert_eq!(app.paystack().state().refunds().len(), 1);
}

#[tokio::test]
async fn paystack_refusing_is_502_and_records_nothing() {
    let (app, admin, jollof) = app().await;
    // Our table holds a success that Paystack does not: it refuses to refund an unpaid transaction.
    let token = Some(admin.access_token.as_str());
    let order = placed_order(&app, &admin, &jollof).await;
    let payment = app.started_payment(&order).await;
    let charge: kitchen::paystack::Charge = serde_json::from_value(json!({
        "status": "success", "reference": payment.reference.as_str(), "amount": 500_000, "currency": "NGN",
    }))
    .unwrap();
    let stored = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    app.state
        .orders()
        .record_charge(stored, ReadAlong::default(), &charge)
        .await
        .unwrap();
    let response = app
        .post(&refunds_path(&order), &json!({"reason": "Refused"}), token)
        .await;
    response.assert_problem(502);
    assert_eq!(
        payment_now(&app, &payment.reference)
            .await
            .refunded_amount
            .minor_units(),
        0
    );
    assert_eq!(
        app.get("/admin/refunds", token).await.json["items"],
        json!([])
    );
    let shown = app.get(&format!("/admin/orders/{}", order.id), token).await;
    assert_eq!(shown.json["refunded_amount"], 0);
}

#[tokio::test]
async fn paystack_too_slow_is_503_and_the_refund_stays_held_until_paystack_tells() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = Some(admin.access_token.as_str());
    app.paystack()
        .state()
        .set_delay(Duration::from_millis(1500));
    let response = app
        .post(
            &refunds_path(&order),
            &json!({"reason": "Slow Paystack"}),
            token,
        )
        .await;
    response.assert_problem(503);
    // Paystack may hold it: the amount stays held, so no second refund can overpay meanwhile.
    assert_eq!(
        payment_now(&app, &payment.reference)
            .await
            .refunded_amount
            .minor_units(),
        500_000
    );
    let listed = app.get("/admin/refunds", token).await;
    assert_eq!(listed.json["items"][0]["status"], "pending");
    assert_eq!(listed.json["items"][0]["paystack_id"], json!(null));
    app.paystack().state().set_delay(Duration::ZERO);
    app.post(&refunds_path(&order), &json!({"reason": "again"}), token)
        .await
        .assert_problem(422);
    // Paystack does not hold it (the simulator dropped the request with the connection): following
    // the charge leaves it as it is.
    let refunds = app.state.refunds().unwrap();
    assert!(
        refunds
            .follow_charge(&payment.reference)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/admin/refunds", token).await.json["items"][0]["paystack_id"],
        json!(null)
    );
    // Had the request arrived, Paystack would hold a refund of that amount: following the charge
    // finds it in Paystack's list by amount, and then follows it.
    let paystack = app.state.paystack().unwrap();
    let theirs = paystack
        .refund(
            &payment.reference,
            payment.amount,
            payment.currency,
            "Slow Paystack",
        )
        .await
        .unwrap();
    assert!(
        refunds
            .follow_charge(&payment.reference)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = app.get("/admin/refunds", token).await;
    assert_eq!(listed.json["items"][0]["paystack_id"], json!(theirs.id));
    app.paystack()
        .state()
        .advance_refund(theirs.id, paystack_sim::RefundStatus::Processed)
        .await
        .unwrap();
    let moved = refunds.follow_charge(&payment.reference).await.unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].status, kitchen::domain::RefundStatus::Processed);
    assert!(moved[0].processed_at.is_some());
}

#[tokio::test]
async fn refusals_name_what_is_wrong_and_change_nothing() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    // An order nothing was paid for.
    let customer = walk_in(&app, &admin).await;
    let unpaid = app
        .post("/admin/orders", &order_for(&app, &customer, &jollof), token)
        .await;
    let unpaid_path = format!(
        "/admin/orders/{}/refunds",
        unpaid.json["id"].as_str().unwrap()
    );
    app.post(&unpaid_path, &json!({"reason": "x"}), token)
        .await
        .assert_problem(409);
    let (order, _) = charged_order(&app, &admin, &jollof).await;
    let path = refunds_path(&order);
    for (body, field) in [
        (json!({"amount": 0, "reason": "x"}), "amount"),
        (json!({"amount": -5, "reason": "x"}), "amount"),
        (json!({"amount": 1.5, "reason": "x"}), "amount"),
        (json!({"amount": "100", "reason": "x"}), "amount"),
        (json!({"reason": ""}), "reason"),
        (json!({"reason": "   "}), "reason"),
        (json!({"reason": "a\u{202e}b"}), "reason"),
        (json!({}), "reason"),
        (json!({"reason": "x", "extra": 1}), "extra"),
    ] {
        let response = app.post(&path, &body, token).await;
        response.assert_problem(400);
        assert!(
            response.json.to_string().contains(field),
            "{body}: {}",
            response.json
        );
    }
    for missing in [
        format!("/admin/orders/{}/refunds", OrderId::new()),
        "/admin/orders/nope/refunds".into(),
    ] {
        app.post(&missing, &json!({"reason": "x"}), token)
            .await
            .assert_problem(404);
    }
    assert!(app.paystack().state().refunds().is_empty());
    app.get("/admin/refunds?status=sideways", token)
        .await
        .assert_problem(400);
}

#[tokio::test]
async fn refunds_are_for_admins_only() {
    let (app, admin, jollof) = app().await;
    let (order, _) = charged_order(&app, &admin, &jollof).await;
    let customer = app.user(Role::Customer).await;
    let body = json!({"reason": "I want my money"});
    for token in [
        None,
        Some(customer.access_token.as_str()),
        Some("not-a-token"),
    ] {
        let expected = if token == Some(customer.access_token.as_str()) {
            403
        } else {
            401
        };
        app.post(&refunds_path(&order), &body, token)
            .await
            .assert_problem(expected);
        app.get("/admin/refunds", token)
            .await
            .assert_problem(expected);
    }
    assert!(app.paystack().state().refunds().is_empty());
}

#[tokio::test]
async fn cancelling_a_paid_order_gives_its_money_back_without_a_person() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = Some(admin.access_token.as_str());
    let response = app
        .patch(
            &format!("/admin/orders/{}/status", order.id),
            &json!({"status": "cancelled", "reason": "Out of yam"}),
            token,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["status"], "cancelled");
    assert_eq!(response.json["refund_due"], false, "the refund was started");
    assert_eq!(response.json["refunded_amount"], 500_000);
    let listed = app.get("/admin/refunds", token).await;
    let refund = &listed.json["items"][0];
    assert_eq!(refund["requested_by"], "system");
    assert_eq!(refund["admin_id"], json!(null));
    assert_eq!(refund["amount"], 500_000);
    assert_eq!(
        refund["reason"],
        "Order cancelled by the kitchen: Out of yam"
    );
    let stored = payment_now(&app, &payment.reference).await;
    assert!(!stored.refund_due);
    assert_eq!(app.paystack().state().refunds().len(), 1);
}

#[tokio::test]
async fn a_cancel_while_paystack_is_slow_keeps_the_refund_due() {
    let (app, admin, jollof) = app().await;
    let (order, payment) = charged_order(&app, &admin, &jollof).await;
    let token = Some(admin.access_token.as_str());
    // Paystack too slow: the cancel stands and the order's refund stays due (held, see above).
    app.paystack()
        .state()
        .set_delay(Duration::from_millis(1500));
    let response = app
        .patch(
            &format!("/admin/orders/{}/status", order.id),
            &json!({"status": "cancelled"}),
            token,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["status"], "cancelled");
    assert_eq!(response.json["refund_due"], true);
    assert!(!payment_now(&app, &payment.reference).await.refund_due);
}

#[tokio::test]
async fn open_disputes_are_listed_soonest_due_first_to_admins_only() {
    use kitchen::domain::{Dispute, DisputeStatus};
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let mut disputed = Vec::new();
    for hours in [30, 6, 18] {
        let (_, payment) = charged_order(&app, &admin, &jollof).await;
        let stored = app
            .db()
            .get_payment(&payment.reference)
            .await
            .unwrap()
            .unwrap();
        let mut with = stored.payment.clone();
        with.dispute = Some(Dispute {
            status: DisputeStatus::Open,
            reason: Some("chargeback".into()),
            due_at: Some(kitchen::now() + Duration::from_secs(hours * 3600)),
            resolution: None,
            updated_at: kitchen::now(),
        });
        assert!(app.db().record_dispute(&stored, &with).await.unwrap());
        disputed.push((hours, payment.reference));
    }
    // One more charge without a dispute is not listed.
    charged_order(&app, &admin, &jollof).await;
    let listed = app.get("/admin/disputes", token).await;
    listed.assert_status(200);
    let order: Vec<_> = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap().to_string())
        .collect();
    disputed.sort_by_key(|(hours, _)| *hours);
    let expected: Vec<_> = disputed.iter().map(|(_, r)| r.to_string()).collect();
    assert_eq!(order, expected);
    let (items, pages) = app.collect_pages("/admin/disputes?limit=1", token).await;
    assert_eq!((items.len(), pages), (3, 3));
    app.get("/admin/disputes?limit=0", token)
        .await
        .assert_problem(400);
    app.get("/admin/disputes?status=open", token)
        .await
        .assert_problem(400);
    let customer = app.user(Role::Customer).await;
    app.get("/admin/disputes", Some(&customer.access_token))
        .await
        .assert_problem(403);
    app.get("/admin/disputes", None).await.assert_problem(401);
}
