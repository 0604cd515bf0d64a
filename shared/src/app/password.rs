//! Changing one's own password: the current one is checked against the same throttle as sign-in,
//! and every other session of the account is signed out.

use super::sign_in::Accounts;
use crate::{caller::AuthUser, domain::Password, error::ApiError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: Password,
}

/// The stored (Argon2id) form of a new password.
pub(crate) async fn hash(password: &Password) -> Result<String, ApiError> {
    crate::password::hash(password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
}

impl Accounts<'_> {
    /// Sets the caller's password, given the current one, and ends the caller's other sessions.
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
        // guessing it at the login form.
        if let Some(email) = &caller.user.email {
            let throttle = self.db.login_throttle(email, now).await?;
            self.refuse_if_locked(
                throttle.as_ref(),
                now,
                "too many wrong passwords; try again later",
            )?;
        }
        if !crate::password::verify(&body.current_password, Some(current_hash)).await {
            if let Some(email) = &caller.user.email {
                self.count_failure(email, now).await?;
            }
            return Err(ApiError::Forbidden("current password is wrong".into()));
        }
        let hash = hash(&body.new_password).await?;
        self.db.set_password_hash(caller.id(), &hash, now).await?;
        let revoked = self
            .db
            .delete_sessions(caller.id(), Some(&caller.session.session_id))
            .await?;
        tracing::info!(user_id = %caller.id(), revoked, "password changed; other sessions revoked");
        Ok(())
    }
}
