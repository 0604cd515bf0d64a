//! `POST /payments/{reference}/verify`: asking Paystack how a payment went
//! (`kitchen::app::verify_payment`).

use axum::{
    Json,
    extract::{Path, State},
};
use kitchen::{ApiError, AppState, domain::Payment, http::extract::Credentials};

/// No body; answers the payment as recorded now.
pub async fn verify(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(reference): Path<String>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(
        state.payments()?.verify(credentials, &reference).await?,
    ))
}
