//! The scheduled sweep: cancels unpaid orders past their deadline (writing down what reads already
//! show) and announces each it cancelled itself. Before it cancels one, it asks Paystack about each
//! of the order's payments that reached Paystack: Paystack sends no webhook for abandoned or failed
//! charges and a webhook can be lost, so a success found there pays the order instead, through
//! `record_charge`, the one path the webhook and verify take. Then it asks Paystack about payments
//! pending for over an hour, releases refunds Paystack never received, and gives back money still
//! owed (`refund_due`) that Paystack could not be asked to refund before.

use super::{Payments, record_charge::ReadAlong, record_charge::Recorded};
use crate::{
    db::StoredOrder,
    domain::{OrderStatus, PaymentStatus},
    error::ApiError,
    events::OrderEventKind,
    paystack::ChargeStatus,
};
use time::{Duration, OffsetDateTime};

/// What Paystack says of an unpaid order's payments.
enum Reconciled {
    /// None of them took money: the order is the sweep's to cancel.
    Unpaid,
    /// One did, and the order is now paid.
    Paid,
    /// Paystack could not be asked, or one of them is still being recorded: left for the next run.
    Unknown,
}

/// Orders (or payments, or refunds) one query of the sweep reads.
const BATCH: usize = 50;
/// A payment still pending this long after it started is asked about (at most once this often).
const PENDING_TOO_LONG: Duration = Duration::hours(1);
/// How far back the sweep looks for payments pending and refunds held: as long as Paystack retries
/// a webhook. Older ones are left to staff (`GET /admin/payments?status=pending`).
const LOOK_BACK: Duration = Duration::hours(72);
/// How long a refund whose Paystack answer never came is given to show up in Paystack's list.
const HELD_GRACE: Duration = Duration::minutes(10);

/// What one run of the sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Unpaid orders past their deadline it cancelled.
    pub cancelled: usize,
    /// Payments pending over an hour whose charge Paystack had settled, now recorded.
    pub recorded: usize,
    /// Refunds held since Paystack's answer never came, that Paystack turned out not to hold.
    pub released: usize,
    /// Refunds it started for money owed back that nothing had given back yet.
    pub refunds_started: usize,
}

impl Payments<'_> {
    /// One run of the scheduled sweep: expired unpaid orders cancelled (after asking Paystack),
    /// payments pending over an hour settled, held refunds released, and money still owed given
    /// back. Each step after the first runs even when the one before it failed (Paystack down
    /// stops only what needs Paystack); the first failure is the run's answer.
    pub async fn sweep(&self) -> Result<Swept, ApiError> {
        let now = crate::now();
        let mut failure = None;
        let mut keep = |step: &str, result: Result<usize, ApiError>| match result {
            Ok(count) => count,
            Err(err) => {
                tracing::error!(step, error = %crate::error::cause_chain(&err), "a step of the sweep failed; the next run tries again");
                failure.get_or_insert(err);
                0
            }
        };
        let refunds = self.refunds();
        let swept = Swept {
            cancelled: keep("cancel unpaid orders", self.sweep_unpaid().await),
            recorded: keep("settle pending payments", self.settle_pending(now).await),
            released: keep(
                "release held refunds",
                refunds
                    .release_held(now - LOOK_BACK, now - HELD_GRACE, BATCH)
                    .await,
            ),
            refunds_started: keep("give back money owed", refunds.retry_owed(BATCH).await),
        };
        tracing::info!(?swept, "sweep done");
        match failure {
            Some(err) => Err(err),
            None => Ok(swept),
        }
    }

    /// Asks Paystack about each payment started between three days and an hour ago that is still
    /// pending (and was not asked about within the hour), and records what it says through
    /// `record_charge`, as the webhook would: a charge whose webhook was lost, for an order that
    /// has expired since, is found and given back. Stops at the first payment Paystack cannot be
    /// asked about. Returns how many it recorded.
    async fn settle_pending(&self, now: OffsetDateTime) -> Result<usize, ApiError> {
        let db = self.orders.db;
        let hour_ago = now - PENDING_TOO_LONG;
        let pending = db
            .pending_payments(now - LOOK_BACK, hour_ago, hour_ago, BATCH)
            .await?;
        let mut recorded = 0;
        for stored in pending {
            let reference = stored.payment.reference.clone();
            let charge = match self.paystack.verify(&reference).await {
                Ok(charge) => charge,
                Err(err) if err.is_not_found() => {
                    db.payment_asked(&stored, now).await?;
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let (outcome, payment) = self
                .orders
                .record_charge(stored.clone(), ReadAlong::default(), &charge)
                .await?;
            match outcome {
                Recorded::Unchanged => {
                    db.payment_asked(&stored, now).await?;
                }
                Recorded::AlreadyRecorded => {}
                _ => {
                    recorded += 1;
                    tracing::warn!(%reference, ?outcome, "the sweep found a charge pending for over an hour settled at Paystack");
                    self.refunds().after_charge(outcome, payment).await;
                }
            }
        }
        Ok(recorded)
    }
}

impl Payments<'_> {
    /// Runs the sweep once; returns how many orders it cancelled.
    pub async fn sweep_unpaid(&self) -> Result<usize, ApiError> {
        let orders = self.orders;
        let now = crate::now();
        let cutoff = now - orders.rules.unpaid_order_expiry;
        let mut cancelled = 0;
        loop {
            let batch = orders.db.unpaid_orders_before(cutoff, BATCH).await?;
            let found = batch.len();
            let before = cancelled;
            let mut unpaid = Vec::new();
            for stored in batch {
                // The index may still list an order paid or cancelled since: it lags, and a payment,
                // a cancel or another sweep may have got there between the query and the read. Only
                // an order stored as unpaid is this sweep's to cancel (one already cancelled reads
                // as cancelled too once expired, so the stored status decides, not the one shown).
                if stored.order.status != OrderStatus::PendingPayment {
                    continue;
                }
                let expired = stored
                    .order
                    .clone()
                    .as_of(now, orders.rules.unpaid_order_expiry);
                if expired.status != OrderStatus::Cancelled {
                    continue;
                }
                // Paystack is asked about every order of the batch before any is cancelled.
                match self.reconcile(&stored).await {
                    Ok(Reconciled::Unpaid) => unpaid.push((stored, expired)),
                    Ok(Reconciled::Paid | Reconciled::Unknown) => {}
                    Err(err) => {
                        tracing::error!(order_id = %stored.order.id, error = %crate::error::cause_chain(&err), "an expired order's payments could not be reconciled; the order waits for the next sweep");
                    }
                }
            }
            for (stored, expired) in unpaid {
                // Conditioned on the version and status read: a failed condition means someone
                // else changed the order first (and announced what they did).
                if orders.db.replace_order(&stored, &expired).await? {
                    cancelled += 1;
                    orders
                        .announcer()
                        .announce(&expired, OrderEventKind::Cancelled, None)
                        .await;
                }
            }
            // A full batch with nothing to cancel is all index lag: the same query would find the
            // same orders again. The next run takes up what is left.
            if found < BATCH || cancelled == before {
                break;
            }
        }
        tracing::info!(cancelled, "unpaid orders swept");
        Ok(cancelled)
    }
}

impl Payments<'_> {
    /// Asks Paystack about each payment of `order` that reached it and is not settled yet, and
    /// records a success found there.
    async fn reconcile(&self, order: &StoredOrder) -> Result<Reconciled, ApiError> {
        let attempts = self
            .orders
            .db
            .payments_of_order(&order.order.id, 100, None)
            .await?
            .items;
        let started = attempts.into_iter().filter(|payment| {
            !payment.is_settled()
                && payment.status != PaymentStatus::Abandoned
                && payment.authorization_url.is_some()
        });
        for payment in started {
            let reference = &payment.reference;
            let charge = match self.paystack.verify(reference).await {
                Ok(charge) => charge,
                Err(err) if err.is_not_found() => continue,
                Err(err) => {
                    tracing::warn!(%reference, order_id = %order.order.id, error = %crate::error::cause_chain(&err), "Paystack could not be asked about an expired order's payment; the order waits for the next sweep");
                    return Ok(Reconciled::Unknown);
                }
            };
            if charge.status != ChargeStatus::Success {
                continue;
            }
            let Some(stored) = self.orders.db.get_payment(reference).await? else {
                continue;
            };
            let along = ReadAlong {
                order: Some(order.clone()),
                customer: None,
            };
            let (recorded, recorded_payment) =
                self.orders.record_charge(stored, along, &charge).await?;
            tracing::warn!(%reference, order_id = %order.order.id, ?recorded, "the sweep found a charge Paystack never told us of");
            match recorded {
                Recorded::Paid => return Ok(Reconciled::Paid),
                Recorded::RefundDue | Recorded::Mismatch => {
                    self.refunds()
                        .after_charge(recorded, recorded_payment)
                        .await;
                    // The order changed (written down as cancelled, or still unpaid): look again next run.
                    return Ok(Reconciled::Unknown);
                }
                _ => {}
            }
        }
        Ok(Reconciled::Unpaid)
    }
}
