//! The auth function: sign-up, sign-in (password or Google), token refresh, sign-out, and the
//! caller's own profile and password. The rules live in `kitchen::app` (`sign_in`, `register`,
//! `google_sign_in`, `refresh`, `profile`, `password`); these handlers only extract and answer.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use kitchen::{
    ApiError, AppState,
    app::{
        google_sign_in::GoogleRequest,
        password::PasswordChange,
        profile::{self, ProfilePatch},
        refresh::{LogoutRequest, RefreshRequest},
        register::RegisterRequest,
        sign_in::{LoginRequest, SignedIn, TokenPair},
    },
    domain::UserProfile,
    http::extract::{AuthUser, JsonBody, OptionalJsonBody},
};

/// The auth function: it reads no setting beyond the table and the token key.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "auth",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::TokenKey,
        kitchen::config::Setting::Google,
        kitchen::config::Setting::Sessions,
    ],
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/google", post(google))
        .route("/me", get(me).patch(update_me))
        .route("/me/password", post(change_password))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<SignedIn>), ApiError> {
    let signed_in = state.accounts()?.register(body).await?;
    Ok((StatusCode::CREATED, Json(signed_in)))
}

async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(state.accounts()?.sign_in(body).await?))
}

async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.accounts()?.refresh(body).await?))
}

/// Ends the caller's session; a refresh token of another of the caller's sessions ends that too.
async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    OptionalJsonBody(body): OptionalJsonBody<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    state.accounts()?.sign_out(&caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs in with a Google ID token; the first sign-in creates the account.
async fn google(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<GoogleRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(state.accounts_with_google()?.sign_in(body).await?))
}

async fn me(caller: AuthUser) -> Json<UserProfile> {
    Json(profile::show(&caller))
}

async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(state.accounts()?.update_profile(&caller, body).await?))
}

/// Changes the caller's password and signs out every other session.
async fn change_password(
    State(state): State<AppState>,
    caller: AuthUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state.accounts()?.change_password(&caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
