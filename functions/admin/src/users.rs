//! Seeing and managing users, and recording phone-only customers (`kitchen::app::admin_users`).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    app::admin_users::{NewCustomer, UserPatch, UserSearch},
    cursor::PageBody,
    domain::UserProfile,
    http::extract::{AdminUser, JsonBody, Listing},
};

/// Users newest first, optionally searched by name, email or phone.
pub async fn list(
    admin: AdminUser,
    State(state): State<AppState>,
    Listing {
        filter,
        limit,
        cursor,
    }: Listing<UserSearch>,
) -> Result<Json<PageBody<UserProfile>>, ApiError> {
    let q = filter.q.as_ref().map(|q| q.as_str()).unwrap_or_default();
    let scope = format!("admin-users|{q}");
    let users = state.admin_users();
    let page = state.cursors()?.list(&scope, cursor.as_deref(), |start| {
        users.list(&admin, &filter, limit.get(), start)
    });
    Ok(Json(page.await?))
}

/// Records a customer who has a phone but no password.
pub async fn create(
    admin: AdminUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<(StatusCode, Json<UserProfile>), ApiError> {
    let user = state.admin_users().create_customer(&admin, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn get(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(state.admin_users().get(&admin, &id).await?))
}

/// Changes a user. Deactivating ends every session of theirs at once; an admin may neither
/// deactivate nor demote themself.
pub async fn update(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(state.admin_users().update(&admin, &id, patch).await?))
}
