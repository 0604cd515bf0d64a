//! Orders in the back office (`kitchen::app::staff_orders`): placing them for customers (phone
//! orders included), the dispatch list, and moving orders along.

use axum::{Json, extract::Path, response::Response};
use kitchen::{
    ApiError,
    app::staff_orders::{StaffOrder, StatusChange},
    cursor::PageBody,
    db::OrderFilter,
    domain::Order,
    http::{
        extract::{IdempotencyHeader, JsonBody, Listing, Staff, StaffBeside},
        respond,
    },
};

/// An order placed by staff for a customer; the customer gets the SMS.
pub async fn place(
    Staff { admin, state }: Staff,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<StaffOrder>,
) -> Result<Response, ApiError> {
    let outcome = state.orders().place_for_customer(&admin, key, body).await?;
    Ok(respond::created(outcome, |order| {
        Some(format!("/admin/orders/{}", order.id))
    }))
}

/// Every order; `?delivery_date=` is the day's dispatch list.
pub async fn list(
    staff: StaffBeside,
    listing: Listing<OrderFilter>,
) -> Result<Json<PageBody<Order>>, ApiError> {
    let orders = staff.state.orders();
    let page = staff.page(&listing, "admin-orders", |claim, start| {
        orders.list_all(claim, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}

pub async fn get(staff: StaffBeside, Path(id): Path<String>) -> Result<Json<Order>, ApiError> {
    let orders = staff.state.orders();
    let found = staff.read(|claim| orders.get_any(claim, &id)).await?;
    Ok(Json(found))
}

/// Moves an order along its life; a move it cannot make, or a race lost to another change, is 409.
pub async fn set_status(
    staff: StaffBeside,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusChange>,
) -> Result<Json<Order>, ApiError> {
    let orders = staff.state.orders();
    // The order is read beside the staff check; the move is written as the staff member it proved.
    let (admin, stored) = staff.beside(|claim| orders.get_stored(claim, &id)).await?;
    let moved = orders.set_status(&admin, stored, body).await?;
    // A paid order cancelled: its money goes back without a person.
    Ok(Json(staff.state.refunds()?.give_back_order(moved).await))
}
