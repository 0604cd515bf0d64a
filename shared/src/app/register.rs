//! Signing up with an email and a password: the account, its first session and its email's
//! verification token in one write, then the verification email.

use super::sign_in::{Accounts, SignedIn};
use crate::{
    db::NewUser,
    domain::{Address, Email, Gender, Password, PersonName, PhoneNumber},
    error::ApiError,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: Email,
    pub password: Password,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub first_name: Option<PersonName>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub last_name: Option<PersonName>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub address: Option<Address>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub gender: Option<Gender>,
}

impl Accounts<'_> {
    /// Creates a customer's account, signs them in and emails them the link that verifies their
    /// address; a 409 if the email already has an account. The account stands even if the email
    /// cannot be sent (counted and alarmed): its holder can ask for another.
    pub async fn register(&self, body: RegisterRequest) -> Result<SignedIn, ApiError> {
        let hash = super::password::hash(&body.password).await?;
        let now = crate::now();
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
        let (signed_in, link) = self.sign_up(&user, now).await?.ok_or_else(|| {
            ApiError::Conflict("an account with this email already exists".into())
        })?;
        tracing::info!(user_id = %user.id, "registered");
        if let Some(token) = link {
            // Sent is logged by send_link; a failure is logged and counted there.
            let _ = self
                .send_link(&user, &token, crate::one_time::Purpose::VerifyEmail)
                .await;
        }
        Ok(signed_in)
    }
}
