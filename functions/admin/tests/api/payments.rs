//! Payments in the back office, against DynamoDB Local.

use devkit::testing::TestApp;
use kitchen::{
    db::StoredPayment,
    domain::{Order, Payment, PaymentNote, PaymentStatus},
    domain::{OrderId, Role},
};
use serde_json::Value;

/// A payment attempt for `order`, left in `status`.
async fn attempt(app: &TestApp, order: &Order, status: PaymentStatus) -> String {
    let payment = Payment::start(order, kitchen::now());
    app.db().create_payment(&payment).await.unwrap();
    if status != PaymentStatus::Pending {
        let mut settled = payment.clone();
        settled.status = status;
        if status == PaymentStatus::Abandoned {
            settled.note = Some(PaymentNote::PaystackUnreachable);
        }
        let created = StoredPayment {
            payment: payment.clone(),
            version: 1,
        };
        assert!(
            app.db()
                .record_payment(&created, &settled, None)
                .await
                .unwrap()
        );
    }
    payment.reference.to_string()
}

fn references(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|p| p["reference"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn staff_list_every_payment_by_status_customer_and_order() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    let (ada, bola) = (
        app.user(Role::Customer).await,
        app.user(Role::Customer).await,
    );
    let (ada_first, ada_second, bola_order) = (
        app.unpaid_order(&ada, 1).await,
        app.unpaid_order(&ada, 1).await,
        app.unpaid_order(&bola, 1).await,
    );
    let a1 = attempt(&app, &ada_first, PaymentStatus::Abandoned).await;
    let a2 = attempt(&app, &ada_first, PaymentStatus::Success).await;
    let a3 = attempt(&app, &ada_second, PaymentStatus::Pending).await;
    let b1 = attempt(&app, &bola_order, PaymentStatus::Failed).await;
    let b2 = attempt(&app, &bola_order, PaymentStatus::Success).await;
    let token = Some(admin.access_token.as_str());
    let list = |query: String| {
        let app = &app;
        async move {
            let (items, _) = app
                .collect_pages(&format!("/admin/payments{query}"), token)
                .await;
            references(&items)
        }
    };
    let (all, pages) = app.collect_pages("/admin/payments?limit=2", token).await;
    assert_eq!(pages, 3);
    assert_eq!(
        references(&all),
        [
            b2.as_str(),
            b1.as_str(),
            a3.as_str(),
            a2.as_str(),
            a1.as_str()
        ],
        "every payment, newest first"
    );
    assert_eq!(
        list("?status=success".into()).await,
        [b2.as_str(), a2.as_str()]
    );
    let ada_email = ada.user.email.as_ref().unwrap().as_str().to_uppercase();
    assert_eq!(
        list(format!("?email={ada_email}")).await,
        [a3.as_str(), a2.as_str(), a1.as_str()],
        "any case"
    );
    assert_eq!(
        list(format!("?email={ada_email}&status=pending")).await,
        [a3.as_str()]
    );
    assert_eq!(
        list(format!("?order_id={}", ada_first.id)).await,
        [a2.as_str(), a1.as_str()]
    );
    assert_eq!(
        list(format!(
            "?order_id={}&status=abandoned&limit=1",
            ada_first.id
        ))
        .await,
        [a1.as_str()]
    );
    let bola_email = bola.user.email.as_ref().unwrap().as_str().to_string();
    assert!(
        list(format!("?order_id={}&email={bola_email}", ada_first.id))
            .await
            .is_empty(),
        "an order of someone else's"
    );
    assert!(
        list("?email=nobody@example.com".into()).await.is_empty(),
        "an email nobody holds"
    );
    assert!(
        list(format!("?order_id={}", OrderId::new()))
            .await
            .is_empty()
    );
    for query in [
        "status=paid",
        "email=not-an-email",
        "order_id=123",
        "limit=0",
        "user_id=x",
        "cursor=forged",
    ] {
        app.get(&format!("/admin/payments?{query}"), token)
            .await
            .assert_problem(400);
    }
    // A cursor from one filter does not continue another.
    let first = app.get("/admin/payments?limit=1", token).await;
    let cursor = first.json["next_cursor"].as_str().unwrap();
    app.get(
        &format!("/admin/payments?status=success&cursor={cursor}"),
        token,
    )
    .await
    .assert_problem(400);
    // Staff only.
    app.get("/admin/payments", Some(&ada.access_token))
        .await
        .assert_problem(403);
    app.get("/admin/payments", None).await.assert_problem(401);
}
