//! Recording what Paystack says about a payment: the one path shared by
//! `POST /payments/{reference}/verify`, the webhook (and, later, reconciliation), so all converge on
//! the same conditional writes and an order becomes `paid` exactly once however often, and however
//! concurrently, they run.

use super::Orders;
use crate::{
    db::{StoredOrder, StoredPayment},
    domain::{Actor, OrderStatus},
    domain::{Money, Payment, PaymentNote, PaymentStatus, User},
    error::ApiError,
    events::OrderEventKind,
    metrics,
    paystack::{Charge, ChargeStatus},
};
use rand::Rng;
use std::time::Duration;

/// What recording a charge came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// This call marked the payment `success` and its order `paid`.
    Paid,
    /// The money is in, but the order could not take it (cancelled, expired, or already paid by
    /// another attempt): the payment is `success` with `refund_due`.
    RefundDue,
    /// Paystack's amount or currency differs from ours, or the order's total changed since the
    /// attempt started: the payment is `failed` with a note and `refund_due`; the order stays unpaid.
    Mismatch,
    /// Paystack reports a declined charge: the payment is `failed` (a later success still counts).
    Declined,
    /// An earlier call recorded it already (a retry, a replay, or the other path won the race).
    AlreadyRecorded,
    /// Paystack has not settled the charge yet, or said nothing new; nothing changed.
    Unchanged,
}

/// Attempts to record one charge when concurrent writers keep winning the race.
const RECORD_ATTEMPTS: u32 = 6;

/// The outcome of one try; `None` when a condition failed (the payment or its order changed since
/// they were read) and the try must start again from reading both.
type Step = Option<(Recorded, Payment)>;

/// What the caller read together with the payment, if anything: its order and the order's customer,
/// so that recording a success needs no read of its own. Anything that turns out not to belong to
/// the payment is ignored and read again.
#[derive(Debug, Default)]
pub struct ReadAlong {
    pub order: Option<StoredOrder>,
    pub customer: Option<User>,
}

/// Applies what Paystack says about a payment (as read by the caller, who has just looked it up by
/// the charge's reference) to it and, on success, to its order: the one path shared by
/// `POST /payments/{reference}/verify` and the webhook, so both converge on the same conditional
/// writes and the order becomes `paid` exactly once however often, and however concurrently, either
/// runs. Returns what it came to and the payment as it now stands.
///
/// - success, amount and currency equal ours, order still awaiting payment: one transaction makes
///   the payment `success` and the order `paid` (`Order::moved_to`, by the system), both conditioned
///   on the versions read; `order.paid` is published after the commit.
/// - success for an order cancelled (or expired) meanwhile: the payment is `success` with
///   `refund_due` and the order stays cancelled, flagged `refund_due` too, in one transaction; an
///   expiry not yet written down by the sweep is written now and announced as the sweep would.
/// - success for an order another attempt already paid: the payment is `success` with `refund_due`.
/// - a mismatch: the payment is `failed` with a note and `refund_due` (and, for another amount,
///   what was charged), logged at error level; the caller gives the money back.
/// - failed: a pending payment becomes `failed`; anything else changes nothing.
///
/// A payment already settled is left alone; a lost race reads both items again and decides anew, so
/// a later status of the order is never moved back.
impl Orders<'_> {
    pub async fn record_charge(
        &self,
        payment: StoredPayment,
        along: ReadAlong,
        charge: &Charge,
    ) -> Result<(Recorded, Payment), ApiError> {
        let reference = payment.payment.reference.clone();
        let mut read = Some(payment);
        // Only the first try may use what was read along; a retry reads everything anew.
        let mut along = Some(along);
        for attempt in 0..RECORD_ATTEMPTS {
            let stored = match read.take() {
                Some(stored) => stored,
                None => {
                    let jitter = rand::rng().random_range(0..25);
                    tokio::time::sleep(Duration::from_millis((10 << attempt) + jitter)).await;
                    self.db.get_payment(&reference).await?.ok_or_else(|| {
                        ApiError::internal(format!("payment {reference} disappeared"))
                    })?
                }
            };
            if stored.payment.is_settled() {
                return Ok((Recorded::AlreadyRecorded, stored.payment));
            }
            let step = match charge.status {
                ChargeStatus::Success => {
                    self.record_success(&stored, along.take().unwrap_or_default(), charge)
                        .await?
                }
                ChargeStatus::Failed if stored.payment.status == PaymentStatus::Pending => {
                    let mut declined = stored.payment.clone();
                    declined.status = PaymentStatus::Failed;
                    declined.channel = charge.channel.clone().or(declined.channel);
                    declined.gateway_response = charge.gateway_response.clone();
                    if self.db.record_payment(&stored, &declined, None).await? {
                        tracing::info!(%reference, "payment declined");
                        Some((Recorded::Declined, declined))
                    } else {
                        None
                    }
                }
                _ => Some((Recorded::Unchanged, stored.payment)),
            };
            if let Some(done) = step {
                let outcome = match done.0 {
                    Recorded::Paid => Some(&metrics::PAYMENTS_SUCCEEDED),
                    Recorded::RefundDue => Some(&metrics::PAYMENTS_REFUND_DUE),
                    Recorded::Mismatch => Some(&metrics::PAYMENTS_MISMATCHED),
                    _ => None,
                };
                if let Some(metric) = outcome {
                    metric.count([]);
                }
                return Ok(done);
            }
        }
        Err(ApiError::Unavailable(
            format!("payment {reference} kept changing while its charge was recorded").into(),
        ))
    }

    async fn record_success(
        &self,
        stored: &StoredPayment,
        along: ReadAlong,
        charge: &Charge,
    ) -> Result<Step, ApiError> {
        let now = crate::now();
        let payment = &stored.payment;
        let reference = &payment.reference;
        let mut done = payment.clone();
        done.channel = charge.channel.clone().or(done.channel);
        done.gateway_response = charge.gateway_response.clone().or(done.gateway_response);

        let mismatch = if charge.amount != payment.amount.minor_units() {
            Some(PaymentNote::AmountMismatch)
        } else if charge.currency != payment.currency.as_str() {
            Some(PaymentNote::CurrencyMismatch)
        } else {
            None
        };
        if let Some(note) = mismatch {
            let mut done = done.owed_back(PaymentStatus::Failed, note);
            if note == PaymentNote::AmountMismatch {
                // What a refund of this charge gives back.
                done.charged_amount = Some(Money::from_minor_units(charge.amount));
            }
            if !self.db.record_payment(stored, &done, None).await? {
                return Ok(None);
            }
            tracing::error!(
                %reference,
                order_id = %payment.order_id,
                expected_amount = payment.amount.minor_units(),
                paid_amount = charge.amount,
                expected_currency = payment.currency.as_str(),
                paid_currency = %charge.currency,
                "Paystack charge does not match the payment; the order stays unpaid and a refund is due"
            );
            return Ok(Some((Recorded::Mismatch, done)));
        }

        done.status = PaymentStatus::Success;
        done.paid_at = Some(charge.paid_at().unwrap_or(now));
        // The order and its customer in one read, unless the caller read them along with the payment.
        let (order, customer) = match along.order {
            Some(order) if order.order.id == payment.order_id => (Some(order), along.customer),
            _ => {
                self.db
                    .order_and_customer(&payment.order_id, &payment.user_id)
                    .await?
            }
        };
        let order = order.ok_or_else(|| {
            ApiError::internal(format!(
                "payment {reference} names order {}, which does not exist",
                payment.order_id
            ))
        })?;
        // The order as it stood when the money was paid: a charge made before the deadline pays
        // the order even when its word arrives after it (a webhook retried, or found by the sweep),
        // unless the expiry was written down meanwhile.
        let paid_at = done.paid_at.unwrap_or(now).min(now);
        let current = order
            .order
            .clone()
            .as_of(paid_at, self.rules.unpaid_order_expiry);
        match current.status {
            OrderStatus::PendingPayment
                if current.total != payment.amount || current.currency != payment.currency =>
            {
                let done = done.owed_back(PaymentStatus::Failed, PaymentNote::OrderChanged);
                if !self.db.record_payment(stored, &done, None).await? {
                    return Ok(None);
                }
                tracing::error!(
                    %reference,
                    order_id = %payment.order_id,
                    paid_amount = payment.amount.minor_units(),
                    order_total = current.total.minor_units(),
                    "the order's total changed after this payment started; the order stays unpaid and a refund is due"
                );
                Ok(Some((Recorded::Mismatch, done)))
            }
            OrderStatus::PendingPayment => {
                let paid = current
                    .moved_to(OrderStatus::Paid, Actor::System, now)
                    .expect("the system moves an unpaid order to paid");
                if !self
                    .db
                    .record_payment(stored, &done, Some((&order, &paid)))
                    .await?
                {
                    return Ok(None);
                }
                tracing::info!(%reference, order_id = %paid.id, amount = payment.amount.minor_units(), "order paid");
                self.announcer()
                    .announce(&paid, OrderEventKind::Paid, customer.as_ref())
                    .await;
                Ok(Some((Recorded::Paid, done)))
            }
            OrderStatus::Cancelled => {
                let done = done.owed_back(PaymentStatus::Success, PaymentNote::OrderCancelled);
                let mut kept = current;
                kept.refund_due = true;
                kept.updated_at = now;
                if !self
                    .db
                    .record_payment(stored, &done, Some((&order, &kept)))
                    .await?
                {
                    return Ok(None);
                }
                tracing::warn!(%reference, order_id = %kept.id, amount = payment.amount.minor_units(), "money arrived for a cancelled order; a refund is due");
                if order.order.status == OrderStatus::PendingPayment {
                    // The expiry was written down here rather than by the sweep: announce it as it would.
                    self.announcer()
                        .announce(&kept, OrderEventKind::Cancelled, customer.as_ref())
                        .await;
                }
                Ok(Some((Recorded::RefundDue, done)))
            }
            _ => {
                let done = done.owed_back(PaymentStatus::Success, PaymentNote::OrderAlreadyPaid);
                if !self.db.record_payment(stored, &done, None).await? {
                    return Ok(None);
                }
                tracing::warn!(%reference, order_id = %payment.order_id, amount = payment.amount.minor_units(), "money arrived for an order another payment already paid; a refund is due");
                Ok(Some((Recorded::RefundDue, done)))
            }
        }
    }
}
