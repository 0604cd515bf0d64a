//! Orders in the back office (`kitchen::app::staff_orders`): placing them for customers (phone
//! orders included), the dispatch list, and moving orders along.

use axum::{
    Json,
    extract::{Path, State},
    response::Response,
};
use kitchen::{
    ApiError, AppState,
    app::staff_orders::{StaffOrder, StatusChange},
    cursor::PageBody,
    db::OrderFilter,
    domain::Order,
    domain::{Date, OrderStatus, UserId},
    http::{
        extract::{AdminUser, IdempotencyHeader, JsonBody, Listing},
        respond,
    },
};
use serde::Deserialize;

/// An order placed by staff for a customer; the customer gets the SMS.
pub async fn place(
    admin: AdminUser,
    State(state): State<AppState>,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<StaffOrder>,
) -> Result<Response, ApiError> {
    let outcome = state.orders().place_for_customer(&admin, key, body).await?;
    Ok(respond::created(outcome, |order| {
        Some(format!("/admin/orders/{}", order.id))
    }))
}

/// Which orders staff list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    status: Option<OrderStatus>,
    delivery_date: Option<Date>,
    user_id: Option<UserId>,
}

/// Every order; `?delivery_date=` is the day's dispatch list.
pub async fn list(
    admin: AdminUser,
    State(state): State<AppState>,
    Listing {
        filter,
        limit,
        cursor,
    }: Listing<OrderQuery>,
) -> Result<Json<PageBody<Order>>, ApiError> {
    let filter = OrderFilter {
        status: filter.status,
        delivery_date: filter.delivery_date,
        user_id: filter.user_id,
    };
    let scope = format!(
        "admin-orders|{:?}|{:?}|{:?}",
        filter.status, filter.delivery_date, filter.user_id
    );
    let orders = state.orders();
    let page = state.cursors()?.list(&scope, cursor.as_deref(), |start| {
        orders.list_all(&admin, &filter, limit.get(), start)
    });
    Ok(Json(page.await?))
}

pub async fn get(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(state.orders().get_any(&admin, &id).await?))
}

/// Moves an order along its life; a move it cannot make, or a race lost to another change, is 409.
pub async fn set_status(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusChange>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(state.orders().set_status(&admin, &id, body).await?))
}
