//! Signing in with a Google ID token. The first sign-in creates the account. An existing account
//! with the same email is linked to the Google account only if its email was verified; one whose
//! email nobody proved is taken over by the Google identity, which has just proved it: its password
//! is removed and every session it had ends, so whoever registered someone else's email keeps
//! nothing.

use super::sign_in::{Accounts, SignedIn};
use crate::{
    db::NewUser,
    domain::{Email, PersonName},
    error::ApiError,
    google::{GoogleError, GoogleVerifier},
};
use serde::Deserialize;

/// What Google sign-in uses: the account workflows' dependencies and Google's token verifier.
#[derive(Clone, Copy)]
pub struct GoogleSignIn<'a> {
    pub accounts: Accounts<'a>,
    pub google: &'a GoogleVerifier,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleRequest {
    pub id_token: crate::config::Secret,
}

impl GoogleSignIn<'_> {
    /// Signs in (or up) the holder of a verified Google ID token.
    pub async fn sign_in(&self, body: GoogleRequest) -> Result<SignedIn, ApiError> {
        let accounts = &self.accounts;
        let identity =
            self.google
                .verify(body.id_token.expose())
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
        let now = crate::now();
        let user = match accounts.db.user_by_email(&email).await? {
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
                    email_verified: true,
                    ..NewUser::default()
                }
                .into_user(now);
                if let Some((signed_in, _)) = accounts.sign_up(&user, now).await? {
                    return Ok(signed_in);
                }
                // Signed up a moment ago by another request: sign in to that account below.
                accounts
                    .db
                    .user_by_email(&email)
                    .await?
                    .ok_or_else(|| ApiError::internal("email claim without user"))?
            }
        };
        if !user.active {
            return Err(ApiError::Forbidden("this account is deactivated".into()));
        }
        let user = if user.has_verified_email() {
            user
        } else {
            match accounts
                .db
                .take_over_for_google(&user.id, &identity.sub, now)
                .await?
            {
                Some(taken_over) => {
                    tracing::warn!(user_id = %taken_over.id, "unverified account taken over by the Google identity of its email; password removed, sessions ended");
                    taken_over
                }
                // Verified or linked a moment ago: decide again on the account as it is now.
                None => accounts
                    .db
                    .get_user(&user.id)
                    .await?
                    .filter(|u| u.has_verified_email())
                    .ok_or_else(|| ApiError::internal("account neither verified nor taken over"))?,
            }
        };
        let linked = match user.google_sub.as_deref() {
            Some(sub) => sub == identity.sub,
            None => {
                accounts
                    .db
                    .link_google(&user.id, &identity.sub, now)
                    .await?
            }
        };
        if !linked {
            return Err(ApiError::Unauthorized(
                "this email is linked to another Google account".into(),
            ));
        }
        accounts.start_session(&user, None, now).await
    }
}
