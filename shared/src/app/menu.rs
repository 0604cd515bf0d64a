//! The public menu: the active dishes orderable on a date (the kitchen's today unless asked), one
//! active dish, each with what is left of it that day, and the health check's ping of the table.

use crate::{
    db::{DayCounts, Db, Item, MenuFilter, Page},
    domain::Dish,
    domain::{Date, DishId, DishType, SearchText, Tag},
    error::ApiError,
};
use serde::{Deserialize, Serialize};

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

/// A dish as the menu shows it for a date: with what is left of it that day, and whether the
/// kitchen still takes orders for that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MenuDish {
    #[serde(flatten)]
    pub dish: Dish,
    /// The date the rest is for.
    pub date: Date,
    /// Portions still to be ordered that day; none for a dish without a limit.
    pub portions_left: Option<u32>,
    pub sold_out: bool,
    /// Whether orders for that day are still taken (before its cut-off, and not a closed day).
    pub ordering_open: bool,
}

/// What the menu of one date knows besides its dishes.
struct Day {
    date: Date,
    counts: DayCounts,
    open: bool,
}

impl Day {
    fn show(&self, dish: Dish) -> MenuDish {
        let portions_left = dish.daily_portions.map(|limit| {
            limit
                .get()
                .saturating_sub(self.counts.portions_of(&dish.id))
        });
        MenuDish {
            sold_out: portions_left == Some(0),
            dish,
            date: self.date,
            portions_left,
            ordering_open: self.open,
        }
    }
}

/// Which day one dish is shown for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DishQuery {
    pub date: Option<Date>,
}

impl Menu<'_> {
    /// The date's counters and the kitchen's settings, read together (one round trip beside
    /// whatever the caller reads at the same time).
    async fn day(&self, date: Date) -> Result<Day, ApiError> {
        let (counts, kitchen) = tokio::join!(self.db.day_counts(date), self.db.kitchen());
        let kitchen = super::calendar::in_force(kitchen?.settings, self.kitchen_zone);
        Ok(Day {
            date,
            counts: counts?,
            open: kitchen.takes_orders_for(date, crate::now()).is_ok(),
        })
    }
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
    ) -> Result<Page<MenuDish>, ApiError> {
        let date = query
            .date
            .unwrap_or_else(|| Date::today_in(self.kitchen_zone));
        let filter = MenuFilter {
            dish_type: query.dish_type,
            tag: query.tag.clone(),
            name_contains: query.q.as_ref().map(|q| q.as_str().to_string()),
        };
        let start = start(date, &filter)?;
        // The dishes, the day's counters and the settings: one round trip.
        let (page, day) = tokio::join!(self.db.menu(date, &filter, limit, start), self.day(date));
        let day = day?;
        Ok(page?.map(|dish| day.show(dish)))
    }

    /// One active dish, as the menu of `query.date` (the kitchen's today by default) shows it; an
    /// inactive or unknown one is 404 alike.
    pub async fn dish(&self, id: &str, query: &DishQuery) -> Result<MenuDish, ApiError> {
        let not_found = || ApiError::NotFound("no such dish".into());
        let id = DishId::parse(id).map_err(|_| not_found())?;
        let date = query
            .date
            .unwrap_or_else(|| Date::today_in(self.kitchen_zone));
        let (stored, day) = tokio::join!(self.db.get_dish(&id), self.day(date));
        let stored = stored?.filter(|d| d.dish.active).ok_or_else(not_found)?;
        Ok(day?.show(stored.dish))
    }

    /// Whether the table answers a read; a 503 when it does not.
    pub async fn ping(&self) -> Result<(), ApiError> {
        Ok(self.db.ping().await?)
    }
}
