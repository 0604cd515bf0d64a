//! Orders in the back office: placing them for customers (phone orders included), the dispatch
//! list, and moving orders along.

use axum::{
    Json,
    extract::{Path, State},
    response::Response,
};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::{IdempotentRequest, Order, OrderFilter, StoredOrder},
    domain::{Actor, Address, CancelReason, Date, OrderId, OrderStatus, PageLimit, UserId},
    error::FieldError,
    extract::{AdminUser, IdempotencyHeader, JsonBody, Query},
    ordering::{self, LineRequest},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    user_id: UserId,
    items: Vec<LineRequest>,
    delivery_date: Date,
    delivery_address: Address,
}

/// An order placed by staff for a customer; the customer gets the SMS.
pub async fn place(
    AdminUser(admin): AdminUser,
    State(state): State<AppState>,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<PlaceOrder>,
) -> Result<Response, ApiError> {
    ordering::check_lines(&body.items)?;
    let idempotency =
        key.map(|key| IdempotentRequest::new(admin.id().clone(), "POST /admin/orders", key, &body));
    if let Some(request) = &idempotency
        && let Some(first) = ordering::replay(&state, request).await?
    {
        return Ok(first);
    }
    ordering::check_delivery_date(
        body.delivery_date,
        Date::today_in(&state.config.kitchen_zone),
    )?;
    let customer = state
        .db
        .get_user(&body.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| {
            let message = format!("no active customer {}", body.user_id);
            ApiError::Unprocessable {
                detail: message.clone(),
                errors: vec![FieldError::new("user_id", message)],
            }
        })?;
    let ids: Vec<_> = body.items.iter().map(|line| line.dish_id.clone()).collect();
    let dishes = state.db.get_dishes(&ids).await?;
    let (items, total) = ordering::price(&dishes, &body.items, body.delivery_date, "items")?;
    let order = ordering::new_order(
        &customer,
        items,
        total,
        body.delivery_date,
        body.delivery_address,
        Actor::Admin,
        kitchen::now(),
    );
    ordering::place(
        &state,
        order,
        &customer,
        None,
        idempotency.as_ref(),
        "/admin/orders",
    )
    .await
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
    _admin: AdminUser,
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
    let start = state.cursors.start(&scope, query.cursor.as_deref())?;
    let page = state
        .db
        .all_orders(&filter, query.limit.get(), start)
        .await?;
    let (now, expiry) = (kitchen::now(), state.config.unpaid_order_expiry);
    let mut body = state
        .cursors
        .page(&scope, page, |order| order.as_of(now, expiry));
    if let Some(status) = filter.status {
        body.items.retain(|order| order.status == status);
    }
    Ok(Json(body))
}

async fn find(state: &AppState, id: &str) -> Result<StoredOrder, ApiError> {
    let not_found = || ApiError::NotFound("no such order".into());
    let id = OrderId::parse(id).map_err(|_| not_found())?;
    state.db.get_order(&id).await?.ok_or_else(not_found)
}

pub async fn get(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    let stored = find(&state, &id).await?;
    Ok(Json(
        stored
            .order
            .as_of(kitchen::now(), state.config.unpaid_order_expiry),
    ))
}

/// The statuses staff move an order to; `paid` comes only from a confirmed payment.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Preparing,
    OutForDelivery,
    Delivered,
    Cancelled,
}

impl From<StaffStatus> for OrderStatus {
    fn from(status: StaffStatus) -> Self {
        match status {
            StaffStatus::Preparing => OrderStatus::Preparing,
            StaffStatus::OutForDelivery => OrderStatus::OutForDelivery,
            StaffStatus::Delivered => OrderStatus::Delivered,
            StaffStatus::Cancelled => OrderStatus::Cancelled,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: StaffStatus,
    /// Why the order is cancelled (only with `cancelled`).
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    reason: Option<CancelReason>,
}

/// Moves an order along its life; a move it cannot make, or a race lost to another change, is 409.
pub async fn set_status(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusChange>,
) -> Result<Json<Order>, ApiError> {
    let next = OrderStatus::from(body.status);
    let reason = match body.reason {
        None => None,
        Some(_) if next != OrderStatus::Cancelled => {
            return Err(ApiError::invalid_field("reason", "is only for cancelling"));
        }
        Some(reason) => Some(String::from(reason)),
    };
    let stored = find(&state, &id).await?;
    let order = ordering::move_order(&state, &stored, next, Actor::Admin, reason).await?;
    Ok(Json(order))
}
