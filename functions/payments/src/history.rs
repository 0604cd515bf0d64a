//! The customer's payment history: all of their attempts, or those for one of their orders.

use axum::{
    Json,
    extract::{Path, State},
};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::Payment,
    domain::{OrderId, PageLimit},
    extract::{AuthUser, Credentials, Query},
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// `GET /payments`: the caller's payments, newest first.
pub async fn mine(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let scope = format!("payments|{}", caller.id());
    let start = state.cursors.start(&scope, query.cursor.as_deref())?;
    let page = state
        .db
        .payments_of(caller.id(), query.limit.get(), start)
        .await?;
    Ok(Json(state.cursors.page(&scope, page, |payment| payment)))
}

/// `GET /orders/{id}/payments`: the attempts for one of the caller's orders, newest first. Another
/// user's order is a 404, exactly like one that does not exist.
pub async fn of_order(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let not_found = || ApiError::NotFound("no such order".into());
    let order_id = OrderId::parse(&id).map_err(|_| not_found())?;
    let (check, order) = state
        .db
        .session_and_order(&credentials.user_id, &credentials.session_id, &order_id)
        .await?;
    let caller = AuthUser::from_check(check, credentials.claims)?;
    order
        .filter(|o| &o.order.user_id == caller.id())
        .ok_or_else(not_found)?;
    let scope = format!("order-payments|{}|{order_id}", caller.id());
    let start = state.cursors.start(&scope, query.cursor.as_deref())?;
    let page = state
        .db
        .payments_of_order(&order_id, query.limit.get(), start)
        .await?;
    Ok(Json(state.cursors.page(&scope, page, |payment| payment)))
}
