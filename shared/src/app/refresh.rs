//! Keeping a session alive and ending it. Every refresh rotates the refresh token; presenting one
//! that was already rotated is taken as theft and ends the session (RFC 9700 §4.14). The session
//! remembers the tokens rotation replaced, so only a token it really issued can end it.

use super::sign_in::{Accounts, TokenPair};
use crate::{caller::AuthUser, config::Secret, error::ApiError, token::RefreshToken};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: Secret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub refresh_token: Option<Secret>,
}

impl Accounts<'_> {
    /// A new token pair for the session the refresh token names, which it replaces. A token the
    /// session issued before and has replaced since is a stolen copy (or the thief's original):
    /// the session ends. Any other wrong token is a plain 401 that changes nothing, so knowing a
    /// user's and a session's ids (from any access token) is not enough to end their session.
    pub async fn refresh(&self, body: RefreshRequest) -> Result<TokenPair, ApiError> {
        let invalid = || ApiError::Unauthorized("refresh token invalid or expired".into());
        let presented = RefreshToken::parse(body.refresh_token.expose()).ok_or_else(invalid)?;
        let now = crate::now();
        let (session, user) = self
            .db
            .session_for_refresh(&presented.user_id, &presented.session_id)
            .await?;
        let session = session.filter(|s| s.is_live(now)).ok_or_else(invalid)?;
        let reused = || {
            ApiError::Unauthorized("refresh token was already used; the session is revoked".into())
        };
        let hash = presented.hash();
        if session.refresh_hash != hash {
            if !session.replaced(&hash) {
                return Err(invalid());
            }
            // A replaced token came back: someone holds a copy. End the session for both of them.
            self.db
                .delete_session(&session.user_id, &session.session_id)
                .await?;
            tracing::warn!(user_id = %session.user_id, session_id = %session.session_id, "refresh token reuse; session revoked");
            return Err(reused());
        }
        // A deactivation or a credential change since the session began ended it.
        let Some(user) = user.filter(|u| session.is_honoured_by(u)) else {
            self.db
                .delete_session(&session.user_id, &session.session_id)
                .await?;
            return Err(invalid());
        };
        let next = RefreshToken::generate(user.id.clone(), session.session_id.clone());
        let rotated = self
            .db
            .rotate_session(&session, &next.hash(), self.settings.refresh_token_ttl, now)
            .await?;
        if rotated.is_none() {
            // Another request rotated this same token a moment ago: the token was used twice.
            self.db
                .delete_session(&session.user_id, &session.session_id)
                .await?;
            return Err(reused());
        }
        self.tokens_for(&user, &session.session_id, &next, now)
    }

    /// Ends the caller's session; a refresh token of another of the caller's sessions ends that
    /// too.
    pub async fn sign_out(
        &self,
        caller: &AuthUser,
        body: Option<LogoutRequest>,
    ) -> Result<(), ApiError> {
        if let Some(raw) = body.and_then(|b| b.refresh_token) {
            let token = RefreshToken::parse(raw.expose()).ok_or_else(|| {
                ApiError::invalid_field("refresh_token", "is not a refresh token")
            })?;
            if &token.user_id == caller.id() && token.session_id != caller.session.session_id {
                self.db
                    .delete_session(&token.user_id, &token.session_id)
                    .await?;
            }
        }
        self.db
            .delete_session(caller.id(), &caller.session.session_id)
            .await?;
        Ok(())
    }
}
