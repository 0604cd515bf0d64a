//! Seeing and managing users, and recording phone-only customers (walk-in and phone orders).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    cursor::PageBody,
    db::{CreateUserError, NewUser, ProfileChanges},
    domain::{Address, Email, PageLimit, Patch, PersonName, PhoneNumber, Role, SearchText, UserId},
    domain::{User, UserProfile},
    http::extract::{AdminUser, JsonBody, Query},
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<SearchText>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// Users newest first, optionally searched by name, email or phone.
pub async fn list(
    _admin: AdminUser,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<PageBody<UserProfile>>, ApiError> {
    let q = query.q.as_ref().map(|q| q.as_str());
    let scope = format!("admin-users|{}", q.unwrap_or_default());
    let start = state.cursors()?.start(&scope, query.cursor.as_deref())?;
    let page = state.db.list_users(q, query.limit.get(), start).await?;
    Ok(Json(
        state.cursors()?.page(&scope, page, |user| user.profile()),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    first_name: PersonName,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    last_name: Option<PersonName>,
    phone: PhoneNumber,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    address: Option<Address>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    email: Option<Email>,
}

/// Records a customer who has a phone but no password: staff can place orders for them, and they
/// cannot sign in (there is no password to sign in with).
pub async fn create(
    _admin: AdminUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<(StatusCode, Json<UserProfile>), ApiError> {
    let user = NewUser {
        email: body.email,
        first_name: Some(body.first_name),
        last_name: body.last_name,
        phone: Some(body.phone),
        address: body.address,
        ..NewUser::default()
    }
    .into_user(kitchen::now());
    state
        .db
        .create_user(&user, None)
        .await
        .map_err(|err| match err {
            CreateUserError::EmailTaken => {
                ApiError::Conflict("an account with this email already exists".into())
            }
            CreateUserError::Db(err) => err.into(),
        })?;
    tracing::info!(user_id = %user.id, "customer recorded by staff");
    Ok((StatusCode::CREATED, Json(user.profile())))
}

pub async fn get(
    _admin: AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(find(&state, &id).await?.profile()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    role: Option<Role>,
    #[serde(default)]
    first_name: Patch<PersonName>,
    #[serde(default)]
    last_name: Patch<PersonName>,
    #[serde(default)]
    phone: Patch<PhoneNumber>,
    #[serde(default)]
    address: Patch<Address>,
}

/// Changes a user. Deactivating ends every session of theirs at once; an admin may neither
/// deactivate nor demote themself (so the kitchen cannot lock itself out by accident).
pub async fn update(
    AdminUser(admin): AdminUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserProfile>, ApiError> {
    let target = find(&state, &id).await?;
    if &target.id == admin.id()
        && (patch.active == Some(false) || patch.role == Some(Role::Customer))
    {
        return Err(ApiError::Conflict(
            "an admin cannot deactivate or demote themself".into(),
        ));
    }
    let changes = ProfileChanges {
        first_name: patch.first_name,
        last_name: patch.last_name,
        phone: patch.phone,
        address: patch.address,
        gender: None,
    };
    let user = state
        .db
        .update_user_as_admin(
            &target.id,
            &changes,
            patch.role,
            patch.active,
            kitchen::now(),
        )
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    if patch.active == Some(false) {
        // The flag alone already refuses their tokens; deleting the sessions also ends refreshes.
        let revoked = state.db.delete_sessions(&user.id, None).await?;
        tracing::info!(user_id = %user.id, revoked, "user deactivated; sessions revoked");
    }
    Ok(Json(user.profile()))
}

async fn find(state: &AppState, id: &str) -> Result<User, ApiError> {
    let not_found = || ApiError::NotFound("no such user".into());
    let id = UserId::parse(id).map_err(|_| not_found())?;
    state.db.get_user(&id).await?.ok_or_else(not_found)
}
