//! The cart: one line per dish, 1 to 50 of it, at most 20 lines; shown at the dishes' current prices.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    db::{Cart, CartEntry, Dish, MAX_CART_LINES},
    domain::{CartLineId, Currency, DishId, Quantity},
    error::FieldError,
    extract::{AuthUser, Credentials, JsonBody},
};
use serde::{Deserialize, Serialize};

/// Times a cart change re-reads and re-applies itself when another change got in first.
const ATTEMPTS: usize = 3;

#[derive(Debug, Serialize)]
pub struct CartLine {
    id: CartLineId,
    dish_id: DishId,
    dish_name: String,
    unit_price: i64,
    quantity: Quantity,
    line_total: i64,
    currency: Currency,
}

#[derive(Debug, Serialize)]
pub struct CartView {
    items: Vec<CartLine>,
    total: i64,
    currency: Currency,
}

fn line_view(entry: &CartEntry, dish: &Dish) -> CartLine {
    let unit_price = dish.price.minor_units();
    CartLine {
        id: entry.id.clone(),
        dish_id: entry.dish_id.clone(),
        dish_name: dish.name.to_string(),
        unit_price,
        quantity: entry.quantity,
        line_total: unit_price * i64::from(entry.quantity.get()),
        currency: dish.currency,
    }
}

/// The cart priced now. A line whose dish has since been deleted outright is left out.
pub async fn show(
    State(state): State<AppState>,
    credentials: Credentials,
) -> Result<Json<CartView>, ApiError> {
    let (check, cart) = state
        .db
        .session_and_cart(&credentials.user_id, &credentials.session_id)
        .await?;
    AuthUser::from_check(check, credentials.claims)?;
    let dishes = state.db.get_dishes(&cart.dish_ids()).await?;
    let items: Vec<CartLine> = cart
        .lines
        .iter()
        .filter_map(|entry| {
            dishes
                .iter()
                .find(|d| d.id == entry.dish_id)
                .map(|dish| line_view(entry, dish))
        })
        .collect();
    let total = items.iter().map(|line| line.line_total).sum();
    Ok(Json(CartView {
        items,
        total,
        currency: Currency::Ngn,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddLine {
    dish_id: DishId,
    quantity: Quantity,
}

fn unprocessable(field: &str, message: String) -> ApiError {
    ApiError::Unprocessable {
        detail: message.clone(),
        errors: vec![FieldError::new(field, message)],
    }
}

/// Adds a dish; the same dish again adds to its line (201 for a new line, 200 for a grown one).
pub async fn add(
    State(state): State<AppState>,
    credentials: Credentials,
    JsonBody(body): JsonBody<AddLine>,
) -> Result<(StatusCode, Json<CartLine>), ApiError> {
    for _ in 0..ATTEMPTS {
        let (check, mut cart, dish) = state
            .db
            .session_cart_and_dish(&credentials.user_id, &credentials.session_id, &body.dish_id)
            .await?;
        AuthUser::from_check(check, credentials.claims.clone())?;
        let dish = dish.filter(|d| d.active).ok_or_else(|| {
            unprocessable("dish_id", format!("no dish {} on the menu", body.dish_id))
        })?;
        let (index, status) = match cart
            .lines
            .iter()
            .position(|line| line.dish_id == body.dish_id)
        {
            Some(index) => {
                let wanted = cart.lines[index].quantity.get() + body.quantity.get();
                cart.lines[index].quantity = Quantity::parse(wanted).map_err(|_| {
                    unprocessable(
                        "quantity",
                        format!(
                            "the cart would hold {wanted} of {}; a line holds at most {}",
                            dish.name,
                            Quantity::MAX
                        ),
                    )
                })?;
                (index, StatusCode::OK)
            }
            None if cart.lines.len() >= MAX_CART_LINES => {
                return Err(unprocessable(
                    "dish_id",
                    format!("a cart holds at most {MAX_CART_LINES} lines"),
                ));
            }
            None => {
                cart.lines.push(CartEntry {
                    id: CartLineId::new(),
                    dish_id: body.dish_id.clone(),
                    quantity: body.quantity,
                    added_at: kitchen::now(),
                });
                (cart.lines.len() - 1, StatusCode::CREATED)
            }
        };
        if state.db.save_cart(&credentials.user_id, &cart).await? {
            return Ok((status, Json(line_view(&cart.lines[index], &dish))));
        }
    }
    Err(ApiError::Conflict(
        "the cart is being changed elsewhere; try again".into(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeLine {
    quantity: Quantity,
}

/// Sets a line's quantity.
pub async fn change(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(line_id): Path<String>,
    JsonBody(body): JsonBody<ChangeLine>,
) -> Result<Json<CartLine>, ApiError> {
    let (cart, index) = edit(&state, &credentials, &line_id, |cart, index| {
        cart.lines[index].quantity = body.quantity;
    })
    .await?;
    let entry = &cart.lines[index];
    let dish = state
        .db
        .get_dishes(std::slice::from_ref(&entry.dish_id))
        .await?
        .into_iter()
        .next();
    let dish =
        dish.ok_or_else(|| ApiError::NotFound("the dish of this line no longer exists".into()))?;
    Ok(Json(line_view(entry, &dish)))
}

pub async fn remove(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(line_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    edit(&state, &credentials, &line_id, |cart, index| {
        cart.lines.remove(index);
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies `change` to the line `line_id` of the caller's cart and saves it; 404 for a line the
/// caller's cart does not have.
async fn edit(
    state: &AppState,
    credentials: &Credentials,
    line_id: &str,
    change: impl Fn(&mut Cart, usize),
) -> Result<(Cart, usize), ApiError> {
    let not_found = || ApiError::NotFound("no such line in your cart".into());
    let line_id = CartLineId::parse(line_id).map_err(|_| not_found())?;
    for _ in 0..ATTEMPTS {
        let (check, mut cart) = state
            .db
            .session_and_cart(&credentials.user_id, &credentials.session_id)
            .await?;
        AuthUser::from_check(check, credentials.claims.clone())?;
        let index = cart
            .lines
            .iter()
            .position(|line| line.id == line_id)
            .ok_or_else(not_found)?;
        change(&mut cart, index);
        if state.db.save_cart(&credentials.user_id, &cart).await? {
            let index = index.min(cart.lines.len().saturating_sub(1));
            return Ok((cart, index));
        }
    }
    Err(ApiError::Conflict(
        "the cart is being changed elsewhere; try again".into(),
    ))
}
