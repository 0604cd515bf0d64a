//! Asking Paystack how a payment went, when the customer comes back from checkout: whatever Paystack
//! says is recorded through `kitchen::paystack::record`, exactly as the webhook records it.

use axum::{
    Json,
    extract::{Path, State},
};
use kitchen::{
    ApiError, AppState,
    db::{Payment, PaymentReference},
    error::cause_chain,
    extract::{AuthUser, Credentials},
    paystack,
};

/// `POST /payments/{reference}/verify`: no body; answers the payment as recorded now.
pub async fn verify(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(reference): Path<String>,
) -> Result<Json<Payment>, ApiError> {
    let not_found = || ApiError::NotFound("no such payment".into());
    let reference = PaymentReference::parse(&reference).map_err(|_| not_found())?;
    let (check, stored) = state
        .db
        .session_and_payment(&credentials.user_id, &credentials.session_id, &reference)
        .await?;
    let caller = AuthUser::from_check(check, credentials.claims)?;
    let stored = stored
        .filter(|s| &s.payment.user_id == caller.id())
        .ok_or_else(not_found)?;
    if stored.payment.is_settled() {
        return Ok(Json(stored.payment));
    }
    let charge = match state.paystack()?.verify(&reference).await {
        Ok(charge) => charge,
        // Paystack never saw this reference (its start did not reach Paystack): nothing to record.
        Err(err) if err.is_not_found() => {
            tracing::info!(%reference, error = %cause_chain(&err), "Paystack does not know the payment");
            return Ok(Json(stored.payment));
        }
        Err(err) => return Err(err.into()),
    };
    let (recorded, payment) =
        paystack::record(&state, stored, paystack::ReadAlong::default(), &charge).await?;
    tracing::info!(%reference, ?recorded, charge_status = ?charge.status, "payment verified");
    Ok(Json(payment))
}
