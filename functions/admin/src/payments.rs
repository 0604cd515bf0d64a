//! Payments in the back office (`kitchen::app::admin_payments`): every attempt, newest first, by
//! status, customer email or order.

use axum::{Json, extract::State};
use kitchen::{
    ApiError, AppState,
    app::admin_payments::PaymentSearch,
    cursor::PageBody,
    domain::Payment,
    http::extract::{AdminUser, Listing},
};

/// `GET /admin/payments`. `email` names the customer (exact, any case); an email nobody holds
/// matches no payment.
pub async fn list(
    admin: AdminUser,
    State(state): State<AppState>,
    Listing {
        filter,
        limit,
        cursor,
    }: Listing<PaymentSearch>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let scope = format!(
        "admin-payments|{:?}|{:?}|{:?}",
        filter.status, filter.email, filter.order_id
    );
    let payments = state.payment_ledger();
    let page = state.cursors()?.list(&scope, cursor.as_deref(), |start| {
        payments.list(&admin, &filter, limit.get(), start)
    });
    Ok(Json(page.await?))
}
