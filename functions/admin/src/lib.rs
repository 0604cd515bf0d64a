//! The admin function: the kitchen's back office. Every route requires an admin, checked by the
//! `AdminUser` extractor against the role stored now, not the one the token remembers.

mod calendar;
mod dishes;
mod lists;
mod orders;
mod payments;
mod refunds;
mod users;

use axum::{
    Router,
    routing::{get, patch, post},
};
use kitchen::AppState;

/// The admin function.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "admin",
    settings: kitchen::config::Setting::ORDERING,
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/admin/dishes", get(dishes::list).post(dishes::create))
        .route(
            "/admin/dishes/{id}",
            get(dishes::get)
                .patch(dishes::update)
                .delete(dishes::deactivate),
        )
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}", get(users::get).patch(users::update))
        .route("/admin/orders", get(orders::list).post(orders::place))
        .route("/admin/orders/{id}", get(orders::get))
        .route("/admin/orders/{id}/status", patch(orders::set_status))
        .route("/admin/orders/{id}/refunds", post(refunds::create))
        .route("/admin/payments", get(payments::list))
        .route("/admin/refunds", get(refunds::list))
        .route("/admin/disputes", get(payments::disputes))
        .route("/admin/kitchen", patch(calendar::update))
        .route("/admin/kitchen/prep", get(lists::prep))
        .route("/admin/reports/sales", get(lists::sales))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}
