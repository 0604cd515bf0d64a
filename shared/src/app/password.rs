//! Changing one's own password: the current one is checked against the same throttle as sign-in,
//! and every other session of the account ends.

use super::sign_in::Accounts;
use crate::{caller::AuthUser, domain::Password, error::ApiError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: crate::config::Secret,
    pub new_password: Password,
}

/// The stored (Argon2id) form of a new password.
pub(crate) async fn hash(password: &Password) -> Result<String, ApiError> {
    crate::password::hash(password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
}

impl Accounts<'_> {
    /// Sets the caller's password, given the current one, and ends every other session of theirs
    /// as no race can undo (the credential version moves on; the caller's session moves with it).
    pub async fn change_password(
        &self,
        caller: &AuthUser,
        body: PasswordChange,
    ) -> Result<(), ApiError> {
        let now = crate::now();
        let Some(current_hash) = caller.user.password_hash.as_deref() else {
            return Err(ApiError::Conflict(
                "this account signs in with Google and has no password".into(),
            ));
        };
        // Guessing the current password with a stolen access token counts against the same limit as
        // guessing it at the login form, counted before the guess is checked.
        if let Some(email) = &caller.user.email {
            let attempts = self.count_attempt(email, now).await?;
            self.refuse_past_limit(&attempts, now, "too many wrong passwords; try again later")?;
        }
        if !crate::password::verify(body.current_password.expose(), Some(current_hash)).await {
            return Err(ApiError::Forbidden("current password is wrong".into()));
        }
        let hash = hash(&body.new_password).await?;
        if !self
            .db
            .change_password(&caller.user, &caller.session, &hash, now)
            .await?
        {
            return Err(ApiError::Conflict(
                "the account's credentials changed meanwhile; sign in again".into(),
            ));
        }
        tracing::info!(user_id = %caller.id(), "password changed; other sessions revoked");
        Ok(())
    }
}
