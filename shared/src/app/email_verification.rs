//! Proving an account's email: the link sent at sign-up (or on request) carries a one-time token;
//! using it marks the email verified. Customers need a verified email to place orders and pay.

use super::sign_in::Accounts;
use crate::{
    caller::AuthUser,
    db::StoredToken,
    domain::{User, UserProfile},
    error::ApiError,
    metrics,
    one_time::{LinkToken, Purpose},
};
use serde::Deserialize;
use std::time::Duration;

/// How long after one verification email another may be asked for.
pub const RESEND_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    pub token: crate::config::Secret,
}

/// The one answer for a token that is malformed, unknown, used, replaced or expired.
pub(super) fn bad_link() -> ApiError {
    ApiError::invalid_field("token", "is wrong, already used or expired")
}

impl Accounts<'_> {
    /// Uses a verification link's token: the account's email is verified from now on.
    pub async fn verify_email(&self, raw_token: &str) -> Result<UserProfile, ApiError> {
        let token = LinkToken::parse(raw_token).ok_or_else(bad_link)?;
        let now = crate::now();
        let (user, stored) = self
            .db
            .user_and_token(&token.user_id, Purpose::VerifyEmail)
            .await?;
        let (Some(mut user), Some(stored)) = (user, stored) else {
            return Err(bad_link());
        };
        if !stored.accepts(&token, now) || user.email.as_ref() != Some(&stored.email) {
            return Err(bad_link());
        }
        if !self.db.confirm_email(&token, now).await? {
            return Err(bad_link());
        }
        tracing::info!(user_id = %user.id, "email verified");
        user.email_verified = true;
        Ok(user.profile())
    }

    /// Sends the caller another verification email: a 409 if the email is verified already, a 429
    /// within [`RESEND_AFTER`] of the last one. The new link replaces the older.
    pub async fn resend_verification(&self, caller: &AuthUser) -> Result<(), ApiError> {
        let user = &caller.user;
        let Some(email) = user.email.as_ref().filter(|_| !user.has_verified_email()) else {
            return Err(ApiError::Conflict(
                "this account's email is already verified".into(),
            ));
        };
        let token = LinkToken::generate(user.id.clone());
        let stored = StoredToken::new(&token, email, Purpose::VerifyEmail, crate::now());
        if let Err(retry_after_secs) = self
            .db
            .store_token(&stored, Purpose::VerifyEmail, Some(RESEND_AFTER))
            .await?
        {
            return Err(ApiError::TooManyRequests {
                detail: "a verification email was sent a moment ago; check your inbox".into(),
                retry_after_secs,
            });
        }
        if let Err(err) = self.send_link(user, &token, Purpose::VerifyEmail).await {
            // Nobody got this link: take it back so that the retry is not held back by it.
            self.db
                .withdraw_token(&stored, Purpose::VerifyEmail)
                .await?;
            return Err(ApiError::Unavailable(Box::new(err)));
        }
        Ok(())
    }

    /// Emails `user` the link of `purpose` carrying `token`. A failure is logged and counted here;
    /// the caller decides what it means for the request.
    pub(super) async fn send_link(
        &self,
        user: &User,
        token: &LinkToken,
        purpose: Purpose,
    ) -> Result<(), crate::email::SendError> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        let name = user.first_name.as_ref().map(|n| n.as_str());
        let links = &self.mail.links;
        let letter = match purpose {
            Purpose::VerifyEmail => links.verification(name, &token.expose()),
            Purpose::ResetPassword => links.reset(name, &token.expose()),
        };
        match self.mail.mailer.send(email, &letter).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, purpose = purpose.as_str(), "account email sent");
                Ok(())
            }
            Err(err) => {
                tracing::error!(
                    user_id = %user.id,
                    purpose = purpose.as_str(),
                    error = %crate::error::cause_chain(&err),
                    "account email not sent"
                );
                metrics::EMAIL_FAILED.count([purpose.as_str()]);
                Err(err)
            }
        }
    }
}
