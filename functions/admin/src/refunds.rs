//! Refunds in the back office (`kitchen::app::refunds`): giving back (part of) what was paid for an
//! order, and every refund with where it stands.

use axum::{Json, extract::Path, response::Response};
use kitchen::{
    ApiError,
    app::refunds::{RefundRequest, RefundSearch},
    cursor::PageBody,
    domain::Refund,
    http::{
        extract::{IdempotencyHeader, JsonBody, Listing, Staff, StaffBeside},
        respond,
    },
};

/// `POST /admin/orders/{id}/refunds`: Paystack is asked to refund; 503/502 when it will not, with
/// nothing recorded.
pub async fn create(
    Staff { admin, state }: Staff,
    Path(id): Path<String>,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<RefundRequest>,
) -> Result<Response, ApiError> {
    let outcome = state
        .refunds()?
        .refund_order(&admin, key, &id, body)
        .await?;
    Ok(respond::created(outcome, |_| None))
}

/// `GET /admin/refunds`, newest first, by `status` or `order_id`.
pub async fn list(
    staff: StaffBeside,
    listing: Listing<RefundSearch>,
) -> Result<Json<PageBody<Refund>>, ApiError> {
    let refunds = staff.state.refunds()?;
    let page = staff.page(&listing, "admin-refunds", |claim, start| {
        refunds.list(claim, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}
