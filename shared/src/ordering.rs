//! Placing orders, for the customer's checkout and the staff's orders alike: pricing from the
//! table, the availability rules, idempotent commits, and the event after each change.

use crate::{
    ApiError, AppState,
    db::{
        Dish, IdempotencyRecord, IdempotentRequest, Order, OrderItem, PlaceOrderError, StoredOrder,
        User,
    },
    domain::{Actor, Currency, Date, DishId, OrderStatus, Quantity},
    error::FieldError,
    events::{OrderEvent, OrderEventKind},
};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Lines an order may have.
pub const MAX_ORDER_LINES: usize = 20;
/// The response header that marks a replayed first response.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A line as a client asks for it: which dish and how many. Never a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub dish_id: DishId,
    pub quantity: Quantity,
}

/// Checks a list of lines: 1 to 20 (400, as the document says), each dish once (422: a rule the
/// document's schema cannot express).
pub fn check_lines(lines: &[LineRequest]) -> Result<(), ApiError> {
    if lines.is_empty() || lines.len() > MAX_ORDER_LINES {
        return Err(ApiError::invalid_field(
            "items",
            format!("must have 1 to {MAX_ORDER_LINES} lines"),
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if lines[..i]
            .iter()
            .any(|earlier| earlier.dish_id == line.dish_id)
        {
            return Err(ApiError::unprocessable_field(
                format!("items[{i}].dish_id"),
                "names a dish already in the order",
            ));
        }
    }
    Ok(())
}

/// A delivery date must be the kitchen's today or later.
pub fn check_delivery_date(date: Date, today: Date) -> Result<(), ApiError> {
    if date < today {
        let error = FieldError::new("delivery_date", format!("must be {today} or later"));
        return Err(ApiError::Unprocessable {
            detail: format!("delivery_date {date} is in the past"),
            errors: vec![error],
        });
    }
    Ok(())
}

/// Prices `lines` from `dishes` (as the table has them now) for delivery on `date`. Every dish must
/// exist, be active and be orderable that day, else 422 naming it; `field` names where the lines came
/// from in the request (`items` or `cart.items`).
pub fn price(
    dishes: &[Dish],
    lines: &[LineRequest],
    date: Date,
    field: &str,
) -> Result<(Vec<OrderItem>, i64), ApiError> {
    let mut items = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = format!("{field}[{i}].dish_id");
        match dishes.iter().find(|d| d.id == line.dish_id) {
            None => errors.push(FieldError::new(at, format!("no dish {}", line.dish_id))),
            Some(dish) if !dish.orderable_on(date) => errors.push(FieldError::new(
                at,
                format!("{} is not available on {date}", dish.name),
            )),
            Some(dish) => {
                let unit_price = dish.price.minor_units();
                items.push(OrderItem {
                    dish_id: dish.id.clone(),
                    dish_name: dish.name.to_string(),
                    unit_price,
                    quantity: line.quantity,
                    line_total: unit_price * i64::from(line.quantity.get()),
                    currency: dish.currency,
                })
            }
        }
    }
    if !errors.is_empty() {
        let detail = errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ApiError::Unprocessable { detail, errors });
    }
    let total = items.iter().map(|item| item.line_total).sum();
    Ok((items, total))
}

/// A new order for `user`, placed by `actor`, priced already.
pub fn new_order(
    user: &User,
    items: Vec<OrderItem>,
    total: i64,
    delivery_date: Date,
    delivery_address: crate::domain::Address,
    actor: Actor,
    now: OffsetDateTime,
) -> Order {
    Order {
        id: crate::domain::OrderId::new(),
        user_id: user.id.clone(),
        status: OrderStatus::PendingPayment,
        items,
        total,
        currency: Currency::Ngn,
        delivery_date,
        delivery_address,
        placed_by: if actor == Actor::Admin {
            crate::domain::PlacedBy::Admin
        } else {
            crate::domain::PlacedBy::Customer
        },
        created_at: now,
        updated_at: now,
        paid_at: None,
        status_history: vec![crate::db::StatusChange {
            status: OrderStatus::PendingPayment,
            at: now,
            by: actor,
        }],
        refund_due: false,
        cancel_reason: None,
    }
}

/// The first response again, if `request`'s key has one; 422 if the key was used for another request.
pub async fn replay(
    state: &AppState,
    request: &IdempotentRequest,
) -> Result<Option<Response>, ApiError> {
    match state.db.idempotency_record(request, crate::now()).await? {
        Some(record) => replayed(record, request).map(Some),
        None => Ok(None),
    }
}

/// The first response stored in `record` again, for `request` (which must be the same request: 422
/// if it is another one under the same key).
pub fn replayed(
    record: IdempotencyRecord,
    request: &IdempotentRequest,
) -> Result<Response, ApiError> {
    if record.fingerprint != request.fingerprint {
        return Err(ApiError::Unprocessable {
            detail: "this Idempotency-Key was used for a different request".into(),
            errors: Vec::new(),
        });
    }
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
    let mut response = (status, record.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    Ok(response)
}

/// Commits a new order (emptying the cart at `cart_version` if given, recording the idempotency key
/// if given), then announces `order.placed` to `customer`'s phone. Answers 201 with the order and a
/// `Location` under `location_base`.
pub async fn place(
    state: &AppState,
    order: Order,
    customer: &User,
    cart_version: Option<u64>,
    idempotency: Option<&IdempotentRequest>,
    location_base: &str,
) -> Result<Response, ApiError> {
    let body = serde_json::to_string(&order).map_err(ApiError::internal)?;
    let record = idempotency.map(|request| (request, body.as_str()));
    match state.db.place_order(&order, cart_version, record).await {
        Ok(()) => {}
        Err(PlaceOrderError::KeyUsed) => {
            let request = idempotency.expect("only a request with a key can find it used");
            return match replay(state, request).await? {
                Some(response) => Ok(response),
                None => Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is in progress; retry".into(),
                )),
            };
        }
        Err(PlaceOrderError::CartChanged) => {
            return Err(ApiError::Conflict(
                "the cart changed while checking out; review it and try again".into(),
            ));
        }
        Err(PlaceOrderError::Db(err)) => return Err(err.into()),
    }
    tracing::info!(order_id = %order.id, total = order.total, "order placed");
    let placed_by = if order.placed_by == crate::domain::PlacedBy::Admin {
        "admin"
    } else {
        "customer"
    };
    crate::metrics::ORDERS_PLACED.count([placed_by]);
    announce(state, &order, OrderEventKind::Placed, Some(customer)).await;
    let mut response = (StatusCode::CREATED, Json(&order)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{location_base}/{}", order.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The event for a change to `order`, addressed to `customer`.
pub fn event(order: &Order, kind: OrderEventKind, customer: &User) -> OrderEvent {
    let name = match (&customer.first_name, &customer.last_name) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (Some(first), None) => Some(first.to_string()),
        (None, Some(last)) => Some(last.to_string()),
        (None, None) => None,
    };
    OrderEvent {
        kind,
        order_id: order.id.clone(),
        user_id: order.user_id.clone(),
        status: order.status,
        total: order.total,
        currency: order.currency,
        delivery_date: order.delivery_date,
        phone: customer.phone.clone(),
        customer_name: name,
        occurred_at: order.updated_at,
    }
}

/// Tells `order`'s customer about a change to it that has committed: reads what the message needs
/// (the customer, unless the caller has them already) and publishes the event. The change is made
/// whatever happens here, so nothing here may turn its answer into an error: a failure is logged
/// at error level and the caller carries on. Every change that is announced is announced here.
pub async fn announce(
    state: &AppState,
    order: &Order,
    kind: OrderEventKind,
    customer: Option<&User>,
) {
    let read;
    // A customer handed in who is not the order's (read along with something else) is read again.
    let customer = match customer.filter(|customer| customer.id == order.user_id) {
        Some(customer) => customer,
        None => match state.db.get_user(&order.user_id).await {
            Ok(Some(customer)) => {
                read = customer;
                &read
            }
            Ok(None) => {
                tracing::error!(
                    event_type = kind.as_str(),
                    order_id = %order.id,
                    user_id = %order.user_id,
                    "the order's customer is not in the table; event not published"
                );
                return;
            }
            Err(err) => {
                tracing::error!(
                    event_type = kind.as_str(),
                    order_id = %order.id,
                    error = %crate::error::cause_chain(&err),
                    "reading the order's customer failed; event not published"
                );
                return;
            }
        },
    };
    // A failure to publish is logged by the publisher, at error level too.
    state.events.publish(&event(order, kind, customer)).await;
}

/// The event kind a move to `status` announces.
pub fn kind_of_move(status: OrderStatus) -> OrderEventKind {
    match status {
        OrderStatus::Cancelled => OrderEventKind::Cancelled,
        OrderStatus::Paid => OrderEventKind::Paid,
        _ => OrderEventKind::StatusChanged,
    }
}

/// Moves a stored order to `next` as `actor`; 409 if the move is not allowed from where the order
/// is now, or if someone else changed it first. Announces the move after the write commits.
pub async fn move_order(
    state: &AppState,
    stored: &StoredOrder,
    next: OrderStatus,
    actor: Actor,
    reason: Option<String>,
) -> Result<Order, ApiError> {
    let now = crate::now();
    let current = stored
        .order
        .clone()
        .as_of(now, state.config.unpaid_order_expiry);
    let mut moved = current.moved_to(next, actor, now).ok_or_else(|| {
        ApiError::Conflict(format!(
            "an order that is {} cannot become {}",
            current.status.as_str(),
            next.as_str()
        ))
    })?;
    if reason.is_some() {
        moved.cancel_reason = reason;
    }
    if !state.db.replace_order(stored, &moved).await? {
        return Err(ApiError::Conflict(
            "the order changed meanwhile; reload it and try again".into(),
        ));
    }
    tracing::info!(order_id = %moved.id, status = moved.status.as_str(), "order moved");
    announce(state, &moved, kind_of_move(next), None).await;
    Ok(moved)
}

/// Cancels unpaid orders past their deadline (writing down what reads already show) and announces
/// each it cancelled itself. Returns how many that was.
pub async fn sweep_unpaid(state: &AppState) -> Result<usize, ApiError> {
    let now = crate::now();
    let cutoff = now - state.config.unpaid_order_expiry;
    let mut cancelled = 0;
    loop {
        let batch = state.db.unpaid_orders_before(cutoff, 50).await?;
        let found = batch.len();
        let before = cancelled;
        for stored in batch {
            // The index may still list an order paid or cancelled since: it lags, and a payment, a
            // cancel or another sweep may have got there between the query and the read. Only an
            // order stored as unpaid is this sweep's to cancel (one already cancelled reads as
            // cancelled too once expired, so the stored status decides, not the status shown).
            if stored.order.status != OrderStatus::PendingPayment {
                continue;
            }
            let expired = stored
                .order
                .clone()
                .as_of(now, state.config.unpaid_order_expiry);
            if expired.status != OrderStatus::Cancelled {
                continue;
            }
            // Conditioned on the version read and on the status read, pending_payment: a failed
            // condition means someone else changed the order first (and announced what they did).
            if state.db.replace_order(&stored, &expired).await? {
                cancelled += 1;
                announce(state, &expired, OrderEventKind::Cancelled, None).await;
            }
        }
        // A full batch with nothing to cancel is all index lag: the same query would find the same
        // orders again. The next run takes up what is left.
        if found < 50 || cancelled == before {
            break;
        }
    }
    tracing::info!(cancelled, "unpaid orders swept");
    Ok(cancelled)
}
