//! Staff managing the menu: every dish, active or not; creating, changing and taking dishes off the
//! menu. Names are unique among dishes, and a dish's window must not end before it starts.

use crate::caller::StaffClaim;
use crate::{
    caller::AdminUser,
    db::{Db, DishWriteError, Item, Page, StoredDish},
    domain::Dish,
    domain::{
        Currency, DailyLimit, Date, Description, DishId, DishName, DishType, Patch, Price,
        SearchText, Tag,
    },
    error::ApiError,
};
use serde::Deserialize;

/// Tags a dish may carry.
const MAX_TAGS: usize = 10;
/// Times an update re-reads and re-applies itself when another write got in first.
const UPDATE_ATTEMPTS: usize = 3;

/// What the staff's dish workflows use: the table.
#[derive(Clone, Copy)]
pub struct Dishes<'a> {
    pub db: &'a Db,
}

/// Which dishes staff list: active or not, and whose name contains `q`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DishFilter {
    pub active: Option<bool>,
    pub q: Option<SearchText>,
}

/// A dish to put on the menu.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDish {
    name: DishName,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    description: Option<Description>,
    price: Price,
    currency: Currency,
    dish_type: DishType,
    #[serde(default)]
    tags: Vec<Tag>,
    available_from: Date,
    #[serde(default)]
    available_until: Option<Date>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    active: Option<bool>,
    /// Portions per delivery date; absent or `null` for no limit.
    #[serde(default)]
    daily_portions: Option<DailyLimit>,
}

/// The fields of a dish to change; any left out stay as they are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DishPatch {
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    name: Option<DishName>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    description: Option<Description>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    price: Option<Price>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    currency: Option<Currency>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    dish_type: Option<DishType>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    available_from: Option<Date>,
    /// `null` makes the dish open-ended.
    #[serde(default)]
    available_until: Patch<Date>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    active: Option<bool>,
    /// `null` lifts the limit. Lowering it below what placed orders hold takes nothing from them;
    /// it only stops new orders.
    #[serde(default)]
    daily_portions: Patch<DailyLimit>,
}

impl DishPatch {
    fn apply(&self, dish: &Dish) -> Result<Dish, ApiError> {
        let mut next = dish.clone();
        if let Some(name) = &self.name {
            next.name = name.clone();
        }
        if let Some(description) = &self.description {
            next.description = description.clone();
        }
        if let Some(price) = self.price {
            next.price = price;
        }
        if let Some(currency) = self.currency {
            next.currency = currency;
        }
        if let Some(dish_type) = self.dish_type {
            next.dish_type = dish_type;
        }
        if let Some(tags) = &self.tags {
            next.tags = tidy_tags(tags.clone())?;
        }
        if let Some(from) = self.available_from {
            next.available_from = from;
        }
        match self.available_until {
            Patch::Absent => {}
            Patch::Null => next.available_until = None,
            Patch::Value(until) => next.available_until = Some(until),
        }
        if let Some(active) = self.active {
            next.active = active;
        }
        match self.daily_portions {
            Patch::Absent => {}
            Patch::Null => next.daily_portions = None,
            Patch::Value(limit) => next.daily_portions = Some(limit),
        }
        check_window(&next)?;
        Ok(next)
    }
}

impl Dishes<'_> {
    /// A page of every dish matching `filter`.
    pub async fn list(
        &self,
        _staff: StaffClaim,
        filter: &DishFilter,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Dish>, ApiError> {
        let page = self
            .db
            .all_dishes(
                filter.active,
                filter.q.as_ref().map(SearchText::as_str),
                limit,
                start,
            )
            .await?;
        Ok(page.map(|stored| stored.dish))
    }

    /// Puts a new dish on the menu (active unless told otherwise); its name must be free (409).
    pub async fn create(&self, _admin: &AdminUser, new: NewDish) -> Result<Dish, ApiError> {
        let now = crate::now();
        let dish = Dish {
            id: DishId::new(),
            name: new.name,
            description: new
                .description
                .unwrap_or_else(|| Description::parse("").expect("empty is valid")),
            price: new.price,
            currency: new.currency,
            dish_type: new.dish_type,
            tags: tidy_tags(new.tags)?,
            available_from: new.available_from,
            available_until: new.available_until,
            active: new.active.unwrap_or(true),
            daily_portions: new.daily_portions,
            created_at: now,
            updated_at: now,
        };
        check_window(&dish)?;
        self.db.create_dish(&dish).await.map_err(write_error)?;
        tracing::info!(dish_id = %dish.id, "dish created");
        Ok(dish)
    }

    /// Any dish, active or not.
    pub async fn get(&self, _staff: StaffClaim, id: &str) -> Result<Dish, ApiError> {
        Ok(self.find(id).await?.dish)
    }

    /// Changes any field of a dish. Orders already placed keep the prices they were placed with.
    pub async fn update(
        &self,
        _admin: &AdminUser,
        id: &str,
        patch: DishPatch,
    ) -> Result<Dish, ApiError> {
        self.change(id, |dish| patch.apply(dish)).await
    }

    /// Takes a dish off the menu. Nothing is deleted: orders that name it keep working.
    pub async fn deactivate(&self, _admin: &AdminUser, id: &str) -> Result<(), ApiError> {
        self.change(id, |dish| {
            Ok(Dish {
                active: false,
                ..dish.clone()
            })
        })
        .await?;
        Ok(())
    }

    /// Reads a dish, applies `edit`, and writes it back guarded by the version it read; if another
    /// write got in between, does it again on the fresh copy.
    async fn change(
        &self,
        id: &str,
        edit: impl Fn(&Dish) -> Result<Dish, ApiError>,
    ) -> Result<Dish, ApiError> {
        for _ in 0..UPDATE_ATTEMPTS {
            let stored = self.find(id).await?;
            let mut next = edit(&stored.dish)?;
            if next == stored.dish {
                return Ok(next);
            }
            next.updated_at = crate::now();
            match self.db.replace_dish(&stored, &next).await {
                Ok(()) => return Ok(next),
                Err(DishWriteError::Changed) => continue,
                Err(err) => return Err(write_error(err)),
            }
        }
        Err(ApiError::Conflict(
            "the dish is being changed by someone else; try again".into(),
        ))
    }

    async fn find(&self, id: &str) -> Result<StoredDish, ApiError> {
        let not_found = || ApiError::NotFound("no such dish".into());
        let id = DishId::parse(id).map_err(|_| not_found())?;
        self.db.get_dish(&id).await?.ok_or_else(not_found)
    }
}

fn write_error(err: DishWriteError) -> ApiError {
    match err {
        DishWriteError::NameTaken => {
            ApiError::Conflict("a dish with this name already exists".into())
        }
        DishWriteError::Changed => {
            ApiError::Conflict("the dish changed meanwhile; try again".into())
        }
        DishWriteError::Db(err) => err.into(),
    }
}

fn check_window(dish: &Dish) -> Result<(), ApiError> {
    match dish.available_until {
        Some(until) if until < dish.available_from => Err(ApiError::unprocessable_field(
            "available_until",
            "must be on or after available_from",
        )),
        _ => Ok(()),
    }
}

/// Tags without repeats, in the order given. The limit counts the tags as sent, as the document's
/// `maxItems` does.
fn tidy_tags(tags: Vec<Tag>) -> Result<Vec<Tag>, ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid_field(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut unique: Vec<Tag> = Vec::new();
    for tag in tags {
        if !unique.contains(&tag) {
            unique.push(tag);
        }
    }
    Ok(unique)
}
