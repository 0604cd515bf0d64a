//! The scheduled sweep: cancels unpaid orders past their deadline (writing down what reads already
//! show) and announces each it cancelled itself. Before it cancels one, it asks Paystack about each
//! of the order's payments that reached Paystack: Paystack sends no webhook for abandoned or failed
//! charges and a webhook can be lost, so a success found there pays the order instead, through
//! `record_charge`, the one path the webhook and verify take.

use super::{Payments, record_charge::ReadAlong, record_charge::Recorded};
use crate::{
    db::StoredOrder,
    domain::{OrderStatus, PaymentStatus},
    error::ApiError,
    events::OrderEventKind,
    paystack::ChargeStatus,
};

/// What Paystack says of an unpaid order's payments.
enum Reconciled {
    /// None of them took money: the order is the sweep's to cancel.
    Unpaid,
    /// One did, and the order is now paid.
    Paid,
    /// Paystack could not be asked, or one of them is still being recorded: left for the next run.
    Unknown,
}

/// Orders one query of the sweep reads.
const BATCH: usize = 50;

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
