//! The invariants, read from the table itself after the run: a consistent Scan of every order and
//! payment of the load's users, read through the library's own item types (`kitchen::db::decode`)
//! so that they are seen exactly as the API sees them, held to what the customers were told.
//!
//! - every order a customer got a 201 for exists, and no other order exists for that customer
//!   (unless a `POST /orders` of theirs went unanswered: it may have committed);
//! - a paid order has exactly one `paid` entry in its status history, `paid_at`, and exactly one
//!   successful payment that is not a refund, of exactly the order's total and currency; an unpaid
//!   order has none of these (a half-written payment would show here);
//! - every charge the load made is recorded as a successful payment, with the refund note it must
//!   carry (money for an order already paid or cancelled), and no payment is successful without a
//!   charge behind it;
//! - each order ends in the status its customer drove it to;
//! - every refund belongs to a charge that took money, a charge's refunds not failed never add up
//!   to more than it took (its counter is their sum), no charge is refunded twice by the system,
//!   and money owed back (a flagged charge, or any charge of an order cancelled after it was paid)
//!   has been given back once the sweep has run;
//! - every capacity counter equals what the orders not cancelled hold of it, and no limited dish
//!   has more portions held than its limit.

use crate::ledger::Facts;
use crate::verdict::Violations;
use anyhow::{Context, Result};
use kitchen::db::{Decoded, Item, StoredOrder, StoredPayment, decode};
use kitchen::domain::OrderStatus;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// An order as stored, reduced to what the invariants look at.
#[derive(Debug, Clone, PartialEq)]
pub struct TableOrder {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub total: i64,
    pub currency: String,
    pub has_paid_at: bool,
    /// Entries with status `paid` in `status_history`.
    pub paid_transitions: usize,
    pub refund_due: bool,
    /// What refunds not failed gave back of what was paid for it.
    pub refunded_amount: i64,
}

/// A payment as stored, reduced likewise.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePayment {
    pub reference: String,
    pub order_id: String,
    pub user_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub refund_due: bool,
    pub note: Option<String>,
}

/// Every item of the table, through a strongly consistent Scan.
pub async fn scan(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .with_context(|| format!("scanning table {table}"))?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

/// A string attribute, to name an item in a report.
fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map_or("", String::as_str)
}

/// Orders and payments among `items`. Order and payment items the API could not read are reported.
pub fn read_items(items: &[Item], violations: &Violations) -> (Vec<TableOrder>, Vec<TablePayment>) {
    let mut orders = Vec::new();
    let mut payments = Vec::new();
    for item in items {
        match decode(item.clone()) {
            Ok(Decoded::Order(stored)) => orders.push(table_order(stored)),
            Ok(Decoded::Payment(stored)) => payments.push(table_payment(stored)),
            Ok(Decoded::Refund(_) | Decoded::Dish(_) | Decoded::Capacity(..) | Decoded::Other) => {}
            Err(_) => violations.add(
                "unreadable_item",
                format!("{} item {}", text(item, "entity"), text(item, "pk")),
            ),
        }
    }
    (orders, payments)
}

/// What the refund checks found besides violations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RefundSummary {
    pub refunds: usize,
    /// Charges still owed back whose refund is held (Paystack's answer to it never came).
    pub held: usize,
    /// Charges still owed back that the simulator no longer holds: it keeps its transactions in
    /// memory, and the load's Paystack outage restarts it, so it refuses their refunds ("Transaction
    /// not found") as Paystack, which forgets nothing, never would.
    pub forgotten: usize,
}

/// The refunds among `items`, each checked against its charge as the table holds it, and every
/// charge against the money rules: every refund belongs to a charge that took money; each charge's
/// `refunded_amount` is the sum of its refunds not failed and never more than it took; no charge
/// has two system refunds that did not fail (refunded twice); money owed back (`refund_due`, or
/// any charge of an order cancelled after it was paid) has been given back, unless a refund of it
/// is still held, or it was taken in another currency (refunded by hand).
///
/// `paystack_holds`: the references the simulator still holds, when known.
pub fn check_refunds(
    items: &[Item],
    paystack_holds: Option<&std::collections::HashSet<String>>,
    violations: &Violations,
) -> RefundSummary {
    use kitchen::domain::{Money, Payment, PaymentNote, RefundStatus, RequestedBy};
    let mut charges: HashMap<String, Payment> = HashMap::new();
    let mut cancelled_paid: HashMap<String, bool> = HashMap::new();
    let mut refunded: HashMap<String, i64> = HashMap::new();
    let mut system_refunds: HashMap<String, usize> = HashMap::new();
    let mut held: HashMap<String, usize> = HashMap::new();
    let mut summary = RefundSummary::default();
    for item in items {
        match decode(item.clone()) {
            Ok(Decoded::Payment(StoredPayment { payment, .. })) => {
                charges.insert(payment.reference.to_string(), payment);
            }
            Ok(Decoded::Order(StoredOrder { order, .. })) => {
                let was_paid = order
                    .status_history
                    .iter()
                    .any(|c| c.status == OrderStatus::Paid);
                cancelled_paid.insert(
                    order.id.to_string(),
                    was_paid && order.status == OrderStatus::Cancelled,
                );
            }
            Ok(Decoded::Refund(stored)) => {
                summary.refunds += 1;
                let refund = stored.refund;
                if refund.status == RefundStatus::Failed {
                    continue;
                }
                let reference = refund.payment_reference.to_string();
                *refunded.entry(reference.clone()).or_insert(0) += refund.amount.minor_units();
                if refund.requested_by == RequestedBy::System {
                    *system_refunds.entry(reference.clone()).or_insert(0) += 1;
                }
                if refund.status == RefundStatus::Pending && refund.paystack_id.is_none() {
                    *held.entry(reference).or_insert(0) += 1;
                }
            }
            _ => {}
        }
    }
    for (reference, total) in &refunded {
        match charges.get(reference) {
            None => violations.add(
                "refund_without_charge",
                format!("refunds of payment {reference}, which the table does not hold"),
            ),
            Some(charge) if charge.took() == Money::ZERO => violations.add(
                "refund_of_unpaid_charge",
                format!(
                    "refunds of payment {reference}, which is {} and took nothing",
                    charge.status.as_str()
                ),
            ),
            Some(charge) if *total > charge.took().minor_units() => violations.add(
                "refunded_more_than_paid",
                format!(
                    "payment {reference} took {} and its refunds give back {total}",
                    charge.took().minor_units()
                ),
            ),
            Some(_) => {}
        }
    }
    for (reference, count) in &system_refunds {
        if *count > 1 {
            violations.add(
                "refunded_twice",
                format!("payment {reference} has {count} system refunds that did not fail"),
            );
        }
    }
    for (reference, charge) in &charges {
        let total = refunded.get(reference).copied().unwrap_or(0);
        let counted = charge.refunded_amount.minor_units();
        if counted != total {
            violations.add(
                "refund_counter_off",
                format!(
                    "payment {reference} counts {counted} refunded, its refunds add up to {total}"
                ),
            );
        }
        let owed = charge.refund_due
            || cancelled_paid
                .get(charge.order_id.as_str())
                .copied()
                .unwrap_or(false);
        if !owed || charge.note == Some(PaymentNote::CurrencyMismatch) {
            continue;
        }
        let left = charge.took().minor_units() - total;
        if left == 0 && !charge.refund_due {
            continue;
        }
        if held.contains_key(reference) {
            summary.held += 1;
            continue;
        }
        if paystack_holds.is_some_and(|holds| !holds.contains(reference)) {
            summary.forgotten += 1;
            continue;
        }
        violations.add(
            "money_owed_not_given_back",
            format!(
                "payment {reference} (order {}) owes {left} kobo back (refund_due {}) and no refund holds it",
                charge.order_id, charge.refund_due
            ),
        );
    }
    summary
}

/// The capacity counters among `items` against the orders that hold them: every counter equals
/// what the orders not cancelled hold of it (recounted from the orders themselves), and no limited
/// dish's counter is above its limit. Returns how many counters there are.
pub fn check_capacity(items: &[Item], violations: &Violations) -> usize {
    use kitchen::db::{Counter, holding};
    let mut expected: HashMap<Counter, i64> = HashMap::new();
    let mut counters: HashMap<Counter, i64> = HashMap::new();
    let mut limits: HashMap<kitchen::domain::DishId, i64> = HashMap::new();
    for item in items {
        match decode(item.clone()) {
            Ok(Decoded::Order(StoredOrder { order, .. })) => {
                for (counter, count) in holding(&order) {
                    *expected.entry(counter).or_insert(0) += count;
                }
            }
            Ok(Decoded::Capacity(counter, held)) => {
                counters.insert(counter, held);
            }
            Ok(Decoded::Dish(stored)) => {
                if let Some(limit) = stored.dish.daily_portions {
                    limits.insert(stored.dish.id.clone(), i64::from(limit.get()));
                }
            }
            _ => {}
        }
    }
    let mut all: Vec<&Counter> = expected.keys().chain(counters.keys()).collect();
    all.sort();
    all.dedup();
    for counter in all {
        let held = counters.get(counter).copied().unwrap_or(0);
        let want = expected.get(counter).copied().unwrap_or(0);
        if held != want {
            violations.add(
                "capacity_counter_off",
                format!("{counter:?} holds {held}, the orders not cancelled hold {want}"),
            );
        }
        if let Counter::Portions(_, dish) = counter
            && let Some(limit) = limits.get(dish)
            && held > *limit
        {
            violations.add(
                "portions_over_limit",
                format!("{counter:?} holds {held}, over its limit of {limit}"),
            );
        }
    }
    counters.len()
}

fn table_order(StoredOrder { order, .. }: StoredOrder) -> TableOrder {
    let paid_transitions = (order.status_history.iter())
        .filter(|change| change.status == OrderStatus::Paid)
        .count();
    TableOrder {
        id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        status: order.status.as_str().to_string(),
        total: order.total.minor_units(),
        currency: order.currency.as_str().to_string(),
        has_paid_at: order.paid_at.is_some(),
        paid_transitions,
        refund_due: order.refund_due,
        refunded_amount: order.refunded_amount.minor_units(),
    }
}

fn table_payment(StoredPayment { payment, .. }: StoredPayment) -> TablePayment {
    TablePayment {
        reference: payment.reference.to_string(),
        order_id: payment.order_id.to_string(),
        user_id: payment.user_id.to_string(),
        amount: payment.amount.minor_units(),
        currency: payment.currency.as_str().to_string(),
        status: payment.status.as_str().to_string(),
        refund_due: payment.refund_due,
        // The note as stored: its serde name, which is what the load's facts expect.
        note: payment.note.and_then(|note| {
            serde_json::to_value(note)
                .ok()
                .and_then(|value| value.as_str().map(String::from))
        }),
    }
}

/// What the table held for the load's users.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableSummary {
    pub users: usize,
    pub orders: usize,
    pub orders_by_status: BTreeMap<String, usize>,
    pub payments: usize,
    pub payments_by_status: BTreeMap<String, usize>,
    pub refunds_due: usize,
    pub charges: usize,
    /// Orders that exist although their customer never got a 201 (their request went unanswered).
    pub unacknowledged_orders: usize,
}

const PAID_STATUSES: &[&str] = &["paid", "preparing", "out_for_delivery", "delivered"];

/// Holds the table to the facts; every breach is added to `violations`.
pub fn check(
    facts: &Facts,
    orders: &[TableOrder],
    payments: &[TablePayment],
    violations: &Violations,
) -> TableSummary {
    let orders: Vec<&TableOrder> = orders
        .iter()
        .filter(|o| facts.users.contains(&o.user_id))
        .collect();
    let payments: Vec<&TablePayment> = payments
        .iter()
        .filter(|p| facts.users.contains(&p.user_id))
        .collect();
    let mut summary = TableSummary {
        users: facts.users.len(),
        orders: orders.len(),
        payments: payments.len(),
        charges: facts.charges.len(),
        ..TableSummary::default()
    };

    // Orders: each known one once, and unknown ones only where a request went unanswered.
    let mut by_id: HashMap<&str, Vec<&TableOrder>> = HashMap::new();
    for order in &orders {
        by_id.entry(order.id.as_str()).or_default().push(order);
        *summary
            .orders_by_status
            .entry(order.status.clone())
            .or_insert(0) += 1;
    }
    for (id, copies) in &by_id {
        if copies.len() > 1 {
            violations.add(
                "order_stored_twice",
                format!("order {id}: {} items", copies.len()),
            );
        }
    }
    for (id, known) in &facts.orders {
        match by_id.get(id.as_str()) {
            None => violations.add(
                "order_missing",
                format!(
                    "order {id} (user {}) answered 201 but is not in the table",
                    known.user_id
                ),
            ),
            Some(found) if found[0].user_id != known.user_id => violations.add(
                "order_of_wrong_user",
                format!("order {id} belongs to {}", found[0].user_id),
            ),
            // Prices are frozen when an order is placed; nothing the load does changes them.
            Some(found) if found[0].total != known.total || found[0].currency != known.currency => {
                violations.add(
                    "order_total_changed",
                    format!(
                        "order {id} answered 201 with {} {}, the table has {} {}",
                        known.total, known.currency, found[0].total, found[0].currency
                    ),
                )
            }
            Some(_) => {}
        }
    }
    let mut unknown_per_user: HashMap<&str, usize> = HashMap::new();
    for order in &orders {
        if !facts.orders.contains_key(&order.id) {
            *unknown_per_user.entry(order.user_id.as_str()).or_insert(0) += 1;
        }
    }
    for (user, unknown) in unknown_per_user {
        summary.unacknowledged_orders += unknown;
        let unanswered = facts.unanswered_orders.get(user).copied().unwrap_or(0);
        if unknown > unanswered {
            violations.add(
                "order_without_201",
                format!(
                    "user {user} has {unknown} order(s) no 201 named, but only {unanswered} unanswered POST /orders"
                ),
            );
        }
    }

    // Payments per order.
    let mut payments_of: HashMap<&str, Vec<&TablePayment>> = HashMap::new();
    for payment in &payments {
        payments_of
            .entry(payment.order_id.as_str())
            .or_default()
            .push(payment);
        *summary
            .payments_by_status
            .entry(payment.status.clone())
            .or_insert(0) += 1;
        if payment.refund_due {
            summary.refunds_due += 1;
        }
    }
    let table_orders: HashMap<&str, &TableOrder> =
        orders.iter().map(|o| (o.id.as_str(), *o)).collect();
    for order in &orders {
        let attempts = payments_of
            .get(order.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let effective: Vec<&&TablePayment> = attempts
            .iter()
            // A charge the order could not take carries a note (and is given back), flag or not.
            .filter(|p| p.status == "success" && p.note.is_none())
            .collect();
        let id = &order.id;
        if order.paid_transitions > 1 {
            violations.add(
                "paid_twice",
                format!(
                    "order {id} has {} paid entries in its history",
                    order.paid_transitions
                ),
            );
        }
        let paid = order.paid_transitions > 0;
        if paid != PAID_STATUSES.contains(&order.status.as_str())
            && !(order.status == "cancelled" && paid)
        {
            violations.add(
                "status_disagrees_with_history",
                format!(
                    "order {id} is {} with {} paid entries",
                    order.status, order.paid_transitions
                ),
            );
        }
        if paid != order.has_paid_at {
            violations.add(
                "paid_at_disagrees_with_history",
                format!(
                    "order {id}: {} paid entries, paid_at {}",
                    order.paid_transitions,
                    if order.has_paid_at { "set" } else { "unset" }
                ),
            );
        }
        match (paid, effective.len()) {
            (true, 1) => {
                let payment = effective[0];
                if payment.amount != order.total || payment.currency != order.currency {
                    violations.add(
                        "payment_amount_differs_from_total",
                        format!(
                            "order {id} total {} {}, paid by {} with {} {}",
                            order.total,
                            order.currency,
                            payment.reference,
                            payment.amount,
                            payment.currency
                        ),
                    );
                }
            }
            (false, 0) => {}
            (true, n) => violations.add(
                "paid_order_without_exactly_one_payment",
                format!("order {id} is paid with {n} successful payments that are not refunds"),
            ),
            (false, n) => violations.add(
                "payment_applied_to_unpaid_order",
                format!("order {id} is unpaid ({}) but has {n} successful payments that are not refunds (half-written)", order.status),
            ),
        }
    }
    for payment in &payments {
        let reference = &payment.reference;
        let Some(order) = table_orders.get(payment.order_id.as_str()) else {
            violations.add(
                "payment_without_order",
                format!("payment {reference} names order {}", payment.order_id),
            );
            continue;
        };
        if payment.status == "success" && payment.note.is_some() {
            let consistent = match payment.note.as_deref() {
                Some("order_already_paid") => order.paid_transitions > 0,
                Some("order_cancelled") => order.status == "cancelled",
                _ => false,
            };
            if !consistent {
                violations.add(
                    "refund_inconsistent",
                    format!(
                        "payment {reference} is a refund ({:?}) for order {} which is {} (refund_due {})",
                        payment.note, order.id, order.status, order.refund_due
                    ),
                );
            }
        }
        if payment.status == "success" && !facts.charges.contains_key(reference) {
            violations.add(
                "payment_without_charge",
                format!("payment {reference} is successful but no charge was made for it"),
            );
        }
    }

    // Charges: every one recorded, with the note it must carry.
    let by_reference: HashMap<&str, &TablePayment> = payments
        .iter()
        .map(|p| (p.reference.as_str(), *p))
        .collect();
    for (reference, charge) in &facts.charges {
        let Some(payment) = by_reference.get(reference.as_str()) else {
            violations.add(
                "charge_without_payment",
                format!("charge {reference} has no payment in the table"),
            );
            continue;
        };
        if payment.status != "success" {
            violations.add(
                "charge_not_recorded",
                format!(
                    "charge {reference} (order {}) is recorded as {}",
                    charge.order_id, payment.status
                ),
            );
            continue;
        }
        if payment.amount != charge.amount || payment.currency != charge.currency {
            violations.add(
                "charge_differs_from_payment",
                format!(
                    "charge {reference} of {} {}, payment of {} {}",
                    charge.amount, charge.currency, payment.amount, payment.currency
                ),
            );
        }
        // Money owed back is flagged `refund_due` until a refund gives it all back.
        if payment.note.as_deref() != charge.expect_note {
            violations.add(
                "charge_recorded_wrongly",
                format!(
                    "charge {reference} (order {}): note {:?} refund_due {}, expected note {:?}",
                    charge.order_id, payment.note, payment.refund_due, charge.expect_note
                ),
            );
        }
    }

    // Each order where its customer drove it.
    for (id, known) in &facts.orders {
        let Some(order) = table_orders.get(id.as_str()) else {
            continue;
        };
        let charges: Vec<_> = facts
            .charges
            .values()
            .filter(|c| &c.order_id == id)
            .collect();
        let pays = charges.iter().any(|c| c.expect_note.is_none());
        let expected = if known.cancelled {
            "cancelled"
        } else if pays {
            known.staff_status.as_deref().unwrap_or("paid")
        } else {
            "pending_payment"
        };
        if order.status != expected && known.maybe_status.as_deref() != Some(order.status.as_str())
        {
            violations.add(
                "order_in_wrong_status",
                format!("order {id} is {}, expected {expected}", order.status),
            );
        }
        let received: i64 = charges.iter().map(|c| c.amount).sum();
        if known.cancelled && received > 0 && !order.refund_due && order.refunded_amount < received
        {
            violations.add(
                "refund_not_flagged",
                format!(
                    "cancelled order {id} received {received} kobo, gave back {}, and is not flagged refund_due",
                    order.refunded_amount
                ),
            );
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{ChargeFacts, OrderFacts, Via};
    use aws_sdk_dynamodb::types::AttributeValue;
    use kitchen::app::pricing::new_order;
    use kitchen::db::NewUser;
    use kitchen::domain::{Actor, Address, Date, Order, Payment, PaymentStatus};
    use time::macros::datetime;

    fn order(id: &str, status: &str, paid: usize) -> TableOrder {
        TableOrder {
            id: id.into(),
            user_id: "U1".into(),
            status: status.into(),
            total: 500_000,
            currency: "NGN".into(),
            has_paid_at: paid > 0,
            paid_transitions: paid,
            refund_due: false,
            refunded_amount: 0,
        }
    }

    fn payment(reference: &str, order: &str, status: &str) -> TablePayment {
        TablePayment {
            reference: reference.into(),
            order_id: order.into(),
            user_id: "U1".into(),
            amount: 500_000,
            currency: "NGN".into(),
            status: status.into(),
            refund_due: false,
            note: None,
        }
    }

    fn known(total: i64) -> OrderFacts {
        OrderFacts {
            user_id: "U1".into(),
            total,
            currency: "NGN".into(),
            cancelled: false,
            staff_status: None,
            maybe_status: None,
        }
    }

    fn charge(order: &str, note: Option<&'static str>) -> ChargeFacts {
        ChargeFacts {
            order_id: order.into(),
            amount: 500_000,
            currency: "NGN".into(),
            via: Via::Simulator,
            expect_note: note,
            confirmed: true,
        }
    }

    /// O1 paid by R1 (and R2 arrived late, a refund); O2 left unpaid with an abandoned attempt.
    fn consistent() -> (Facts, Vec<TableOrder>, Vec<TablePayment>) {
        let mut facts = Facts::default();
        facts.users.insert("U1".into());
        facts.orders.insert("O1".into(), known(500_000));
        facts.orders.insert("O2".into(), known(500_000));
        facts.charges.insert("R1".into(), charge("O1", None));
        facts
            .charges
            .insert("R2".into(), charge("O1", Some("order_already_paid")));
        let orders = vec![order("O1", "paid", 1), order("O2", "pending_payment", 0)];
        let mut late = payment("R2", "O1", "success");
        late.refund_due = true;
        late.note = Some("order_already_paid".into());
        let payments = vec![
            payment("R1", "O1", "success"),
            late,
            payment("R3", "O2", "abandoned"),
        ];
        (facts, orders, payments)
    }

    fn kinds(facts: &Facts, orders: &[TableOrder], payments: &[TablePayment]) -> Vec<&'static str> {
        let violations = Violations::default();
        check(facts, orders, payments, &violations);
        violations.snapshot().into_keys().collect()
    }

    #[test]
    fn a_consistent_table_passes() {
        let (facts, orders, payments) = consistent();
        let violations = Violations::default();
        let summary = check(&facts, &orders, &payments, &violations);
        assert!(violations.is_empty(), "{:?}", violations.snapshot());
        assert_eq!(summary.orders, 2);
        assert_eq!(summary.payments_by_status["success"], 2);
        assert_eq!(summary.refunds_due, 1);
    }

    #[test]
    fn a_second_paid_transition_is_a_double_payment() {
        let (facts, mut orders, payments) = consistent();
        orders[0].paid_transitions = 2;
        assert_eq!(kinds(&facts, &orders, &payments), ["paid_twice"]);
    }

    #[test]
    fn two_payments_applied_to_one_order_are_caught() {
        let (facts, orders, mut payments) = consistent();
        payments[1].refund_due = false;
        payments[1].note = None;
        let found = kinds(&facts, &orders, &payments);
        assert!(
            found.contains(&"paid_order_without_exactly_one_payment"),
            "{found:?}"
        );
        assert!(found.contains(&"charge_recorded_wrongly"), "{found:?}");
    }

    #[test]
    fn a_payment_of_the_wrong_amount_is_caught() {
        let (facts, orders, mut payments) = consistent();
        payments[0].amount = 400_000;
        assert_eq!(
            kinds(&facts, &orders, &payments),
            [
                "charge_differs_from_payment",
                "payment_amount_differs_from_total"
            ]
        );
    }

    #[test]
    fn a_half_written_payment_is_caught() {
        // The payment says success, the order was never moved to paid.
        let (facts, mut orders, payments) = consistent();
        orders[0] = order("O1", "pending_payment", 0);
        let found = kinds(&facts, &orders, &payments);
        assert!(
            found.contains(&"payment_applied_to_unpaid_order"),
            "{found:?}"
        );
        assert!(found.contains(&"order_in_wrong_status"), "{found:?}");
    }

    #[test]
    fn a_lost_or_extra_order_is_caught_unless_a_request_went_unanswered() {
        let (mut facts, mut orders, mut payments) = consistent();
        orders.retain(|o| o.id != "O2");
        payments.retain(|p| p.order_id != "O2");
        assert_eq!(kinds(&facts, &orders, &payments), ["order_missing"]);
        orders.push(order("O2", "pending_payment", 0));
        orders.push(order("O3", "pending_payment", 0));
        assert_eq!(kinds(&facts, &orders, &payments), ["order_without_201"]);
        facts.unanswered_orders.insert("U1".into(), 1);
        assert!(kinds(&facts, &orders, &payments).is_empty());
    }

    #[test]
    fn a_charge_left_unrecorded_or_a_payment_without_one_is_caught() {
        let (facts, orders, mut payments) = consistent();
        payments[0].status = "pending".into();
        let found = kinds(&facts, &orders, &payments);
        assert!(found.contains(&"charge_not_recorded"), "{found:?}");
        let (facts, orders, mut payments) = consistent();
        payments[2].status = "success".into();
        let found = kinds(&facts, &orders, &payments);
        assert!(found.contains(&"payment_without_charge"), "{found:?}");
    }

    #[test]
    fn a_status_change_answered_only_with_5xx_may_have_been_made() {
        let (mut facts, mut orders, payments) = consistent();
        orders[0].status = "preparing".into();
        assert_eq!(kinds(&facts, &orders, &payments), ["order_in_wrong_status"]);
        if let Some(order) = facts.orders.get_mut("O1") {
            order.maybe_status = Some("preparing".into());
        }
        assert!(kinds(&facts, &orders, &payments).is_empty());
        orders[0].status = "paid".into();
        assert!(kinds(&facts, &orders, &payments).is_empty());
    }

    #[test]
    fn other_users_are_not_judged() {
        let (facts, mut orders, mut payments) = consistent();
        let mut stranger = order("X1", "paid", 3);
        stranger.user_id = "U2".into();
        orders.push(stranger);
        let mut theirs = payment("RX", "X1", "success");
        theirs.user_id = "U2".into();
        payments.push(theirs);
        assert!(kinds(&facts, &orders, &payments).is_empty());
    }

    /// A paid order and the payment that paid it, made as the API makes them.
    fn paid_order_and_payment() -> (Order, Payment) {
        let at = datetime!(2026-11-23 10:00 UTC);
        let customer = NewUser::default().into_user(at);
        let date = Date::parse("2026-11-24").unwrap();
        let address = Address::parse("1 Marina, Lagos").unwrap();
        let order = new_order(
            &customer,
            Vec::new(),
            kitchen::domain::Money::from_minor_units(500_000),
            date,
            address,
            Actor::Customer,
            at,
        );
        let payment = Payment {
            status: PaymentStatus::Success,
            ..Payment::start(&order, at)
        };
        let paid = order
            .moved_to(OrderStatus::Paid, Actor::System, at)
            .unwrap();
        (paid, payment)
    }

    #[test]
    fn items_read_as_the_data_module_writes_them() {
        let (paid, paying) = paid_order_and_payment();
        let session: Item = HashMap::from([("entity".into(), AttributeValue::S("session".into()))]);
        let items = [
            paid.to_item(2).unwrap(),
            paying.to_item(3).unwrap(),
            session,
        ];
        let violations = Violations::default();
        let (orders, payments) = read_items(&items, &violations);
        assert!(violations.is_empty());
        let expected = TableOrder {
            id: paid.id.to_string(),
            user_id: paid.user_id.to_string(),
            ..order("", "paid", 1)
        };
        assert_eq!(orders, vec![expected]);
        let expected = TablePayment {
            reference: paying.reference.to_string(),
            order_id: paid.id.to_string(),
            user_id: paid.user_id.to_string(),
            ..payment("", "", "success")
        };
        assert_eq!(payments, vec![expected]);
    }

    #[test]
    fn an_order_or_payment_the_api_could_not_read_is_reported() {
        let (paid, paying) = paid_order_and_payment();
        let mut order_item = paid.to_item(2).unwrap();
        order_item.remove("total");
        let mut payment_item = paying.to_item(3).unwrap();
        payment_item.insert("status".into(), AttributeValue::S("lost".into()));
        let violations = Violations::default();
        let (orders, payments) = read_items(&[order_item, payment_item], &violations);
        assert!(orders.is_empty() && payments.is_empty());
        assert_eq!(violations.count("unreadable_item"), 2);
    }

    #[test]
    fn refunds_are_checked_against_their_charge_and_its_counter() {
        use kitchen::domain::{Money, Refund, RefundStatus, RequestedBy};
        let (_, mut charge) = paid_order_and_payment();
        let refund = |amount: i64, status: RefundStatus| Refund {
            status,
            paystack_id: Some(1),
            ..Refund::of(
                &charge,
                Money::from_minor_units(amount),
                "test",
                RequestedBy::Admin,
                None,
                charge.created_at,
            )
        };
        let refunds = [
            refund(300_000, RefundStatus::Processed),
            refund(200_000, RefundStatus::Pending),
            refund(400_000, RefundStatus::Failed),
        ];
        let items_with = |charge: &Payment| {
            let mut items = vec![charge.to_item(3).unwrap()];
            items.extend(refunds.iter().map(|r| r.to_item(1).unwrap()));
            items
        };
        // The counter is the sum of the refunds not failed, within the charge: all is well.
        charge.refunded_amount = Money::from_minor_units(500_000);
        let violations = Violations::default();
        assert_eq!(
            check_refunds(&items_with(&charge), None, &violations).refunds,
            3
        );
        assert!(violations.is_empty(), "{violations:?}");
        // A counter that disagrees with its refunds is reported.
        charge.refunded_amount = Money::from_minor_units(100_000);
        let violations = Violations::default();
        check_refunds(&items_with(&charge), None, &violations);
        assert_eq!(violations.count("refund_counter_off"), 1);
        // Refunds of more than the charge took, or of a charge that took nothing, are reported.
        charge.amount = Money::from_minor_units(400_000);
        charge.refunded_amount = Money::from_minor_units(500_000);
        let violations = Violations::default();
        check_refunds(&items_with(&charge), None, &violations);
        assert_eq!(violations.count("refunded_more_than_paid"), 1);
        charge.status = PaymentStatus::Failed;
        let violations = Violations::default();
        check_refunds(&items_with(&charge), None, &violations);
        assert_eq!(violations.count("refund_of_unpaid_charge"), 1);
    }

    #[test]
    fn money_owed_back_must_be_given_back_once() {
        use kitchen::domain::{Money, PaymentNote, Refund, RefundStatus, RequestedBy};
        let (order, paid) = paid_order_and_payment();
        let mut owed = paid
            .clone()
            .owed_back(PaymentStatus::Success, PaymentNote::OrderAlreadyPaid);
        owed.reference = kitchen::domain::PaymentReference::new();
        let system = |charge: &Payment, paystack_id: Option<u64>| Refund {
            paystack_id,
            ..Refund::of(
                charge,
                charge.took(),
                "test",
                RequestedBy::System,
                None,
                charge.created_at,
            )
        };
        let check = |items: Vec<Item>| {
            let violations = Violations::default();
            let summary = check_refunds(&items, None, &violations);
            (violations, summary)
        };
        let order_item = order.to_item(2).unwrap();

        // Owed, and nothing gave it back.
        let (violations, _) = check(vec![
            order_item.clone(),
            paid.to_item(2).unwrap(),
            owed.to_item(2).unwrap(),
        ]);
        assert_eq!(violations.count("money_owed_not_given_back"), 1);
        // Unless the simulator forgot the charge (it was restarted): counted, not a violation.
        let violations = Violations::default();
        let nothing = std::collections::HashSet::new();
        let summary = check_refunds(
            &[
                order_item.clone(),
                paid.to_item(2).unwrap(),
                owed.to_item(2).unwrap(),
            ],
            Some(&nothing),
            &violations,
        );
        assert!(violations.is_empty(), "{violations:?}");
        assert_eq!(summary.forgotten, 1);

        // Given back: the refund cleared the flag and moved the counter.
        let mut given = owed.clone();
        given.refund_due = false;
        given.refunded_amount = given.amount;
        let refund = system(&given, Some(7));
        let (violations, _) = check(vec![
            order_item.clone(),
            given.to_item(3).unwrap(),
            refund.to_item(2).unwrap(),
        ]);
        assert!(violations.is_empty(), "{violations:?}");

        // A refund still held counts as on its way.
        let mut holding = owed.clone();
        holding.refunded_amount = holding.amount;
        let held = system(&holding, None);
        let (violations, summary) = check(vec![
            order_item.clone(),
            holding.to_item(3).unwrap(),
            held.to_item(1).unwrap(),
        ]);
        assert!(violations.is_empty(), "{violations:?}");
        assert_eq!(summary.held, 1);

        // Two system refunds of one charge that did not fail: refunded twice.
        let mut twice = given.clone();
        twice.refunded_amount = Money::from_minor_units(given.amount.minor_units() * 2);
        let again = Refund {
            status: RefundStatus::Processed,
            ..system(&given, Some(8))
        };
        let (violations, _) = check(vec![
            twice.to_item(4).unwrap(),
            refund.to_item(2).unwrap(),
            again.to_item(2).unwrap(),
        ]);
        assert_eq!(violations.count("refunded_twice"), 1);
        assert_eq!(violations.count("refunded_more_than_paid"), 1);

        // An order cancelled after it was paid owes its charge back, flag or not.
        let cancelled = order
            .moved_to(OrderStatus::Cancelled, Actor::Admin, order.updated_at)
            .unwrap();
        let (violations, _) = check(vec![
            cancelled.to_item(3).unwrap(),
            paid.to_item(2).unwrap(),
        ]);
        assert_eq!(violations.count("money_owed_not_given_back"), 1);
    }

    #[test]
    fn capacity_counters_must_equal_what_live_orders_hold_and_stay_within_limits() {
        use kitchen::domain::{DailyLimit, Money, OrderItem, Quantity};
        let (order, _) = paid_order_and_payment();
        let mut order = order;
        let mut dish: kitchen::domain::Dish = serde_json::from_value(serde_json::json!({
            "id": kitchen::domain::DishId::new(), "name": "Egusi", "description": "",
            "price": 300000, "currency": "NGN", "dish_type": "dinner", "tags": [],
            "available_from": "2026-11-01", "available_until": null, "active": true,
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"
        }))
        .unwrap();
        dish.daily_portions = Some(DailyLimit::parse(3).unwrap());
        let quantity = Quantity::parse(2).unwrap();
        order.items = vec![OrderItem {
            dish_id: dish.id.clone(),
            dish_name: "Egusi".into(),
            unit_price: Money::from_minor_units(300_000),
            quantity,
            line_total: Money::from_minor_units(600_000),
            currency: kitchen::domain::Currency::Ngn,
        }];
        let counter = |sk: String, held: i64| -> Item {
            HashMap::from([
                (
                    "pk".into(),
                    AttributeValue::S(format!("DAY#{}", order.delivery_date)),
                ),
                ("sk".into(), AttributeValue::S(sk)),
                ("entity".into(), AttributeValue::S("capacity".into())),
                ("held".into(), AttributeValue::N(held.to_string())),
            ])
        };
        let dish_item = dish.to_item(1).unwrap();
        let items = |portions: i64, orders: i64| {
            vec![
                order.to_item(2).unwrap(),
                dish_item.clone(),
                counter(format!("DISH#{}", dish.id), portions),
                counter("ORDERS".into(), orders),
            ]
        };
        let violations = Violations::default();
        assert_eq!(check_capacity(&items(2, 1), &violations), 2);
        assert!(violations.is_empty(), "{violations:?}");
        let violations = Violations::default();
        check_capacity(&items(1, 1), &violations);
        assert_eq!(violations.count("capacity_counter_off"), 1);
        let violations = Violations::default();
        check_capacity(&items(4, 1), &violations);
        assert_eq!(violations.count("portions_over_limit"), 1);
        // A cancelled order holds nothing: its counters must be back at zero.
        let mut cancelled = order.clone();
        cancelled.status = OrderStatus::Cancelled;
        let violations = Violations::default();
        check_capacity(
            &[cancelled.to_item(3).unwrap(), counter("ORDERS".into(), 1)],
            &violations,
        );
        assert_eq!(violations.count("capacity_counter_off"), 1);
    }
}
