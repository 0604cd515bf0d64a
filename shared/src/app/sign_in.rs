//! Signing in with an email and a password, behind the per-email login throttle; and the one way
//! every sign-in (password, sign-up, Google) starts a session and hands out its token pair.
//!
//! A sign-in starts a *session* (see [`Session`]). The client gets a short-lived access token naming
//! the session and a refresh token that is rotated on every use (see [`super::refresh`]).

use crate::{
    Config,
    config::Secret,
    db::{Attempts, Counted, CreateUserError, Db, StoredToken},
    domain::{Email, SessionId},
    domain::{Session, User, UserProfile},
    email::Mail,
    error::ApiError,
    one_time::Purpose,
    token::{RefreshToken, TokenKeys},
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// The account rules of the function's configuration. The access token's lifetime is not among
/// them: the [`TokenKeys`] that sign the tokens hold it, so `expires_in` can only say what a token
/// carries.
#[derive(Debug, Clone, Copy)]
pub struct AccountSettings {
    /// How long a refresh token lives unless used (and rotated) first.
    pub refresh_token_ttl: Duration,
    /// How long a session may be kept alive by refreshing, from its sign-in.
    pub session_max_age: Duration,
    /// Password checks for one email within `login_lockout`; the attempts past them are refused
    /// unchecked until the window ends (a success clears the count).
    pub login_max_failures: u32,
    /// The window the failures are counted in, and so the longest a lockout lasts.
    pub login_lockout: Duration,
}

impl AccountSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            refresh_token_ttl: config.refresh_token_ttl,
            session_max_age: config.session_max_age,
            login_max_failures: config.login_max_failures,
            login_lockout: config.login_lockout,
        }
    }
}

/// What the account workflows use: the table, the token signing key, the account emails, and the rules.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub db: &'a Db,
    pub tokens: &'a TokenKeys,
    pub mail: &'a Mail,
    pub settings: AccountSettings,
}

/// The same answer for an unknown email and a wrong password.
const BAD_CREDENTIALS: &str = "email or password is wrong";

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A new session: who signed in, and the tokens that carry the session.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub user: UserProfile,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Email,
    pub password: Secret,
}

impl Accounts<'_> {
    /// Signs in with an email and a password. The attempt is counted against the email before the
    /// password is checked, in one atomic write that answers the count: however many guesses race,
    /// only the first `login_max_failures` of a window are checked and the rest answer 429.
    pub async fn sign_in(&self, body: LoginRequest) -> Result<SignedIn, ApiError> {
        let now = crate::now();
        let (attempts, user_id) = tokio::join!(
            self.count_attempt(&body.email, now),
            self.db.user_id_by_email(&body.email)
        );
        self.refuse_past_limit(
            &attempts?,
            now,
            "too many failed sign-ins for this email; try again later",
        )?;
        let user = match user_id? {
            Some(id) => self.db.get_user(&id).await?,
            None => None,
        };
        let stored_hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let (Some(user), true) = (
            user.as_ref(),
            crate::password::verify(body.password.expose(), stored_hash).await,
        ) else {
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
        };
        if !user.active {
            return Err(ApiError::Forbidden("this account is deactivated".into()));
        }
        self.start_session(user, Some(&body.email), now).await
    }

    /// A 429 saying `detail` if `attempts` is past the limit of password checks.
    pub(super) fn refuse_past_limit(
        &self,
        attempts: &Attempts,
        now: OffsetDateTime,
        detail: &str,
    ) -> Result<(), ApiError> {
        match attempts.over(self.settings.login_max_failures, now) {
            Some(retry_after_secs) => Err(ApiError::TooManyRequests {
                detail: detail.into(),
                retry_after_secs,
            }),
            None => Ok(()),
        }
    }

    /// Counts one password check against `email`, before it is made.
    pub(super) async fn count_attempt(
        &self,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<Attempts, ApiError> {
        Ok(self
            .db
            .count_attempt(Counted::SignIn(email), self.settings.login_lockout, now)
            .await?)
    }

    /// A new session for an existing `user`, stored, and its tokens. A password sign-in passes
    /// the `email` whose attempts it counted: its window is cleared in the session's write.
    pub(super) async fn start_session(
        &self,
        user: &User,
        clearing: Option<&Email>,
        now: OffsetDateTime,
    ) -> Result<SignedIn, ApiError> {
        let (session, tokens) = self.new_session(user, now)?;
        match clearing {
            Some(email) => self.db.put_session_clearing(&session, email).await?,
            None => self.db.put_session(&session).await?,
        }
        Ok(SignedIn {
            user: user.profile(),
            tokens,
        })
    }

    /// Creates `user` together with its first session (and, for an email nobody has proven yet,
    /// the verification token its email carries), in one write. `None` if the email is already
    /// taken. The token is `Some` when one was stored, to be sent.
    pub(super) async fn sign_up(
        &self,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<Option<(SignedIn, Option<crate::one_time::LinkToken>)>, ApiError> {
        let (session, tokens) = self.new_session(user, now)?;
        let link = match &user.email {
            Some(email) if !user.has_verified_email() => {
                let token = crate::one_time::LinkToken::generate(user.id.clone());
                let stored = StoredToken::new(&token, email, Purpose::VerifyEmail, now);
                Some((token, stored))
            }
            _ => None,
        };
        let stored = link
            .as_ref()
            .map(|(_, stored)| (stored, Purpose::VerifyEmail));
        match self
            .db
            .create_user_with_token(user, Some(&session), stored)
            .await
        {
            Ok(()) => Ok(Some((
                SignedIn {
                    user: user.profile(),
                    tokens,
                },
                link.map(|(token, _)| token),
            ))),
            Err(CreateUserError::EmailTaken) => Ok(None),
            Err(CreateUserError::Db(err)) => Err(err.into()),
        }
    }

    /// A new session for `user`, not yet stored, and the tokens that carry it.
    fn new_session(
        &self,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<(Session, TokenPair), ApiError> {
        let session_id = SessionId::new();
        let refresh = RefreshToken::generate(user.id.clone(), session_id.clone());
        let session = Session::start(
            user,
            session_id,
            refresh.hash(),
            now,
            self.settings.refresh_token_ttl,
            self.settings.session_max_age,
        );
        let tokens = self.tokens_for(user, &session.session_id, &refresh, now)?;
        Ok((session, tokens))
    }

    /// A fresh access token for `session` of `user`, paired with `refresh`.
    pub(super) fn tokens_for(
        &self,
        user: &User,
        session: &SessionId,
        refresh: &RefreshToken,
        now: OffsetDateTime,
    ) -> Result<TokenPair, ApiError> {
        let access_token = self
            .tokens
            .issue_access(&user.id, session, user.role, now)
            .map_err(ApiError::internal)?;
        Ok(TokenPair {
            access_token,
            refresh_token: refresh.expose(),
            token_type: "Bearer",
            expires_in: self.tokens.access_ttl().as_secs(),
        })
    }
}
