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
    domain::{Date, OrderStatus, PageLimit, UserId},
    http::{
        extract::{AdminUser, IdempotencyHeader, JsonBody, Query},
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<OrderStatus>,
    delivery_date: Option<Date>,
    user_id: Option<UserId>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// Every order; `?delivery_date=` is the day's dispatch list.
pub async fn list(
    admin: AdminUser,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Order>>, ApiError> {
    let filter = OrderFilter {
        status: query.status,
        delivery_date: query.delivery_date,
        user_id: query.user_id,
    };
    let scope = format!(
        "admin-orders|{:?}|{:?}|{:?}",
        filter.status, filter.delivery_date, filter.user_id
    );
    let start = state.cursors()?.start(&scope, query.cursor.as_deref())?;
    let page = state
        .orders()
        .list_all(&admin, &filter, query.limit.get(), start)
        .await?;
    Ok(Json(state.cursors()?.page(&scope, page, |order| order)))
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
