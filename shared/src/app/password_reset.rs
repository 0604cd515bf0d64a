//! A forgotten password: asking for a reset email answers the same whatever the email, and sends
//! one (at most [`RESET_EMAILS_PER_HOUR`] an hour) only to an active account with it. The link's
//! one-time token sets a new password once, within 30 minutes, and ends every session.

use super::{email_verification::bad_link, sign_in::Accounts};
use crate::{
    db::{Counted, StoredToken},
    domain::{Email, Password},
    error::ApiError,
    one_time::{LinkToken, Purpose},
};
use serde::Deserialize;
use std::time::Duration;

/// Reset emails sent to one address within [`RESET_WINDOW`]; further requests send nothing.
pub const RESET_EMAILS_PER_HOUR: u32 = 3;
const RESET_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    pub email: Email,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub token: crate::config::Secret,
    pub new_password: Password,
}

impl Accounts<'_> {
    /// Sends a reset link to the account with `email`, if there is an active one and the address
    /// has not had [`RESET_EMAILS_PER_HOUR`] this hour. Answers nothing either way, so the caller
    /// learns nothing about which emails have accounts (a failure to send is logged and counted,
    /// not answered, for the same reason).
    pub async fn forgot_password(&self, body: ForgotPassword) -> Result<(), ApiError> {
        let now = crate::now();
        let email = &body.email;
        let (sent, holder) = tokio::join!(
            self.db
                .count_attempt(Counted::ResetEmail(email), RESET_WINDOW, now),
            self.db.user_id_by_email(email)
        );
        if sent?.attempts > RESET_EMAILS_PER_HOUR {
            tracing::info!("password reset asked for too often for one email; nothing sent");
            return Ok(());
        }
        let Some(id) = holder? else {
            return Ok(());
        };
        let Some(user) = self.db.get_user(&id).await?.filter(|u| u.active) else {
            return Ok(());
        };
        let token = LinkToken::generate(user.id.clone());
        let stored = StoredToken::new(&token, email, Purpose::ResetPassword, now);
        // No cooldown: the per-address limit above already holds, and a newer link replaces the
        // older, so only the latest email works.
        self.db
            .store_token(&stored, Purpose::ResetPassword, None)
            .await?
            .map_err(|_| ApiError::internal("a token stored without a condition was refused"))?;
        let _ = self.send_link(&user, &token, Purpose::ResetPassword).await;
        Ok(())
    }

    /// Whether a reset link's token would be accepted now (for the page that shows the form).
    pub async fn reset_link_works(&self, raw_token: &str) -> Result<bool, ApiError> {
        let Some(token) = LinkToken::parse(raw_token) else {
            return Ok(false);
        };
        let (user, stored) = self
            .db
            .user_and_token(&token.user_id, Purpose::ResetPassword)
            .await?;
        Ok(matches!((user, stored), (Some(user), Some(stored))
            if user.active && stored.accepts(&token, crate::now())))
    }

    /// Sets a new password with a reset link's token: every session of the account ends, its email
    /// counts as verified (the link reached it), and the token is used up.
    pub async fn reset_password(&self, body: ResetPassword) -> Result<(), ApiError> {
        let token = LinkToken::parse(body.token.expose()).ok_or_else(bad_link)?;
        let now = crate::now();
        let (user, stored) = self
            .db
            .user_and_token(&token.user_id, Purpose::ResetPassword)
            .await?;
        let (Some(user), Some(stored)) = (user, stored) else {
            return Err(bad_link());
        };
        // Checked before the password is hashed, so a made-up token costs no hashing.
        if !user.active || !stored.accepts(&token, now) {
            return Err(bad_link());
        }
        let hash = super::password::hash(&body.new_password).await?;
        if !self
            .db
            .reset_password(&token, &stored.email, &hash, now)
            .await?
        {
            return Err(bad_link());
        }
        tracing::info!(user_id = %user.id, "password reset; every session ended");
        Ok(())
    }
}
