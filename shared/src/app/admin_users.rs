//! Staff seeing and managing users, and recording phone-only customers (walk-in and phone orders).
//! An admin may neither deactivate nor demote themself, so the kitchen cannot lock itself out by
//! accident.

use crate::caller::StaffClaim;
use crate::{
    caller::AdminUser,
    db::{Db, Item, NewUser, Page, ProfileChanges},
    domain::{Address, Email, Patch, PersonName, PhoneNumber, Role, SearchText, UserId},
    domain::{User, UserProfile},
    error::ApiError,
};
use serde::Deserialize;

/// What the staff's user workflows use: the table.
#[derive(Clone, Copy)]
pub struct Users<'a> {
    pub db: &'a Db,
}

/// Which users staff list: all, or those whose name, email or phone contains `q`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSearch {
    pub q: Option<SearchText>,
}

/// A customer with a phone and no password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    first_name: PersonName,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    last_name: Option<PersonName>,
    phone: PhoneNumber,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    address: Option<Address>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    email: Option<Email>,
}

/// What staff may change about a user; any field left out stays as it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    role: Option<Role>,
    #[serde(default)]
    first_name: Patch<PersonName>,
    #[serde(default)]
    last_name: Patch<PersonName>,
    #[serde(default)]
    phone: Patch<PhoneNumber>,
    #[serde(default)]
    address: Patch<Address>,
    /// Only for a phone-only customer, on their word: one with an email sets it themself.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    sms_opt_out: Option<bool>,
}

impl Users<'_> {
    /// Users newest first, optionally searched by name, email or phone.
    pub async fn list(
        &self,
        _staff: StaffClaim,
        search: &UserSearch,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<UserProfile>, ApiError> {
        let page = self
            .db
            .list_users(search.q.as_ref().map(SearchText::as_str), limit, start)
            .await?;
        Ok(page.map(|user| user.profile()))
    }

    /// Records a customer who has a phone but no password: staff can place orders for them, and
    /// they cannot sign in (there is no password to sign in with). A taken email is 409.
    pub async fn create_customer(
        &self,
        _admin: &AdminUser,
        new: NewCustomer,
    ) -> Result<UserProfile, ApiError> {
        let user = NewUser {
            email: new.email,
            first_name: Some(new.first_name),
            last_name: new.last_name,
            phone: Some(new.phone),
            address: new.address,
            ..NewUser::default()
        }
        .into_user(crate::now());
        self.db.create_user(&user, None).await?;
        tracing::info!(user_id = %user.id, "customer recorded by staff");
        Ok(user.profile())
    }

    pub async fn get(&self, _staff: StaffClaim, id: &str) -> Result<UserProfile, ApiError> {
        Ok(self.find(id).await?.profile())
    }

    /// Changes a user. A deactivation or a role change ends every session of theirs at once. The SMS
    /// opt-out is staff's to set only for a phone-only customer (422 for anyone with an email).
    pub async fn update(
        &self,
        admin: &AdminUser,
        id: &str,
        patch: UserPatch,
    ) -> Result<UserProfile, ApiError> {
        let target = self.find(id).await?;
        if &target.id == admin.0.id()
            && (patch.active == Some(false) || patch.role == Some(Role::Customer))
        {
            return Err(ApiError::Conflict(
                "an admin cannot deactivate or demote themself".into(),
            ));
        }
        // An account never gains an email after it is made, so the user as read decides.
        if patch.sms_opt_out.is_some() && !target.is_phone_only() {
            return Err(ApiError::unprocessable_field(
                "sms_opt_out",
                "a user with an email sets this themself (PATCH /me); staff set it only for phone-only customers",
            ));
        }
        let changes = ProfileChanges {
            first_name: patch.first_name,
            last_name: patch.last_name,
            phone: patch.phone,
            address: patch.address,
            gender: None,
            sms_opt_out: patch.sms_opt_out,
        };
        let user = self
            .db
            .update_user_as_admin(&target.id, &changes, patch.role, patch.active, crate::now())
            .await?
            .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
        if patch.active.is_some() || patch.role.is_some() {
            // The same write moved the user's credential version on: every session made before it
            // is refused from the next request, and so is every refresh.
            tracing::info!(user_id = %user.id, active = user.active, role = ?user.role, "user's role or activity changed; sessions revoked");
        }
        Ok(user.profile())
    }

    async fn find(&self, id: &str) -> Result<User, ApiError> {
        let not_found = || ApiError::NotFound("no such user".into());
        let id = UserId::parse(id).map_err(|_| not_found())?;
        self.db.get_user(&id).await?.ok_or_else(not_found)
    }
}
