//! The auth function: sign-up, sign-in (password or Google), token refresh, sign-out, email
//! verification, password reset, the caller's own profile and password, and the public keys its
//! access tokens are checked with. The rules live in `kitchen::app` (`sign_in`, `register`,
//! `google_sign_in`, `refresh`, `profile`, `password`, `email_verification`, `password_reset`);
//! these handlers only extract and answer, and [`pages`] holds the HTML the email links open.

pub mod pages;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    routing::{get, post},
};
use kitchen::{
    ApiError, AppState,
    app::{
        email_verification::VerifyEmailRequest,
        google_sign_in::GoogleRequest,
        password::PasswordChange,
        password_reset::{ForgotPassword, ResetPassword},
        profile::{self, ProfilePatch},
        refresh::{LogoutRequest, RefreshRequest},
        register::RegisterRequest,
        sign_in::{LoginRequest, SignedIn, TokenPair},
    },
    domain::UserProfile,
    http::extract::{AuthUser, JsonBody, OptionalJsonBody, Query},
};
use serde::{Deserialize, Serialize};

/// The auth function: the table, the token signing key (it alone holds it) and the public keys (to
/// check its own routes' tokens and publish them), Google's settings, the session rules, and the
/// account emails' sender.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "auth",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::TokenSigningKey,
        kitchen::config::Setting::TokenPublicKeys,
        kitchen::config::Setting::Google,
        kitchen::config::Setting::Sessions,
        kitchen::config::Setting::Email,
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
        .route(
            "/auth/email/verify",
            post(verify_email).get(verify_email_page),
        )
        .route("/auth/email/resend", post(resend_verification))
        .route("/auth/password/forgot", post(forgot_password))
        .route(
            "/auth/password/reset",
            post(reset_password).get(reset_password_page),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

/// How long a client may keep the key set. A new key is published at least this long before
/// anything is signed with it (docs/token-keys.md), so a cached set never misses a live key.
pub const JWKS_MAX_AGE_SECONDS: u32 = 300;

/// The public keys access tokens are checked with (RFC 7517), for anyone.
async fn jwks(
    State(state): State<AppState>,
) -> Result<
    (
        [(header::HeaderName, String); 1],
        Json<kitchen::token::Jwks>,
    ),
    ApiError,
> {
    let jwks = state.token_verifier()?.jwks();
    Ok((
        [(
            header::CACHE_CONTROL,
            format!("public, max-age={JWKS_MAX_AGE_SECONDS}"),
        )],
        Json(jwks),
    ))
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

/// `POST /auth/email/verify`'s answer.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub user: UserProfile,
}

/// A link's query string: its token, and whatever a mail client added to the link (ignored).
#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    token: Option<String>,
}

async fn verify_email(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<VerifyEmailRequest>,
) -> Result<Json<Verified>, ApiError> {
    let user = state.accounts()?.verify_email(body.token.expose()).await?;
    Ok(Json(Verified { user }))
}

/// The verification email's link: verifies, and says so in a page.
async fn verify_email_page(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> axum::response::Response {
    let outcome = match state.accounts() {
        Ok(accounts) => {
            accounts
                .verify_email(query.token.as_deref().unwrap_or(""))
                .await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(_) => pages::email_verified(),
        Err(ApiError::BadRequest { .. }) => pages::verification_link_bad(),
        Err(err) => page_for_failure(err),
    }
}

/// Emails the caller another verification link.
async fn resend_verification(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<StatusCode, ApiError> {
    state.accounts()?.resend_verification(&caller).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Always 202: whether the email has an account is not the caller's to learn.
async fn forgot_password(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ForgotPassword>,
) -> Result<StatusCode, ApiError> {
    state.accounts()?.forgot_password(body).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn reset_password(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ResetPassword>,
) -> Result<StatusCode, ApiError> {
    state.accounts()?.reset_password(body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The reset email's link: a form for the new password, if the link still works.
async fn reset_password_page(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> axum::response::Response {
    let token = query.token.unwrap_or_default();
    let works = match state.accounts() {
        Ok(accounts) => accounts.reset_link_works(&token).await,
        Err(err) => Err(err),
    };
    match works {
        Ok(true) => pages::reset_form(token.trim()),
        Ok(false) => pages::reset_link_bad(),
        Err(err) => page_for_failure(err),
    }
}

/// A page for a link that could not be checked: the table down is "try again"; anything else is
/// answered as the problem it is. Either way the problem response is made, so a 5xx's cause chain
/// is logged as every other 5xx's is.
fn page_for_failure(err: ApiError) -> axum::response::Response {
    use axum::response::IntoResponse;
    use kitchen::http::problem::Status;
    let unavailable = err.status() == StatusCode::SERVICE_UNAVAILABLE;
    let problem = err.into_response();
    if unavailable {
        pages::unavailable()
    } else {
        problem
    }
}
