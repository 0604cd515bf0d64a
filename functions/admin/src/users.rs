//! Seeing and managing users, and recording phone-only customers (`kitchen::app::admin_users`).

use axum::{Json, extract::Path, http::StatusCode};
use kitchen::{
    ApiError,
    app::admin_users::{NewCustomer, UserPatch, UserSearch},
    cursor::PageBody,
    domain::UserProfile,
    http::extract::{JsonBody, Listing, Staff, StaffBeside},
};

/// Users newest first, optionally searched by name, email or phone.
pub async fn list(
    staff: StaffBeside,
    listing: Listing<UserSearch>,
) -> Result<Json<PageBody<UserProfile>>, ApiError> {
    let users = staff.state.admin_users();
    let page = staff.page(&listing, "admin-users", |claim, start| {
        users.list(claim, &listing.filter, listing.limit.get(), start)
    });
    Ok(Json(page.await?))
}

/// Records a customer who has a phone but no password.
pub async fn create(
    Staff { admin, state }: Staff,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<(StatusCode, Json<UserProfile>), ApiError> {
    let user = state.admin_users().create_customer(&admin, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn get(
    staff: StaffBeside,
    Path(id): Path<String>,
) -> Result<Json<UserProfile>, ApiError> {
    let users = staff.state.admin_users();
    let found = staff.read(|claim| users.get(claim, &id)).await?;
    Ok(Json(found))
}

/// Changes a user. Deactivating ends every session of theirs at once; an admin may neither
/// deactivate nor demote themself.
pub async fn update(
    Staff { admin, state }: Staff,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(state.admin_users().update(&admin, &id, patch).await?))
}
