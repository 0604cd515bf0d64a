//! Giving money back: a refund staff ask for (`POST /admin/orders/{id}/refunds`), and following
//! each refund through Paystack's refund webhooks until it is processed or failed.
//!
//! A refund is stored, with its amount on its payment's counter (which no race can push past what
//! the charge took, see `db::refunds`), *before* Paystack is asked. When Paystack refuses it or
//! cannot be reached, the refund is withdrawn again, so nothing is recorded and a retry later is
//! safe. When Paystack does not answer in time it may hold the refund, so ours stays held (pending,
//! without Paystack's id) until a refund event of that charge finds it in Paystack's list; Paystack
//! itself refuses to refund more than a charge took.

use super::{
    idempotency::{Idempotency, Outcome},
    record_charge::Recorded,
};
use crate::caller::StaffClaim;
use crate::{
    caller::AdminUser,
    db::{Db, IdempotentRequest, Item, Page, RefundFilter, ReserveRefundError, StoredRefund},
    domain::{
        IdempotencyKey, Money, Order, OrderId, OrderStatus, Payment, PaymentNote, PaymentReference,
        Refund, RefundReason, RefundStatus, RequestedBy,
    },
    error::{ApiError, FieldError},
    events::Publisher,
    metrics,
    paystack::{Paystack, PaystackError},
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use time::OffsetDateTime;

const SCOPE: &str = "POST /admin/orders/{id}/refunds";

/// Payment attempts of one order read to find its charges (an order has a handful).
const ATTEMPTS_READ: usize = 100;

/// What the refund workflows use: the table, Paystack, and the topic (a processed refund is texted
/// to its customer).
#[derive(Clone, Copy)]
pub struct Refunds<'a> {
    pub db: &'a Db,
    pub paystack: &'a Paystack,
    pub events: &'a Publisher,
}

/// A refund staff ask for; without `amount`, whatever is left to refund.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub amount: Option<i64>,
    pub reason: RefundReason,
}

/// Which refunds staff list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundSearch {
    pub status: Option<RefundStatus>,
    pub order_id: Option<OrderId>,
}

impl Refunds<'_> {
    /// Refunds (part of) what was paid for order `id`, from the charge with the most left to give
    /// back: 404 for no such order, 409 if nothing was paid for it, 422 for more than is left.
    pub async fn refund_order(
        &self,
        admin: &AdminUser,
        key: Option<IdempotencyKey>,
        id: &str,
        request: RefundRequest,
    ) -> Result<Outcome<Refund>, ApiError> {
        let not_found = || ApiError::NotFound("no such order".into());
        let order_id = OrderId::parse(id).map_err(|_| not_found())?;
        if request.amount.is_some_and(|amount| amount <= 0) {
            return Err(ApiError::invalid_field(
                "amount",
                "must be a positive whole number of kobo",
            ));
        }
        // One key on two orders asks two things: the order is part of what the key remembers.
        let idempotent = key.map(|key| {
            IdempotentRequest::new(admin.0.id().clone(), SCOPE, key, &(&order_id, &request))
        });
        let run = Idempotency::new(self.db, idempotent);
        // The key's first answer, the order and its attempts: independent reads, one round trip.
        let (first, order, attempts) = tokio::join!(
            run.first_answer(),
            self.db.get_order(&order_id),
            self.db.payments_of_order(&order_id, ATTEMPTS_READ, None),
        );
        if let Some(first) = first? {
            return Ok(Outcome::Replayed(first));
        }
        order?.ok_or_else(not_found)?;
        let attempts = attempts?.items;
        let Some(charge) = attempts
            .into_iter()
            .filter(|payment| payment.took() > Money::ZERO)
            .max_by_key(Payment::refundable)
        else {
            return Err(ApiError::Conflict(
                "nothing was paid for this order, so there is nothing to refund".into(),
            ));
        };
        let left = charge.refundable();
        let amount = match request.amount {
            Some(amount) => Money::from_minor_units(amount),
            None => left,
        };
        if left == Money::ZERO || amount > left {
            return Err(too_much(left));
        }
        let refund = Refund::of(
            &charge,
            amount,
            request.reason.as_str(),
            RequestedBy::Admin,
            Some(admin.0.id().clone()),
            crate::now(),
        );
        let body = serde_json::to_string(&refund).map_err(ApiError::internal)?;
        match self
            .db
            .reserve_refund(&refund, charge.took(), run.record(&body))
            .await
        {
            Ok(()) => {}
            Err(ReserveRefundError::KeyUsed) => return Ok(Outcome::Replayed(run.taken().await?)),
            Err(ReserveRefundError::NotEnoughLeft) => {
                // Another refund of this charge got there first.
                let left = match self.db.get_payment(&charge.reference).await? {
                    Some(now) => now.payment.refundable(),
                    None => Money::ZERO,
                };
                return Err(too_much(left));
            }
            Err(ReserveRefundError::Db(err)) => return Err(err.into()),
        }
        // Refunding all that is left settles whatever refund was due.
        let settles = amount == left;
        let asked = self
            .ask_paystack(refund, settles, run.record_request())
            .await?;
        Ok(Outcome::Done(asked))
    }

    /// Asks Paystack for a refund just stored: on its answer the refund has Paystack's id (and,
    /// with a key, the key's answer says so too); on any failure it is withdrawn and the failure
    /// answered (503 unreachable or slow, 502 refused).
    async fn ask_paystack(
        &self,
        refund: Refund,
        settles: bool,
        idempotent: Option<&IdempotentRequest>,
    ) -> Result<Refund, ApiError> {
        let asked = self
            .paystack
            .refund(
                &refund.payment_reference,
                refund.amount,
                refund.currency,
                &refund.reason,
            )
            .await;
        let answer = match asked {
            Ok(answer) => answer,
            Err(err @ PaystackError::Timeout(_)) => {
                // It may have arrived. Withdrawing it could let a second refund overpay, so it
                // stays pending, its amount held, until Paystack's refund event (or the list of
                // the charge's refunds at Paystack) says which refund it is.
                tracing::error!(refund_id = %refund.id, reference = %refund.payment_reference, "Paystack did not answer a refund in time; kept pending until Paystack tells");
                return Err(err.into());
            }
            Err(err) => {
                self.db.withdraw_refund(&refund, idempotent).await?;
                tracing::warn!(refund_id = %refund.id, reference = %refund.payment_reference, error = %crate::error::cause_chain(&err), "Paystack did not take the refund; withdrawn");
                return Err(err.into());
            }
        };
        self.record_answer(refund, answer.id, &answer.status, settles, idempotent)
            .await
    }

    /// Records Paystack's answer (`paystack_id`, `status`) to a refund just stored (version 1):
    /// its id, its status moved forward, what it settles, and the key's answer. Paystack's
    /// `refund.pending` can reach the webhook before this write, which then finds the refund
    /// already named by Paystack's list: this write goes on top of that one.
    pub async fn record_answer(
        &self,
        refund: Refund,
        paystack_id: u64,
        status: &str,
        settles: bool,
        idempotent: Option<&IdempotentRequest>,
    ) -> Result<Refund, ApiError> {
        let now = crate::now();
        let mut accepted = refund.clone();
        accepted.paystack_id = Some(paystack_id);
        accepted.updated_at = now;
        if let Some(status) = RefundStatus::from_paystack(status)
            && let Some(moved) = accepted.moved_to(status, now)
        {
            accepted = moved;
        }
        let mut stored = StoredRefund { refund, version: 1 };
        let mut attempts = 0;
        loop {
            let body = serde_json::to_string(&accepted).map_err(ApiError::internal)?;
            let record = idempotent.map(|request| (request, body.as_str()));
            if self
                .db
                .record_refund(&stored, &accepted, settles, record)
                .await?
            {
                break;
            }
            attempts += 1;
            let now_stored = self.db.get_refund(&accepted.id).await?.ok_or_else(|| {
                ApiError::internal("a refund disappeared while Paystack was asked")
            })?;
            let named_alike = now_stored
                .refund
                .paystack_id
                .is_none_or(|id| id == paystack_id);
            if attempts >= 3 || !named_alike {
                return Err(ApiError::internal(format!(
                    "refund {} changed while Paystack was asked",
                    accepted.id
                )));
            }
            // What the webhook wrote, with Paystack's answer on top (a status only moves forward).
            let mut next = now_stored.refund.clone();
            next.paystack_id = Some(paystack_id);
            next.updated_at = crate::now();
            if let Some(moved) = next.moved_to(accepted.status, next.updated_at) {
                next = moved;
            }
            accepted = next;
            stored = now_stored;
        }
        metrics::REFUNDS_STARTED.count([accepted.requested_by.as_str()]);
        tracing::info!(refund_id = %accepted.id, paystack_id, reference = %accepted.payment_reference, amount = accepted.amount.minor_units(), "refund asked of Paystack");
        Ok(accepted)
    }

    /// Gives back, without a person, all that is left of `charge` (money the order could not take,
    /// or an order cancelled after it was paid): a refund by the system, which clears the payment's
    /// and order's `refund_due` once Paystack has taken it. None when nothing is left to refund (so
    /// no charge is ever refunded twice: the counter says what was given back) or when Paystack
    /// would not take it, which is logged and leaves `refund_due` set for the sweep to try again.
    pub async fn give_back(&self, charge: &Payment, reason: &str) -> Option<Refund> {
        let left = charge.refundable();
        if left == Money::ZERO {
            return None;
        }
        let refund = Refund::of(
            charge,
            left,
            reason,
            RequestedBy::System,
            None,
            crate::now(),
        );
        match self.db.reserve_refund(&refund, charge.took(), None).await {
            Ok(()) => {}
            Err(ReserveRefundError::NotEnoughLeft) => {
                tracing::info!(reference = %charge.reference, "the charge was refunded meanwhile; nothing left to give back");
                return None;
            }
            Err(err) => {
                tracing::error!(reference = %charge.reference, error = %crate::error::cause_chain(&err), "a refund that is due could not be stored; refund_due stays set");
                return None;
            }
        }
        match self.ask_paystack(refund, true, None).await {
            Ok(refund) => Some(refund),
            Err(err) => {
                tracing::error!(reference = %charge.reference, error = %crate::error::cause_chain(&err), "a refund that is due was not taken by Paystack; refund_due stays set");
                None
            }
        }
    }

    /// Gives back every successful charge of `order`, which staff cancelled after it was paid, and
    /// answers the order as it now stands (`refund_due` cleared once every refund was taken). The
    /// cancel is done whatever happens here: a failure is logged and leaves `refund_due` set.
    pub async fn give_back_order(&self, mut order: Order) -> Order {
        if !order.refund_due {
            return order;
        }
        let charges = match self
            .db
            .payments_of_order(&order.id, ATTEMPTS_READ, None)
            .await
        {
            Ok(page) => page.items,
            Err(err) => {
                tracing::error!(order_id = %order.id, error = %crate::error::cause_chain(&err), "the charges of a cancelled paid order could not be read; refund_due stays set");
                return order;
            }
        };
        let reason = cancelled_by_kitchen(&order);
        // Each refund Paystack takes added its amount to the order's counter and cleared its
        // `refund_due` in the write that recorded it: the order as stored now, without reading it.
        for charge in charges.iter().filter(|p| p.refundable() > Money::ZERO) {
            if let Some(refund) = self.give_back(charge, &reason).await {
                order.refunded_amount = order.refunded_amount + refund.amount;
                order.refund_due = false;
            }
        }
        order
    }

    /// After a charge was recorded: money the order could not take (paid after a cancel, paid
    /// twice, or a charge that did not match the order) is given back at once. The payment as it
    /// now stands.
    pub async fn after_charge(&self, recorded: Recorded, mut payment: Payment) -> Payment {
        if !matches!(recorded, Recorded::RefundDue | Recorded::Mismatch) {
            return payment;
        }
        let Some(reason) = owed_because(&payment) else {
            return payment;
        };
        // The refund's write added to the payment's counter and cleared its `refund_due`: the
        // payment as stored now, without reading it again.
        if let Some(refund) = self.give_back(&payment, reason).await {
            payment.refunded_amount = payment.refunded_amount + refund.amount;
            payment.refund_due = false;
        }
        payment
    }

    /// The sweep's retry of money owed back: for each order on the list of orders owing money
    /// (oldest first, `page` at a time, the whole list), gives back every charge still owed
    /// (`refund_due`, or a charge of an order cancelled after it was paid) that no refund has taken
    /// yet, and takes the order off the list once nothing of it is left to give back. The list
    /// holds the orders that came to owe money since the last run (a refund that went through is
    /// taken off here), so a run reads two items per order that owed money since. Returns how many
    /// refunds it started.
    pub async fn retry_owed(&self, page: usize) -> Result<usize, ApiError> {
        let mut started = 0;
        let mut start = None;
        loop {
            let listed = self.db.owed_orders(page, start).await?;
            for owed in listed.items {
                started += self.give_back_owed(&owed).await?;
            }
            match listed.next {
                Some(next) => start = Some(next),
                None => return Ok(started),
            }
        }
    }

    /// [`Refunds::retry_owed`] for one order; how many refunds it started.
    async fn give_back_owed(&self, owed: &crate::db::Owed) -> Result<usize, ApiError> {
        let mut started = 0;
        let (order, charges) = tokio::join!(
            self.db.get_order(&owed.order_id),
            self.db
                .payments_of_order(&owed.order_id, ATTEMPTS_READ, None),
        );
        let Some(order) = order? else {
            self.db.clear_owed(owed).await?;
            return Ok(0);
        };
        let order = order.order;
        let cancelled_paid = order.refund_due && order.status == OrderStatus::Cancelled;
        let mut still_owed = false;
        for charge in charges?.items {
            if charge.refundable() == Money::ZERO {
                continue;
            }
            let reason = match owed_because(&charge) {
                Some(reason) if charge.refund_due => reason.to_string(),
                _ if cancelled_paid => cancelled_by_kitchen(&order),
                _ => continue,
            };
            match self.give_back(&charge, &reason).await {
                Some(_) => started += 1,
                None => still_owed = true,
            }
        }
        if !still_owed {
            self.db.clear_owed(owed).await?;
        }
        Ok(started)
    }

    /// The sweep's release of refunds held since Paystack's answer to them never came: each
    /// charge with a refund held longer than `grace` is followed (Paystack's list of its refunds
    /// names the ones it received); a refund Paystack still does not hold never reached it, and is
    /// failed, which gives what it held back to the counters. A refund the system started is owed
    /// again (the order goes back on the list first), so the retry of money owed gives it back.
    /// Returns how many it released.
    pub async fn release_held(
        &self,
        from: OffsetDateTime,
        grace_until: OffsetDateTime,
        limit: usize,
    ) -> Result<usize, ApiError> {
        let held = self.db.held_refunds(from, grace_until, limit).await?;
        let charges: HashSet<&PaymentReference> =
            held.iter().map(|r| &r.refund.payment_reference).collect();
        for reference in charges {
            self.follow_charge(reference).await?;
        }
        let mut released = 0;
        for read in &held {
            let Some(stored) = self.db.get_refund(&read.refund.id).await? else {
                continue;
            };
            let refund = &stored.refund;
            if refund.status != RefundStatus::Pending || refund.paystack_id.is_some() {
                continue;
            }
            if refund.requested_by == RequestedBy::System {
                self.db.mark_owed(&refund.order_id).await?;
            }
            let Some(failed) = refund.moved_to(RefundStatus::Failed, crate::now()) else {
                continue;
            };
            if self.db.record_refund(&stored, &failed, false, None).await? {
                released += 1;
                tracing::warn!(refund_id = %failed.id, reference = %failed.payment_reference, amount = failed.amount.minor_units(), "Paystack never received this refund; failed, and what it held is free again");
            }
        }
        Ok(released)
    }

    /// A page of the refunds matching `search`, newest first.
    pub async fn list(
        &self,
        _staff: StaffClaim,
        search: &RefundSearch,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Refund>, ApiError> {
        let filter = RefundFilter {
            status: search.status,
            order_id: search.order_id.clone(),
        };
        Ok(self.db.all_refunds(&filter, limit, start).await?)
    }

    /// What Paystack now says of each refund of charge `reference` not yet final: a refund event
    /// names only the charge, so it is a signal to ask Paystack (`GET /refund/{id}`) about each of
    /// ours on it. Each status only moves forward, so an event that arrives late changes nothing.
    /// Returns the refunds that moved, as they now stand.
    pub async fn follow_charge(
        &self,
        reference: &PaymentReference,
    ) -> Result<Vec<Refund>, ApiError> {
        let mut moved = Vec::new();
        let refunds = self.db.refunds_of_payment(reference).await?;
        let refunds = self.identify(reference, refunds).await?;
        for stored in refunds {
            if stored.refund.status.is_final() {
                continue;
            }
            let Some(paystack_id) = stored.refund.paystack_id else {
                // Still being asked of Paystack (its answer records the id); nothing to follow yet.
                continue;
            };
            let now_at_paystack = self.paystack.fetch_refund(paystack_id).await?;
            let Some(status) = RefundStatus::from_paystack(&now_at_paystack.status) else {
                tracing::warn!(refund_id = %stored.refund.id, status = %now_at_paystack.status, "Paystack reports a refund status we do not know; left as it is");
                continue;
            };
            if let Some(refund) = self.move_refund(stored, status).await? {
                moved.push(refund);
            }
        }
        Ok(moved)
    }

    /// Gives each open refund of ours that has no Paystack id yet (Paystack's answer to it never
    /// came: a timeout) the id of a refund of the same amount that Paystack holds for the charge and
    /// none of ours has. A refund Paystack does not hold stays as it is.
    async fn identify(
        &self,
        reference: &PaymentReference,
        refunds: Vec<StoredRefund>,
    ) -> Result<Vec<StoredRefund>, ApiError> {
        if refunds
            .iter()
            .all(|r| r.refund.paystack_id.is_some() || r.refund.status.is_final())
        {
            return Ok(refunds);
        }
        let mut theirs = self.paystack.refunds_of(reference).await?;
        theirs.retain(|at_paystack| {
            refunds
                .iter()
                .all(|r| r.refund.paystack_id != Some(at_paystack.id))
        });
        let mut identified = Vec::with_capacity(refunds.len());
        for stored in refunds {
            if stored.refund.paystack_id.is_some() || stored.refund.status.is_final() {
                identified.push(stored);
                continue;
            }
            let Some(at) = theirs
                .iter()
                .position(|t| t.amount == stored.refund.amount.minor_units())
            else {
                identified.push(stored);
                continue;
            };
            let found = theirs.remove(at);
            let mut named = stored.refund.clone();
            named.paystack_id = Some(found.id);
            named.updated_at = crate::now();
            // A refund the system started gave back all that was owed: naming it settles that.
            let settles = named.requested_by == RequestedBy::System;
            if self
                .db
                .record_refund(&stored, &named, settles, None)
                .await?
            {
                tracing::info!(refund_id = %named.id, paystack_id = found.id, "refund found at Paystack");
                identified.push(StoredRefund {
                    refund: named,
                    version: stored.version + 1,
                });
            }
        }
        Ok(identified)
    }

    /// Moves a stored refund to `status` if it may go there, reading it again after a lost race.
    async fn move_refund(
        &self,
        mut stored: StoredRefund,
        status: RefundStatus,
    ) -> Result<Option<Refund>, ApiError> {
        for _ in 0..3 {
            let Some(next) = stored.refund.moved_to(status, crate::now()) else {
                return Ok(None);
            };
            if self.db.record_refund(&stored, &next, false, None).await? {
                tracing::info!(refund_id = %next.id, status = next.status.as_str(), "refund moved");
                if status == RefundStatus::Processed {
                    // Only the write that moved it to processed gets here: one text per refund.
                    self.announce_processed(&next).await;
                }
                if matches!(status, RefundStatus::Failed | RefundStatus::NeedsAttention) {
                    metrics::REFUNDS_STUCK.count([status.as_str()]);
                    tracing::error!(refund_id = %next.id, reference = %next.payment_reference, status = status.as_str(), "a refund did not go through; someone must look at it");
                }
                return Ok(Some(next));
            }
            stored = self
                .db
                .get_refund(&stored.refund.id)
                .await?
                .ok_or_else(|| ApiError::internal("a refund disappeared"))?;
        }
        Err(ApiError::Unavailable(
            "a refund kept changing while it was moved".into(),
        ))
    }
}

impl Refunds<'_> {
    /// Texts the customer that `refund` went back; never fails the caller.
    async fn announce_processed(&self, refund: &Refund) {
        let announcer = super::announce::Announcer {
            db: self.db,
            events: self.events,
        };
        match self.db.get_order(&refund.order_id).await {
            Ok(Some(stored)) => {
                announcer
                    .announce_refund(&stored.order, refund.amount)
                    .await
            }
            Ok(None) => {
                tracing::error!(refund_id = %refund.id, order_id = %refund.order_id, "a processed refund's order is not in the table; not announced")
            }
            Err(err) => {
                metrics::EVENT_PUBLISH_FAILED
                    .count([crate::events::OrderEventKind::Refunded.as_str()]);
                tracing::error!(refund_id = %refund.id, error = %crate::error::cause_chain(&err), "a processed refund's order could not be read; not announced");
            }
        }
    }
}

/// The reason of the refunds of an order staff cancelled after it was paid.
fn cancelled_by_kitchen(order: &Order) -> String {
    match &order.cancel_reason {
        Some(reason) => format!("Order cancelled by the kitchen: {reason}"),
        None => "Order cancelled by the kitchen".to_string(),
    }
}

/// Why a charge's money is owed back, as its refund's reason; none when it is not, or is owed in
/// a currency staff refund by hand.
fn owed_because(charge: &Payment) -> Option<&'static str> {
    match charge.note? {
        PaymentNote::OrderCancelled => Some("Paid after the order was cancelled"),
        PaymentNote::OrderAlreadyPaid => Some("Paid twice for one order"),
        PaymentNote::OrderChanged => Some("The order changed after this payment started"),
        PaymentNote::AmountMismatch => Some("The amount charged did not match the order"),
        _ => None,
    }
}

fn too_much(left: Money) -> ApiError {
    let message = format!("at most {} kobo is left to refund", left.minor_units());
    ApiError::Unprocessable {
        detail: message.clone(),
        errors: vec![FieldError::new("amount", message)],
    }
}
