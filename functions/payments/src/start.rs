//! Starting a payment: a new attempt, with a new reference, for the order's total as stored. The
//! attempt is written `pending` before Paystack is called, so a crash in between leaves a record,
//! never an untracked transaction.
//!
//! With an `Idempotency-Key`, the 201 is stored in the same transaction that stores Paystack's
//! checkout link on the payment (it cannot be stored earlier: the link is part of the answer). A
//! retry after that replays it; two concurrent requests with one key may both reach Paystack, but
//! only the first to commit answers both, and the other attempt is marked `abandoned`, its link
//! never handed out. A request that failed stored nothing under its key, so it may be retried with it.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use kitchen::{
    ApiError, AppState,
    db::{
        IdempotentRequest, Payment, PaymentNote, PaymentStatus, StartPaymentError, StoredPayment,
    },
    domain::{OrderId, OrderStatus},
    error::cause_chain,
    extract::{AuthUser, Credentials, IdempotencyHeader},
    ordering, paystack,
};

/// The idempotency scope: one key on two routes means two things.
const SCOPE: &str = "POST /orders/{id}/payments";

/// `POST /orders/{id}/payments`: no body; answers 201 with the new `pending` attempt and its
/// `authorization_url`.
pub async fn start(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    IdempotencyHeader(key): IdempotencyHeader,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("no such order".into());
    let order_id = OrderId::parse(&id).map_err(|_| not_found())?;
    let (check, stored) = state
        .db
        .session_and_order(&credentials.user_id, &credentials.session_id, &order_id)
        .await?;
    let caller = AuthUser::from_check(check, credentials.claims)?;
    let stored = stored
        .filter(|s| &s.order.user_id == caller.id())
        .ok_or_else(not_found)?;
    // The request is the order it names: the same key used for another order is a 422.
    let idempotency =
        key.map(|key| IdempotentRequest::new(caller.id().clone(), SCOPE, key, &order_id));
    if let Some(request) = &idempotency
        && let Some(first) = ordering::replay(&state, request).await?
    {
        return Ok(first);
    }
    let paystack = state.paystack()?;
    let now = kitchen::now();
    let order = stored.order.as_of(now, state.config.unpaid_order_expiry);
    match order.status {
        OrderStatus::PendingPayment => {}
        OrderStatus::Cancelled => {
            return Err(ApiError::Conflict("the order is cancelled".into()));
        }
        _ => return Err(ApiError::Conflict("the order is already paid".into())),
    }

    let mut payment = Payment::start(&order, now);
    state.db.create_payment(&payment).await?;
    let created = StoredPayment {
        payment: payment.clone(),
        version: 1,
    };
    let email = paystack::customer_email(&caller.user);
    let initialized = match paystack.initialize(&payment, &email).await {
        Ok(initialized) => initialized,
        Err(err) => {
            // Nobody gets this attempt's checkout link, so nobody can pay it. Paystack may have made
            // the transaction if it could not answer (abandoned); if it refused, it did not (failed).
            let mut given_up = payment.clone();
            (given_up.status, given_up.note) = if err.is_unavailable() {
                (
                    PaymentStatus::Abandoned,
                    Some(PaymentNote::PaystackUnreachable),
                )
            } else {
                (PaymentStatus::Failed, Some(PaymentNote::InitializeFailed))
            };
            tracing::warn!(
                reference = %payment.reference,
                order_id = %order.id,
                error = %cause_chain(&err),
                "Paystack did not start the transaction"
            );
            if let Err(write) = state.db.record_payment(&created, &given_up, None).await {
                tracing::error!(reference = %payment.reference, error = %cause_chain(&write), "recording the failed start failed; the attempt stays pending");
            }
            return Err(err.into());
        }
    };
    payment.authorization_url = Some(initialized.authorization_url);
    payment.access_code = Some(initialized.access_code);
    let body = serde_json::to_string(&payment).map_err(ApiError::internal)?;
    let record = idempotency.as_ref().map(|request| (request, body.as_str()));
    match state.db.payment_started(&payment, record).await {
        Ok(()) => {}
        Err(StartPaymentError::KeyUsed) => {
            let request = idempotency
                .as_ref()
                .expect("only a request with a key can find it used");
            let mut unused = created.payment.clone();
            unused.status = PaymentStatus::Abandoned;
            unused.note = Some(PaymentNote::DuplicateRequest);
            state.db.record_payment(&created, &unused, None).await?;
            return match ordering::replay(&state, request).await? {
                Some(first) => Ok(first),
                None => Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is in progress; retry".into(),
                )),
            };
        }
        Err(StartPaymentError::Db(err)) => return Err(err.into()),
    }
    tracing::info!(
        reference = %payment.reference,
        order_id = %order.id,
        amount = payment.amount,
        "payment started"
    );
    Ok((StatusCode::CREATED, Json(&payment)).into_response())
}
