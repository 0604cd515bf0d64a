//! The customer's payment history: all of their attempts, or those for one of their orders.

use axum::{
    Json,
    extract::{Path, State},
};
use kitchen::{
    ApiError, AppState,
    app::payment_history::PaymentWithRefunds,
    cursor::PageBody,
    domain::PageLimit,
    domain::Payment,
    http::extract::{CallerBeside, Credentials, Query},
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
    caller: CallerBeside,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Payment>>, ApiError> {
    let orders = caller.state.orders();
    let page = caller.page(
        |user| format!("payments|{user}"),
        query.cursor.as_deref(),
        |owner, start| orders.payments_of(owner, query.limit.get(), start),
    );
    Ok(Json(page.await?))
}

/// `GET /orders/{id}/payments`: the attempts for one of the caller's orders, newest first.
pub async fn of_order(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<PaymentWithRefunds>>, ApiError> {
    // The cursor's scope names the caller, known once the session check has read them.
    let scope =
        |caller: &kitchen::http::extract::AuthUser| format!("order-payments|{}|{id}", caller.id());
    let (caller, page) = state
        .orders()
        .payments_of_order(credentials, &id, query.limit.get(), |caller| {
            state
                .cursors()?
                .start(&scope(caller), query.cursor.as_deref())
        })
        .await?;
    Ok(Json(state.cursors()?.page(
        &scope(&caller),
        page,
        |payment| payment,
    )))
}
