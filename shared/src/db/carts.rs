//! Carts: one item per user holding every line, guarded by a version. One item means reading a cart
//! is one read (in the same round trip as the session check), and checking out can delete it on the
//! condition that it is still the cart that was priced: two concurrent checkouts make one order.

use super::{
    Db, DbError, Item, SessionRead,
    dishes::dish_key,
    from_item,
    idempotency::{IdempotencyRecord, IdempotentRequest, record_key},
    is_live, key, key_of, n, users,
};
use crate::caller::Credentials;
use crate::domain::{Cart, Dish};
use crate::domain::{DishId, UserId};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use time::OffsetDateTime;

/// Lines a cart may hold.
pub const MAX_CART_LINES: usize = 20;

const ENTITY: &str = "cart";

/// A cart sorts under its user's partition: one cart per user, read by key only (no index).
fn cart_key(user: &UserId) -> Item {
    key(users::user_pk(user), "CART")
}

/// The item that stores `cart` as `user`'s, at the next version.
fn cart_item(user: &UserId, cart: &Cart) -> Result<Item, DbError> {
    let next = Cart {
        version: cart.version + 1,
        ..cart.clone()
    };
    super::to_item(&next, ENTITY, cart_key(user), [])
}

/// What checking out reads before pricing, all in one round trip (with the session check).
#[derive(Debug, Default)]
pub struct CheckoutReads {
    pub cart: Cart,
    /// The live record of the request's Idempotency-Key, if it has one and it was used before.
    pub idempotency: Option<IdempotencyRecord>,
    /// Those of the dishes asked for that exist.
    pub dishes: Vec<Dish>,
    /// The kitchen's settings, if staff ever set them.
    pub kitchen: Option<crate::domain::KitchenSettings>,
}

impl Db {
    /// The session check, the caller's cart, the kitchen's settings, the record of `request`'s
    /// Idempotency-Key and the dishes `dishes` (at most 20 distinct), in one round trip: an order of explicit items needs no
    /// other read, and one from the cart only the read of the cart's dishes.
    pub async fn checkout_reads(
        &self,
        credentials: &Credentials,
        request: Option<&IdempotentRequest>,
        dishes: &[DishId],
        now: OffsetDateTime,
    ) -> Result<SessionRead<CheckoutReads>, DbError> {
        let cart_key = cart_key(&credentials.user_id);
        let record_key = request.map(|r| record_key(&r.user, r.scope, &r.key));
        let kitchen_key = super::kitchen::kitchen_key();
        let mut keys = vec![cart_key.clone(), kitchen_key.clone()];
        keys.extend(record_key.clone());
        keys.extend(super::dishes::dish_keys(dishes));
        let (check, items) = self.session_user_and(credentials, keys).await?;
        let mut reads = CheckoutReads::default();
        for item in items {
            if key_of(&item) == key_of(&cart_key) {
                reads.cart = from_item(item)?;
            } else if key_of(&item) == key_of(&kitchen_key) {
                reads.kitchen = super::kitchen::stored(item)?.settings;
            } else if record_key
                .as_ref()
                .is_some_and(|k| key_of(&item) == key_of(k))
            {
                let record: IdempotencyRecord = from_item(item)?;
                reads.idempotency =
                    is_live(record.expires_at, now.unix_timestamp()).then_some(record);
            } else {
                reads.dishes.push(from_item(item)?);
            }
        }
        Ok(SessionRead::new(check, reads))
    }

    /// The session check and the caller's cart, in one round trip.
    pub async fn session_and_cart(
        &self,
        credentials: &Credentials,
    ) -> Result<SessionRead<Cart>, DbError> {
        let (check, items) = self
            .session_user_and(credentials, vec![cart_key(&credentials.user_id)])
            .await?;
        let cart = items
            .into_iter()
            .next()
            .map(from_item)
            .transpose()?
            .unwrap_or_default();
        Ok(SessionRead::new(check, cart))
    }

    /// The session check, the caller's cart and one dish, in one round trip.
    pub async fn session_cart_and_dish(
        &self,
        credentials: &Credentials,
        dish: &DishId,
    ) -> Result<SessionRead<(Cart, Option<Dish>)>, DbError> {
        let cart_key = cart_key(&credentials.user_id);
        let (check, items) = self
            .session_user_and(credentials, vec![cart_key.clone(), dish_key(dish)])
            .await?;
        let (mut cart, mut found) = (Cart::default(), None);
        for item in items {
            if super::key_of(&item) == super::key_of(&cart_key) {
                cart = from_item(item)?;
            } else {
                found = Some(from_item(item)?);
            }
        }
        Ok(SessionRead::new(check, (cart, found)))
    }

    /// Writes the cart if it is still at `cart.version`; `false` if another request changed it first.
    pub async fn save_cart(&self, user: &UserId, cart: &Cart) -> Result<bool, DbError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(cart_item(user, cart)?))
            .condition_expression("attribute_not_exists(pk) OR version = :version")
            .expression_attribute_values(":version", n(cart.version))
            .send()
            .await;
        super::applied(result)
    }

    /// Emptying the cart as part of a checkout: only if it is still the version that was priced.
    pub(crate) fn cart_checkout_delete(
        &self,
        user: &UserId,
        version: u64,
    ) -> Result<TransactWriteItem, DbError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(cart_key(user)))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(version))
            .build()
            .map_err(|e| DbError::Other(Box::new(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_cart_sorts_under_its_user_and_is_stored_at_the_next_version() {
        let item = cart_item(&testing::user_id(), &testing::cart()).unwrap();
        let user = format!("USER#{}", testing::USER);
        assert_eq!(
            layout(&item),
            [("entity", "cart"), ("pk", user.as_str()), ("sk", "CART")]
        );
        assert_eq!(item["version"].as_n().unwrap(), "3");
    }
}
