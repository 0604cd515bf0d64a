//! The rules every new or edited order obeys, whoever places it: 1 to 20 lines, each dish once,
//! delivery today or later in the kitchen's time zone, every dish existing, active and orderable
//! that day, and every price from the table, never from the client.

use crate::{
    domain::{
        Actor, CartEntry, Currency, Date, Dish, DishId, Money, Order, OrderItem, OrderStatus,
        Quantity, User,
    },
    error::{ApiError, FieldError},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Lines an order may have.
pub const MAX_ORDER_LINES: usize = 20;

/// A line as a client asks for it: which dish and how many. Never a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub dish_id: DishId,
    pub quantity: Quantity,
}

impl From<&CartEntry> for LineRequest {
    fn from(entry: &CartEntry) -> Self {
        Self {
            dish_id: entry.dish_id.clone(),
            quantity: entry.quantity,
        }
    }
}

impl From<&OrderItem> for LineRequest {
    fn from(item: &OrderItem) -> Self {
        Self {
            dish_id: item.dish_id.clone(),
            quantity: item.quantity,
        }
    }
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
) -> Result<(Vec<OrderItem>, Money), ApiError> {
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
                let unit_price = Money::from(dish.price);
                items.push(OrderItem {
                    dish_id: dish.id.clone(),
                    dish_name: dish.name.to_string(),
                    unit_price,
                    quantity: line.quantity,
                    line_total: unit_price.times(line.quantity),
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
    total: Money,
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
        note: None,
        created_at: now,
        updated_at: now,
        paid_at: None,
        status_history: vec![crate::domain::StatusChange::new(
            OrderStatus::PendingPayment,
            now,
            actor,
        )],
        refund_due: false,
        cancel_reason: None,
        refunded_amount: Money::ZERO,
    }
}
