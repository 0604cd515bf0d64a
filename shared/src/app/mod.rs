//! The application layer: one module per use case, each the business rule it is, in the order a
//! person would tell it. Handlers extract, call one workflow, and answer; workflows take only what
//! they use (the table, the publisher, the Paystack client, their own rules) and return domain
//! outcomes or [`ApiError`](crate::ApiError)s — never HTTP types. Data flows one way: handler →
//! workflow → `db` and the clients.
//!
//! | module | use case |
//! | --- | --- |
//! | [`admin_dishes`] | staff: the menu's dishes, created, changed and taken off |
//! | [`admin_payments`] | staff: every payment attempt, by status, customer or order |
//! | [`admin_users`] | staff: users listed, searched and changed; phone-only customers |
//! | [`calendar`] | the kitchen's settings, and the cut-off and capacity every order write obeys |
//! | [`cart`] | the customer's cart |
//! | [`pricing`] | the rules of every new or edited order: lines, dates, prices from the table |
//! | [`place_order`] | a customer's order, from items or the cart |
//! | [`edit_order`] | changing an unpaid order |
//! | [`move_order`] | cancelling, and every move along an order's life |
//! | [`menu`] | the public menu for a date, one dish, and the health check's ping |
//! | [`order_history`] | a customer's orders, one or all |
//! | [`staff_orders`] | staff: orders for customers, the dispatch list, status changes |
//! | [`kitchen_lists`] | staff: the day's production list, and sales over a range of days |
//! | [`sweep`] | the scheduled run: unpaid orders past their deadline, payments pending too long, money still owed |
//! | [`remind_kitchen`] | the scheduled reminders to the kitchen of paid orders nobody has started preparing |
//! | [`start_payment`] | a Paystack transaction for an order |
//! | [`verify_payment`] | asking Paystack how a payment went |
//! | [`record_charge`] | the one path that applies a charge to a payment and its order |
//! | [`paystack_event`] | a signed webhook event, parsed by name and applied |
//! | [`payment_history`] | a customer's payments |
//! | [`refunds`] | money given back: staff's refunds, and each refund followed through Paystack |
//! | [`idempotency`] | the one runner for `Idempotency-Key`s |
//! | [`announce`] | the one way a committed change is told to the customer |
//! | [`ensure_admin`] | the admin tool's: creating or promoting a staff account |
//! | [`google_sign_in`] | signing in (or up) with a Google ID token |
//! | [`password`] | changing one's own password |
//! | [`profile`] | the caller's own profile |
//! | [`refresh`] | rotating a session's refresh token, and signing out |
//! | [`register`] | signing up with an email and a password |
//! | [`email_verification`] | proving an account's email with the link we sent it; sending another |
//! | [`password_reset`] | a forgotten password: the reset email, and the new password it allows |
//! | [`sign_in`] | signing in with a password, behind the login throttle; starting every session |

pub mod admin_dishes;
pub mod admin_payments;
pub mod admin_users;
pub mod announce;
pub mod calendar;
pub mod cart;
pub mod edit_order;
pub mod email_verification;
pub mod ensure_admin;
pub mod google_sign_in;
pub mod idempotency;
pub mod kitchen_lists;
pub mod menu;
pub mod move_order;
pub mod order_history;
pub mod password;
pub mod password_reset;
pub mod payment_history;
pub mod paystack_event;
pub mod place_order;
pub mod pricing;
pub mod profile;
pub mod record_charge;
pub mod refresh;
pub mod refunds;
pub mod register;
pub mod remind_kitchen;
pub mod sign_in;
pub mod staff_orders;
pub mod start_payment;
pub mod sweep;
pub mod verify_payment;

use crate::{db::Db, events::Publisher, paystack::Paystack};
use std::time::Duration;

/// The kitchen's rules for orders, from the function's configuration.
#[derive(Debug, Clone)]
pub struct OrderRules {
    /// What "today" is for delivery dates.
    pub kitchen_zone: jiff::tz::TimeZone,
    /// How long an order may stay unpaid before it counts as cancelled.
    pub unpaid_order_expiry: Duration,
    /// When the kitchen is reminded of a paid order nobody has started preparing.
    pub kitchen_alerts: crate::config::KitchenAlerts,
}

/// What the order workflows use: the table, the topic, and the kitchen's rules.
#[derive(Clone, Copy)]
pub struct Orders<'a> {
    pub db: &'a Db,
    pub events: &'a Publisher,
    pub rules: &'a OrderRules,
}

impl<'a> Orders<'a> {
    fn announcer(&self) -> announce::Announcer<'a> {
        announce::Announcer {
            db: self.db,
            events: self.events,
        }
    }
}

/// What the payment workflows use: the order workflows' dependencies and the Paystack client.
#[derive(Clone, Copy)]
pub struct Payments<'a> {
    pub orders: Orders<'a>,
    pub paystack: &'a Paystack,
}

impl<'a> Payments<'a> {
    /// The refund workflows, over the same table and Paystack client.
    pub fn refunds(&self) -> refunds::Refunds<'a> {
        refunds::Refunds {
            db: self.orders.db,
            paystack: self.paystack,
            events: self.orders.events,
        }
    }
}
