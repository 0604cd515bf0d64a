//! The dishes function: the public menu, plus the API's health check.

use axum::{Json, Router, extract::State, routing::get};
use kitchen::{ApiError, AppState};
use serde_json::{Value, json};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

/// 200 when the table answers a read, 503 (with Retry-After) when it does not.
async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.db.ping().await?;
    Ok(Json(json!({"status": "ok"})))
}
