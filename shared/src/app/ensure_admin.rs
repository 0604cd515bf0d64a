//! Making an email one of the kitchen's staff: the admin tool's (and the local stack's) way to
//! create an admin account, or, when asked to, to promote the account that holds the email.
//!
//! An account that already exists is someone's: a customer who registered with that email (or
//! someone who registered it first, to be promoted by mistake). So it is left alone unless the
//! caller says to promote it ([`Existing::Promote`]), and promoting takes it over as a fresh staff
//! account: it gets the new password and every session it had ends, so no token issued to whoever
//! held it before still works. An account that is already an active admin with the given password
//! is what was asked for, and is left as it is.

use crate::{
    db::{CreateUserError, Db, DbError, NewUser},
    domain::User,
    domain::{Email, Password, Role},
};

/// What to do when the email already has an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it as it is; only an active admin with the given password counts as done.
    Refuse,
    /// Make it an active admin with the given password and end every session it had.
    Promote,
}

/// Who holds an email that [`Existing::Refuse`] left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Customer,
    DeactivatedAdmin,
    AdminWithAnotherPassword,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Holder::Customer => "a customer's",
            Holder::DeactivatedAdmin => "a deactivated admin's",
            Holder::AdminWithAnotherPassword => "an admin's, with another password",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnsureAdminError {
    #[error("{0} has no account yet; give a password to create one")]
    PasswordNeeded(Email),
    #[error("{email} already has an account ({holder}); nothing was changed")]
    AccountExists { email: Email, holder: Holder },
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What [`ensure_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    /// An existing account became an admin (or an admin got a new password), and its sessions ended.
    Promoted,
    /// The email already belonged to an active admin with this password: nothing was written.
    AlreadyAdmin,
}

/// Makes `email` an active admin. With no account yet, creates one (a password is then required).
/// An existing account is handled as `existing` says (see the module doc); `None` for the password
/// only confirms an account that is already an active admin.
pub async fn ensure_admin(
    db: &Db,
    email: &Email,
    password: Option<&Password>,
    existing: Existing,
) -> Result<(User, AdminOutcome), EnsureAdminError> {
    if let Some(account) = db.user_by_email(email).await? {
        return match existing {
            Existing::Promote => {
                let password =
                    password.ok_or_else(|| EnsureAdminError::PasswordNeeded(email.clone()))?;
                promote(db, account, password).await
            }
            Existing::Refuse => match holder(&account, password).await {
                None => Ok((account, AdminOutcome::AlreadyAdmin)),
                Some(holder) => Err(EnsureAdminError::AccountExists {
                    email: email.clone(),
                    holder,
                }),
            },
        };
    }
    let Some(password) = password else {
        return Err(EnsureAdminError::PasswordNeeded(email.clone()));
    };
    let user = NewUser {
        email: Some(email.clone()),
        role: Some(Role::Admin),
        password_hash: Some(hash(password).await?),
        ..NewUser::default()
    }
    .into_user(crate::now());
    match db.create_user(&user, None).await {
        Ok(()) => Ok((user, AdminOutcome::Created)),
        // Someone created the account between our read and write: it is an existing account now.
        Err(CreateUserError::EmailTaken) => {
            Box::pin(ensure_admin(db, email, Some(password), existing)).await
        }
        Err(CreateUserError::Db(err)) => Err(err.into()),
    }
}

/// Who holds `account`, unless it is already what was asked for: an active admin whose password is
/// `password` (any password, when none is given).
async fn holder(account: &User, password: Option<&Password>) -> Option<Holder> {
    if account.role != Role::Admin {
        return Some(Holder::Customer);
    }
    if !account.active {
        return Some(Holder::DeactivatedAdmin);
    }
    match password {
        Some(password)
            if !crate::password::verify(password.expose(), account.password_hash.as_deref())
                .await =>
        {
            Some(Holder::AdminWithAnotherPassword)
        }
        _ => None,
    }
}

/// Makes `account` an active admin with `password`, ending every session it had in the same write:
/// the credential version moves on with the role and the password, so no session of the account's
/// previous holder, nor one a sign-in racing this write starts, survives it.
async fn promote(
    db: &Db,
    account: User,
    password: &Password,
) -> Result<(User, AdminOutcome), EnsureAdminError> {
    let hash = hash(password).await?;
    let user = db
        .set_role(&account.id, Role::Admin, true, Some(&hash), crate::now())
        .await?
        .unwrap_or(account);
    Ok((user, AdminOutcome::Promoted))
}

async fn hash(password: &Password) -> Result<String, EnsureAdminError> {
    crate::password::hash(password)
        .await
        .map_err(|e| EnsureAdminError::Hash(e.to_string()))
}
