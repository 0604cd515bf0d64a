//! Starting a payment: a new attempt, with a new reference, for the order's total as stored. The
//! attempt is written `pending` before Paystack is called, so a crash in between leaves a record,
//! never an untracked transaction.
//!
//! With an `Idempotency-Key`, the answer is stored in the same transaction that stores Paystack's
//! checkout link on the payment (it cannot be stored earlier: the link is part of the answer). A
//! retry after that replays it; two concurrent requests with one key may both reach Paystack, but
//! only the first to commit answers both, and the other attempt is marked `abandoned`, its link
//! never handed out. A request that failed stored nothing under its key, so it may be retried.

use super::{
    Payments,
    idempotency::{Idempotency, Outcome},
};
use crate::{
    caller::Credentials,
    db::{IdempotentRequest, StartPaymentError, StoredPayment},
    domain::{IdempotencyKey, OrderStatus},
    domain::{Payment, PaymentNote, PaymentStatus},
    error::{ApiError, cause_chain},
    paystack,
};

/// The idempotency scope: one key on two routes means two things.
const SCOPE: &str = "POST /orders/{id}/payments";

impl Payments<'_> {
    /// Starts a Paystack transaction for one of the caller's unpaid orders: the new `pending`
    /// attempt with its `authorization_url`.
    pub async fn start(
        &self,
        credentials: Credentials,
        order_id: &str,
        key: Option<IdempotencyKey>,
    ) -> Result<Outcome<Payment>, ApiError> {
        let (caller, stored) = self.orders.own_order(credentials, order_id).await?;
        let caller = caller.with_verified_email()?;
        // The request is the order it names: the same key used for another order is a 422.
        let idempotent = key
            .map(|key| IdempotentRequest::new(caller.id().clone(), SCOPE, key, &stored.order.id));
        let run = Idempotency::new(self.orders.db, idempotent);
        if let Some(first) = run.first_answer().await? {
            return Ok(Outcome::Replayed(first));
        }
        let now = crate::now();
        let order = stored
            .order
            .as_of(now, self.orders.rules.unpaid_order_expiry);
        match order.status {
            OrderStatus::PendingPayment => {}
            OrderStatus::Cancelled => {
                return Err(ApiError::Conflict("the order is cancelled".into()));
            }
            _ => return Err(ApiError::Conflict("the order is already paid".into())),
        }

        let db = self.orders.db;
        let mut payment = Payment::start(&order, now);
        db.create_payment(&payment).await?;
        let created = StoredPayment {
            payment: payment.clone(),
            version: 1,
        };
        let email = paystack::customer_email(&caller.user);
        let initialized = match self.paystack.initialize(&payment, &email).await {
            Ok(initialized) => initialized,
            Err(err) => {
                // Nobody gets this attempt's checkout link, so nobody can pay it. Paystack may have
                // made the transaction if it could not answer (abandoned); if it refused, it did not.
                let mut given_up = payment.clone();
                (given_up.status, given_up.note) = if err.is_unavailable() {
                    (
                        PaymentStatus::Abandoned,
                        Some(PaymentNote::PaystackUnreachable),
                    )
                } else {
                    (PaymentStatus::Failed, Some(PaymentNote::InitializeFailed))
                };
                tracing::warn!(
                    reference = %payment.reference,
                    order_id = %order.id,
                    error = %cause_chain(&err),
                    "Paystack did not start the transaction"
                );
                if let Err(write) = db.record_payment(&created, &given_up, None).await {
                    tracing::error!(reference = %payment.reference, error = %cause_chain(&write), "recording the failed start failed; the attempt stays pending");
                }
                return Err(err.into());
            }
        };
        payment.authorization_url = Some(initialized.authorization_url);
        payment.access_code = Some(initialized.access_code);
        let body = serde_json::to_string(&payment).map_err(ApiError::internal)?;
        match db.payment_started(&payment, run.record(&body)).await {
            Ok(()) => {}
            Err(StartPaymentError::KeyUsed) => {
                let mut unused = created.payment.clone();
                unused.status = PaymentStatus::Abandoned;
                unused.note = Some(PaymentNote::DuplicateRequest);
                db.record_payment(&created, &unused, None).await?;
                return Ok(Outcome::Replayed(run.taken().await?));
            }
            Err(StartPaymentError::Db(err)) => return Err(err.into()),
        }
        tracing::info!(
            reference = %payment.reference,
            order_id = %order.id,
            amount = payment.amount.minor_units(),
            "payment started"
        );
        Ok(Outcome::Done(payment))
    }
}
