//! The simulator's own routes under `/_sim/`: what the checkout buttons and tests call to play
//! the customer (pay, decline), to replay a webhook, and to inspect or reconfigure the simulator.
//! Errors answer `{"status": false, "message": "...", "error": "..."}`, except the refund route
//! standing in for `POST /refund`, which answers exactly as that does.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api;
use crate::error::{PaystackError, SimError};
use crate::refund::{RefundStatus, RefundView};
use crate::state::{OpenDispute, ResolveDispute, RuntimeConfig, SimState, SucceedOverrides};
use crate::transaction::TransactionView;

/// Optional body of `POST /_sim/transactions/{reference}/succeed`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SucceedBody {
    amount: Option<u64>,
    currency: Option<String>,
    /// `false`: the payment goes through but its webhook is lost.
    webhook: Option<bool>,
}

/// `POST /_sim/transactions/{reference}/succeed`, optional body
/// `{"amount": N, "currency": "USD", "webhook": false}`. Answers
/// `{"status": "success", "webhook_status": <first delivery's HTTP status or null>}`; with
/// `"webhook": false` nothing is sent and `webhook_status` is null.
pub async fn succeed(
    State(state): State<SimState>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, SimError> {
    let body: SucceedBody = optional_json(&body)?;
    let overrides = SucceedOverrides {
        amount: body.amount,
        currency: body.currency,
    };
    let webhook_status = if body.webhook.unwrap_or(true) {
        state.succeed(&reference, overrides).await?
    } else {
        state.succeed_without_webhook(&reference, overrides)?;
        None
    };
    Ok(Json(
        json!({ "status": "success", "webhook_status": webhook_status }),
    ))
}

/// `POST /_sim/transactions/{reference}/fail` → `{"status": "failed"}`; no webhook.
pub async fn fail(
    State(state): State<SimState>,
    Path(reference): Path<String>,
) -> Result<Json<Value>, SimError> {
    state.fail(&reference)?;
    Ok(Json(json!({ "status": "failed" })))
}

/// `POST /_sim/transactions/{reference}/webhook`: the last event again, same bytes, same signature.
pub async fn resend(
    State(state): State<SimState>,
    Path(reference): Path<String>,
) -> Result<Json<Value>, SimError> {
    let webhook_status = state.resend_webhook(&reference).await?;
    Ok(Json(json!({ "webhook_status": webhook_status })))
}

/// `POST /_sim/transactions/{reference}/refund`, optional body `{"amount"?, "currency"?,
/// "customer_note"?, "merchant_note"?}` (default: all that is left): the refund `POST /refund`
/// makes, without the secret key, for the developer page. Answers as `POST /refund` does, refusals
/// included, and sends `refund.pending` the same way.
pub async fn refund(
    State(state): State<SimState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, PaystackError> {
    let mut fields = api::parse_body(&headers, &body)?;
    fields.insert("transaction".to_owned(), Value::String(reference));
    api::create_refund(&state, &fields)
}

/// `POST /_sim/refunds/{id}/{processing|processed|failed|needs-attention}`: the refund moves on
/// and its `refund.*` webhook goes out. Answers `{"webhook_status": <first delivery's status or
/// null>}`; 404 for an unknown refund or step, 409 for a step back or out of a final status.
pub async fn advance_refund(
    State(state): State<SimState>,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<Value>, SimError> {
    let Some(to) = RefundStatus::from_step(&step) else {
        return Err(SimError::NotFound(format!(
            "no refund step {step:?}; use processing, processed, failed or needs-attention"
        )));
    };
    let id: u64 = id
        .parse()
        .map_err(|_| SimError::NotFound(format!("no refund with id {id:?}")))?;
    let webhook_status = state.advance_refund(id, to).await?;
    Ok(Json(json!({ "webhook_status": webhook_status })))
}

/// `POST /_sim/transactions/{reference}/dispute`, optional body
/// `{"refund_amount": N, "due_in_hours": 24}`: the customer disputes the charge;
/// `charge.dispute.create` goes out. Answers `{"webhook_status": …}`.
pub async fn open_dispute(
    State(state): State<SimState>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, SimError> {
    let request: OpenDispute = optional_json(&body)?;
    let webhook_status = state.open_dispute(&reference, request).await?;
    Ok(Json(json!({ "webhook_status": webhook_status })))
}

/// `POST /_sim/transactions/{reference}/dispute/remind`: `charge.dispute.remind`.
pub async fn remind_dispute(
    State(state): State<SimState>,
    Path(reference): Path<String>,
) -> Result<Json<Value>, SimError> {
    let webhook_status = state.remind_dispute(&reference).await?;
    Ok(Json(json!({ "webhook_status": webhook_status })))
}

/// `POST /_sim/transactions/{reference}/dispute/resolve`, optional body
/// `{"resolution": "merchant-accepted" | "declined" | "auto-accepted"}` (default `declined`):
/// `charge.dispute.resolve`.
pub async fn resolve_dispute(
    State(state): State<SimState>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, SimError> {
    let request: ResolveDispute = optional_json(&body)?;
    let resolution = request.resolution.unwrap_or_default();
    let webhook_status = state.resolve_dispute(&reference, resolution).await?;
    Ok(Json(json!({ "webhook_status": webhook_status })))
}

/// `GET /_sim/refunds`: every refund, oldest first.
pub async fn refunds(State(state): State<SimState>) -> Json<Vec<RefundView>> {
    Json(state.refunds())
}

/// `GET /_sim/transactions`: every transaction, oldest first, with its webhook deliveries.
pub async fn list(State(state): State<SimState>) -> Json<Vec<TransactionView>> {
    Json(state.transactions())
}

/// `GET /_sim/config`
pub async fn get_config(State(state): State<SimState>) -> Json<RuntimeConfig> {
    Json(state.runtime_config())
}

/// `POST /_sim/config {"delay_ms": N, "webhook_url": "..."}` (either field optional); answers
/// the settings now in force.
pub async fn set_config(
    State(state): State<SimState>,
    body: Bytes,
) -> Result<Json<RuntimeConfig>, SimError> {
    let change: RuntimeConfig = optional_json(&body)?;
    state.apply(change);
    Ok(Json(state.runtime_config()))
}

/// An empty body means "all defaults", so the checkout page can POST without one.
fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|error| SimError::BadRequest(format!("invalid body: {error}")))
}
