//! The simulator's shared state: settings, the in-memory transactions, and the operations the
//! routes perform on them.
//!
//! The control operations ([`SimState::succeed`], [`SimState::succeed_without_webhook`],
//! [`SimState::fail`], [`SimState::resend_webhook`], [`SimState::advance_refund`],
//! [`SimState::open_dispute`], [`SimState::remind_dispute`], [`SimState::resolve_dispute`]) are
//! public so a Rust test holding the state can drive a payment without going through HTTP; the
//! `/_sim/...` routes are thin wrappers around them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use rand::Rng;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::config::SimConfig;
use crate::dispute::{Dispute, DisputeStatus, HistoryEntry, Resolution};
use crate::error::{PaystackError, SimError};
use crate::refund::{MERCHANT_EMAIL, Refund, RefundStatus, RefundView};
use crate::transaction::{
    CardAuthorization, Customer, Delivery, SentEvent, Transaction, TransactionStatus,
    TransactionView, timestamp,
};
use crate::webhook;

/// Cheap to clone; every clone sees the same transactions.
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    secret_key: String,
    /// `live` for an `sk_live_` key, otherwise `test`: the `domain` of everything Paystack returns.
    domain: &'static str,
    public_url: String,
    webhook_url: RwLock<String>,
    delay_ms: AtomicU64,
    retry_interval: Duration,
    retry_attempts: u32,
    http: reqwest::Client,
    store: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    transactions: HashMap<String, Transaction>,
    /// access code → reference
    access_codes: HashMap<String, String>,
    /// lower-cased email → customer; Paystack keeps one customer per email.
    customers: HashMap<String, Customer>,
    /// refund id → the reference of its transaction, which holds the refund.
    refunds: HashMap<u64, String>,
    last_transaction_id: u64,
    last_customer_id: u64,
    last_refund_id: u64,
    last_dispute_id: u64,
}

// Paystack warns that transaction ids exceed 32 bits; starting above u32::MAX makes a client
// that stores them in 32 bits fail here rather than in production.
const FIRST_TRANSACTION_ID: u64 = 5_000_000_000;
const FIRST_CUSTOMER_ID: u64 = 180_000_000;
// Refund ids get the same treatment, from a range of their own so that one passed for the other
// is never found.
const FIRST_REFUND_ID: u64 = 7_000_000_000;
const FIRST_DISPUTE_ID: u64 = 8_000_000_000;

/// A validated `POST /transaction/initialize` request.
#[derive(Debug, Clone)]
pub(crate) struct NewTransaction {
    pub email: String,
    pub amount: u64,
    pub currency: String,
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub metadata: Value,
}

/// What `POST /transaction/initialize` answers with.
#[derive(Debug, Clone)]
pub(crate) struct Initialized {
    pub reference: String,
    pub access_code: String,
    pub authorization_url: String,
}

/// A `POST /refund` whose fields have the right types; whether the transaction allows it is
/// decided by [`SimState::refund`].
#[derive(Debug, Clone)]
pub(crate) struct NewRefund {
    /// A reference, or a transaction id in digits.
    pub transaction: String,
    pub amount: Option<u64>,
    pub currency: Option<String>,
    pub customer_note: Option<String>,
    pub merchant_note: Option<String>,
}

/// The reference is taken already.
#[derive(Debug)]
pub(crate) struct DuplicateReference;

/// Optional body of `POST /_sim/transactions/{reference}/succeed`: pay a different amount or in a
/// different currency than was initialized, so the webhook (and verify) disagree with the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SucceedOverrides {
    pub amount: Option<u64>,
    pub currency: Option<String>,
}

/// Optional body of `POST /_sim/transactions/{reference}/dispute`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDispute {
    /// What the customer asks back; default: the whole amount paid.
    pub refund_amount: Option<u64>,
    /// How long the merchant has to answer; default 24.
    pub due_in_hours: Option<u32>,
}

/// Optional body of `POST /_sim/transactions/{reference}/dispute/resolve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveDispute {
    /// Default `declined`.
    pub resolution: Option<Resolution>,
}

/// Runtime-adjustable settings, read and written by `/_sim/config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl SimState {
    /// `public_url` is the base of `authorization_url` (the address a browser uses).
    pub fn new(config: &SimConfig, public_url: impl Into<String>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout())
            // Paystack counts anything but a 200 as a failed delivery; following a redirect
            // would hide a misconfigured webhook URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                secret_key: config.secret_key.clone(),
                domain: domain_of(&config.secret_key),
                public_url: public_url.into().trim_end_matches('/').to_owned(),
                webhook_url: RwLock::new(config.webhook_url.clone()),
                delay_ms: AtomicU64::new(config.delay_ms),
                retry_interval: config.retry_interval(),
                retry_attempts: config.retry_attempts,
                http,
                store: Mutex::new(Store::default()),
            }),
        })
    }

    pub(crate) fn secret_key(&self) -> &str {
        &self.inner.secret_key
    }

    pub(crate) fn domain(&self) -> &'static str {
        self.inner.domain
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn retry_interval(&self) -> Duration {
        self.inner.retry_interval
    }

    pub(crate) fn retry_attempts(&self) -> u32 {
        self.inner.retry_attempts
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    pub fn webhook_url(&self) -> String {
        self.inner
            .webhook_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Points later deliveries elsewhere — for a test that starts its receiver after the simulator.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self
            .inner
            .webhook_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = url.into();
    }

    /// The artificial latency of Paystack API calls.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.inner.delay_ms.load(Ordering::Relaxed))
    }

    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.inner.delay_ms.store(millis, Ordering::Relaxed);
    }

    pub fn runtime_config(&self) -> RuntimeConfig {
        RuntimeConfig {
            delay_ms: Some(self.inner.delay_ms.load(Ordering::Relaxed)),
            webhook_url: Some(self.webhook_url()),
        }
    }

    pub fn apply(&self, change: RuntimeConfig) {
        if let Some(delay_ms) = change.delay_ms {
            self.set_delay(Duration::from_millis(delay_ms));
        }
        if let Some(url) = change.webhook_url {
            self.set_webhook_url(url);
        }
    }

    /// Every transaction, oldest first.
    pub fn transactions(&self) -> Vec<TransactionView> {
        let store = self.store();
        let mut all: Vec<_> = store
            .transactions
            .values()
            .map(|t| t.view(self.public_url()))
            .collect();
        all.sort_by_key(|t| t.id);
        all
    }

    pub fn transaction(&self, reference: &str) -> Option<TransactionView> {
        self.store()
            .transactions
            .get(reference)
            .map(|t| t.view(self.public_url()))
    }

    pub(crate) fn transaction_by_access_code(&self, access_code: &str) -> Option<TransactionView> {
        let store = self.store();
        let reference = store.access_codes.get(access_code)?;
        store
            .transactions
            .get(reference)
            .map(|t| t.view(self.public_url()))
    }

    /// Verify's `data`, serialized.
    pub(crate) fn paystack_json(&self, reference: &str) -> Option<Value> {
        let store = self.store();
        let transaction = store.transactions.get(reference)?;
        serde_json::to_value(transaction.to_paystack()).ok()
    }

    pub(crate) fn initialize(
        &self,
        new: NewTransaction,
    ) -> Result<Initialized, DuplicateReference> {
        let mut store = self.store();
        let reference = match new.reference {
            Some(reference) if store.transactions.contains_key(&reference) => {
                return Err(DuplicateReference);
            }
            Some(reference) => reference,
            None => unused(&store.transactions, 10),
        };
        let access_code = unused(&store.access_codes, 15);
        let customer = store.customer(&new.email);
        store.last_transaction_id = store.last_transaction_id.max(FIRST_TRANSACTION_ID) + 1;
        let transaction = Transaction {
            id: store.last_transaction_id,
            domain: self.domain(),
            reference: reference.clone(),
            access_code: access_code.clone(),
            customer,
            requested_amount: new.amount,
            amount: new.amount,
            currency: new.currency,
            callback_url: new.callback_url,
            metadata: new.metadata,
            status: TransactionStatus::Abandoned,
            created_at: OffsetDateTime::now_utc(),
            paid_at: None,
            settled_at: None,
            authorization: None,
            last_event: None,
            deliveries: Vec::new(),
            refunds: Vec::new(),
            dispute: None,
        };
        let authorization_url = transaction.view(self.public_url()).authorization_url;
        store
            .access_codes
            .insert(access_code.clone(), reference.clone());
        store.transactions.insert(reference.clone(), transaction);
        Ok(Initialized {
            reference,
            access_code,
            authorization_url,
        })
    }

    /// Marks the transaction paid, sends a signed `charge.success` webhook and returns the
    /// status of the first delivery (`None`: the receiver could not be reached). A delivery that
    /// does not get a 200 is retried in the background.
    pub async fn succeed(
        &self,
        reference: &str,
        overrides: SucceedOverrides,
    ) -> Result<Option<u16>, SimError> {
        let event = self.pay(reference, overrides)?;
        Ok(webhook::deliver(self.clone(), reference.to_owned(), event).await)
    }

    /// Marks the transaction paid as [`SimState::succeed`] does, but sends nothing: the webhook
    /// Paystack would have sent is lost, so only verify tells the merchant. The event is kept, and
    /// `POST /_sim/transactions/{reference}/webhook` delivers it late.
    pub fn succeed_without_webhook(
        &self,
        reference: &str,
        overrides: SucceedOverrides,
    ) -> Result<(), SimError> {
        self.pay(reference, overrides).map(drop)
    }

    /// The payment itself: the transaction becomes `success` and its `charge.success` event is
    /// built (and kept for re-delivery).
    fn pay(&self, reference: &str, overrides: SucceedOverrides) -> Result<SentEvent, SimError> {
        if overrides.amount == Some(0) {
            return Err(SimError::BadRequest("amount must be positive".to_owned()));
        }
        if overrides
            .currency
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err(SimError::BadRequest(
                "currency must not be empty".to_owned(),
            ));
        }
        let mut store = self.store();
        let transaction = store
            .transactions
            .get_mut(reference)
            .ok_or_else(|| SimError::UnknownReference(reference.to_owned()))?;
        // A declined card may be retried on the same checkout, so only success is final.
        if transaction.status.is_paid() {
            return Err(SimError::AlreadySucceeded(reference.to_owned()));
        }
        let now = OffsetDateTime::now_utc();
        transaction.status = TransactionStatus::Success;
        transaction.paid_at = Some(now);
        transaction.settled_at = Some(now);
        transaction.amount = overrides.amount.unwrap_or(transaction.requested_amount);
        if let Some(currency) = overrides.currency {
            transaction.currency = currency.trim().to_owned();
        }
        transaction.authorization = Some(CardAuthorization {
            code: format!("AUTH_{}", random_code(10)),
            signature: format!("SIG_{}", random_code(20)),
        });
        let event = webhook::charge_success_body(transaction);
        transaction.last_event = Some(event.clone());
        Ok(event)
    }

    /// Marks the transaction declined. Sends nothing: Paystack has no webhook for failed charges.
    pub fn fail(&self, reference: &str) -> Result<(), SimError> {
        let mut store = self.store();
        let transaction = store
            .transactions
            .get_mut(reference)
            .ok_or_else(|| SimError::UnknownReference(reference.to_owned()))?;
        if transaction.status.is_paid() {
            return Err(SimError::AlreadySucceeded(reference.to_owned()));
        }
        transaction.status = TransactionStatus::Failed;
        transaction.paid_at = None;
        transaction.settled_at = Some(OffsetDateTime::now_utc());
        Ok(())
    }

    /// Sends the last webhook of this transaction again, byte for byte (same signature), with
    /// the same retries as the first time. For duplicate-delivery tests.
    pub async fn resend_webhook(&self, reference: &str) -> Result<Option<u16>, SimError> {
        let body = {
            let store = self.store();
            let transaction = store
                .transactions
                .get(reference)
                .ok_or_else(|| SimError::UnknownReference(reference.to_owned()))?;
            transaction
                .last_event
                .clone()
                .ok_or_else(|| SimError::NothingSent(reference.to_owned()))?
        };
        Ok(webhook::deliver(self.clone(), reference.to_owned(), body).await)
    }

    /// Queues a refund of a paid transaction, as `POST /refund` does: answers that call's `data`,
    /// and returns the `refund.pending` event for the caller to send once it has answered.
    pub(crate) fn refund(
        &self,
        new: NewRefund,
    ) -> Result<(Value, String, SentEvent), PaystackError> {
        let mut guard = self.store();
        // Through a plain reference, so the transaction and the id counter borrow apart.
        let store = &mut *guard;
        let reference = store
            .reference_of(&new.transaction)
            .ok_or_else(|| {
                PaystackError::not_found(
                    "Transaction not found",
                    "transaction_not_found",
                    "Ensure that you're passing the reference or id of a transaction that exists on this integration",
                )
            })?;
        let transaction = store
            .transactions
            .get_mut(&reference)
            .ok_or_else(|| PaystackError::invalid("Transaction not found", "Try again"))?;
        let fully_reversed = || {
            PaystackError::invalid(
                "Transaction has been fully reversed",
                "There is nothing left to refund on this transaction",
            )
        };
        match transaction.status {
            TransactionStatus::Success => {}
            TransactionStatus::Reversed => return Err(fully_reversed()),
            TransactionStatus::Abandoned | TransactionStatus::Failed => {
                return Err(PaystackError::invalid(
                    "Transaction has not been paid",
                    "Only a successful transaction can be refunded",
                ));
            }
        }
        if let Some(currency) = &new.currency
            && *currency != transaction.currency
        {
            return Err(PaystackError::invalid(
                format!(
                    "Currency must be the transaction's currency, {}",
                    transaction.currency
                ),
                "Leave currency out, or pass the currency the transaction was paid in",
            ));
        }
        let left = transaction.refundable();
        if left == 0 {
            return Err(fully_reversed());
        }
        let amount = new.amount.unwrap_or(left);
        if amount > left {
            return Err(PaystackError::invalid(
                "Refund amount cannot be greater than transaction amount",
                "Pass an amount no greater than what is left to refund on the transaction",
            ));
        }
        store.last_refund_id = store.last_refund_id.max(FIRST_REFUND_ID) + 1;
        let id = store.last_refund_id;
        let now = OffsetDateTime::now_utc();
        let refund = Refund {
            id,
            transaction_reference: reference.clone(),
            amount,
            currency: transaction.currency.clone(),
            status: RefundStatus::Pending,
            customer_note: new
                .customer_note
                .unwrap_or_else(|| format!("Refund for transaction {reference}")),
            merchant_note: new.merchant_note.unwrap_or_else(|| {
                format!("Refund for transaction {reference} by {MERCHANT_EMAIL}")
            }),
            created_at: now,
            updated_at: now,
            refunded_at: None,
            refund_reference: None,
        };
        let answer = refund.created_json(transaction);
        let event = webhook::event(refund.status.event(), refund.event_json(transaction));
        transaction.refunds.push(refund);
        transaction.last_event = Some(event.clone());
        store.refunds.insert(id, reference.clone());
        Ok((answer, reference, event))
    }

    /// Moves a refund on (see [`RefundStatus`] for the allowed steps), sends the matching
    /// `refund.*` webhook, and returns the status of its first delivery. A `processed` refund gets
    /// its `refunded_at` and a bank reference, and may reverse the transaction; a `failed` one
    /// frees its amount for another refund.
    pub async fn advance_refund(&self, id: u64, to: RefundStatus) -> Result<Option<u16>, SimError> {
        let (reference, event) = {
            let mut store = self.store();
            let reference = store
                .refunds
                .get(&id)
                .cloned()
                .ok_or(SimError::UnknownRefund(id))?;
            let transaction = store
                .transactions
                .get_mut(&reference)
                .ok_or(SimError::UnknownRefund(id))?;
            let refund = transaction
                .refunds
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or(SimError::UnknownRefund(id))?;
            if !refund.status.may_become(to) {
                let why = if refund.status.is_final() {
                    "which is final"
                } else {
                    "and refunds only move forward"
                };
                return Err(SimError::Conflict(format!(
                    "refund {id} is {}, {why}; it cannot become {}",
                    refund.status.as_str(),
                    to.as_str()
                )));
            }
            let now = OffsetDateTime::now_utc();
            refund.status = to;
            refund.updated_at = now;
            match to {
                RefundStatus::Processed => {
                    refund.refunded_at = Some(now);
                    refund.refund_reference = Some(random_digits(12));
                }
                RefundStatus::Failed => {
                    refund.refund_reference = Some(format!("TRF_{}", random_code(15)));
                }
                _ => {}
            }
            let refund = refund.clone();
            transaction.note_processed_refunds();
            let event = webhook::event(to.event(), refund.event_json(transaction));
            transaction.last_event = Some(event.clone());
            (reference, event)
        };
        Ok(webhook::deliver(self.clone(), reference, event).await)
    }

    /// `GET /refund/{id}`'s `data`.
    pub(crate) fn refund_json(&self, id: u64) -> Option<Value> {
        let store = self.store();
        let transaction = store.transactions.get(store.refunds.get(&id)?)?;
        let refund = transaction.refunds.iter().find(|r| r.id == id)?;
        Some(refund.fetched_json(transaction))
    }

    /// `GET /refund`'s entries, newest first: every refund, or those of one transaction (by
    /// reference or id; an unknown one has none).
    pub(crate) fn refunds_json(&self, transaction: Option<&str>) -> Vec<Value> {
        let store = self.store();
        let wanted = transaction.map(|key| store.reference_of(key));
        let mut all: Vec<(u64, Value)> = store
            .transactions
            .values()
            .filter(|t| match &wanted {
                None => true,
                Some(wanted) => wanted.as_deref() == Some(t.reference.as_str()),
            })
            .flat_map(|t| t.refunds.iter().map(move |r| (r.id, r.fetched_json(t))))
            .collect();
        all.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        all.into_iter().map(|(_, json)| json).collect()
    }

    /// Every refund, oldest first.
    pub fn refunds(&self) -> Vec<RefundView> {
        let store = self.store();
        let mut all: Vec<RefundView> = store
            .transactions
            .values()
            .flat_map(|t| t.refunds.iter().map(Refund::view))
            .collect();
        all.sort_by_key(|r| r.id);
        all
    }

    /// Opens a dispute on a paid transaction, as a customer's complaint to their bank does, and
    /// sends `charge.dispute.create`. Refused for an unpaid transaction (400) or one with a
    /// dispute still open (409).
    pub async fn open_dispute(
        &self,
        reference: &str,
        request: OpenDispute,
    ) -> Result<Option<u16>, SimError> {
        let event = {
            let mut guard = self.store();
            let store = &mut *guard;
            let transaction = store
                .transactions
                .get_mut(reference)
                .ok_or_else(|| SimError::UnknownReference(reference.to_owned()))?;
            if !transaction.status.is_paid() {
                return Err(SimError::BadRequest(format!(
                    "transaction {reference:?} has not been paid, so it cannot be disputed"
                )));
            }
            if transaction.dispute.as_ref().is_some_and(Dispute::is_open) {
                return Err(SimError::Conflict(format!(
                    "transaction {reference:?} already has an open dispute"
                )));
            }
            let refund_amount = request.refund_amount.unwrap_or(transaction.amount);
            if refund_amount == 0 || refund_amount > transaction.amount {
                return Err(SimError::BadRequest(format!(
                    "refund_amount must be between 1 and the amount paid, {}",
                    transaction.amount
                )));
            }
            let now = OffsetDateTime::now_utc();
            let due_in = time::Duration::hours(i64::from(request.due_in_hours.unwrap_or(24)));
            let due_at = now
                .checked_add(due_in)
                .ok_or_else(|| SimError::BadRequest("due_in_hours is too large".to_owned()))?;
            store.last_dispute_id = store.last_dispute_id.max(FIRST_DISPUTE_ID) + 1;
            let dispute = Dispute {
                id: store.last_dispute_id,
                refund_amount,
                currency: transaction.currency.clone(),
                status: DisputeStatus::AwaitingMerchantFeedback,
                resolution: None,
                due_at,
                resolved_at: None,
                created_at: now,
                updated_at: now,
                history: vec![HistoryEntry {
                    status: "pending",
                    by: transaction.customer.email.clone(),
                    at: now,
                }],
            };
            let event = webhook::event("charge.dispute.create", dispute.event_json(transaction));
            transaction.dispute = Some(dispute);
            transaction.last_event = Some(event.clone());
            event
        };
        Ok(webhook::deliver(self.clone(), reference.to_owned(), event).await)
    }

    /// Sends `charge.dispute.remind` for the open dispute: the same dispute, `updated_at` now.
    pub async fn remind_dispute(&self, reference: &str) -> Result<Option<u16>, SimError> {
        self.dispute_step(reference, "charge.dispute.remind", |dispute, _| {
            dispute.updated_at = OffsetDateTime::now_utc();
        })
        .await
    }

    /// Resolves the open dispute and sends `charge.dispute.resolve`. A resolution that gives the
    /// customer their money back (`merchant-accepted`, `auto-accepted`) reverses the transaction.
    pub async fn resolve_dispute(
        &self,
        reference: &str,
        resolution: Resolution,
    ) -> Result<Option<u16>, SimError> {
        self.dispute_step(
            reference,
            "charge.dispute.resolve",
            |dispute, transaction| {
                let now = OffsetDateTime::now_utc();
                dispute.status = DisputeStatus::Resolved;
                dispute.resolution = Some(resolution);
                dispute.resolved_at = Some(now);
                dispute.updated_at = now;
                let by = match resolution {
                    Resolution::AutoAccepted => "system".to_owned(),
                    _ => MERCHANT_EMAIL.to_owned(),
                };
                dispute.history.push(HistoryEntry {
                    status: "resolved",
                    by,
                    at: now,
                });
                if resolution.refunds_the_customer() {
                    transaction.status = TransactionStatus::Reversed;
                }
            },
        )
        .await
    }

    /// Changes the open dispute of `reference` and sends `event` about it.
    async fn dispute_step(
        &self,
        reference: &str,
        event: &'static str,
        change: impl FnOnce(&mut Dispute, &mut Transaction),
    ) -> Result<Option<u16>, SimError> {
        let sent = {
            let mut store = self.store();
            let transaction = store
                .transactions
                .get_mut(reference)
                .ok_or_else(|| SimError::UnknownReference(reference.to_owned()))?;
            let Some(mut dispute) = transaction.dispute.take_if(|d| d.is_open()) else {
                return Err(SimError::Conflict(format!(
                    "transaction {reference:?} has no open dispute"
                )));
            };
            change(&mut dispute, transaction);
            let sent = webhook::event(event, dispute.event_json(transaction));
            transaction.dispute = Some(dispute);
            transaction.last_event = Some(sent.clone());
            sent
        };
        Ok(webhook::deliver(self.clone(), reference.to_owned(), sent).await)
    }

    /// Notes one delivery attempt; returns its number.
    pub(crate) fn record_delivery(
        &self,
        reference: &str,
        event: &str,
        status: Option<u16>,
        error: Option<String>,
    ) -> u32 {
        let mut store = self.store();
        let Some(transaction) = store.transactions.get_mut(reference) else {
            return 0;
        };
        let attempt = u32::try_from(transaction.deliveries.len()).unwrap_or(u32::MAX) + 1;
        transaction.deliveries.push(Delivery {
            event: event.to_owned(),
            attempt,
            status,
            error,
            at: timestamp(OffsetDateTime::now_utc()),
        });
        attempt
    }

    // The lock is never held across an await, and a panic while holding it leaves the maps
    // consistent (each change is a single insert or field write), so a poisoned lock is usable.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    /// The transaction a refund names: by reference, or else by id when `key` is digits.
    fn reference_of(&self, key: &str) -> Option<String> {
        if self.transactions.contains_key(key) {
            return Some(key.to_owned());
        }
        let id: u64 = key.parse().ok()?;
        self.transactions
            .values()
            .find(|t| t.id == id)
            .map(|t| t.reference.clone())
    }

    fn customer(&mut self, email: &str) -> Customer {
        let key = email.to_ascii_lowercase();
        if let Some(customer) = self.customers.get(&key) {
            return customer.clone();
        }
        self.last_customer_id = self.last_customer_id.max(FIRST_CUSTOMER_ID) + 1;
        let customer = Customer {
            id: self.last_customer_id,
            code: format!("CUS_{}", random_code(15)),
            email: email.to_owned(),
        };
        self.customers.insert(key, customer.clone());
        customer
    }
}

/// Lower-case letters and digits, the alphabet of Paystack's generated references and access codes.
pub(crate) fn random_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Paystack's `domain`: which kind of key the integration used.
fn domain_of(secret_key: &str) -> &'static str {
    if secret_key.starts_with("sk_live_") {
        "live"
    } else {
        "test"
    }
}

/// A bank-style reference: digits, no leading zero.
fn random_digits(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|i| char::from(b'0' + rng.random_range(u8::from(i == 0)..10)))
        .collect()
}

fn unused<V>(taken: &HashMap<String, V>, len: usize) -> String {
    loop {
        let code = random_code(len);
        if !taken.contains_key(&code) {
            return code;
        }
    }
}
