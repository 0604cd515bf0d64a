//! What every function's router gets: problem+json for unknown routes and methods, the body limit,
//! one log line per request, and a `ServerErrors` count for every 5xx it answers.

pub mod extract;
pub mod problem;
pub mod respond;

use crate::db::meter::{Usage, metered};
use crate::error::ApiError;
use crate::metrics::SERVER_ERRORS;
use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Adds the shared fallbacks, body limit and request log to a function's router.
pub fn with_defaults(router: Router) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            ColdStart::default(),
            log_request,
        ))
}

/// Whether the router has yet to answer its first request. A function builds its router once, at
/// cold start, so the first request through it is the one that waited for the instance to start.
#[derive(Debug, Clone)]
struct ColdStart(Arc<AtomicBool>);

impl Default for ColdStart {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl ColdStart {
    /// True the first time only.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
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

/// One line per request: method, route (the pattern, never ids), status, latency, whether it was
/// the instance's first, what it cost the table (read and write requests, retries, capacity units;
/// see [`crate::db::meter`]) and, once authenticated, the caller's user id. Never bodies, tokens or
/// passwords. The Lambda request id and trace id come with every line of the invocation (see
/// [`crate::telemetry`]).
///
/// A 5xx is also counted as `ServerErrors` for the function: lambda_http turns any answer into a
/// successful invocation, so Lambda's own `Errors` metric never sees it.
async fn log_request(
    State(cold_start): State<ColdStart>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let cold_start = cold_start.take();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    // Lambda's AWS_LAMBDA_FUNCTION_NAME, as lambda_runtime read it; none outside Lambda (tests).
    let function = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|context| context.env_config.function_name.clone())
        .unwrap_or_default();
    let caller = CallerSlot::default();
    request.extensions_mut().insert(caller.clone());
    let usage = Arc::new(Usage::default());
    let response = metered(usage.clone(), next.run(request)).await;
    let table = usage.snapshot();
    if response.status().is_server_error() {
        SERVER_ERRORS.count([&function]);
    }
    tracing::info!(
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        cold_start,
        db_reads = table.reads,
        db_writes = table.writes,
        db_retries = table.retries,
        db_waited = table.waited,
        db_read_units = table.read_units,
        db_write_units = table.write_units,
        user_id = caller.get().unwrap_or(""),
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::captured;
    use axum::{body::Body, routing::get};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    fn router() -> Router {
        with_defaults(
            Router::new()
                .route("/menu", get(|| async { "dishes" }))
                .route(
                    "/boom",
                    get(|| async { ApiError::internal("the table fell over") }),
                ),
        )
    }

    /// A GET of `path` as lambda_http hands it to the router, from a function Lambda calls `function`.
    fn lambda_request(path: &str, function: &str) -> Request {
        let mut context = lambda_http::Context::default();
        context.env_config = Arc::new(lambda_http::lambda_runtime::Config {
            function_name: function.to_string(),
            ..Default::default()
        });
        let mut request = Request::get(path).body(Body::empty()).unwrap();
        request.extensions_mut().insert(context);
        request
    }

    #[tokio::test]
    async fn the_first_request_of_an_instance_logs_a_cold_start_and_later_ones_do_not() {
        let (captured, _guard) = crate::telemetry::Captured::install(None);
        let router = router();
        for path in ["/menu", "/boom", "/menu"] {
            let request = lambda_request(path, "orders");
            router.clone().oneshot(request).await.unwrap();
        }
        let lines = captured.lines();
        let requests: Vec<Value> = lines
            .iter()
            .filter(|line| line["message"] == "request")
            .map(|line| json!([line["route"], line["status"], line["cold_start"]]))
            .collect();
        assert_eq!(
            requests,
            [
                json!(["/menu", 200, true]),
                json!(["/boom", 500, false]),
                json!(["/menu", 200, false]),
            ],
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn each_5xx_answer_is_counted_once_as_a_server_error_of_its_function() {
        if captured::in_child() {
            let router = router();
            for path in ["/boom", "/menu", "/no-such-route", "/boom"] {
                let request = lambda_request(path, "kitchen-api-Orders-1A2B3C");
                router.clone().oneshot(request).await.unwrap();
            }
            return;
        }
        let counted = captured::counted_by(
            "http::tests::each_5xx_answer_is_counted_once_as_a_server_error_of_its_function",
        );
        assert_eq!(counted.len(), 2, "{counted:?}");
        for line in &counted {
            let directive = &line["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Metrics"][0]["Name"], "ServerErrors");
            assert_eq!(
                directive["Dimensions"],
                serde_json::json!([["Service", "FunctionName"]])
            );
            assert_eq!(line["FunctionName"], "kitchen-api-Orders-1A2B3C");
            assert_eq!(line["ServerErrors"], 1);
        }
    }
}
