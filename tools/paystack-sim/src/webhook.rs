//! Signing and delivering webhooks as Paystack does
//! (<https://paystack.com/docs/payments/webhooks/>).
//!
//! The body is serialized once and those exact bytes are both signed and sent:
//! `x-paystack-signature` is the lowercase hex HMAC-SHA512 of the raw body, keyed with the secret
//! key. Any answer but `200 OK` is a failed delivery. Paystack then retries (test mode: hourly for
//! 10 hours); here the schedule is compressed to `retry_attempts` retries `retry_interval` apart.

use std::time::Duration;

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha512;
use tracing::{info, warn};

use crate::state::SimState;
use crate::transaction::{SentEvent, Transaction};

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

/// How long after answering `POST /refund` the `refund.pending` webhook goes out. Paystack sends
/// it once the refund is queued, never inside the API call; a receiver that expects the refund
/// id from the answer before the event arrives must cope, and here it may rely on the order.
pub const REFUND_WEBHOOK_DELAY: Duration = Duration::from_millis(100);

/// `{"event": "charge.success", "data": <the transaction object>}`, serialized.
pub(crate) fn charge_success_body(transaction: &Transaction) -> SentEvent {
    event("charge.success", transaction.to_paystack())
}

/// `{"event": name, "data": data}`, serialized once: these bytes are signed and sent.
pub(crate) fn event(name: &'static str, data: impl Serialize) -> SentEvent {
    #[derive(Serialize)]
    struct Event<T> {
        event: &'static str,
        data: T,
    }
    // Serializing plain structs, strings and numbers into memory does not fail.
    let body = serde_json::to_vec(&Event { event: name, data }).unwrap_or_default();
    SentEvent {
        name,
        body: Bytes::from(body),
    }
}

/// Delivers the event once and returns the receiver's status; if that was not a 200, keeps
/// retrying in a background task. The attempts are recorded on the transaction `reference`.
pub(crate) async fn deliver(state: SimState, reference: String, event: SentEvent) -> Option<u16> {
    let url = state.webhook_url();
    let signature = sign(state.secret_key(), &event.body);
    let first = attempt(&state, &url, &reference, &event, &signature).await;
    if first != Some(200) && state.retry_attempts() > 0 {
        tokio::spawn(async move {
            for _ in 0..state.retry_attempts() {
                tokio::time::sleep(state.retry_interval()).await;
                if attempt(&state, &url, &reference, &event, &signature).await == Some(200) {
                    return;
                }
            }
            warn!(%reference, %url, event = event.name, "webhook retries exhausted without a 200");
        });
    }
    first
}

/// [`deliver`] from a task of its own, `delay` from now, so the HTTP answer that caused the
/// event reaches its caller first.
pub(crate) fn deliver_later(state: SimState, reference: String, event: SentEvent, delay: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        deliver(state, reference, event).await;
    });
}

async fn attempt(
    state: &SimState,
    url: &str,
    reference: &str,
    event: &SentEvent,
    signature: &str,
) -> Option<u16> {
    let sent = state
        .http()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(event.body.clone())
        .send()
        .await;
    let name = event.name;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let attempt = state.record_delivery(reference, name, Some(status), None);
            info!(%reference, attempt, status, %url, event = name, "webhook answered");
            Some(status)
        }
        Err(error) => {
            let error = with_causes(&error);
            let attempt = state.record_delivery(reference, name, None, Some(error.clone()));
            warn!(%reference, attempt, %url, %error, event = name, "webhook not delivered");
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
