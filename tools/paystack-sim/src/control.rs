//! The simulator's own routes under `/_sim/`: what the checkout buttons and tests call to play
//! the customer (pay, decline), to replay a webhook, and to inspect or reconfigure the simulator.
//! Errors answer `{"error": "..."}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::SimError;
use crate::state::{RuntimeConfig, SimState, SucceedOverrides};
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
