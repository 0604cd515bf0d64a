//! What the customers learnt from their answers: the users they made, the orders they got a 201 for,
//! and every charge they made happen (paid on the simulator, or a `charge.success` they signed and
//! sent themselves). The invariants hold the table to these facts after the run.

use crate::stats::lock;
use crate::webhook::SignedEvent;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

/// How the money for a reference moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Paid on the simulator's checkout; it sent the signed webhook (and verify reports success).
    Simulator,
    /// A `charge.success` the load signed; the simulator knows nothing of it, so only this event
    /// (sent again if need be) can record it.
    Signed(SignedEvent),
}

/// One charge: money that moved for a payment reference.
#[derive(Debug, Clone)]
pub struct ChargeFacts {
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub via: Via,
    /// The refund note the payment must end with (`order_already_paid`, `order_cancelled`), or
    /// `None` when this charge is the one that pays the order.
    pub expect_note: Option<&'static str>,
    /// An answer has shown the payment as `success`.
    pub confirmed: bool,
}

/// An order the customer got a 201 for.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub user_id: String,
    pub total: i64,
    pub currency: String,
    /// A `DELETE /orders/{id}` answered 204.
    pub cancelled: bool,
    /// The status staff moved the order to after it was paid (`preparing`), if they did.
    pub staff_status: Option<String>,
    /// A status change (to this status) whose every answer was a 5xx: it may or may not be made.
    pub maybe_status: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub users: HashSet<String>,
    pub orders: HashMap<String, OrderFacts>,
    /// Per user: `POST /orders` requests given up without any answer but 5xx (they may have
    /// committed without the customer learning the order's id).
    pub unanswered_orders: HashMap<String, usize>,
    /// Payment reference → charge.
    pub charges: BTreeMap<String, ChargeFacts>,
}

/// The facts, shared by every customer.
#[derive(Debug, Default)]
pub struct Ledger {
    facts: Mutex<Facts>,
}

impl Ledger {
    pub fn user(&self, user_id: &str) {
        lock(&self.facts).users.insert(user_id.to_string());
    }

    pub fn order(&self, order_id: &str, facts: OrderFacts) {
        lock(&self.facts)
            .orders
            .entry(order_id.to_string())
            .or_insert(facts);
    }

    pub fn unanswered_order(&self, user_id: &str) {
        *lock(&self.facts)
            .unanswered_orders
            .entry(user_id.to_string())
            .or_insert(0) += 1;
    }

    pub fn cancelled(&self, order_id: &str) {
        if let Some(order) = lock(&self.facts).orders.get_mut(order_id) {
            order.cancelled = true;
        }
    }

    pub fn staff_moved(&self, order_id: &str, status: &str) {
        if let Some(order) = lock(&self.facts).orders.get_mut(order_id) {
            order.staff_status = Some(status.to_string());
        }
    }

    pub fn status_unknown(&self, order_id: &str, status: &str) {
        if let Some(order) = lock(&self.facts).orders.get_mut(order_id) {
            order.maybe_status = Some(status.to_string());
        }
    }

    pub fn charge(&self, reference: &str, charge: ChargeFacts) {
        lock(&self.facts)
            .charges
            .entry(reference.to_string())
            .or_insert(charge);
    }

    pub fn confirmed(&self, reference: &str) {
        if let Some(charge) = lock(&self.facts).charges.get_mut(reference) {
            charge.confirmed = true;
        }
    }

    /// References whose money moved but no answer has shown them recorded yet.
    pub fn unconfirmed(&self) -> Vec<(String, ChargeFacts)> {
        lock(&self.facts)
            .charges
            .iter()
            .filter(|(_, charge)| !charge.confirmed)
            .map(|(reference, charge)| (reference.clone(), charge.clone()))
            .collect()
    }

    pub fn snapshot(&self) -> Facts {
        lock(&self.facts).clone()
    }
}
