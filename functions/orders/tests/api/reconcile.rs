//! The sweep asks Paystack before it cancels: a charge Paystack never told us of (a lost webhook)
//! pays the order if it was made in time, and is given back if it was not.

use devkit::testing::{Caller, TestApp};
use kitchen::{
    domain::{OrderStatus, Payment, PaymentStatus, Role},
    events::OrderEventKind,
};
use std::time::Duration;

/// Orders expire 300 s after they are placed; Paystack is the simulator.
async fn app() -> (TestApp, Caller) {
    let app = TestApp::builder()
        .capture_events()
        .paystack_sim()
        .parameter("UnpaidOrderExpirySeconds", "300")
        .parameter("PaystackTimeoutMs", "500")
        .spawn(orders::FUNCTION)
        .await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

async fn lose_the_webhook(app: &TestApp, payment: &Payment) {
    app.paystack()
        .state()
        .succeed_without_webhook(payment.reference.as_str(), Default::default())
        .unwrap();
}

#[tokio::test]
async fn a_charge_made_in_time_whose_webhook_was_lost_pays_the_order_instead_of_the_sweep_cancelling_it()
 {
    let (app, caller) = app().await;
    let order = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(296))
        .await;
    let payment = app.started_payment(&order).await;
    lose_the_webhook(&app, &payment).await;
    // Another expired order whose checkout was never paid is cancelled as before.
    let unpaid = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(301))
        .await;
    app.started_payment(&unpaid).await;
    // Past the deadline (times are whole seconds) before the sweep runs; the charge was before it.
    tokio::time::sleep(Duration::from_millis(5200)).await;
    app.published_events().await;
    assert_eq!(orders::sweep(&app.state).await.unwrap(), 1);
    let paid = app.db().get_order(&order.id).await.unwrap().unwrap().order;
    assert_eq!(paid.status, OrderStatus::Paid);
    let recorded = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.payment.status, PaymentStatus::Success);
    assert!(!recorded.payment.refund_due);
    let cancelled = app.db().get_order(&unpaid.id).await.unwrap().unwrap().order;
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let mut kinds: Vec<_> = app
        .published_events()
        .await
        .into_iter()
        .map(|event| event.kind)
        .collect();
    kinds.sort_by_key(|kind| format!("{kind:?}"));
    assert_eq!(kinds, [OrderEventKind::Cancelled, OrderEventKind::Paid]);
    // A second run finds nothing left to do.
    assert_eq!(orders::sweep(&app.state).await.unwrap(), 0);
}

#[tokio::test]
async fn a_charge_made_after_the_deadline_is_given_back_and_the_order_stays_cancelled() {
    let (app, caller) = app().await;
    let order = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(301))
        .await;
    let payment = app.started_payment(&order).await;
    lose_the_webhook(&app, &payment).await;
    orders::sweep(&app.state).await.unwrap();
    let kept = app.db().get_order(&order.id).await.unwrap().unwrap().order;
    assert_eq!(kept.status, OrderStatus::Cancelled);
    let recorded = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.payment.status, PaymentStatus::Success);
    assert_eq!(recorded.payment.refunded_amount, recorded.payment.amount);
    assert!(!recorded.payment.refund_due);
    assert_eq!(app.paystack().state().refunds().len(), 1);
}

#[tokio::test]
async fn paystack_unreachable_leaves_the_order_for_the_next_sweep() {
    let (app, caller) = app().await;
    let order = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(301))
        .await;
    app.started_payment(&order).await;
    app.paystack().state().set_delay(Duration::from_secs(10));
    assert_eq!(orders::sweep(&app.state).await.unwrap(), 0);
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap().order;
    assert_eq!(
        stored.status,
        OrderStatus::PendingPayment,
        "not cancelled while Paystack cannot say"
    );
}
