//! Payments in the back office (`kitchen::app::admin_payments`): every attempt, newest first, by
//! status, customer email or order.

use axum::Json;
use kitchen::{
    ApiError,
    app::admin_payments::{DisputeSearch, PaymentSearch},
    cursor::PageBody,
    domain::Payment,
    http::extract::{Listing, StaffBeside},
};

/// `GET /admin/payments`. `email` names the customer (exact, any case); an email nobody holds
/// matches no payment.
pub async fn list(
    staff: StaffBeside,
    listing: Listing<PaymentSearch>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let payments = staff.state.payment_ledger();
    let page = staff.page(&listing, "admin-payments", |claim, start| {
        payments.list(claim, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}

/// `GET /admin/disputes`: payments with an open dispute, the soonest answer due first.
pub async fn disputes(
    staff: StaffBeside,
    listing: Listing<DisputeSearch>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let payments = staff.state.payment_ledger();
    let page = staff.page(&listing, "admin-disputes", |claim, start| {
        payments.open_disputes(claim, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}
