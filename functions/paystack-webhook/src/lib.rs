//! The paystack-webhook function: Paystack's signed events (<https://paystack.com/docs/payments/webhooks/>).
//!
//! Order of checks: the source address (only if an allow-list is configured), the body size (64 KiB),
//! then `x-paystack-signature` over the raw bytes, and only then is the body parsed. `charge.success`
//! is recorded through `kitchen::paystack::record`, the same path verify takes, so the order becomes
//! `paid` exactly once however many times or however concurrently the event arrives.
//!
//! Answers: 200 `{"received": true}` once an event is applied, was applied before, or is one we do not
//! handle (an unknown reference or event type: logged, so Paystack stops retrying); 401 for a
//! missing or wrong signature; 403 for a source address outside the allow-list; 5xx when recording
//! failed (the table is down), so that Paystack retries.
//!
//! The allow-list (`PAYSTACK_WEBHOOK_ALLOWED_IPS`, off by default) is a second gate behind the
//! signature. The address is API Gateway's `requestContext.http.sourceIp`, which lambda_http hands
//! the router as the request's `RequestContext` extension; a request without one (no API Gateway in
//! front) is refused while the list is on.

use axum::{
    Json,
    body::Body,
    extract::{Request, State},
    http::Extensions,
};
use kitchen::{
    ApiError, AppState,
    db::{PaymentReference, StoredPayment},
    domain::{OrderId, UserId},
    http::MAX_BODY_BYTES,
    paystack::{self, Charge, ChargeStatus, ReadAlong, SIGNATURE_HEADER},
};
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::IpAddr;

/// The paystack-webhook function: without the secret key no signature can be checked.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "paystack-webhook",
    settings: &[
        kitchen::config::Setting::UnpaidOrderExpiry,
        kitchen::config::Setting::Topic,
        kitchen::config::Setting::Paystack,
    ],
    router,
};

pub fn router(state: AppState) -> axum::Router {
    let routes = axum::Router::new()
        .route("/webhooks/paystack", axum::routing::post(receive))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

/// `{"event": "...", "data": {...}}`; `data` is read according to `event`.
#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    data: Value,
}

pub async fn receive(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let paystack = state.paystack()?;
    let allowed = &state
        .config
        .require_paystack()
        .map_err(ApiError::internal)?
        .webhook_allowed_ips;
    if !allowed.is_empty() {
        let source = source_ip(request.extensions());
        if !source.is_some_and(|ip| allowed.contains(&ip)) {
            tracing::warn!(source = ?source, "webhook from an address outside the allow-list refused");
            return Err(ApiError::Forbidden(
                "webhooks are accepted only from Paystack's addresses".into(),
            ));
        }
    }
    let (parts, body) = request.into_parts();
    let body = read_body(body).await?;
    let signature = parts
        .headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    if !signature.is_some_and(|signature| paystack.signature_is_valid(&body, signature)) {
        tracing::warn!(
            signed = signature.is_some(),
            "webhook with a missing or wrong signature refused"
        );
        kitchen::metrics::WEBHOOKS_REJECTED.count(["signature"]);
        return Err(ApiError::Unauthorized(
            "webhook signature missing or invalid".into(),
        ));
    }
    let event: Event = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("request body is not a Paystack event"))?;
    match event.event.as_str() {
        "charge.success" => charge_success(&state, event.data).await?,
        other => tracing::info!(event = other, "webhook event not handled; acknowledged"),
    }
    Ok(Json(json!({ "received": true })))
}

async fn charge_success(state: &AppState, data: Value) -> Result<(), ApiError> {
    let charge: Charge = Charge::deserialize(&data)
        .map_err(|_| ApiError::bad_request("request body is not a Paystack event"))?;
    if charge.status != ChargeStatus::Success {
        tracing::warn!(reference = %charge.reference, status = ?charge.status, "charge.success whose charge is not a success; ignored");
        return Ok(());
    }
    let Ok(reference) = PaymentReference::parse(&charge.reference) else {
        tracing::info!(reference = %charge.reference, "charge.success for a reference that is not ours; acknowledged");
        return Ok(());
    };
    let (payment, along) = read_payment(state, &reference, &data).await?;
    let Some(payment) = payment else {
        tracing::info!(%reference, "charge.success for an unknown payment; acknowledged");
        return Ok(());
    };
    let (recorded, _) = paystack::record(state, payment, along, &charge).await?;
    tracing::info!(%reference, ?recorded, paystack_id = ?charge.id, "charge.success recorded");
    Ok(())
}

/// The raw body, up to the API's body limit.
/// The order and customer our initialize put in the transaction's `metadata`, which the signature
/// covers. Absent or malformed (`metadata` may be `""`) means none.
#[derive(Debug, Deserialize)]
struct Metadata {
    order_id: String,
    user_id: String,
}

/// The payment, and, when the metadata names them, its order and customer read in the same round
/// trip; `record` checks that they belong to the payment before using them.
async fn read_payment(
    state: &AppState,
    reference: &PaymentReference,
    data: &Value,
) -> Result<(Option<StoredPayment>, ReadAlong), ApiError> {
    let named = Metadata::deserialize(&data["metadata"]).ok().and_then(|m| {
        Some((
            OrderId::parse(&m.order_id).ok()?,
            UserId::parse(&m.user_id).ok()?,
        ))
    });
    let Some((order, customer)) = named else {
        return Ok((state.db.get_payment(reference).await?, ReadAlong::default()));
    };
    let (payment, order, customer) = state
        .db
        .payment_order_and_customer(reference, &order, &customer)
        .await?;
    Ok((payment, ReadAlong { order, customer }))
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        })
}

/// The caller's address as API Gateway saw it.
fn source_ip(extensions: &Extensions) -> Option<IpAddr> {
    match extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}
