//! The cart: one line per dish, 1 to 50 of it, at most 20 lines; shown at the dishes' current
//! prices. Each change reads the cart with the session check and writes it back on the condition
//! that it is unchanged, re-reading when another change got in first.

use crate::{
    caller::Credentials,
    db::{Db, MAX_CART_LINES},
    domain::{Cart, CartEntry, CartLineId, Currency, Dish, DishId, Money, Quantity},
    error::{ApiError, FieldError},
};
use serde::{Deserialize, Serialize};

/// What the cart workflows use: the table.
#[derive(Clone, Copy)]
pub struct Carts<'a> {
    pub db: &'a Db,
}

/// A dish to add, and how many.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddLine {
    pub dish_id: DishId,
    pub quantity: Quantity,
}

/// Times a cart change re-reads and re-applies itself when another change got in first.
const ATTEMPTS: usize = 3;

#[derive(Debug, Serialize)]
pub struct CartLine {
    id: CartLineId,
    dish_id: DishId,
    dish_name: String,
    unit_price: Money,
    quantity: Quantity,
    line_total: Money,
    currency: Currency,
}

#[derive(Debug, Serialize)]
pub struct CartView {
    items: Vec<CartLine>,
    total: Money,
    currency: Currency,
}

fn line_view(entry: &CartEntry, dish: &Dish) -> CartLine {
    let unit_price = Money::from(dish.price);
    CartLine {
        id: entry.id.clone(),
        dish_id: entry.dish_id.clone(),
        dish_name: dish.name.to_string(),
        unit_price,
        quantity: entry.quantity,
        line_total: unit_price.times(entry.quantity),
        currency: dish.currency,
    }
}

impl Carts<'_> {
    /// The cart priced now. A line whose dish has since been deleted outright is left out.
    pub async fn show(&self, credentials: Credentials) -> Result<CartView, ApiError> {
        let (_, cart) = self
            .db
            .session_and_cart(&credentials)
            .await?
            .authorise(credentials)?;
        let dishes = self.db.get_dishes(&cart.dish_ids()).await?;
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
        Ok(CartView {
            items,
            total,
            currency: Currency::Ngn,
        })
    }

    fn unprocessable(field: &str, message: String) -> ApiError {
        ApiError::Unprocessable {
            detail: message.clone(),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// Adds a dish; the same dish again adds to its line. `true` with a new line, `false` with a
    /// grown one.
    pub async fn add(
        &self,
        credentials: Credentials,
        body: AddLine,
    ) -> Result<(bool, CartLine), ApiError> {
        for _ in 0..ATTEMPTS {
            let (_, (mut cart, dish)) = self
                .db
                .session_cart_and_dish(&credentials, &body.dish_id)
                .await?
                .authorise(credentials.clone())?;
            let dish = dish.filter(|d| d.active).ok_or_else(|| {
                Self::unprocessable("dish_id", format!("no dish {} on the menu", body.dish_id))
            })?;
            let (index, status) = match cart
                .lines
                .iter()
                .position(|line| line.dish_id == body.dish_id)
            {
                Some(index) => {
                    let wanted = cart.lines[index].quantity.get() + body.quantity.get();
                    cart.lines[index].quantity = Quantity::parse(wanted).map_err(|_| {
                        Self::unprocessable(
                            "quantity",
                            format!(
                                "the cart would hold {wanted} of {}; a line holds at most {}",
                                dish.name,
                                Quantity::MAX
                            ),
                        )
                    })?;
                    (index, false)
                }
                None if cart.lines.len() >= MAX_CART_LINES => {
                    return Err(Self::unprocessable(
                        "dish_id",
                        format!("a cart holds at most {MAX_CART_LINES} lines"),
                    ));
                }
                None => {
                    cart.lines.push(CartEntry {
                        id: CartLineId::new(),
                        dish_id: body.dish_id.clone(),
                        quantity: body.quantity,
                        added_at: crate::now(),
                    });
                    (cart.lines.len() - 1, true)
                }
            };
            if self.db.save_cart(&credentials.user_id, &cart).await? {
                return Ok((status, line_view(&cart.lines[index], &dish)));
            }
        }
        Err(ApiError::Conflict(
            "the cart is being changed elsewhere; try again".into(),
        ))
    }

    /// Sets a line's quantity.
    pub async fn change(
        &self,
        credentials: Credentials,
        line_id: &str,
        quantity: Quantity,
    ) -> Result<CartLine, ApiError> {
        let (cart, index) = self
            .edit(&credentials, line_id, |cart, index| {
                cart.lines[index].quantity = quantity;
            })
            .await?;
        let entry = &cart.lines[index];
        let dish = self
            .db
            .get_dishes(std::slice::from_ref(&entry.dish_id))
            .await?
            .into_iter()
            .next();
        let dish = dish
            .ok_or_else(|| ApiError::NotFound("the dish of this line no longer exists".into()))?;
        Ok(line_view(entry, &dish))
    }

    /// Takes a line out of the cart.
    pub async fn remove(&self, credentials: Credentials, line_id: &str) -> Result<(), ApiError> {
        self.edit(&credentials, line_id, |cart, index| {
            cart.lines.remove(index);
        })
        .await?;
        Ok(())
    }

    /// Applies `change` to the line `line_id` of the caller's cart and saves it; 404 for a line the
    /// caller's cart does not have.
    async fn edit(
        &self,
        credentials: &Credentials,
        line_id: &str,
        change: impl Fn(&mut Cart, usize),
    ) -> Result<(Cart, usize), ApiError> {
        let not_found = || ApiError::NotFound("no such line in your cart".into());
        let line_id = CartLineId::parse(line_id).map_err(|_| not_found())?;
        for _ in 0..ATTEMPTS {
            let (_, mut cart) = self
                .db
                .session_and_cart(credentials)
                .await?
                .authorise(credentials.clone())?;
            let index = cart
                .lines
                .iter()
                .position(|line| line.id == line_id)
                .ok_or_else(not_found)?;
            change(&mut cart, index);
            if self.db.save_cart(&credentials.user_id, &cart).await? {
                let index = index.min(cart.lines.len().saturating_sub(1));
                return Ok((cart, index));
            }
        }
        Err(ApiError::Conflict(
            "the cart is being changed elsewhere; try again".into(),
        ))
    }
}
