//! The paystack-webhook function: Paystack's signed events (<https://paystack.com/docs/payments/webhooks/>).
//!
//! Order of checks: the source address (only if an allow-list is configured), the body size (64 KiB),
//! then `x-paystack-signature` over the raw bytes, and only then is the body parsed. `charge.success`
//! is recorded through `kitchen::app::record_charge`, the same path verify takes, so the order becomes
//! `paid` exactly once however many times or however concurrently the event arrives. `refund.*`
//! events are followed through Paystack's refund API and `charge.dispute.*` events recorded on their
//! payment (`kitchen::app::paystack_event`); events of the other Paystack domain are acknowledged and
//! change nothing.
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
    extract::{FromRequest, Request, State},
    http::Extensions,
};
use kitchen::{
    ApiError, AppState, app::paystack_event::PaystackEvent, http::MAX_BODY_BYTES,
    paystack::SIGNATURE_HEADER,
};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use std::net::IpAddr;

/// The paystack-webhook function: without the secret key no signature can be checked.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "paystack-webhook",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::UnpaidOrderExpiry,
        kitchen::config::Setting::Topic,
        kitchen::config::Setting::PaystackWebhook,
        // Refund events name no refund: each open one is asked about at Paystack.
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

/// Applies a signed event (`kitchen::app::paystack_event`).
pub async fn receive(
    State(state): State<AppState>,
    SignedEvent(event): SignedEvent,
) -> Result<Json<Value>, ApiError> {
    let domain = state.webhook_key()?.domain();
    state
        .payments()?
        .apply_paystack_event(event, domain)
        .await?;
    Ok(Json(json!({ "received": true })))
}

/// An event Paystack signed: from an allowed source address (if a list is configured), at most
/// the body limit, its `x-paystack-signature` the HMAC of exactly the bytes received, and only then
/// parsed.
pub struct SignedEvent(pub PaystackEvent);

impl FromRequest<AppState> for SignedEvent {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let key = state.webhook_key()?;
        let allowed = state
            .config
            .paystack_webhook
            .as_ref()
            .map(|webhook| webhook.allowed_ips.as_slice())
            .unwrap_or_default();
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
        if !signature.is_some_and(|signature| key.signature_is_valid(&body, signature)) {
            tracing::warn!(
                signed = signature.is_some(),
                "webhook with a missing or wrong signature refused"
            );
            kitchen::metrics::WEBHOOKS_REJECTED.count(["signature"]);
            return Err(ApiError::Unauthorized(
                "webhook signature missing or invalid".into(),
            ));
        }
        PaystackEvent::parse(&body).map(SignedEvent)
    }
}

/// The raw body, up to the API's body limit.
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
