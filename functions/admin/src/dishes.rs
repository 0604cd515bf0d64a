//! Managing the menu (`kitchen::app::admin_dishes`): every dish, active or not.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    app::admin_dishes::{DishFilter, DishPatch, NewDish},
    cursor::PageBody,
    domain::Dish,
    http::extract::{AdminUser, JsonBody, Listing},
};

pub async fn list(
    admin: AdminUser,
    State(state): State<AppState>,
    Listing {
        filter,
        limit,
        cursor,
    }: Listing<DishFilter>,
) -> Result<Json<PageBody<Dish>>, ApiError> {
    let q = filter.q.as_ref().map(|q| q.as_str()).unwrap_or_default();
    let scope = format!("admin-dishes|{:?}|{q}", filter.active);
    let dishes = state.admin_dishes();
    let page = state.cursors()?.list(&scope, cursor.as_deref(), |start| {
        dishes.list(&admin, &filter, limit.get(), start)
    });
    Ok(Json(page.await?))
}

pub async fn create(
    admin: AdminUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewDish>,
) -> Result<(StatusCode, Json<Dish>), ApiError> {
    let dish = state.admin_dishes().create(&admin, body).await?;
    Ok((StatusCode::CREATED, Json(dish)))
}

pub async fn get(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Dish>, ApiError> {
    Ok(Json(state.admin_dishes().get(&admin, &id).await?))
}

/// Changes any field of a dish. Orders already placed keep the prices they were placed with.
pub async fn update(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<DishPatch>,
) -> Result<Json<Dish>, ApiError> {
    Ok(Json(state.admin_dishes().update(&admin, &id, patch).await?))
}

/// Takes a dish off the menu. Nothing is deleted: orders that name it keep working.
pub async fn deactivate(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.admin_dishes().deactivate(&admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
