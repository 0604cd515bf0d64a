//! Payments in the back office (`kitchen::app::admin_payments`): every attempt, newest first, by
//! status, customer email or order.

use axum::Json;
use kitchen::{
    ApiError,
    app::admin_payments::{DisputeSearch, PaymentSearch},
    cursor::PageBody,
    domain::Payment,
    http::extract::{Listing, Staff},
};

/// `GET /admin/payments`. `email` names the customer (exact, any case); an email nobody holds
/// matches no payment.
pub async fn list(
    Staff { admin, state }: Staff,
    listing: Listing<PaymentSearch>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let payments = state.payment_ledger();
    let page = listing.page(state.cursors()?, "admin-payments", |start| {
        payments.list(&admin, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}

/// `GET /admin/disputes`: payments with an open dispute, the soonest answer due first.
pub async fn disputes(
    Staff { admin, state }: Staff,
    listing: Listing<DisputeSearch>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let payments = state.payment_ledger();
    let page = listing.page(state.cursors()?, "admin-disputes", |start| {
        payments.open_disputes(&admin, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}
