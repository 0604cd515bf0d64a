//! The public menu: the active dishes orderable on a date (the kitchen's today unless asked), one
//! active dish, and the health check's ping of the table.

use crate::{
    db::{Db, Item, MenuFilter, Page},
    domain::Dish,
    domain::{Date, DishId, DishType, SearchText, Tag},
    error::ApiError,
};
use serde::Deserialize;

/// What the menu uses: the table, and the kitchen's zone for what "today" is.
#[derive(Clone, Copy)]
pub struct Menu<'a> {
    pub db: &'a Db,
    pub kitchen_zone: &'a jiff::tz::TimeZone,
}

/// Which dishes a customer asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuQuery {
    pub date: Option<Date>,
    pub dish_type: Option<DishType>,
    pub tag: Option<Tag>,
    pub q: Option<SearchText>,
}

impl Menu<'_> {
    /// Active dishes orderable on the date asked for (the kitchen's today by default): open-ended
    /// dishes first, newest first, then limited-time dishes, latest-ending first. `start` is read
    /// from the client's cursor once the date and filters are settled, as a cursor is only good for
    /// the same ones.
    pub async fn dishes(
        &self,
        query: &MenuQuery,
        limit: usize,
        start: impl FnOnce(Date, &MenuFilter) -> Result<Option<Item>, ApiError>,
    ) -> Result<Page<Dish>, ApiError> {
        let date = query
            .date
            .unwrap_or_else(|| Date::today_in(self.kitchen_zone));
        let filter = MenuFilter {
            dish_type: query.dish_type,
            tag: query.tag.clone(),
            name_contains: query.q.as_ref().map(|q| q.as_str().to_string()),
        };
        let start = start(date, &filter)?;
        Ok(self.db.menu(date, &filter, limit, start).await?)
    }

    /// One active dish; an inactive or unknown one is 404 alike.
    pub async fn dish(&self, id: &str) -> Result<Dish, ApiError> {
        let not_found = || ApiError::NotFound("no such dish".into());
        let id = DishId::parse(id).map_err(|_| not_found())?;
        let stored = self
            .db
            .get_dish(&id)
            .await?
            .filter(|d| d.dish.active)
            .ok_or_else(not_found)?;
        Ok(stored.dish)
    }

    /// Whether the table answers a read; a 503 when it does not.
    pub async fn ping(&self) -> Result<(), ApiError> {
        Ok(self.db.ping().await?)
    }
}
