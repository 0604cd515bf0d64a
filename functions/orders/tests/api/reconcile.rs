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
    assert_eq!(orders::sweep(&app.state).await.unwrap().cancelled, 1);
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
    assert_eq!(orders::sweep(&app.state).await.unwrap().cancelled, 0);
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
    assert_eq!(orders::sweep(&app.state).await.unwrap().cancelled, 0);
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap().order;
    assert_eq!(
        stored.status,
        OrderStatus::PendingPayment,
        "not cancelled while Paystack cannot say"
    );
}

/// A payment started two hours ago and still pending, for an order placed now.
async fn payment_pending_for_hours(
    app: &TestApp,
    caller: &Caller,
) -> (kitchen::domain::Order, Payment) {
    let order = app.unpaid_order(caller, 1).await;
    let payment = app
        .started_payment_at(&order, kitchen::now() - Duration::from_secs(2 * 3600))
        .await;
    (order, payment)
}

#[tokio::test]
async fn a_payment_pending_for_over_an_hour_is_asked_about_and_a_charge_whose_webhook_was_lost_pays_its_order()
 {
    let (app, caller) = app().await;
    let (order, payment) = payment_pending_for_hours(&app, &caller).await;
    lose_the_webhook(&app, &payment).await;
    let swept = orders::sweep(&app.state).await.unwrap();
    assert_eq!((swept.cancelled, swept.recorded), (0, 1));
    let paid = app.db().get_order(&order.id).await.unwrap().unwrap().order;
    assert_eq!(paid.status, OrderStatus::Paid);
    let kinds: Vec<_> = app
        .published_events()
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [OrderEventKind::Paid]);
    assert_eq!(
        orders::sweep(&app.state).await.unwrap().recorded,
        0,
        "recorded once"
    );
}

#[tokio::test]
async fn a_payment_still_pending_at_paystack_is_asked_about_once_an_hour() {
    let (app, caller) = app().await;
    let (order, payment) = payment_pending_for_hours(&app, &caller).await;
    // A payment started a minute ago is not asked about yet.
    let recent = app.started_payment(&order).await;
    assert_eq!(orders::sweep(&app.state).await.unwrap().recorded, 0);
    let asked_at = |reference: kitchen::domain::PaymentReference| {
        let app = &app;
        async move {
            let item = app
                .raw_item(&format!("PAYMENT#{reference}"), "PAYMENT")
                .await
                .unwrap();
            item.get("asked_at").map(|at| at.as_n().unwrap().clone())
        }
    };
    let first = asked_at(payment.reference.clone()).await;
    assert!(first.is_some(), "asked, and noted");
    assert_eq!(
        asked_at(recent.reference.clone()).await,
        None,
        "too recent to ask about"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    orders::sweep(&app.state).await.unwrap();
    assert_eq!(
        asked_at(payment.reference.clone()).await,
        first,
        "not asked again within the hour"
    );
    let still = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.payment.status, PaymentStatus::Pending);
    assert_eq!(
        still.version, 2,
        "noting it is not a new version of the payment"
    );
}

/// An order cancelled, then charged (its webhook lost), with the charge recorded but not given
/// back: the state a crash, or Paystack refusing the refund, leaves behind.
async fn owed_charge(app: &TestApp, caller: &Caller) -> (kitchen::domain::Order, Payment) {
    let order = app.unpaid_order(caller, 1).await;
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
    app.state
        .orders()
        .move_order(
            &stored,
            OrderStatus::Cancelled,
            kitchen::domain::Actor::Customer,
            None,
        )
        .await
        .unwrap();
    let charge = app.charge(&order).await;
    assert!(charge.refund_due);
    assert_eq!(charge.refunded_amount, kitchen::domain::Money::ZERO);
    (order, charge)
}

#[tokio::test]
async fn money_owed_back_that_no_refund_took_is_given_back_by_the_sweep_once() {
    let (app, caller) = app().await;
    let (_, charge) = owed_charge(&app, &caller).await;
    let swept = orders::sweep(&app.state).await.unwrap();
    assert_eq!(swept.refunds_started, 1);
    let now = app
        .db()
        .get_payment(&charge.reference)
        .await
        .unwrap()
        .unwrap()
        .payment;
    assert!(!now.refund_due);
    assert_eq!(now.refunded_amount, charge.amount);
    let at_paystack = app.paystack().state().refunds();
    assert_eq!(at_paystack.len(), 1);
    assert_eq!(at_paystack[0].amount as i64, charge.amount.minor_units());
    // The order is off the list: the next run starts nothing.
    assert_eq!(orders::sweep(&app.state).await.unwrap().refunds_started, 0);
    assert_eq!(
        app.paystack().state().refunds().len(),
        1,
        "never refunded twice"
    );
}

#[tokio::test]
async fn money_owed_back_waits_while_paystack_cannot_be_asked_and_goes_back_on_a_later_run() {
    let (app, caller) = app().await;
    let (_, charge) = owed_charge(&app, &caller).await;
    app.paystack().state().set_delay(Duration::from_secs(10));
    // A Paystack that does not answer in time may hold the refund: it stays held, never doubled.
    let swept = orders::sweep(&app.state).await.unwrap();
    assert_eq!(swept.refunds_started, 0);
    app.paystack().state().set_delay(Duration::ZERO);
    let swept = orders::sweep(&app.state).await.unwrap();
    assert_eq!(
        swept.refunds_started, 0,
        "what is held is not refunded again"
    );
    let refunds = app
        .db()
        .refunds_of_payment(&charge.reference)
        .await
        .unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].refund.paystack_id, None);
}

#[tokio::test]
async fn a_refund_paystack_never_received_is_released_and_what_it_held_given_back() {
    use kitchen::domain::{Money, Refund, RefundId, RefundStatus, RequestedBy};
    let (app, caller) = app().await;
    let (_, charge) = owed_charge(&app, &caller).await;
    // A system refund stored twenty minutes ago whose Paystack answer never came (and Paystack
    // never got it).
    let asked_at = kitchen::now() - Duration::from_secs(20 * 60);
    let mut held = Refund::of(
        &charge,
        charge.amount,
        "Paid after the order was cancelled",
        RequestedBy::System,
        None,
        asked_at,
    );
    held.id = RefundId::parse(&devkit::testing::ulid_at(asked_at)).unwrap();
    app.db()
        .reserve_refund(&held, charge.took(), None)
        .await
        .unwrap();
    let swept = orders::sweep(&app.state).await.unwrap();
    assert_eq!((swept.released, swept.refunds_started), (1, 1));
    let mut refunds: Vec<_> = app
        .db()
        .refunds_of_payment(&charge.reference)
        .await
        .unwrap()
        .into_iter()
        .map(|stored| stored.refund)
        .collect();
    refunds.sort_by_key(|refund| refund.id.to_string());
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0].id, held.id);
    assert_eq!(refunds[0].status, RefundStatus::Failed);
    assert!(refunds[1].paystack_id.is_some());
    let now = app
        .db()
        .get_payment(&charge.reference)
        .await
        .unwrap()
        .unwrap()
        .payment;
    assert_eq!(
        now.refunded_amount, charge.amount,
        "only the refund Paystack holds counts"
    );
    assert!(!now.refund_due);
    assert_eq!(app.paystack().state().refunds().len(), 1);
    assert_eq!(Money::ZERO, now.refundable());
}

#[tokio::test]
async fn the_retry_of_money_owed_works_through_the_whole_list_a_page_at_a_time() {
    let (app, caller) = app().await;
    let (_, first) = owed_charge(&app, &caller).await;
    let (_, second) = owed_charge(&app, &caller).await;
    let refunds = app.state.payments().unwrap().refunds();
    assert_eq!(
        refunds.retry_owed(1).await.unwrap(),
        2,
        "both, one page each"
    );
    for charge in [first, second] {
        let now = app
            .db()
            .get_payment(&charge.reference)
            .await
            .unwrap()
            .unwrap()
            .payment;
        assert_eq!(now.refunded_amount, charge.amount);
    }
    assert_eq!(
        refunds.retry_owed(1).await.unwrap(),
        0,
        "the list is empty again"
    );
}

#[tokio::test]
async fn paystacks_answer_to_a_refund_lands_on_top_of_the_webhook_that_named_it_first() {
    use kitchen::domain::{Refund, RequestedBy};
    let (app, caller) = app().await;
    let (_, charge) = owed_charge(&app, &caller).await;
    let refund = Refund::of(
        &charge,
        charge.amount,
        "Paid after the order was cancelled",
        RequestedBy::System,
        None,
        kitchen::now(),
    );
    app.db()
        .reserve_refund(&refund, charge.took(), None)
        .await
        .unwrap();
    // `refund.pending` reached the webhook first: it named the refund from Paystack's list.
    let stored = app.db().get_refund(&refund.id).await.unwrap().unwrap();
    let mut named = refund.clone();
    named.paystack_id = Some(7_000_000_042);
    assert!(
        app.db()
            .record_refund(&stored, &named, true, None)
            .await
            .unwrap()
    );
    // Then Paystack's answer is recorded: no error, the same id, nothing counted twice.
    let refunds = app.state.payments().unwrap().refunds();
    let recorded = refunds
        .record_answer(refund.clone(), 7_000_000_042, "pending", true, None)
        .await
        .unwrap();
    assert_eq!(recorded.paystack_id, Some(7_000_000_042));
    let now = app.db().get_refund(&refund.id).await.unwrap().unwrap();
    assert_eq!(now.version, 3);
    let payment = app
        .db()
        .get_payment(&charge.reference)
        .await
        .unwrap()
        .unwrap()
        .payment;
    assert_eq!(payment.refunded_amount, charge.amount);
    assert!(!payment.refund_due);
    // Another id than the one the webhook found is a bug, not something to write over.
    let other = Refund::of(
        &charge,
        charge.amount,
        "x",
        RequestedBy::System,
        None,
        kitchen::now(),
    );
    assert!(
        refunds
            .record_answer(other, 1, "pending", true, None)
            .await
            .is_err()
    );
}
