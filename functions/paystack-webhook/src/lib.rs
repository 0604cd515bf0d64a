//! The paystack-webhook function. Its routes arrive with later work; until then every path answers with a
//! 404 problem, like any unknown route.

use axum::Router;
use kitchen::AppState;

pub fn router(state: AppState) -> Router {
    kitchen::http::with_defaults(Router::new().with_state(state))
}
