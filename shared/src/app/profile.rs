//! The caller's own profile: reading it, and changing the fields a user may change about themself.

use super::sign_in::Accounts;
use crate::{
    caller::AuthUser,
    db::ProfileChanges,
    domain::UserProfile,
    domain::{Address, Gender, Patch, PersonName, PhoneNumber},
    error::ApiError,
};
use serde::Deserialize;

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
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub gender: Option<Gender>,
    /// `true` stops the SMS about the caller's orders, `false` resumes them.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub sms_opt_out: Option<bool>,
}

/// The caller's profile, as read with the session check of the request.
pub fn show(caller: &AuthUser) -> UserProfile {
    caller.user.profile()
}

impl Accounts<'_> {
    /// Applies `body` to the caller's profile; an empty patch writes nothing.
    pub async fn update_profile(
        &self,
        caller: &AuthUser,
        body: ProfilePatch,
    ) -> Result<UserProfile, ApiError> {
        let changes = ProfileChanges {
            first_name: body.first_name,
            last_name: body.last_name,
            phone: body.phone,
            address: body.address,
            gender: body.gender,
            sms_opt_out: body.sms_opt_out,
        };
        let nothing = changes.first_name.is_absent()
            && changes.last_name.is_absent()
            && changes.phone.is_absent()
            && changes.address.is_absent()
            && changes.gender.is_none()
            && changes.sms_opt_out.is_none();
        if nothing {
            return Ok(show(caller));
        }
        let user = self
            .db
            .update_profile(caller.id(), &changes, crate::now())
            .await?
            .ok_or_else(|| ApiError::Unauthorized("session is no longer valid".into()))?;
        Ok(user.profile())
    }
}
