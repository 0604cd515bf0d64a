//! Signing and delivering webhooks as Paystack does
//! (<https://paystack.com/docs/payments/webhooks/>).
//!
//! The body is serialized once and those exact bytes are both signed and sent:
//! `x-paystack-signature` is the lowercase hex HMAC-SHA512 of the raw body, keyed with the secret
//! key. Any answer but `200 OK` is a failed delivery. Paystack then retries (test mode: hourly for
//! 10 hours); here the schedule is compressed to `retry_attempts` retries `retry_interval` apart.

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha512;
use tracing::{info, warn};

use crate::state::SimState;
use crate::transaction::Transaction;

pub const SIGNATURE_HEADER: &str = "x-paystack-signature";

/// Lowercase hex HMAC-SHA512 of `body`, keyed with `secret_key`.
pub fn sign(secret_key: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha512>::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `{"event": "charge.success", "data": <the transaction object>}`, serialized.
pub(crate) fn charge_success_body(transaction: &Transaction) -> Bytes {
    #[derive(serde::Serialize)]
    struct Event<'a> {
        event: &'static str,
        data: crate::transaction::PaystackTransaction<'a>,
    }
    let event = Event {
        event: "charge.success",
        data: transaction.to_paystack(),
    };
    // Serializing plain structs, strings and numbers into memory does not fail.
    Bytes::from(serde_json::to_vec(&event).unwrap_or_default())
}

/// Delivers `body` once and returns the receiver's status; if that was not a 200, keeps
/// retrying in a background task.
pub(crate) async fn deliver(state: SimState, reference: String, body: Bytes) -> Option<u16> {
    let url = state.webhook_url();
    let signature = sign(state.secret_key(), &body);
    let first = attempt(&state, &url, &reference, &body, &signature).await;
    if first != Some(200) && state.retry_attempts() > 0 {
        tokio::spawn(async move {
            for _ in 0..state.retry_attempts() {
                tokio::time::sleep(state.retry_interval()).await;
                if attempt(&state, &url, &reference, &body, &signature).await == Some(200) {
                    return;
                }
            }
            warn!(%reference, %url, "webhook retries exhausted without a 200");
        });
    }
    first
}

async fn attempt(
    state: &SimState,
    url: &str,
    reference: &str,
    body: &Bytes,
    signature: &str,
) -> Option<u16> {
    let sent = state
        .http()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body.clone())
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let attempt = state.record_delivery(reference, Some(status), None);
            info!(%reference, attempt, status, %url, "webhook charge.success answered");
            Some(status)
        }
        Err(error) => {
            let error = with_causes(&error);
            let attempt = state.record_delivery(reference, None, Some(error.clone()));
            warn!(%reference, attempt, %url, %error, "webhook charge.success not delivered");
            None
        }
    }
}

/// reqwest's own message ("error sending request") hides the reason; the causes say it.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
}
