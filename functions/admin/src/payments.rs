//! Payments in the back office: every attempt, newest first, by status, customer email or order.

use axum::{Json, extract::State};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::{Page, PaymentFilter},
    domain::{Email, OrderId, PageLimit},
    domain::{Payment, PaymentStatus},
    http::extract::{AdminUser, Query},
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<PaymentStatus>,
    email: Option<Email>,
    order_id: Option<OrderId>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// `GET /admin/payments`. `email` names the customer (exact, any case); an email nobody holds
/// matches no payment.
pub async fn list(
    _admin: AdminUser,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let scope = format!(
        "admin-payments|{:?}|{:?}|{:?}",
        query.status, query.email, query.order_id
    );
    let start = state.cursors()?.start(&scope, query.cursor.as_deref())?;
    let user_id = match &query.email {
        Some(email) => match state.db.user_id_by_email(email).await? {
            Some(id) => Some(id),
            None => {
                let nobody = Page {
                    items: Vec::new(),
                    next: None,
                };
                return Ok(Json(state.cursors()?.page(&scope, nobody, |p| p)));
            }
        },
        None => None,
    };
    let filter = PaymentFilter {
        status: query.status,
        user_id,
        order_id: query.order_id,
    };
    let page = state
        .db
        .all_payments(&filter, query.limit.get(), start)
        .await?;
    Ok(Json(state.cursors()?.page(&scope, page, |payment| payment)))
}
