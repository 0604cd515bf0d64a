//! The payments function: starting a Paystack transaction for an order, asking Paystack how it went,
//! and the customer's payment history.
//!
//! The amount always comes from the order as stored; a client only says which order. Success is
//! recorded by `kitchen::app::record_charge`, the same path the webhook takes, so the order becomes
//! `paid` exactly once whichever of the two arrives first.

mod history;
mod start;
mod verify;

use axum::{
    Router,
    routing::{get, post},
};
use kitchen::AppState;

/// The payments function: it cannot start without Paystack's settings.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "payments",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::TokenPublicKeys,
        kitchen::config::Setting::CursorKey,
        kitchen::config::Setting::UnpaidOrderExpiry,
        kitchen::config::Setting::Topic,
        kitchen::config::Setting::Paystack,
    ],
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            "/orders/{id}/payments",
            post(start::start).get(history::of_order),
        )
        .route("/payments", get(history::mine))
        .route("/payments/{reference}/verify", post(verify::verify))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}
