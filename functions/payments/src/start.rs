//! `POST /orders/{id}/payments`: starting a Paystack transaction (`kitchen::app::start_payment`).

use axum::{
    extract::{Path, State},
    response::Response,
};
use kitchen::{
    ApiError, AppState,
    http::{
        extract::{Credentials, IdempotencyHeader},
        respond,
    },
};

/// No body; answers 201 with the new `pending` attempt and its `authorization_url`.
pub async fn start(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    IdempotencyHeader(key): IdempotencyHeader,
) -> Result<Response, ApiError> {
    let outcome = state.payments()?.start(credentials, &id, key).await?;
    Ok(respond::created(outcome, |_| None))
}
