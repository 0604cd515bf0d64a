//! Paystack: the typed client for the transaction and refund calls we make, and the webhook
//! signature check. What Paystack says about a payment is recorded by `crate::app::record_charge`.
//!
//! - [`Paystack`] is built once per cold start ([`crate::state`]) from [`PaystackConfig`]: the base
//!   URL (the simulator locally), the secret key (a [`Secret`], never printed) and a timeout well
//!   under the function's. `initialize` is tried once (a retry could start a second transaction).
//!   The reads (`verify`, `fetch_refund`, `refunds_of`) are tried again when Paystack could not be
//!   reached or answered 429 or 5xx; `refund`, like `initialize`, is tried once.
//!   Paystack's error envelope `{"status": false, "message": ...}` becomes a [`PaystackError`], which
//!   answers 503 when Paystack is unreachable, slow or rate-limiting and 502 for any other bad answer.
//! - [`WebhookKey::signature_is_valid`] checks a webhook's `x-paystack-signature` over the raw body.
//!
//! Paystack's documentation: <https://paystack.com/docs/api/transaction/>,
//! <https://paystack.com/docs/api/errors/>, <https://paystack.com/docs/payments/webhooks/>,
//! <https://paystack.com/docs/payments/verify-payments/>, <https://paystack.com/docs/api/refund/>.

use crate::{
    ApiError,
    config::{PaystackConfig, Secret},
    domain::{Currency, Money, Payment, PaymentReference, User},
};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use sha2::Sha512;
use std::{fmt, time::Duration};
use time::OffsetDateTime;

/// The webhook's signature header.
pub const SIGNATURE_HEADER: &str = "x-paystack-signature";

/// Paystack requires an email for every transaction; a phone-only customer gets this stand-in. The
/// `.invalid` top-level domain is reserved (RFC 2606), so no receipt can ever reach a stranger.
pub const PLACEHOLDER_EMAIL_DOMAIN: &str = "customers.kitchen.invalid";

/// Attempts of a read (verify, a refund, a charge's refunds) when Paystack is unreachable or
/// answers 429/5xx.
const READ_ATTEMPTS: u32 = 3;

type HmacSha512 = Hmac<Sha512>;

/// The Paystack API client; cheap to clone.
#[derive(Clone)]
pub struct Paystack {
    http: crate::state::OutboundHttp,
    base_url: String,
    secret_key: Secret,
    timeout: Duration,
    callback_url: Option<String>,
}

impl fmt::Debug for Paystack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paystack")
            .field("base_url", &self.base_url)
            .field("secret_key", &self.secret_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a call to Paystack failed.
#[derive(Debug, thiserror::Error)]
pub enum PaystackError {
    #[error("Paystack did not answer in time")]
    Timeout(#[source] reqwest::Error),
    #[error("Paystack could not be reached")]
    Unreachable(#[source] reqwest::Error),
    /// Paystack's error envelope (or a bare error status).
    #[error("Paystack answered {status}: {message}")]
    Rejected {
        status: u16,
        message: String,
        code: Option<String>,
    },
    #[error("Paystack's answer was not understood: {0}")]
    Malformed(String),
}

impl PaystackError {
    /// Worth asking again: Paystack was unreachable, rate-limiting, or failed on its side. Not a
    /// timeout: that already spent the time a retry would need.
    fn is_transient(&self) -> bool {
        match self {
            PaystackError::Unreachable(_) => true,
            PaystackError::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Paystack does not know the transaction (verify of a reference it never saw).
    pub fn is_not_found(&self) -> bool {
        matches!(self, PaystackError::Rejected { status: 404, .. })
    }

    /// Paystack could not be asked (so the transaction may or may not exist there), as opposed to
    /// Paystack answering with a refusal.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            PaystackError::Timeout(_)
                | PaystackError::Unreachable(_)
                | PaystackError::Rejected { status: 429, .. }
        )
    }
}

impl From<PaystackError> for ApiError {
    fn from(err: PaystackError) -> Self {
        if err.is_unavailable() {
            ApiError::Unavailable(Box::new(err))
        } else {
            ApiError::BadGateway(Box::new(err))
        }
    }
}

/// Every Paystack answer: `status` says whether the call (not the payment) worked.
#[derive(Deserialize)]
struct Envelope<T> {
    status: bool,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default = "none")]
    data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

/// What `POST /transaction/initialize` answers.
#[derive(Debug, Clone, Deserialize)]
pub struct Initialized {
    pub authorization_url: String,
    pub access_code: String,
    pub reference: String,
}

/// A transaction's `data.status`. Only `success` gives value; `failed` is a declined charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeStatus {
    Success,
    Failed,
    Abandoned,
    Ongoing,
    Pending,
    Processing,
    Queued,
    Reversed,
    #[serde(other)]
    Unknown,
}

/// Paystack's transaction object, as verify returns it and `charge.success` carries it. Only the
/// fields we use; the rest (and `metadata`, which may be `""`) are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    /// Paystack's id; larger than 32 bits.
    #[serde(default)]
    pub id: Option<u64>,
    pub status: ChargeStatus,
    pub reference: String,
    /// In the currency's minor unit.
    #[serde(deserialize_with = "whole_number")]
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub gateway_response: Option<String>,
    #[serde(default)]
    pub paid_at: Option<String>,
    /// `test` or `live`.
    #[serde(default)]
    pub domain: Option<String>,
}

impl Charge {
    /// When Paystack says the money moved, to the second like our own timestamps.
    pub fn paid_at(&self) -> Option<OffsetDateTime> {
        timestamp(self.paid_at.as_deref()?)
    }
}

/// One of Paystack's times (`2026-11-24T13:45:57.000Z`), to the second as we store times.
pub fn timestamp(text: &str) -> Option<OffsetDateTime> {
    let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(at.replace_nanosecond(0).unwrap_or(at))
}

/// An amount is a whole number; Paystack's samples sometimes carry it as a string of digits.
/// A refund as Paystack's refund API answers it (create, fetch and list share these fields).
#[derive(Debug, Clone, Deserialize)]
pub struct PaystackRefund {
    pub id: u64,
    /// `pending`, `processing`, `processed`, `failed` or `needs-attention`.
    pub status: String,
    #[serde(deserialize_with = "whole_number")]
    pub amount: i64,
    #[serde(default)]
    pub currency: Option<String>,
}

fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Amount {
        Number(i64),
        Text(String),
    }
    match Amount::deserialize(deserializer)? {
        Amount::Number(n) => Ok(n),
        Amount::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("amount is not a whole number")),
    }
}

impl Paystack {
    /// `http` is the function's shared client (rustls, built at the first call); every call here
    /// sets its own timeout.
    pub fn new(
        http: crate::state::OutboundHttp,
        config: &PaystackConfig,
        secret_key: Secret,
    ) -> Self {
        Self {
            http,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            secret_key,
            timeout: config.timeout,
            callback_url: config.callback_url.clone(),
        }
    }

    /// Starts a transaction for `payment` (our reference, amount and currency) paid by `email`.
    /// The order and the customer ride along in `metadata`, where the dashboard and the webhook show them.
    pub async fn initialize(
        &self,
        payment: &Payment,
        email: &str,
    ) -> Result<Initialized, PaystackError> {
        let mut body = serde_json::json!({
            "email": email,
            "amount": payment.amount,
            "currency": payment.currency.as_str(),
            "reference": payment.reference.as_str(),
            "metadata": {
                "order_id": payment.order_id.as_str(),
                "user_id": payment.user_id.as_str(),
            },
        });
        if let Some(callback) = &self.callback_url {
            body["callback_url"] = serde_json::Value::String(callback.clone());
        }
        let request = self
            .http
            .post(format!("{}/transaction/initialize", self.base_url))
            .json(&body);
        let initialized: Initialized = self.call(request).await?;
        if initialized.reference != payment.reference.as_str() {
            return Err(PaystackError::Malformed(format!(
                "initialize answered reference {:?} for {}",
                initialized.reference, payment.reference
            )));
        }
        Ok(initialized)
    }

    /// The transaction's state now. References are ULIDs, so they need no escaping in the path.
    pub async fn verify(&self, reference: &PaymentReference) -> Result<Charge, PaystackError> {
        let url = format!("{}/transaction/verify/{reference}", self.base_url);
        let charge: Charge = self.read(&url).await?;
        if charge.reference != reference.as_str() {
            return Err(PaystackError::Malformed(format!(
                "verify of {reference} answered reference {:?}",
                charge.reference
            )));
        }
        Ok(charge)
    }

    /// Asks Paystack to refund `amount` of the transaction `reference` (`POST /refund`,
    /// <https://paystack.com/docs/api/refund/#create>). Tried once: a retry could start a second
    /// refund (Paystack refuses one that would give back more than the charge took, which is the
    /// last guard against that).
    pub async fn refund(
        &self,
        reference: &PaymentReference,
        amount: Money,
        currency: Currency,
        merchant_note: &str,
    ) -> Result<PaystackRefund, PaystackError> {
        let body = serde_json::json!({
            "transaction": reference.as_str(),
            "amount": amount,
            "currency": currency.as_str(),
            "merchant_note": merchant_note,
        });
        let request = self
            .http
            .post(format!("{}/refund", self.base_url))
            .json(&body);
        self.call(request).await
    }

    /// Paystack's refund `id` as it stands now (`GET /refund/{id}`).
    pub async fn fetch_refund(&self, id: u64) -> Result<PaystackRefund, PaystackError> {
        let refund: PaystackRefund = self.read(&format!("{}/refund/{id}", self.base_url)).await?;
        if refund.id != id {
            return Err(PaystackError::Malformed(format!(
                "fetching refund {id} answered refund {}",
                refund.id
            )));
        }
        Ok(refund)
    }

    /// Every refund of the transaction `reference` (`GET /refund?transaction=`), newest first.
    pub async fn refunds_of(
        &self,
        reference: &PaymentReference,
    ) -> Result<Vec<PaystackRefund>, PaystackError> {
        // A reference is a ULID: nothing in it needs escaping in a query.
        self.read(&format!(
            "{}/refund?transaction={reference}&perPage=100",
            self.base_url
        ))
        .await
    }

    /// A `GET` of `url`: a read, so it is tried again when Paystack could not be reached or
    /// answered 429 or 5xx.
    async fn read<T: DeserializeOwned>(&self, url: &str) -> Result<T, PaystackError> {
        let mut attempt = 1;
        loop {
            match self.call(self.http.get(url)).await {
                Err(err) if err.is_transient() && attempt < READ_ATTEMPTS => {
                    tracing::warn!(url, attempt, error = %crate::error::cause_chain(&err), "Paystack read failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, PaystackError> {
        let failed = |err: reqwest::Error| {
            if err.is_timeout() {
                PaystackError::Timeout(err)
            } else {
                PaystackError::Unreachable(err)
            }
        };
        let response = request
            .bearer_auth(self.secret_key.expose())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(failed)?;
        let envelope: Result<Envelope<T>, _> = serde_json::from_slice(&bytes);
        if !status.is_success() {
            let (message, code) = serde_json::from_slice::<Envelope<serde::de::IgnoredAny>>(&bytes)
                .map(|e| (e.message, e.code))
                .unwrap_or_default();
            return Err(PaystackError::Rejected {
                status: status.as_u16(),
                message: message.unwrap_or_else(|| "no message".to_string()),
                code,
            });
        }
        let envelope = envelope.map_err(|err| PaystackError::Malformed(err.to_string()))?;
        if !envelope.status {
            return Err(PaystackError::Rejected {
                status: status.as_u16(),
                message: envelope.message.unwrap_or_else(|| "no message".to_string()),
                code: envelope.code,
            });
        }
        envelope
            .data
            .ok_or_else(|| PaystackError::Malformed("the answer has no data".to_string()))
    }
}

/// The key Paystack signs its webhooks with (our secret key), for the webhook function, which
/// never calls Paystack and so holds no client.
#[derive(Clone)]
pub struct WebhookKey(Secret);

impl fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookKey(***)")
    }
}

impl WebhookKey {
    pub fn new(secret_key: Secret) -> Self {
        Self(secret_key)
    }

    /// Whether `signature` (the `x-paystack-signature` header: hex HMAC-SHA512 of the raw body,
    /// keyed with our secret key) signs exactly `body`. Compared in constant time; `body` must be the
    /// bytes as received, never re-serialized JSON.
    /// Which of Paystack's domains the key belongs to: `live` for an `sk_live_` key, `test` for
    /// any other (`sk_test_`, and the local stand-in's): events of the other domain are not ours.
    pub fn domain(&self) -> &'static str {
        if self.0.expose().starts_with("sk_live_") {
            "live"
        } else {
            "test"
        }
    }

    pub fn signature_is_valid(&self, body: &[u8], signature: &str) -> bool {
        let Some(tag) = decode_hex(signature.trim()) else {
            return false;
        };
        let mut mac = HmacSha512::new_from_slice(self.0.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(body);
        mac.verify_slice(&tag).is_ok()
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The email Paystack gets for `user`: theirs, or a stand-in for a phone-only customer.
pub fn customer_email(user: &User) -> String {
    match &user.email {
        Some(email) => email.to_string(),
        None => format!(
            "{}@{PLACEHOLDER_EMAIL_DOMAIN}",
            user.id.as_str().to_lowercase()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretSource;
    use crate::http::problem::Status;

    fn client(secret: &str) -> Paystack {
        let config = PaystackConfig {
            base_url: "http://127.0.0.1:9/".into(),
            secret_key: SecretSource::Value(Secret::new(secret)),
            callback_url: None,
            timeout: Duration::from_secs(1),
        };
        Paystack::new(
            crate::state::OutboundHttp::default(),
            &config,
            Secret::new(secret),
        )
    }

    fn key(secret: &str) -> WebhookKey {
        WebhookKey::new(Secret::new(secret))
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_signature_must_be_the_hmac_of_the_exact_body_with_our_key() {
        // RFC 4231, test case 2.
        let paystack = key("Jefe");
        let expected = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                        9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
        assert!(paystack.signature_is_valid(b"what do ya want for nothing?", expected));
        assert!(!paystack.signature_is_valid(b"what do ya want for nothing? ", expected));
        assert!(!key("Jeff").signature_is_valid(b"what do ya want for nothing?", expected));
        assert!(!paystack.signature_is_valid(b"what do ya want for nothing?", &expected[..64]));
        assert!(!paystack.signature_is_valid(b"what do ya want for nothing?", ""));
        assert!(!paystack.signature_is_valid(b"x", "zz"));
        assert!(!paystack.signature_is_valid(b"x", "é"));
        let body = br#"{"event":"charge.success"}"#;
        assert!(key("sk_test_x").signature_is_valid(body, &sign("sk_test_x", body)));
    }

    #[test]
    fn the_client_never_prints_its_secret() {
        let shown = format!("{:?}", client("sk_live_very_secret"));
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }

    #[test]
    fn a_charge_reads_leniently() {
        let charge: Charge = serde_json::from_value(serde_json::json!({
            "id": 5_000_000_001u64, "status": "success", "reference": "R", "amount": "250000",
            "currency": "NGN", "metadata": "", "paid_at": "2026-11-23T09:16:41.123Z",
            "paidAt": "2026-11-23T09:16:41.123Z", "channel": null, "extra": {"x": 1},
        }))
        .unwrap();
        assert_eq!(charge.amount, 250_000);
        assert_eq!(charge.status, ChargeStatus::Success);
        assert_eq!(charge.paid_at().unwrap().nanosecond(), 0);
        let other: Charge = serde_json::from_value(serde_json::json!({
            "status": "chargeback", "reference": "R", "amount": 1, "currency": "NGN",
        }))
        .unwrap();
        assert_eq!(other.status, ChargeStatus::Unknown);
        assert!(
            serde_json::from_value::<Charge>(serde_json::json!({
                "status": "success", "reference": "R", "amount": 2500.5, "currency": "NGN",
            }))
            .is_err()
        );
    }

    #[test]
    fn failures_map_to_502_or_503() {
        let rejected = |status| PaystackError::Rejected {
            status,
            message: "x".into(),
            code: None,
        };
        assert_eq!(ApiError::from(rejected(400)).status(), 502);
        assert_eq!(ApiError::from(rejected(401)).status(), 502);
        assert_eq!(ApiError::from(rejected(500)).status(), 502);
        assert_eq!(ApiError::from(rejected(429)).status(), 503);
        assert_eq!(
            ApiError::from(PaystackError::Malformed("x".into())).status(),
            502
        );
        assert!(rejected(404).is_not_found());
        assert!(rejected(503).is_transient() && !rejected(400).is_transient());
    }

    #[test]
    fn a_phone_only_customer_gets_a_stand_in_email() {
        let mut user = crate::db::NewUser::default().into_user(crate::now());
        let email = customer_email(&user);
        assert!(email.ends_with("@customers.kitchen.invalid"), "{email}");
        user.email = Some(crate::domain::Email::parse("Ada@Example.com").unwrap());
        assert_eq!(customer_email(&user), "ada@example.com");
    }
}
