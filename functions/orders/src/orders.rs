//! The customer's orders: place (from the cart or a list), list, show, edit and cancel while unpaid.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::{IdempotentRequest, Order, StoredOrder},
    domain::{Actor, Address, Date, OrderId, OrderStatus, PageLimit},
    extract::{AuthUser, Credentials, IdempotencyHeader, JsonBody, Query},
    ordering::{self, LineRequest},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    delivery_date: Date,
    delivery_address: Address,
    /// Without items, the cart is checked out.
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    items: Option<Vec<LineRequest>>,
}

/// Places an order from `items`, or checks out the cart (emptying it in the same transaction).
pub async fn place(
    State(state): State<AppState>,
    credentials: Credentials,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<PlaceOrder>,
) -> Result<Response, ApiError> {
    if let Some(items) = &body.items {
        ordering::check_lines(items)?;
    }
    let idempotency = key
        .map(|key| IdempotentRequest::new(credentials.user_id.clone(), "POST /orders", key, &body));
    // One read for the session, the cart, the key's record and the dishes of explicit items; a cart
    // checkout reads its dishes once the cart says which.
    let named: Vec<_> = body
        .items
        .iter()
        .flatten()
        .map(|line| line.dish_id.clone())
        .collect();
    let reads = state
        .db
        .checkout_reads(
            &credentials.user_id,
            &credentials.session_id,
            idempotency.as_ref(),
            &named,
            kitchen::now(),
        )
        .await?;
    let caller = AuthUser::from_check(reads.check, credentials.claims)?;
    if let (Some(request), Some(record)) = (&idempotency, reads.idempotency) {
        return ordering::replayed(record, request);
    }
    ordering::check_delivery_date(
        body.delivery_date,
        kitchen::domain::Date::today_in(&state.config.kitchen_zone),
    )?;
    let cart = reads.cart;
    let (lines, field, cart_version, dishes) = match body.items {
        Some(items) => (items, "items", None, reads.dishes),
        None => {
            if cart.lines.is_empty() {
                return Err(ApiError::Unprocessable {
                    detail: "the cart is empty".into(),
                    errors: Vec::new(),
                });
            }
            let dishes = state.db.get_dishes(&cart.dish_ids()).await?;
            let lines = cart
                .lines
                .iter()
                .map(|line| LineRequest {
                    dish_id: line.dish_id.clone(),
                    quantity: line.quantity,
                })
                .collect();
            (lines, "cart.items", Some(cart.version), dishes)
        }
    };
    let (items, total) = ordering::price(&dishes, &lines, body.delivery_date, field)?;
    let order = ordering::new_order(
        &caller.user,
        items,
        total,
        body.delivery_date,
        body.delivery_address,
        Actor::Customer,
        kitchen::now(),
    );
    ordering::place(
        &state,
        order,
        &caller.user,
        cart_version,
        idempotency.as_ref(),
        "/orders",
    )
    .await
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
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Order>>, ApiError> {
    let scope = format!("orders|{}|{:?}", caller.id(), query.status);
    let start = state.cursors.start(&scope, query.cursor.as_deref())?;
    // An unpaid order past its deadline is stored as pending until the sweep runs, but reads as
    // cancelled: filter on what it reads as.
    let stored_status = match query.status {
        Some(OrderStatus::Cancelled) => None,
        other => other,
    };
    let page = state
        .db
        .orders_of(caller.id(), stored_status, query.limit.get(), start)
        .await?;
    let now = kitchen::now();
    let expiry = state.config.unpaid_order_expiry;
    let mut body = state
        .cursors
        .page(&scope, page, |order| order.as_of(now, expiry));
    if let Some(status) = query.status {
        body.items.retain(|order| order.status == status);
    }
    Ok(Json(body))
}

/// Reads one of the caller's orders with the session check, in one round trip. Another user's order
/// is a 404, exactly like one that does not exist.
async fn own_order(
    state: &AppState,
    credentials: Credentials,
    id: &str,
) -> Result<(AuthUser, StoredOrder), ApiError> {
    let not_found = || ApiError::NotFound("no such order".into());
    let id = OrderId::parse(id).map_err(|_| not_found())?;
    let (check, stored) = state
        .db
        .session_and_order(&credentials.user_id, &credentials.session_id, &id)
        .await?;
    let caller = AuthUser::from_check(check, credentials.claims)?;
    let stored = stored
        .filter(|s| &s.order.user_id == caller.id())
        .ok_or_else(not_found)?;
    Ok((caller, stored))
}

/// One order with its status history: the customer's tracking view.
pub async fn show(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    let (_, stored) = own_order(&state, credentials, &id).await?;
    Ok(Json(
        stored
            .order
            .as_of(kitchen::now(), state.config.unpaid_order_expiry),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditOrder {
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    items: Option<Vec<LineRequest>>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    delivery_date: Option<Date>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    delivery_address: Option<Address>,
}

/// Changes an unpaid order; its lines are priced again at today's prices.
pub async fn edit(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditOrder>,
) -> Result<Json<Order>, ApiError> {
    if let Some(items) = &body.items {
        ordering::check_lines(items)?;
    }
    let (_, stored) = own_order(&state, credentials, &id).await?;
    let now = kitchen::now();
    let current = stored
        .order
        .clone()
        .as_of(now, state.config.unpaid_order_expiry);
    if current.status != OrderStatus::PendingPayment {
        return Err(ApiError::Conflict(format!(
            "an order that is {} cannot be changed",
            current.status.as_str()
        )));
    }
    if body.items.is_none() && body.delivery_date.is_none() && body.delivery_address.is_none() {
        return Ok(Json(current));
    }
    let date = body.delivery_date.unwrap_or(current.delivery_date);
    ordering::check_delivery_date(
        date,
        kitchen::domain::Date::today_in(&state.config.kitchen_zone),
    )?;
    let (lines, field) = match body.items {
        Some(items) => (items, "items"),
        None => {
            let lines = current
                .items
                .iter()
                .map(|item| LineRequest {
                    dish_id: item.dish_id.clone(),
                    quantity: item.quantity,
                })
                .collect();
            (lines, "order.items")
        }
    };
    let ids: Vec<_> = lines.iter().map(|line| line.dish_id.clone()).collect();
    let dishes = state.db.get_dishes(&ids).await?;
    let (items, total) = ordering::price(&dishes, &lines, date, field)?;
    let mut next = current.clone();
    next.items = items;
    next.total = total;
    next.delivery_date = date;
    if let Some(address) = body.delivery_address {
        next.delivery_address = address;
    }
    next.updated_at = now;
    if !state.db.replace_order(&stored, &next).await? {
        return Err(ApiError::Conflict(
            "the order changed meanwhile; reload it and try again".into(),
        ));
    }
    Ok(Json(next))
}

/// Cancels an unpaid order. Nothing is deleted; the order stays in the history as cancelled.
pub async fn cancel(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, stored) = own_order(&state, credentials, &id).await?;
    ordering::move_order(
        &state,
        &stored,
        OrderStatus::Cancelled,
        Actor::Customer,
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The scheduled sweep: cancels unpaid orders past their deadline.
pub async fn sweep(state: &AppState) -> Result<usize, ApiError> {
    ordering::sweep_unpaid(state).await
}
