//! Making an email one of the kitchen's staff: the admin tool's (and the local stack's) way to
//! create or promote an admin account.

use crate::{
    db::{CreateUserError, Db, DbError, NewUser},
    domain::User,
    domain::{Email, Password, Role},
};

#[derive(Debug, thiserror::Error)]
pub enum EnsureAdminError {
    #[error("{0} has no account yet; give a password to create one")]
    PasswordNeeded(Email),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What [`ensure_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    Promoted,
}

/// Makes `email` an active admin: creates the account if there is none (a password is then
/// required), otherwise promotes it and, if a password is given, sets it.
pub async fn ensure_admin(
    db: &Db,
    email: &Email,
    password: Option<&Password>,
) -> Result<(User, AdminOutcome), EnsureAdminError> {
    let hash = match password {
        Some(password) => Some(
            crate::password::hash(password)
                .await
                .map_err(|e| EnsureAdminError::Hash(e.to_string()))?,
        ),
        None => None,
    };
    let now = crate::now();
    if let Some(existing) = db.user_by_email(email).await? {
        let user = db
            .set_role(&existing.id, Role::Admin, true, hash.as_deref(), now)
            .await?
            .unwrap_or(existing);
        return Ok((user, AdminOutcome::Promoted));
    }
    let Some(hash) = hash else {
        return Err(EnsureAdminError::PasswordNeeded(email.clone()));
    };
    let user = NewUser {
        email: Some(email.clone()),
        role: Some(Role::Admin),
        password_hash: Some(hash),
        ..NewUser::default()
    }
    .into_user(now);
    match db.create_user(&user, None).await {
        Ok(()) => Ok((user, AdminOutcome::Created)),
        // Someone created the account between our read and write: promote it instead.
        Err(CreateUserError::EmailTaken) => Box::pin(ensure_admin(db, email, password)).await,
        Err(CreateUserError::Db(err)) => Err(err.into()),
    }
}
