//! A Paystack webhook event, once its signature has been checked over the raw body: parsed by its
//! `event` name, and applied. `charge.success` is recorded by `record_charge`, the same path verify
//! takes; a `refund.*` event is a signal to ask Paystack how each open refund of that charge stands
//! (`refunds::follow_charge`). An event we do not handle, a charge for a reference that is not ours,
//! and an event of the other domain (`live` reaching a test deployment, or the reverse) are
//! acknowledged and logged, so Paystack stops retrying them. So is a signed `charge.success` we
//! cannot read: Paystack would send the same bytes to the same parser for 72 hours; it is logged at
//! error level and counted (an alarm), and the payment stays pending for verify to settle.

use super::{
    Orders, Payments,
    record_charge::{ReadAlong, Recorded},
};
use crate::{
    db::StoredPayment,
    domain::{OrderId, UserId},
    domain::{Payment, PaymentReference},
    error::ApiError,
    paystack::{Charge, ChargeStatus},
};
use serde::Deserialize;
use serde_json::Value;

/// The events this API acts on, by Paystack's `event` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EventName {
    #[serde(rename = "charge.success")]
    ChargeSuccess,
    /// `refund.pending`, `.processing`, `.processed`, `.failed`, `.needs-attention`: a refund of
    /// the charge `data.transaction_reference` moved at Paystack.
    #[serde(
        rename = "refund.pending",
        alias = "refund.processing",
        alias = "refund.processed",
        alias = "refund.failed",
        alias = "refund.needs-attention"
    )]
    Refund,
    /// `charge.dispute.create`, `.remind`, `.resolve`: a chargeback on the charge
    /// `data.transaction.reference`.
    #[serde(
        rename = "charge.dispute.create",
        alias = "charge.dispute.remind",
        alias = "charge.dispute.resolve"
    )]
    Dispute,
    /// Any other event (refunds, disputes, transfers…): acknowledged.
    #[serde(other)]
    Unhandled,
}

/// `{"event": "...", "data": {...}}`; `data` is read according to `event`.
#[derive(Debug)]
pub struct PaystackEvent {
    pub event: EventName,
    /// The event's name as Paystack sent it, for the log.
    pub name: String,
    pub data: Value,
}

#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    data: Value,
}

impl PaystackEvent {
    /// A signed body as an event; 400 if it is not one.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let not_an_event = || ApiError::bad_request("request body is not a Paystack event");
        let envelope: Envelope = serde_json::from_slice(body).map_err(|_| not_an_event())?;
        let event = EventName::deserialize(serde_json::Value::String(envelope.event.clone()))
            .map_err(|_| not_an_event())?;
        Ok(Self {
            event,
            name: envelope.event,
            data: envelope.data,
        })
    }
}

/// The order and customer our initialize put in the transaction's `metadata`, which the signature
/// covers. Absent or malformed (`metadata` may be `""` or `0`) means none.
#[derive(Debug, Deserialize)]
struct Metadata {
    order_id: String,
    user_id: String,
}

/// A refund event's `data` (Paystack's samples: `amount` a string, or a number in `refund.failed`,
/// and no refund id at all).
#[derive(Debug, Deserialize)]
struct RefundEvent {
    transaction_reference: String,
    #[serde(default)]
    status: Option<String>,
}

impl Payments<'_> {
    /// Applies one signed event, for a deployment whose key is of Paystack's `domain`.
    pub async fn apply_paystack_event(
        &self,
        event: PaystackEvent,
        domain: &str,
    ) -> Result<(), ApiError> {
        if let Some(theirs) = event.data.get("domain").and_then(Value::as_str)
            && theirs != domain
        {
            crate::metrics::WEBHOOKS_IGNORED.count(["domain"]);
            tracing::warn!(event = %event.name, domain = theirs, ours = domain, "webhook event of the other Paystack domain; acknowledged, nothing changed");
            return Ok(());
        }
        match event.event {
            EventName::ChargeSuccess => {
                if let Some((recorded, payment)) = self.orders.charge_success(event.data).await? {
                    self.refunds().after_charge(recorded, payment).await;
                }
                Ok(())
            }
            EventName::Refund => self.refund_moved(&event.name, event.data).await,
            EventName::Dispute => self.orders.dispute(&event.name, event.data).await,
            EventName::Unhandled => {
                tracing::info!(event = %event.name, "webhook event not handled; acknowledged");
                Ok(())
            }
        }
    }

    /// A refund of one of our charges moved at Paystack: each of its open refunds is asked about.
    async fn refund_moved(&self, name: &str, data: Value) -> Result<(), ApiError> {
        let Ok(event) = RefundEvent::deserialize(&data) else {
            tracing::error!(event = %name, "refund event without a transaction reference; acknowledged");
            return Ok(());
        };
        let Ok(reference) = PaymentReference::parse(&event.transaction_reference) else {
            tracing::info!(event = %name, reference = %event.transaction_reference, "refund event for a charge that is not ours; acknowledged");
            return Ok(());
        };
        let moved = self.refunds().follow_charge(&reference).await?;
        tracing::info!(event = %name, %reference, status = ?event.status, moved = moved.len(), "refund event followed");
        Ok(())
    }
}

/// A dispute event's `data` (Paystack's samples): the disputed transaction is embedded whole.
#[derive(Debug, Deserialize)]
struct DisputeEvent {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, rename = "dueAt")]
    due_at: Option<String>,
    #[serde(default)]
    transaction: Option<DisputedTransaction>,
    #[serde(default)]
    transaction_reference: Option<String>,
    #[serde(default)]
    messages: Option<Vec<DisputeMessage>>,
}

#[derive(Debug, Deserialize)]
struct DisputedTransaction {
    reference: String,
}

#[derive(Debug, Deserialize)]
struct DisputeMessage {
    #[serde(default)]
    body: Option<String>,
}

impl Orders<'_> {
    /// Records a dispute event on its payment (and lists it among the open ones until resolved).
    /// The kitchen is texted when a dispute opens: Paystack gives it hours to answer.
    async fn dispute(&self, name: &str, data: Value) -> Result<(), ApiError> {
        use crate::domain::{Dispute, DisputeStatus};
        let Ok(event) = DisputeEvent::deserialize(&data) else {
            tracing::error!(event = %name, "dispute event that cannot be read; acknowledged");
            return Ok(());
        };
        let reference = event
            .transaction
            .as_ref()
            .map(|t| t.reference.clone())
            .or(event.transaction_reference.clone())
            .unwrap_or_default();
        let Ok(reference) = PaymentReference::parse(&reference) else {
            tracing::info!(event = %name, %reference, "dispute on a charge that is not ours; acknowledged");
            return Ok(());
        };
        let resolved =
            name == "charge.dispute.resolve" || event.status.as_deref() == Some("resolved");
        let reason = event
            .messages
            .as_ref()
            .and_then(|messages| messages.iter().find_map(|m| m.body.clone()))
            .or(event.category.clone());
        for _ in 0..3 {
            let Some(stored) = self.db.get_payment(&reference).await? else {
                tracing::info!(event = %name, %reference, "dispute on an unknown payment; acknowledged");
                return Ok(());
            };
            let before = stored.payment.dispute.as_ref().map(|d| d.status);
            if before == Some(DisputeStatus::Resolved) && !resolved {
                // A late create or remind after the resolution changes nothing.
                return Ok(());
            }
            let mut disputed = stored.payment.clone();
            disputed.dispute = Some(Dispute {
                status: if resolved {
                    DisputeStatus::Resolved
                } else {
                    DisputeStatus::Open
                },
                reason: reason.clone(),
                due_at: event.due_at.as_deref().and_then(crate::paystack::timestamp),
                resolution: event.resolution.clone(),
                updated_at: crate::now(),
            });
            if !self.db.record_dispute(&stored, &disputed).await? {
                continue;
            }
            tracing::warn!(event = %name, %reference, order_id = %disputed.order_id, "dispute recorded");
            if before.is_none() && !resolved {
                crate::metrics::DISPUTES_OPENED.count([]);
                match self.db.get_order(&disputed.order_id).await {
                    Ok(Some(order)) => {
                        self.announcer()
                            .announce(&order.order, crate::events::OrderEventKind::Disputed, None)
                            .await
                    }
                    _ => {
                        tracing::error!(%reference, "a disputed payment's order could not be read; the kitchen was not texted")
                    }
                }
            }
            return Ok(());
        }
        Err(ApiError::Unavailable(
            "a disputed payment kept changing".into(),
        ))
    }

    /// Records a `charge.success`; what it came to, or none when there was nothing of ours to record.
    async fn charge_success(&self, data: Value) -> Result<Option<(Recorded, Payment)>, ApiError> {
        let charge = match Charge::deserialize(&data) {
            Ok(charge) => charge,
            Err(err) => {
                crate::metrics::CHARGES_UNREADABLE.count([]);
                tracing::error!(error = %err, reference = ?data.get("reference"), "signed charge.success whose transaction cannot be read; acknowledged, the payment stays pending for verify");
                return Ok(None);
            }
        };
        if charge.status != ChargeStatus::Success {
            tracing::warn!(reference = %charge.reference, status = ?charge.status, "charge.success whose charge is not a success; ignored");
            return Ok(None);
        }
        let Ok(reference) = PaymentReference::parse(&charge.reference) else {
            tracing::info!(reference = %charge.reference, "charge.success for a reference that is not ours; acknowledged");
            return Ok(None);
        };
        let (payment, along) = self.read_payment(&reference, &data).await?;
        let Some(payment) = payment else {
            tracing::info!(%reference, "charge.success for an unknown payment; acknowledged");
            return Ok(None);
        };
        let (recorded, payment) = self.record_charge(payment, along, &charge).await?;
        tracing::info!(%reference, ?recorded, paystack_id = ?charge.id, "charge.success recorded");
        Ok(Some((recorded, payment)))
    }

    /// The payment, and, when the metadata names them, its order and customer read in the same
    /// round trip; `record_charge` checks that they belong to the payment before using them.
    async fn read_payment(
        &self,
        reference: &PaymentReference,
        data: &Value,
    ) -> Result<(Option<StoredPayment>, ReadAlong), ApiError> {
        let named = Metadata::deserialize(&data["metadata"]).ok().and_then(|m| {
            Some((
                OrderId::parse(&m.order_id).ok()?,
                UserId::parse(&m.user_id).ok()?,
            ))
        });
        let Some((order, customer)) = named else {
            return Ok((self.db.get_payment(reference).await?, ReadAlong::default()));
        };
        let (payment, order, customer) = self
            .db
            .payment_order_and_customer(reference, &order, &customer)
            .await?;
        Ok((payment, ReadAlong { order, customer }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_told_apart_by_name_and_unknown_ones_are_unhandled() {
        let success =
            PaystackEvent::parse(br#"{"event":"charge.success","data":{"a":1}}"#).unwrap();
        assert_eq!(success.event, EventName::ChargeSuccess);
        for name in [
            "refund.pending",
            "refund.processing",
            "refund.processed",
            "refund.failed",
            "refund.needs-attention",
        ] {
            let body = format!(r#"{{"event":"{name}","data":{{}}}}"#);
            let refund = PaystackEvent::parse(body.as_bytes()).unwrap();
            assert_eq!(refund.event, EventName::Refund, "{name}");
            assert_eq!(refund.name, name);
        }
        let dispute = PaystackEvent::parse(br#"{"event":"transfer.success","data":{}}"#).unwrap();
        assert_eq!(dispute.event, EventName::Unhandled);
        assert!(PaystackEvent::parse(br#"{"data":{}}"#).is_err());
        assert!(PaystackEvent::parse(b"[]").is_err());
    }
}
