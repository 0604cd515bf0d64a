//! Managing the menu (`kitchen::app::admin_dishes`): every dish, active or not.

use axum::{Json, extract::Path, http::StatusCode};
use kitchen::{
    ApiError,
    app::admin_dishes::{DishFilter, DishPatch, NewDish},
    cursor::PageBody,
    domain::Dish,
    http::extract::{JsonBody, Listing, Staff, StaffBeside},
};

pub async fn list(
    staff: StaffBeside,
    listing: Listing<DishFilter>,
) -> Result<Json<PageBody<Dish>>, ApiError> {
    let dishes = staff.state.admin_dishes();
    let page = staff.page(&listing, "admin-dishes", |claim, start| {
        dishes.list(claim, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}

pub async fn create(
    Staff { admin, state }: Staff,
    JsonBody(body): JsonBody<NewDish>,
) -> Result<(StatusCode, Json<Dish>), ApiError> {
    let dish = state.admin_dishes().create(&admin, body).await?;
    Ok((StatusCode::CREATED, Json(dish)))
}

pub async fn get(staff: StaffBeside, Path(id): Path<String>) -> Result<Json<Dish>, ApiError> {
    let dishes = staff.state.admin_dishes();
    let found = staff.read(|claim| dishes.get(claim, &id)).await?;
    Ok(Json(found))
}

/// Changes any field of a dish. Orders already placed keep the prices they were placed with.
pub async fn update(
    Staff { admin, state }: Staff,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<DishPatch>,
) -> Result<Json<Dish>, ApiError> {
    Ok(Json(state.admin_dishes().update(&admin, &id, patch).await?))
}

/// Takes a dish off the menu. Nothing is deleted: orders that name it keep working.
pub async fn deactivate(
    Staff { admin, state }: Staff,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.admin_dishes().deactivate(&admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
