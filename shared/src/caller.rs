//! Who is asking: a verified access token ([`Credentials`]), and the caller it proves once the table
//! has confirmed its session ([`AuthUser`], [`AdminUser`]).
//!
//! An `AuthUser` can only be made from a session check (`db::SessionRead::authorise`), and data read
//! in the same round trip as that check comes out only together with it, so no code can use a
//! caller's data without the check. The HTTP extractors that build these live in `crate::http`.

use crate::{
    domain::{Role, SessionId, UserId},
    domain::{Session, User},
    error::ApiError,
    token::AccessClaims,
};

/// A verified access token, before its session is checked.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub claims: AccessClaims,
}

/// The caller, authenticated: a valid access token whose session is live and whose user is active
/// and has not changed their credentials since the session began.
/// The session and the user are read in the same round trip as the request's data, so logout,
/// password changes and deactivation take effect on the very next request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub session: Session,
    pub claims: AccessClaims,
}

impl AuthUser {
    pub fn id(&self) -> &UserId {
        &self.user.id
    }

    /// Only `db::SessionRead` makes one, from what the table said.
    pub(crate) fn checked(
        session: Option<Session>,
        user: Option<User>,
        credentials: Credentials,
    ) -> Result<Self, ApiError> {
        let revoked = || ApiError::Unauthorized("session is no longer valid".into());
        let session = session
            .filter(|s| s.is_live(crate::now()))
            .ok_or_else(revoked)?;
        // A password set or reset, a deactivation or a role change since the session began ended it,
        // however the two raced: the user's version moved on and the session's did not.
        let user = user
            .filter(|u| session.is_honoured_by(u))
            .ok_or_else(revoked)?;
        Ok(AuthUser {
            user,
            session,
            claims: credentials.claims,
        })
    }

    /// The caller, if their email is proven (or they have none): what placing an order or paying as
    /// a customer needs.
    pub fn with_verified_email(self) -> Result<Self, ApiError> {
        if self.user.has_verified_email() {
            Ok(self)
        } else {
            Err(ApiError::EmailUnverified)
        }
    }

    /// The caller as staff, whose role as stored now (not as the token remembers it) is admin.
    pub fn into_admin(self) -> Result<AdminUser, ApiError> {
        if self.user.role == Role::Admin {
            Ok(AdminUser(self))
        } else {
            Err(ApiError::Forbidden(
                "this route is for the kitchen's staff".into(),
            ))
        }
    }
}

/// An authenticated caller whose role, as stored now, is admin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// What a back-office read is given to start on while its caller's session is still being checked
/// (a Query cannot join the check's batch, so the two go out at once): a verified access token that
/// claims the admin role. It proves nothing yet; only [`crate::http::extract::StaffBeside`] makes
/// one, and it hands the read's answer on only once the check has found the caller to be staff now.
#[derive(Debug)]
pub struct StaffClaim(());

impl StaffClaim {
    pub(crate) fn lent() -> Self {
        Self(())
    }
}

/// What a customer's read of their own data is given to start on while their session is still being
/// checked: the user id their verified access token names. Like [`StaffClaim`] it proves nothing
/// yet; only [`crate::http::extract::CallerBeside`] makes one, and it hands the read's answer on
/// only with the caller the check proved.
#[derive(Debug)]
pub struct OwnClaim(UserId);

impl OwnClaim {
    pub(crate) fn lent(user_id: UserId) -> Self {
        Self(user_id)
    }

    pub fn user_id(&self) -> &UserId {
        &self.0
    }
}
