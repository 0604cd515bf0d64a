//! A Paystack webhook event, once its signature has been checked over the raw body: parsed by its
//! `event` name, and applied. `charge.success` is recorded by `record_charge`, the same path verify
//! takes; an event we do not handle, or a charge for a reference that is not ours, is acknowledged
//! and logged, so Paystack stops retrying it.

use super::{Orders, record_charge::ReadAlong};
use crate::{
    db::StoredPayment,
    domain::PaymentReference,
    domain::{OrderId, UserId},
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

impl Orders<'_> {
    /// Applies one signed event.
    pub async fn apply_paystack_event(&self, event: PaystackEvent) -> Result<(), ApiError> {
        match event.event {
            EventName::ChargeSuccess => self.charge_success(event.data).await,
            EventName::Unhandled => {
                tracing::info!(event = %event.name, "webhook event not handled; acknowledged");
                Ok(())
            }
        }
    }

    async fn charge_success(&self, data: Value) -> Result<(), ApiError> {
        let charge = Charge::deserialize(&data)
            .map_err(|_| ApiError::bad_request("request body is not a Paystack event"))?;
        if charge.status != ChargeStatus::Success {
            tracing::warn!(reference = %charge.reference, status = ?charge.status, "charge.success whose charge is not a success; ignored");
            return Ok(());
        }
        let Ok(reference) = PaymentReference::parse(&charge.reference) else {
            tracing::info!(reference = %charge.reference, "charge.success for a reference that is not ours; acknowledged");
            return Ok(());
        };
        let (payment, along) = self.read_payment(&reference, &data).await?;
        let Some(payment) = payment else {
            tracing::info!(%reference, "charge.success for an unknown payment; acknowledged");
            return Ok(());
        };
        let (recorded, _) = self.record_charge(payment, along, &charge).await?;
        tracing::info!(%reference, ?recorded, paystack_id = ?charge.id, "charge.success recorded");
        Ok(())
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
        let refund = PaystackEvent::parse(br#"{"event":"refund.processed","data":{}}"#).unwrap();
        assert_eq!(refund.event, EventName::Unhandled);
        assert!(PaystackEvent::parse(br#"{"data":{}}"#).is_err());
        assert!(PaystackEvent::parse(b"[]").is_err());
    }
}
