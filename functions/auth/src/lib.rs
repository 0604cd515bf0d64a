//! The auth function: sign-up, sign-in (password or Google), token refresh, sign-out, and the
//! caller's own profile and password.
//!
//! A sign-in starts a *session* (see `kitchen::db::Session`). The client gets a short-lived access
//! token naming the session and a refresh token that is rotated on every use; presenting a refresh
//! token that was already rotated is taken as theft and ends the session (RFC 9700 §4.14).

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use kitchen::{
    ApiError, AppState,
    db::{CreateUserError, NewUser, ProfileChanges, Session, User, UserProfile},
    domain::{Address, Email, Gender, Password, Patch, PersonName, PhoneNumber, SessionId},
    google::GoogleError,
    http::extract::{AuthUser, JsonBody, OptionalJsonBody},
    password,
    token::RefreshToken,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The auth function: it reads no setting beyond the table and the token key.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "auth",
    settings: &[],
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

/// The same answer for an unknown email and a wrong password.
const BAD_CREDENTIALS: &str = "email or password is wrong";

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub user: UserProfile,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

/// A new session for `user`, and the tokens that carry it.
fn new_session(
    state: &AppState,
    user: &User,
    now: OffsetDateTime,
) -> Result<(Session, TokenPair), ApiError> {
    let session_id = SessionId::new();
    let refresh = RefreshToken::generate(user.id.clone(), session_id.clone());
    let session = Session::start(
        user.id.clone(),
        session_id,
        refresh.hash(),
        now,
        state.config.refresh_token_ttl,
        state.config.session_max_age,
    );
    let tokens = tokens_for(state, user, &session.session_id, &refresh, now)?;
    Ok((session, tokens))
}

fn tokens_for(
    state: &AppState,
    user: &User,
    session: &SessionId,
    refresh: &RefreshToken,
    now: OffsetDateTime,
) -> Result<TokenPair, ApiError> {
    let access_token = state
        .tokens
        .issue_access(&user.id, session, user.role, now)
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token: refresh.expose(),
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl().as_secs(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: Email,
    pub password: Password,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub first_name: Option<PersonName>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub last_name: Option<PersonName>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub address: Option<Address>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub gender: Option<Gender>,
}

async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<SignedIn>), ApiError> {
    let hash = password::hash(&body.password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let now = kitchen::now();
    let user = NewUser {
        email: Some(body.email),
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        address: body.address,
        gender: body.gender.unwrap_or_default(),
        password_hash: Some(hash),
        ..NewUser::default()
    }
    .into_user(now);
    let (session, tokens) = new_session(&state, &user, now)?;
    state.db.create_user(&user, Some(&session)).await?;
    tracing::info!(user_id = %user.id, "registered");
    Ok((
        StatusCode::CREATED,
        Json(SignedIn {
            user: user.profile(),
            tokens,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Email,
    pub password: String,
}

async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let now = kitchen::now();
    let config = &state.config;
    let (throttle, user_id) = state.db.login_lookup(&body.email, now).await?;
    if let Some(retry_after_secs) = throttle
        .as_ref()
        .and_then(|t| t.locked_for(config.login_max_failures, now))
    {
        return Err(ApiError::TooManyRequests {
            detail: "too many failed sign-ins for this email; try again later".into(),
            retry_after_secs,
        });
    }
    let user = match user_id {
        Some(id) => state.db.get_user(&id).await?,
        None => None,
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let (Some(user), true) = (
        user.as_ref(),
        password::verify(&body.password, stored_hash).await,
    ) else {
        state
            .db
            .record_login_failure(&body.email, config.login_lockout, now)
            .await?;
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    if !user.active {
        return Err(ApiError::Forbidden("this account is deactivated".into()));
    }
    if throttle.is_some() {
        state.db.clear_login_failures(&body.email).await?;
    }
    let (session, tokens) = new_session(&state, user, now)?;
    state.db.put_session(&session).await?;
    Ok(Json(SignedIn {
        user: user.profile(),
        tokens,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let invalid = || ApiError::Unauthorized("refresh token invalid or expired".into());
    let presented = RefreshToken::parse(&body.refresh_token).ok_or_else(invalid)?;
    let now = kitchen::now();
    let (session, user) = state
        .db
        .session_for_refresh(&presented.user_id, &presented.session_id)
        .await?;
    let session = session.filter(|s| s.is_live(now)).ok_or_else(invalid)?;
    let reused =
        || ApiError::Unauthorized("refresh token was already used; the session is revoked".into());
    if session.refresh_hash != presented.hash() {
        // A rotated token came back: someone holds a copy. End the session for both of them.
        state
            .db
            .delete_session(&session.user_id, &session.session_id)
            .await?;
        tracing::warn!(user_id = %session.user_id, session_id = %session.session_id, "refresh token reuse; session revoked");
        return Err(reused());
    }
    let Some(user) = user.filter(|u| u.active) else {
        state
            .db
            .delete_session(&session.user_id, &session.session_id)
            .await?;
        return Err(invalid());
    };
    let next = RefreshToken::generate(user.id.clone(), session.session_id.clone());
    let rotated = state
        .db
        .rotate_session(
            &session,
            &session.refresh_hash,
            &next.hash(),
            state.config.refresh_token_ttl,
            now,
        )
        .await?;
    if rotated.is_none() {
        // Another request rotated this same token a moment ago: the token was used twice.
        state
            .db
            .delete_session(&session.user_id, &session.session_id)
            .await?;
        return Err(reused());
    }
    Ok(Json(tokens_for(
        &state,
        &user,
        &session.session_id,
        &next,
        now,
    )?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub refresh_token: Option<String>,
}

/// Ends the caller's session; a refresh token of another of the caller's sessions ends that too.
async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    OptionalJsonBody(body): OptionalJsonBody<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    if let Some(raw) = body.and_then(|b| b.refresh_token) {
        let token = RefreshToken::parse(&raw)
            .ok_or_else(|| ApiError::invalid_field("refresh_token", "is not a refresh token"))?;
        if &token.user_id == caller.id() && token.session_id != caller.session.session_id {
            state
                .db
                .delete_session(&token.user_id, &token.session_id)
                .await?;
        }
    }
    state
        .db
        .delete_session(caller.id(), &caller.session.session_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleRequest {
    pub id_token: String,
}

/// Signs in with a Google ID token; the first sign-in creates the account, and an existing account
/// with the same (Google-verified) email is linked to the Google account.
async fn google(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<GoogleRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let identity = state
        .google
        .verify(&body.id_token)
        .await
        .map_err(|err| match err {
            GoogleError::Rejected(why) => ApiError::Unauthorized(why.to_string()),
            GoogleError::KeysUnavailable(source) => ApiError::BadGateway(source),
        })?;
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| ApiError::Unauthorized("Google gave no usable email".into()))?;
    let now = kitchen::now();
    let user = match state.db.user_by_email(&email).await? {
        Some(user) => user,
        None => {
            let user = NewUser {
                email: Some(email.clone()),
                first_name: identity
                    .given_name
                    .as_deref()
                    .and_then(|n| PersonName::parse(n).ok()),
                last_name: identity
                    .family_name
                    .as_deref()
                    .and_then(|n| PersonName::parse(n).ok()),
                google_sub: Some(identity.sub.clone()),
                ..NewUser::default()
            }
            .into_user(now);
            let (session, tokens) = new_session(&state, &user, now)?;
            match state.db.create_user(&user, Some(&session)).await {
                Ok(()) => {
                    return Ok(Json(SignedIn {
                        user: user.profile(),
                        tokens,
                    }));
                }
                // Signed up a moment ago by another request: sign in to that account below.
                Err(CreateUserError::EmailTaken) => state
                    .db
                    .user_by_email(&email)
                    .await?
                    .ok_or_else(|| ApiError::internal("email claim without user"))?,
                Err(CreateUserError::Db(err)) => return Err(err.into()),
            }
        }
    };
    if !user.active {
        return Err(ApiError::Forbidden("this account is deactivated".into()));
    }
    let linked = match user.google_sub.as_deref() {
        Some(sub) => sub == identity.sub,
        None => state.db.link_google(&user.id, &identity.sub, now).await?,
    };
    if !linked {
        return Err(ApiError::Unauthorized(
            "this email is linked to another Google account".into(),
        ));
    }
    let (session, tokens) = new_session(&state, &user, now)?;
    state.db.put_session(&session).await?;
    Ok(Json(SignedIn {
        user: user.profile(),
        tokens,
    }))
}

async fn me(caller: AuthUser) -> Json<UserProfile> {
    Json(caller.user.profile())
}

/// The fields a user may change about themself; `email`, `role` and `active` are not among them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default)]
    pub first_name: Patch<PersonName>,
    #[serde(default)]
    pub last_name: Patch<PersonName>,
    #[serde(default)]
    pub phone: Patch<PhoneNumber>,
    #[serde(default)]
    pub address: Patch<Address>,
    #[serde(default, deserialize_with = "kitchen::domain::non_null")]
    pub gender: Option<Gender>,
}

async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<Json<UserProfile>, ApiError> {
    let changes = ProfileChanges {
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        address: body.address,
        gender: body.gender,
    };
    let nothing = changes.first_name.is_absent()
        && changes.last_name.is_absent()
        && changes.phone.is_absent()
        && changes.address.is_absent()
        && changes.gender.is_none();
    if nothing {
        return Ok(Json(caller.user.profile()));
    }
    let user = state
        .db
        .update_profile(caller.id(), &changes, kitchen::now())
        .await?
        .ok_or_else(|| ApiError::Unauthorized("session is no longer valid".into()))?;
    Ok(Json(user.profile()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: Password,
}

/// Changes the caller's password and signs out every other session.
async fn change_password(
    State(state): State<AppState>,
    caller: AuthUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let now = kitchen::now();
    let config = &state.config;
    let Some(current_hash) = caller.user.password_hash.as_deref() else {
        return Err(ApiError::Conflict(
            "this account signs in with Google and has no password".into(),
        ));
    };
    // Guessing the current password with a stolen access token counts against the same limit as
    // guessing it at the login form.
    if let Some(email) = &caller.user.email
        && let Some(throttle) = state.db.login_throttle(email, now).await?
        && let Some(retry_after_secs) = throttle.locked_for(config.login_max_failures, now)
    {
        return Err(ApiError::TooManyRequests {
            detail: "too many wrong passwords; try again later".into(),
            retry_after_secs,
        });
    }
    if !password::verify(&body.current_password, Some(current_hash)).await {
        if let Some(email) = &caller.user.email {
            state
                .db
                .record_login_failure(email, config.login_lockout, now)
                .await?;
        }
        return Err(ApiError::Forbidden("current password is wrong".into()));
    }
    let hash = password::hash(&body.new_password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    state.db.set_password_hash(caller.id(), &hash, now).await?;
    let revoked = state
        .db
        .delete_sessions(caller.id(), Some(&caller.session.session_id))
        .await?;
    tracing::info!(user_id = %caller.id(), revoked, "password changed; other sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}
