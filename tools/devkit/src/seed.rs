//! What the local stack's set-up (`kitchen-local setup`) puts in the table besides the menu: the
//! admin whose login `make dev` prints.

use anyhow::Result;
use kitchen::{
    app::ensure_admin::{AdminOutcome, EnsureAdminError, Existing, Holder, ensure_admin},
    db::Db,
    domain::{Email, Password, User},
};

/// The stack's admin, on a fresh table or on one kept in `KITCHEN_DATA_DIR`. Already this admin:
/// left as it is (a restart keeps its sessions). An admin of that email with another password, or a
/// deactivated one, is an earlier run's with another `ADMIN_PASSWORD`: it takes this one (and its
/// sessions end, as with any password reset). A customer's account with that email is not taken
/// over: the set-up stops and says what to do.
pub async fn admin(db: &Db, email: &Email, password: &Password) -> Result<(User, AdminOutcome)> {
    match ensure_admin(db, email, Some(password), Existing::Refuse).await {
        Err(EnsureAdminError::AccountExists {
            holder: Holder::AdminWithAnotherPassword | Holder::DeactivatedAdmin,
            ..
        }) => Ok(ensure_admin(db, email, Some(password), Existing::Promote).await?),
        Err(err @ EnsureAdminError::AccountExists { .. }) => Err(anyhow::anyhow!(
            "ADMIN_EMAIL: {err}. Set ADMIN_EMAIL to another email, or make that account the admin \
             with `kitchen-admin create --promote-existing --email {email}` against this table"
        )),
        other => Ok(other?),
    }
}
