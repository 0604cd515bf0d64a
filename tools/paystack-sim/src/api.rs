//! The imitated Paystack API: `POST /transaction/initialize` and `GET /transaction/verify/{reference}`
//! (<https://paystack.com/docs/api/transaction/>), `POST /refund`, `GET /refund/{id}` and
//! `GET /refund` (<https://paystack.com/docs/api/refund/>), with Paystack's validation messages
//! (<https://paystack.com/docs/api/errors/>).

use axum::Json;
use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::error::PaystackError;
use crate::state::{NewRefund, NewTransaction, SimState};
use crate::webhook;

/// Currencies the simulated integration has enabled.
pub const CURRENCIES: [&str; 5] = ["NGN", "GHS", "ZAR", "USD", "KES"];

/// "Transaction amount limit exceeded" above 10,000,000 "for all supported currencies". Paystack
/// does not say in which unit; read here as major units, i.e. 1,000,000,000 in subunits.
const AMOUNT_LIMIT: u64 = 10_000_000 * 100;

/// Proof that the request carried `Authorization: Bearer <the secret key>`.
pub struct SecretKey;

impl FromRequestParts<SimState> for SecretKey {
    type Rejection = PaystackError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SimState,
    ) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(PaystackError::invalid_key());
        };
        let header = header
            .to_str()
            .map_err(|_| PaystackError::malformed_authorization())?;
        let (scheme, key) = header
            .trim()
            .split_once(' ')
            .ok_or_else(PaystackError::malformed_authorization)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(PaystackError::malformed_authorization());
        }
        if key.trim() != state.secret_key() {
            return Err(PaystackError::invalid_key());
        }
        Ok(Self)
    }
}

/// The artificial latency of `PAYSTACK_SIM_DELAY_MS` / `POST /_sim/config`, before anything else.
pub async fn latency(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let delay = state.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

pub async fn initialize(
    State(state): State<SimState>,
    _key: SecretKey,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, PaystackError> {
    let fields = parse_body(&headers, &body)?;
    let new = validate(&fields)?;
    let created = state
        .initialize(new)
        .map_err(|_| PaystackError::duplicate_reference())?;
    Ok(Json(json!({
        "status": true,
        "message": "Authorization URL created",
        "data": {
            "authorization_url": created.authorization_url,
            "access_code": created.access_code,
            "reference": created.reference,
        },
    })))
}

pub async fn verify(
    State(state): State<SimState>,
    _key: SecretKey,
    Path(reference): Path<String>,
) -> Result<Json<Value>, PaystackError> {
    let data = state
        .paystack_json(&reference)
        .ok_or_else(PaystackError::reference_not_found)?;
    // 200 whatever the payment's outcome: callers must read `data.status`.
    Ok(Json(json!({
        "status": true,
        "message": "Verification successful",
        "data": data,
    })))
}

/// `POST /refund {"transaction": <reference or id>, "amount"?, "currency"?, "customer_note"?,
/// "merchant_note"?}`: queues the refund, answers, and then — not before — sends
/// `refund.pending`.
pub async fn refund(
    State(state): State<SimState>,
    _key: SecretKey,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, PaystackError> {
    let fields = parse_body(&headers, &body)?;
    create_refund(&state, &fields)
}

/// The refund of `POST /refund`, also what the developer page's Refund button does (through
/// `POST /_sim/transactions/{reference}/refund`, which the page can call without the secret key).
pub(crate) fn create_refund(
    state: &SimState,
    fields: &Map<String, Value>,
) -> Result<Json<Value>, PaystackError> {
    let new = validate_refund(fields)?;
    let (data, reference, event) = state.refund(new)?;
    webhook::deliver_later(
        state.clone(),
        reference,
        event,
        webhook::REFUND_WEBHOOK_DELAY,
    );
    Ok(Json(json!({
        "status": true,
        "message": "Refund has been queued for processing",
        "data": data,
    })))
}

/// `GET /refund/{id}`
pub async fn fetch_refund(
    State(state): State<SimState>,
    _key: SecretKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, PaystackError> {
    let data = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.refund_json(id))
        .ok_or_else(PaystackError::refund_not_found)?;
    Ok(Json(json!({
        "status": true,
        "message": "Refund retrieved",
        "data": data,
    })))
}

/// `GET /refund?transaction=<reference or id>&perPage=50&page=1`, newest first.
pub async fn list_refunds(
    State(state): State<SimState>,
    _key: SecretKey,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, PaystackError> {
    let per_page = page_number(query.get("perPage"), 50, "perPage")?;
    let page = page_number(query.get("page"), 1, "page")?;
    let transaction = query
        .get("transaction")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty());
    let all = state.refunds_json(transaction);
    let total = all.len() as u64;
    let skipped = (page - 1).saturating_mul(per_page);
    let data: Vec<Value> = all
        .into_iter()
        .skip(usize::try_from(skipped).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .collect();
    Ok(Json(json!({
        "status": true,
        "message": "Refunds retrieved",
        "data": data,
        "meta": {
            "total": total,
            "skipped": skipped,
            "perPage": per_page,
            "page": page,
            "pageCount": total.div_ceil(per_page),
        },
    })))
}

/// A positive page number or size; absent or empty means `default`.
fn page_number(value: Option<&String>, default: u64, name: &str) -> Result<u64, PaystackError> {
    match value.map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            PaystackError::invalid(
                format!("{name} must be a positive integer"),
                "Pass page and perPage as whole numbers greater than zero",
            )
        }),
    }
}

fn validate_refund(fields: &Map<String, Value>) -> Result<NewRefund, PaystackError> {
    let transaction = match fields.get("transaction") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(id) => Some(id.to_string()),
            None => {
                return Err(PaystackError::invalid(
                    "Invalid transaction",
                    "Pass the transaction's reference, or its id as a whole number",
                ));
            }
        },
        Some(_) => {
            return Err(PaystackError::invalid(
                "Invalid transaction",
                "Pass the transaction's reference, or its id as a whole number",
            ));
        }
    };
    let Some(transaction) = transaction else {
        return Err(PaystackError::missing(
            "Transaction reference or id is required",
        ));
    };
    // Absent, the refund takes whatever is left; present, it is an amount like initialize's.
    let amount = match fields.get("amount") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        amount => Some(parse_amount(amount)?),
    };
    let currency = match fields.get("currency") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            return Err(PaystackError::invalid(
                "Invalid currency",
                "Pass a currency code such as NGN",
            ));
        }
    };
    Ok(NewRefund {
        transaction,
        amount,
        currency,
        customer_note: note(fields, "customer_note")?,
        merchant_note: note(fields, "merchant_note")?,
    })
}

/// An optional free-text note; empty counts as absent.
fn note(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, PaystackError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PaystackError::invalid(
            format!("{name} must be a string"),
            "Pass notes as text",
        )),
    }
}

/// Paystack takes JSON or a form; a form's values are all strings, which [`validate`] accepts.
pub(crate) fn parse_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, PaystackError> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return Ok(form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(PaystackError::invalid(
            "Invalid JSON body",
            "Send a JSON object of the documented parameters",
        )),
    }
}

fn validate(fields: &Map<String, Value>) -> Result<NewTransaction, PaystackError> {
    let email = match fields.get("email") {
        None | Some(Value::Null) => {
            return Err(PaystackError::missing("Email Address is required"));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(PaystackError::missing("Email is not allowed to be empty"));
        }
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(invalid_email()),
    };
    let amount = parse_amount(fields.get("amount"))?;
    if !is_email_shaped(email) {
        return Err(invalid_email());
    }
    let currency = match fields.get("currency") {
        None | Some(Value::Null) => "NGN".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "NGN".to_owned(),
        Some(Value::String(s)) if CURRENCIES.contains(&s.as_str()) => s.clone(),
        Some(_) => {
            return Err(PaystackError::invalid(
                "Currency not supported by merchant",
                "Ensure you're passing the currency code for a currency enabled on your integration",
            ));
        }
    };
    let reference = match fields.get("reference") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if is_valid_reference(s) => Some(s.clone()),
        Some(_) => {
            return Err(PaystackError::invalid(
                "Invalid character in transaction reference",
                "Only -, ., = and alphanumeric characters are allowed in a reference",
            ));
        }
    };
    let callback_url = match fields.get("callback_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if is_http_url(s) => Some(s.clone()),
        Some(_) => {
            return Err(PaystackError::invalid(
                "Invalid callback_url",
                "Pass a fully qualified url, e.g. https://example.com/",
            ));
        }
    };
    let metadata = parse_metadata(fields.get("metadata"))?;
    Ok(NewTransaction {
        email: email.to_owned(),
        amount,
        currency,
        reference,
        callback_url,
        metadata,
    })
}

fn invalid_email() -> PaystackError {
    PaystackError::invalid("Invalid Email Address Passed", "Pass a valid email address")
}

/// A positive whole number of subunits, as a JSON integer or a string of digits.
fn parse_amount(value: Option<&Value>) -> Result<u64, PaystackError> {
    let not_integer = || {
        PaystackError::invalid(
            "Amount must be an integer",
            "Ensure that you're passing your amount correctly. It should be a number greater than zero, with no decimal places",
        )
    };
    let amount = match value {
        None | Some(Value::Null) => return Err(PaystackError::missing("Amount is required")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(PaystackError::missing("Amount is required"));
        }
        Some(Value::String(s)) => {
            let digits = s.trim();
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_integer());
            }
            // All digits, so the only possible parse failure is overflow: over any limit.
            digits.parse::<u64>().unwrap_or(u64::MAX)
        }
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(amount), _) => amount,
            (None, Some(0)) => 0,
            _ => return Err(not_integer()),
        },
        Some(_) => return Err(not_integer()),
    };
    if amount == 0 {
        return Err(PaystackError::invalid(
            "You must specify a valid amount",
            "Ensure the amount is an integer greater than 0",
        ));
    }
    if amount > AMOUNT_LIMIT {
        return Err(PaystackError::invalid(
            "Transaction amount limit exceeded",
            "You'll need to re-initialize the transaction with lower amount",
        ));
    }
    Ok(amount)
}

/// `metadata` may be an object or an object serialized to a string ("stringified JSON").
/// Absent, it is returned as `""`, as Paystack returns it.
fn parse_metadata(value: Option<&Value>) -> Result<Value, PaystackError> {
    let invalid = || {
        PaystackError::invalid(
            "Invalid metadata",
            "Pass metadata as a JSON object or a stringified JSON object",
        )
    };
    match value {
        None | Some(Value::Null) => Ok(Value::String(String::new())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Value::String(String::new())),
        Some(Value::Object(_)) => Ok(value.cloned().unwrap_or_default()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

/// Only `-`, `.`, `=` and ASCII letters and digits.
pub(crate) fn is_valid_reference(reference: &str) -> bool {
    !reference.is_empty()
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'='))
}

/// `local@domain.tld`, no spaces, one `@`, a dot inside the domain with labels either side.
pub(crate) fn is_email_shaped(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_whole_numbers_or_digit_strings() {
        assert_eq!(parse_amount(Some(&json!(50000))).unwrap(), 50000);
        assert_eq!(parse_amount(Some(&json!("20000"))).unwrap(), 20000);
        for bad in [
            json!(100.5),
            json!(1.0),
            json!(-5),
            json!("12.50"),
            json!("-3"),
            json!("abc"),
            json!(true),
        ] {
            let error = parse_amount(Some(&bad)).unwrap_err();
            assert_eq!(error.message(), "Amount must be an integer", "{bad}");
        }
        for zero in [json!(0), json!("0"), json!("000")] {
            let error = parse_amount(Some(&zero)).unwrap_err();
            assert_eq!(error.message(), "You must specify a valid amount", "{zero}");
        }
        assert_eq!(
            parse_amount(None).unwrap_err().message(),
            "Amount is required"
        );
        assert_eq!(
            parse_amount(Some(&json!("99999999999999999999999")))
                .unwrap_err()
                .message(),
            "Transaction amount limit exceeded"
        );
        assert_eq!(
            parse_amount(Some(&json!(AMOUNT_LIMIT))).unwrap(),
            AMOUNT_LIMIT
        );
    }

    #[test]
    fn references_allow_only_alphanumerics_dash_dot_and_equals() {
        assert!(is_valid_reference("ord-01HZX-1"));
        assert!(is_valid_reference("01HZX.a=b-1"));
        for bad in ["ord_1", "a b", "a/b", "naïve", "a+b", ""] {
            assert!(!is_valid_reference(bad), "{bad}");
        }
    }

    #[test]
    fn emails_must_look_like_emails() {
        assert!(is_email_shaped("ada@example.com"));
        assert!(is_email_shaped("a.b+c@mail.example.ng"));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@example.",
        ] {
            assert!(!is_email_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn metadata_may_be_an_object_or_a_stringified_object() {
        assert_eq!(parse_metadata(None).unwrap(), json!(""));
        assert_eq!(
            parse_metadata(Some(&json!({"order_id": "o1"}))).unwrap(),
            json!({"order_id": "o1"})
        );
        assert_eq!(
            parse_metadata(Some(&json!("{\"order_id\":\"o1\"}"))).unwrap(),
            json!({"order_id": "o1"})
        );
        assert!(parse_metadata(Some(&json!("not json"))).is_err());
        assert!(parse_metadata(Some(&json!([1, 2]))).is_err());
    }

    #[test]
    fn callback_urls_must_be_http() {
        assert!(is_http_url("http://127.0.0.1:5173/payments/return"));
        assert!(is_http_url("https://kitchen.example/return?x=1"));
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "https://",
            "/relative",
            "https:///x",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
