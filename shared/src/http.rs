//! What every function's router gets: problem+json for unknown routes and methods, the body limit,
//! and one log line per request.

use crate::db::meter::{Usage, metered};
use crate::error::ApiError;
use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    middleware::{self, Next},
    response::Response,
};
use std::sync::Arc;
use std::time::Instant;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Adds the shared fallbacks, body limit and request log to a function's router.
pub fn with_defaults(router: Router) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".to_string())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Filled in by the auth extractors with the caller's user id, so the request's log line can name
/// the user without every handler passing it along.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(std::sync::Arc<std::sync::OnceLock<String>>);

impl CallerSlot {
    pub fn set(&self, user_id: &str) {
        let _ = self.0.set(user_id.to_string());
    }

    fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// One line per request: the Lambda request id, method, route (the pattern, never ids), status,
/// latency, what it cost the table (read and write requests, retries, capacity units; see
/// [`crate::db::meter`]) and, once authenticated, the caller's user id. Never bodies, tokens or
/// passwords.
async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let request_id = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|context| context.request_id.clone())
        .unwrap_or_default();
    let caller = CallerSlot::default();
    request.extensions_mut().insert(caller.clone());
    let usage = Arc::new(Usage::default());
    let response = metered(usage.clone(), next.run(request)).await;
    let table = usage.snapshot();
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        db_reads = table.reads,
        db_writes = table.writes,
        db_retries = table.retries,
        db_read_units = table.read_units,
        db_write_units = table.write_units,
        user_id = caller.get().unwrap_or(""),
        "request"
    );
    response
}
