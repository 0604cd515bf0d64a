//! `charge.success` events the load signs itself, to deliver them out of order or several at once
//! (<https://paystack.com/docs/payments/webhooks/>): the body is serialized once, and those exact
//! bytes are signed (lowercase hex HMAC-SHA512 keyed with the secret key) and sent.

use bytes::Bytes;
use serde_json::json;

/// The simulator's signing, which is Paystack's: lowercase hex HMAC-SHA512 of the body, keyed with
/// the secret key.
pub use paystack_sim::{SIGNATURE_HEADER, sign};

/// A signed event: the bytes to send and their signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    pub body: Bytes,
    pub signature: String,
}

/// What a charge is about.
#[derive(Debug, Clone)]
pub struct ChargeDetails<'a> {
    pub reference: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub email: &'a str,
    pub order_id: &'a str,
    pub user_id: &'a str,
}

/// A `charge.success` event shaped as Paystack sends it (the fields our webhook reads, plus the
/// usual companions), signed with `secret_key`.
pub fn charge_success(secret_key: &str, charge: &ChargeDetails<'_>, id: u64) -> SignedEvent {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let event = json!({
        "event": "charge.success",
        "data": {
            "id": id,
            "domain": "test",
            "status": "success",
            "reference": charge.reference,
            "amount": charge.amount,
            "message": null,
            "gateway_response": "Successful",
            "paid_at": now,
            "created_at": now,
            "channel": "card",
            "currency": charge.currency,
            "ip_address": "127.0.0.1",
            "metadata": { "order_id": charge.order_id, "user_id": charge.user_id },
            "fees": null,
            "customer": { "email": charge.email },
            "authorization": {},
            "paidAt": now,
            "requested_amount": charge.amount,
        },
    });
    let body = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
    let signature = sign(secret_key, &body);
    SignedEvent { body, signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_test_case_2() {
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn an_event_signs_its_exact_bytes() {
        let details = ChargeDetails {
            reference: "01JD3XB2N6P8R4S7T1V5W9X3YZ",
            amount: 350_000,
            currency: "NGN",
            email: "ada@example.com",
            order_id: "01JD3XB2N6P8R4S7T1V5W9X3YA",
            user_id: "01JD3XB2N6P8R4S7T1V5W9X3YB",
        };
        let event = charge_success("sk_test_x", &details, 5_000_000_001);
        assert_eq!(event.signature, sign("sk_test_x", &event.body));
        let parsed: serde_json::Value = serde_json::from_slice(&event.body).unwrap();
        assert_eq!(parsed["event"], "charge.success");
        assert_eq!(parsed["data"]["reference"], details.reference);
        assert_eq!(parsed["data"]["amount"], 350_000);
        assert_eq!(parsed["data"]["status"], "success");
    }
}
