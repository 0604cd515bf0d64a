//! The customer's orders: place (from the cart or a list), list, show, edit and cancel while unpaid.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use kitchen::{
    ApiError, AppState,
    app::{edit_order::EditOrder, place_order::PlaceOrder, remind_kitchen::Reminded, sweep::Swept},
    cursor::PageBody,
    domain::Order,
    domain::{OrderStatus, PageLimit},
    http::{
        extract::{CallerBeside, Credentials, IdempotencyHeader, JsonBody, Query},
        respond,
    },
};
use serde::Deserialize;

/// Places an order from `items`, or checks out the cart (emptying it in the same transaction).
pub async fn place(
    State(state): State<AppState>,
    credentials: Credentials,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<PlaceOrder>,
) -> Result<Response, ApiError> {
    let outcome = state.orders().place(credentials, key, body).await?;
    Ok(respond::created(outcome, |order| {
        Some(format!("/orders/{}", order.id))
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<OrderStatus>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// The caller's orders, newest first.
pub async fn list(
    caller: CallerBeside,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Order>>, ApiError> {
    let orders = caller.state.orders();
    let page = caller.page(
        |user| format!("orders|{user}|{:?}", query.status),
        query.cursor.as_deref(),
        |owner, start| orders.list_own(owner, query.status, query.limit.get(), start),
    );
    Ok(Json(page.await?))
}

/// One order with its status history: the customer's tracking view.
pub async fn show(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<kitchen::app::order_history::OrderView>, ApiError> {
    Ok(Json(state.orders().show(credentials, &id).await?))
}

/// Changes an unpaid order; its lines are priced again at today's prices.
pub async fn edit(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditOrder>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(state.orders().edit(credentials, &id, body).await?))
}

/// Cancels an unpaid order. Nothing is deleted; the order stays in the history as cancelled.
pub async fn cancel(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.orders().cancel(credentials, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The scheduled sweep: cancels unpaid orders past their deadline, settles payments pending too
/// long, and gives back money still owed.
pub async fn sweep(state: &AppState) -> Result<Swept, ApiError> {
    state.payments()?.sweep().await
}

/// The scheduled reminders: the kitchen is texted again about paid orders nobody has started
/// preparing.
pub async fn remind_kitchen(state: &AppState) -> Result<Reminded, ApiError> {
    state.orders().remind_kitchen().await
}
