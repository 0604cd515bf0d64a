//! Managing the menu: every dish, active or not.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::{DishWriteError, StoredDish},
    domain::Dish,
    domain::{
        Currency, Date, Description, DishId, DishName, DishType, PageLimit, Patch, Price,
        SearchText, Tag,
    },
    http::extract::{AdminUser, JsonBody, Query},
};
use serde::Deserialize;

/// Tags a dish may carry.
const MAX_TAGS: usize = 10;
/// Times an update re-reads and re-applies itself when another write got in first.
const UPDATE_ATTEMPTS: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    active: Option<bool>,
    q: Option<SearchText>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

pub async fn list(
    _admin: AdminUser,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<Dish>>, ApiError> {
    let q = query.q.as_ref().map(|q| q.as_str());
    let scope = format!("admin-dishes|{:?}|{}", query.active, q.unwrap_or_default());
    let start = state.cursors()?.start(&scope, query.cursor.as_deref())?;
    let page = state
        .db
        .all_dishes(query.active, q, query.limit.get(), start)
        .await?;
    Ok(Json(
        state.cursors()?.page(&scope, page, |stored| stored.dish),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDish {
    name: DishName,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    description: Option<Description>,
    price: Price,
    currency: Currency,
    dish_type: DishType,
    #[serde(default)]
    tags: Vec<Tag>,
    available_from: Date,
    #[serde(default)]
    available_until: Option<Date>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    active: Option<bool>,
}

pub async fn create(
    _admin: AdminUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewDish>,
) -> Result<(StatusCode, Json<Dish>), ApiError> {
    let now = kitchen::now();
    let dish = Dish {
        id: DishId::new(),
        name: body.name,
        description: body
            .description
            .unwrap_or_else(|| Description::parse("").expect("empty is valid")),
        price: body.price,
        currency: body.currency,
        dish_type: body.dish_type,
        tags: tidy_tags(body.tags)?,
        available_from: body.available_from,
        available_until: body.available_until,
        active: body.active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    check_window(&dish)?;
    state.db.create_dish(&dish).await.map_err(write_error)?;
    tracing::info!(dish_id = %dish.id, "dish created");
    Ok((StatusCode::CREATED, Json(dish)))
}

pub async fn get(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Dish>, ApiError> {
    Ok(Json(find(&state, &id).await?.dish))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DishPatch {
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    name: Option<DishName>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    description: Option<Description>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    price: Option<Price>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    currency: Option<Currency>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    dish_type: Option<DishType>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    available_from: Option<Date>,
    /// `null` makes the dish open-ended.
    #[serde(default)]
    available_until: Patch<Date>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    active: Option<bool>,
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
        check_window(&next)?;
        Ok(next)
    }
}

/// Changes any field of a dish. Orders already placed keep the prices they were placed with.
pub async fn update(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<DishPatch>,
) -> Result<Json<Dish>, ApiError> {
    let dish = change(&state, &id, |dish| patch.apply(dish)).await?;
    Ok(Json(dish))
}

/// Takes a dish off the menu. Nothing is deleted: orders that name it keep working.
pub async fn deactivate(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    change(&state, &id, |dish| {
        Ok(Dish {
            active: false,
            ..dish.clone()
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads a dish, applies `edit`, and writes it back guarded by the version it read; if another write
/// got in between, does it again on the fresh copy.
async fn change(
    state: &AppState,
    id: &str,
    edit: impl Fn(&Dish) -> Result<Dish, ApiError>,
) -> Result<Dish, ApiError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let stored = find(state, id).await?;
        let mut next = edit(&stored.dish)?;
        if next == stored.dish {
            return Ok(next);
        }
        next.updated_at = kitchen::now();
        match state.db.replace_dish(&stored, &next).await {
            Ok(()) => return Ok(next),
            Err(DishWriteError::Changed) => continue,
            Err(err) => return Err(write_error(err)),
        }
    }
    Err(ApiError::Conflict(
        "the dish is being changed by someone else; try again".into(),
    ))
}

async fn find(state: &AppState, id: &str) -> Result<StoredDish, ApiError> {
    let not_found = || ApiError::NotFound("no such dish".into());
    let id = DishId::parse(id).map_err(|_| not_found())?;
    state.db.get_dish(&id).await?.ok_or_else(not_found)
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
