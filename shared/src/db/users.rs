//! Users, their email claims, and their profiles.

use super::{Db, DbError, Item, attr, from_item, key, n, s};
use crate::domain::{Address, Email, Gender, Patch, PersonName, PhoneNumber, Role, UserId};
use crate::domain::{Session, User};
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};
use time::OffsetDateTime;

const ENTITY: &str = "user";
const EMAIL_ENTITY: &str = "email";
const PROFILE_SK: &str = "PROFILE";
/// Every user is in this partition of gsi1, newest first (ULIDs sort by time).
const ALL_USERS: &str = "USERS";
const FIRST_NAME_SEARCH: &str = "first_name_search";
const LAST_NAME_SEARCH: &str = "last_name_search";
/// Words of a user search; each must appear in a name, the email or the phone number.
const MAX_SEARCH_WORDS: usize = 5;

pub(crate) fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}

pub(crate) fn user_key(id: &UserId) -> Item {
    key(user_pk(id), PROFILE_SK)
}

/// Every user in one partition of gsi1, so the back office can list and search them.
fn user_index(user: &User) -> [(&'static str, String); 2] {
    [
        (attr::GSI1PK, ALL_USERS.to_string()),
        (attr::GSI1SK, user.id.to_string()),
    ]
}

fn email_key(email: &Email) -> Item {
    key(format!("EMAIL#{email}"), "EMAIL")
}

/// The item that claims `email` for `user`: its key is the email, so a second claim fails its
/// `attribute_not_exists(pk)` condition.
fn email_claim(email: &Email, user: &UserId) -> Item {
    let mut claim = email_key(email);
    claim.insert(attr::ENTITY.to_string(), s(EMAIL_ENTITY));
    claim.insert("user_id".to_string(), s(user.as_str()));
    claim
}

/// What a new account starts with.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: Option<Email>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
    pub address: Option<Address>,
    pub gender: Gender,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub google_sub: Option<String>,
    /// Whoever makes the account has proven its email (Google has).
    pub email_verified: bool,
}

impl NewUser {
    pub fn into_user(self, now: OffsetDateTime) -> User {
        User {
            id: UserId::new(),
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            phone: self.phone,
            address: self.address,
            gender: self.gender,
            role: self.role.unwrap_or(Role::Customer),
            active: true,
            email_verified: self.email_verified,
            credential_version: 0,
            sms_opt_out: false,
            password_hash: self.password_hash,
            google_sub: self.google_sub,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Changes to a profile; `Patch::Null` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub first_name: Patch<PersonName>,
    pub last_name: Patch<PersonName>,
    pub phone: Patch<PhoneNumber>,
    pub address: Patch<Address>,
    pub gender: Option<Gender>,
    /// Whether order SMS stop (`true`) or resume.
    pub sms_opt_out: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whoever creates the account (sign-up, or staff recording a customer), a taken email is a 409.
impl From<CreateUserError> for crate::error::ApiError {
    fn from(err: CreateUserError) -> Self {
        match err {
            CreateUserError::EmailTaken => Self::Conflict(err.to_string()),
            CreateUserError::Db(err) => err.into(),
        }
    }
}

/// An `UpdateItem` expression assembled field by field.
#[derive(Default)]
pub(crate) struct Update {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    names: std::collections::HashMap<String, String>,
    values: Item,
}

impl Update {
    pub(crate) fn set(&mut self, name: &str, value: aws_sdk_dynamodb::types::AttributeValue) {
        self.names.insert(format!("#{name}"), name.to_string());
        self.values.insert(format!(":{name}"), value);
        self.set.push(format!("#{name} = :{name}"));
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.names.insert(format!("#{name}"), name.to_string());
        self.remove.push(format!("#{name}"));
    }

    /// Ends every session of the user, as no race can undo: the sessions' version stays behind.
    pub(crate) fn revoke_sessions(&mut self) {
        self.names
            .insert("#credential_version".into(), "credential_version".into());
        self.values.insert(":credential_step".into(), n(1));
        self.add
            .push("#credential_version :credential_step".to_string());
    }

    /// A boolean set when given, left as it is when not.
    pub(crate) fn flag(&mut self, name: &str, value: Option<bool>) {
        if let Some(value) = value {
            self.set(name, aws_sdk_dynamodb::types::AttributeValue::Bool(value));
        }
    }

    pub(crate) fn patch<T: AsRef<str>>(&mut self, name: &str, patch: &Patch<T>) {
        match patch {
            Patch::Absent => {}
            Patch::Null => self.remove(name),
            Patch::Value(value) => self.set(name, s(value.as_ref())),
        }
    }

    /// A name and its lower-cased search copy, changed together.
    pub(crate) fn patch_name(&mut self, name: &str, search: &str, patch: &Patch<PersonName>) {
        match patch {
            Patch::Absent => {}
            Patch::Null => {
                self.remove(name);
                self.remove(search);
            }
            Patch::Value(value) => {
                self.set(name, s(value.as_str()));
                self.set(search, s(value.as_str().to_lowercase()));
            }
        }
    }

    /// The update of an existing user (never creating one), stamped `updated_at`, as one write of a
    /// transaction.
    pub(crate) fn of_user_in(
        mut self,
        table: &str,
        id: &UserId,
        now: OffsetDateTime,
    ) -> Result<TransactWriteItem, DbError> {
        self.set("updated_at", s(rfc3339(now)));
        Ok(TransactWriteItem::builder()
            .update(super::built(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(table)
                    .set_key(Some(user_key(id)))
                    .update_expression(self.expression())
                    .condition_expression("attribute_exists(pk)")
                    .set_expression_attribute_names(Some(self.names))
                    .set_expression_attribute_values(Some(self.values))
                    .build(),
            )?)
            .build())
    }

    pub(crate) fn expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        parts.join(" ")
    }
}

macro_rules! as_ref_str {
    ($($t:ty),*) => {$(
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    )*};
}
as_ref_str!(PersonName, PhoneNumber, Address, Email);

impl Db {
    /// Writes a new user, its email claim and (optionally) its first session in one transaction;
    /// the claim's condition is what keeps emails unique, even under concurrent sign-ups.
    pub async fn create_user(
        &self,
        user: &User,
        session: Option<&Session>,
    ) -> Result<(), CreateUserError> {
        self.create_user_with_token(user, session, None).await
    }

    /// [`Db::create_user`], with the account's first one-time token (its email's verification)
    /// in the same transaction, so no account is left without the link it was sent.
    pub async fn create_user_with_token(
        &self,
        user: &User,
        session: Option<&Session>,
        token: Option<(&super::StoredToken, crate::one_time::Purpose)>,
    ) -> Result<(), CreateUserError> {
        let mut writes = Vec::new();
        if let Some(email) = &user.email {
            writes.push(put(&self.table, email_claim(email, &user.id))?);
        }
        writes.push(put(&self.table, user.to_item()?)?);
        if let Some(session) = session {
            writes.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(session.to_item()?))
                            .build()
                            .map_err(|e| DbError::Other(Box::new(e)))?,
                    )
                    .build(),
            );
        }
        if let Some((token, purpose)) = token {
            writes.push(
                TransactWriteItem::builder()
                    .put(super::built(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(token.to_item(purpose)?))
                            .build(),
                    )?)
                    .build(),
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            // The email claim is the first write: its condition is what keeps emails unique.
            Err(failure) if user.email.is_some() && failure.condition_failed_at(0) => {
                Err(CreateUserError::EmailTaken)
            }
            Err(failure) => Err(CreateUserError::Db(failure.into())),
        }
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<User>, DbError> {
        let item = self.get_consistent(user_key(id)).await?;
        item.map(from_item).transpose()
    }

    /// The id of the user who holds `email`, from its email claim.
    pub async fn user_id_by_email(&self, email: &Email) -> Result<Option<UserId>, DbError> {
        let item = self.get_consistent(email_key(email)).await?;
        Ok(item.as_ref().and_then(claimed_user))
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, DbError> {
        match self.user_id_by_email(email).await? {
            Some(id) => self.get_user(&id).await,
            None => Ok(None),
        }
    }

    /// Applies profile changes to an existing user and returns the user as it now is.
    pub async fn update_profile(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, DbError> {
        let mut update = Update::default();
        update.patch_name("first_name", FIRST_NAME_SEARCH, &changes.first_name);
        update.patch_name("last_name", LAST_NAME_SEARCH, &changes.last_name);
        update.patch("phone", &changes.phone);
        update.patch("address", &changes.address);
        if let Some(gender) = changes.gender {
            update.set(
                "gender",
                serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(gender)?,
            );
        }
        update.flag("sms_opt_out", changes.sms_opt_out);
        self.update_user(id, update, now).await
    }

    /// The back office's changes: profile fields, role, activity and (for a phone-only customer,
    /// which the caller checks) the SMS opt-out.
    pub async fn update_user_as_admin(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        role: Option<Role>,
        active: Option<bool>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, DbError> {
        let mut update = Update::default();
        update.patch_name("first_name", FIRST_NAME_SEARCH, &changes.first_name);
        update.patch_name("last_name", LAST_NAME_SEARCH, &changes.last_name);
        update.patch("phone", &changes.phone);
        update.patch("address", &changes.address);
        update.flag("sms_opt_out", changes.sms_opt_out);
        if let Some(role) = role {
            update.set("role", s(role.as_str()));
        }
        if let Some(active) = active {
            update.set(
                "active",
                aws_sdk_dynamodb::types::AttributeValue::Bool(active),
            );
        }
        if role.is_some() || active.is_some() {
            // A new role or a deactivation ends the sessions made under the old one (a reactivation
            // too: its sessions were ended by the deactivation and must not come back).
            update.revoke_sessions();
        }
        self.update_user(id, update, now).await
    }

    /// Users newest first; `search` keeps those where every word appears in a name, the email or
    /// the phone number (case-insensitive). Served by the `USERS` partition of gsi1 with a filter:
    /// a search reads the whole partition in the worst case (see the module table).
    pub async fn list_users(
        &self,
        search: Option<&str>,
        limit: usize,
        start: Option<Item>,
    ) -> Result<super::Page<User>, DbError> {
        let mut listing =
            super::listing::Listing::partition(super::listing::Index::Gsi1, ALL_USERS);
        if let Some(search) = search {
            listing = listing
                .name("#first", FIRST_NAME_SEARCH)
                .name("#last", LAST_NAME_SEARCH)
                .name("#email", "email")
                .name("#phone", "phone");
            for (i, word) in search
                .to_lowercase()
                .split_whitespace()
                .take(MAX_SEARCH_WORDS)
                .enumerate()
            {
                let value = format!(":w{i}");
                listing = listing.value(&value, s(word)).filter(format!(
                    "(contains(#first, {value}) OR contains(#last, {value}) OR contains(#email, {value}) OR contains(#phone, {value}))"
                ));
            }
        }
        self.list(listing, limit, start).await
    }

    /// Sets a new password that ends every other session of the user, keeping `keep` (the caller's)
    /// alive: the user's credential version moves on and `keep` moves with it, in one transaction
    /// conditioned on the version the caller's check read, and the email's sign-in window is
    /// cleared. A sign-in or refresh that read the old version, however it races this, leaves only
    /// a dead session. `false` if the user changed credentials meanwhile (nothing is written).
    pub async fn change_password(
        &self,
        user: &User,
        keep: &Session,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        use aws_sdk_dynamodb::types::Update as UpdateItem;
        let version = user.credential_version;
        // An account stored before versions existed has none: it is version 0.
        let same_version = if version == 0 {
            "(attribute_not_exists(credential_version) OR credential_version = :version)"
        } else {
            "credential_version = :version"
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(super::built(
                    UpdateItem::builder()
                        .table_name(&self.table)
                        .set_key(Some(user_key(&user.id)))
                        .update_expression(
                            "SET password_hash = :hash, credential_version = :next, updated_at = :now",
                        )
                        .condition_expression(format!("attribute_exists(pk) AND {same_version}"))
                        .expression_attribute_values(":hash", s(hash))
                        .expression_attribute_values(":version", n(version))
                        .expression_attribute_values(":next", n(version + 1))
                        .expression_attribute_values(":now", s(rfc3339(now)))
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .update(super::built(
                    UpdateItem::builder()
                        .table_name(&self.table)
                        .set_key(Some(keep.key()))
                        .update_expression("SET credential_version = :next")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":next", n(version + 1))
                        .build(),
                )?)
                .build(),
        ];
        if let Some(email) = &user.email {
            writes.push(super::throttle::clear_in(
                &self.table,
                super::Counted::SignIn(email),
            )?);
        }
        self.transact_unless_raced(writes).await
    }

    /// Hands an account whose email nobody proved to the Google identity that just proved it: the
    /// password is removed, every session ended, the email verified and the Google account linked.
    /// `None` if the account was verified or linked meanwhile (nothing is written).
    pub async fn take_over_for_google(
        &self,
        id: &UserId,
        sub: &str,
        now: OffsetDateTime,
    ) -> Result<Option<User>, DbError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(id)))
            .update_expression(
                "SET google_sub = :sub, email_verified = :true, updated_at = :now \
                 REMOVE password_hash ADD credential_version :one",
            )
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(google_sub) \
                 AND (attribute_not_exists(email_verified) OR email_verified = :false)",
            )
            .expression_attribute_values(":sub", s(sub))
            .expression_attribute_values(
                ":true",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
            .expression_attribute_values(
                ":false",
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            )
            .expression_attribute_values(":now", s(rfc3339(now)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(from_item).transpose(),
            Err(err) if super::condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Sets role and activity (and optionally a new password), as the admin tool does; every
    /// session the account had ends.
    pub async fn set_role(
        &self,
        id: &UserId,
        role: Role,
        active: bool,
        password_hash: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, DbError> {
        let mut update = Update::default();
        update.set("role", s(role.as_str()));
        update.set(
            "active",
            aws_sdk_dynamodb::types::AttributeValue::Bool(active),
        );
        if let Some(hash) = password_hash {
            update.set("password_hash", s(hash));
        }
        update.revoke_sessions();
        self.update_user(id, update, now).await
    }

    /// Links a Google account to a user who has none yet. `false` if another Google account is linked.
    pub async fn link_google(
        &self,
        id: &UserId,
        sub: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(id)))
            .update_expression("SET google_sub = :sub, updated_at = :now")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(google_sub) OR google_sub = :sub)",
            )
            .expression_attribute_values(":sub", s(sub))
            .expression_attribute_values(":now", s(rfc3339(now)))
            .send()
            .await;
        super::applied(result)
    }

    /// Runs an update on an existing user (never creating one) and returns the new item.
    async fn update_user(
        &self,
        id: &UserId,
        mut update: Update,
        now: OffsetDateTime,
    ) -> Result<Option<User>, DbError> {
        update.set("updated_at", s(rfc3339(now)));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(id)))
            .update_expression(update.expression())
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(from_item).transpose(),
            Err(err) if super::condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

pub(crate) fn claimed_user(item: &Item) -> Option<UserId> {
    item.get("user_id")?
        .as_s()
        .ok()
        .and_then(|id| UserId::parse(id).ok())
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

/// A put that must not overwrite anything.
fn put(table: &str, item: Item) -> Result<TransactWriteItem, DbError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| DbError::Other(Box::new(e)))?,
        )
        .build())
}

impl User {
    fn to_item(&self) -> Result<Item, DbError> {
        let mut attributes = user_index(self).to_vec();
        // Lower-cased copies of the names, for the back office's case-insensitive search.
        if let Some(first) = &self.first_name {
            attributes.push((FIRST_NAME_SEARCH, first.as_str().to_lowercase()));
        }
        if let Some(last) = &self.last_name {
            attributes.push((LAST_NAME_SEARCH, last.as_str().to_lowercase()));
        }
        super::to_item(self, ENTITY, user_key(&self.id), attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_user_is_keyed_by_id_and_listed_in_the_users_partition() {
        let item = testing::user().to_item().unwrap();
        let user = format!("USER#{}", testing::USER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "user"),
                ("pk", user.as_str()),
                ("sk", "PROFILE"),
                ("gsi1pk", "USERS"),
                ("gsi1sk", testing::USER),
            ]
        );
        // The search copies the admin user search filters on.
        assert_eq!(item[FIRST_NAME_SEARCH].as_s().unwrap(), "ada");
        assert_eq!(item[LAST_NAME_SEARCH].as_s().unwrap(), "lovelace");
    }

    #[test]
    fn a_user_stored_before_the_sms_opt_out_existed_reads_as_not_opted_out() {
        let mut item = testing::user().to_item().unwrap();
        assert_eq!(item["sms_opt_out"].as_bool().ok(), Some(&false));
        item.remove("sms_opt_out");
        let user: User = from_item(item).unwrap();
        assert!(!user.sms_opt_out && !user.profile().sms_opt_out);
    }

    #[test]
    fn an_email_claim_is_keyed_by_the_email_and_names_its_user() {
        let claim = email_claim(&testing::email(), &testing::user_id());
        assert_eq!(
            layout(&claim),
            [
                ("entity", "email"),
                ("pk", "EMAIL#ada@example.com"),
                ("sk", "EMAIL"),
            ]
        );
        assert_eq!(claimed_user(&claim), Some(testing::user_id()));
    }
}
