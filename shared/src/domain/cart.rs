//! A customer's cart: which dishes, how many; priced only when shown or checked out.

use super::{CartLineId, DishId, Quantity};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartEntry {
    pub id: CartLineId,
    pub dish_id: DishId,
    pub quantity: Quantity,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

/// A user's cart as stored; `version` 0 means there is none yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartEntry>,
    #[serde(default)]
    pub version: u64,
}

impl Cart {
    pub fn dish_ids(&self) -> Vec<DishId> {
        self.lines.iter().map(|line| line.dish_id.clone()).collect()
    }
}
