//! The orders function: the customer's cart and orders.
//!
//! Every price comes from the table; a client can only say which dishes and how many. Reads that a
//! customer waits on check the session in the same round trip as the data they read.

mod cart;
mod orders;

use axum::{
    Router,
    routing::{get, patch, post},
};
use kitchen::AppState;

/// The orders function.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "orders",
    settings: kitchen::config::Setting::ORDERS,
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/cart", get(cart::show))
        .route("/cart/items", post(cart::add))
        .route(
            "/cart/items/{line_id}",
            patch(cart::change).delete(cart::remove),
        )
        .route("/orders", post(orders::place).get(orders::list))
        .route(
            "/orders/{id}",
            get(orders::show).patch(orders::edit).delete(orders::cancel),
        )
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

pub use orders::{remind_kitchen, sweep};
