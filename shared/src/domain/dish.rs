//! A dish on the kitchen's menu, and when it can be ordered.

use super::{Currency, DailyLimit, Date, Description, DishId, DishName, DishType, Price, Tag};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A dish, as stored and as the API shows it. The name and description read back as they were
/// written (see [`super::StoredText`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dish {
    pub id: DishId,
    #[serde(deserialize_with = "super::stored")]
    pub name: DishName,
    #[serde(deserialize_with = "super::stored")]
    pub description: Description,
    pub price: Price,
    pub currency: Currency,
    pub dish_type: DishType,
    pub tags: Vec<Tag>,
    pub available_from: Date,
    pub available_until: Option<Date>,
    pub active: bool,
    /// Portions the kitchen cooks of it per delivery date; none for no limit.
    #[serde(default)]
    pub daily_portions: Option<DailyLimit>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Dish {
    /// Whether a customer can order it for delivery on `date`.
    pub fn orderable_on(&self, date: Date) -> bool {
        self.active
            && self.available_from <= date
            && self.available_until.is_none_or(|until| date <= until)
    }
}
