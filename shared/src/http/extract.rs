//! Extractors: the strict JSON body, query strings, the `Idempotency-Key`, and the caller.
//!
//! Every rejection is an [`ApiError`], so a malformed request gets the same problem+json as any
//! other error.

pub use crate::caller::{AdminUser, AuthUser, Credentials, OwnClaim, StaffClaim};
use crate::{
    AppState,
    domain::{PageLimit, Role, SessionId, UserId},
    error::{ApiError, FieldError},
    http::MAX_BODY_BYTES,
    token::TokenError,
};
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;

/// A JSON request body, parsed strictly: request types deny unknown fields, and any failure names
/// the field at fault. Bodies over [`MAX_BODY_BYTES`] are refused with 413.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read_json_body(request).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Like [`JsonBody`], for routes whose body is optional: an empty body is `None`.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read_json_body(request).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        parse_json(&bytes).map(|value| OptionalJsonBody(Some(value)))
    }
}

async fn read_json_body(request: Request) -> Result<Bytes, ApiError> {
    check_content_type(request.headers())?;
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        })
}

/// A body may omit its content type; if it names one, it must be JSON.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Parses a JSON object into `T`, turning serde's complaint into a 400 that names the field.
///
/// Every request body of this API is an object. serde would also fill a struct from an array (by
/// position: `[null, null]` is a valid `{"a": null, "b": null}` to it), so any other JSON value is
/// refused first; and so is anything after the object but white space.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("request body is required"));
    }
    let not_json = |err: serde_json::Error| {
        ApiError::bad_request(format!("request body is not valid JSON: {err}"))
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => ApiError::bad_request("request body must be a JSON object"),
                Err(err) => not_json(err),
            },
        );
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            // serde_json reports some type mismatches (a number where an enum's name belongs) as
            // syntax errors; if the body is valid JSON, the fault is the field's.
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() =>
            {
                not_json(inner)
            }
            _ => field_error(&path, &inner.to_string()),
        }
    })?;
    deserializer.end().map_err(not_json)?;
    Ok(value)
}

/// serde's message ends with " at line 1 column 9"; a client needs the field, not the column.
fn field_error(path: &str, message: &str) -> ApiError {
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    let at_root = path == "." || path.is_empty();
    // serde_path_to_error's path already ends at an unknown field, but stops at the parent of a
    // missing one.
    let field = match (named("missing field `"), at_root) {
        (Some(missing), true) => missing,
        (Some(missing), false) => format!("{path}.{missing}"),
        (None, false) => path.to_string(),
        (None, true) => match named("unknown field `") {
            Some(unknown) => unknown,
            None => {
                return ApiError::bad_request(format!(
                    "request body has the wrong shape: {message}"
                ));
            }
        },
    };
    let error = FieldError::new(field, message);
    ApiError::BadRequest {
        detail: format!("{}: {}", error.field, error.message),
        errors: vec![error],
    }
}

/// A query string parsed into `T` (which should deny unknown fields); failures are 400s.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    parse_query_beside(query, &[])
}

/// [`parse_query`] of the part of a query string that is `T`'s; `beside` names the parameters
/// read apart from it, which a message about an unknown field lists with `T`'s own, as it would
/// if they were all one struct.
fn parse_query_beside<T: DeserializeOwned>(query: &str, beside: &[&str]) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if beside.is_empty() || !message.starts_with("unknown field `") {
            return field_error(&path, &message);
        }
        // serde_path_to_error's path ends at the unknown field.
        let expected = [field_names::<T>(), beside].concat();
        field_error(&path, &unknown_field(&path, &expected))
    })
}

/// serde's message for an unknown field among `expected` (as `serde::de::Error::unknown_field`
/// words it).
fn unknown_field(name: &str, expected: &[&str]) -> String {
    let quoted: Vec<String> = expected.iter().map(|field| format!("`{field}`")).collect();
    match quoted.as_slice() {
        [] => format!("unknown field `{name}`, there are no fields"),
        [one] => format!("unknown field `{name}`, expected {one}"),
        [one, other] => format!("unknown field `{name}`, expected {one} or {other}"),
        many => format!(
            "unknown field `{name}`, expected one of {}",
            many.join(", ")
        ),
    }
}

/// The fields of the struct `T` deserializes as, asked of its `Deserialize` (the derived one names
/// them to the deserializer); none if it is not a struct.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor, value};
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Fields<'_> {
        type Error = value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, value::Error> {
            Err(value::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, value::Error> {
            *self.0 = fields;
            Err(value::Error::custom("only the fields were wanted"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// A listing's query string: its filter `F` (a struct that denies unknown fields), and which page:
/// `limit` (1 to 100, 20 by default) and the `cursor` the page before gave. Failures are 400s that
/// name the field, as with [`Query`], and as if `F` had the paging fields too.
#[derive(Debug, Clone)]
pub struct Listing<F> {
    pub filter: F,
    pub limit: PageLimit,
    pub cursor: Option<String>,
}

impl<F: std::fmt::Debug> Listing<F> {
    /// The page `read` reads from where the client's cursor says. The cursor's scope is `list` and
    /// the filter, so a cursor only continues the listing it came from.
    pub async fn page<T, Read>(
        &self,
        cursors: &crate::cursor::CursorKey,
        list: &str,
        read: impl FnOnce(Option<crate::db::Item>) -> Read,
    ) -> Result<crate::cursor::PageBody<T>, ApiError>
    where
        Read: std::future::Future<Output = Result<crate::db::Page<T>, ApiError>>,
    {
        let scope = format!("{list}|{:?}", self.filter);
        cursors.list(&scope, self.cursor.as_deref(), read).await
    }
}

/// The paging half of a listing's query string.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

const PAGING: &[&str] = &["limit", "cursor"];

impl<F: DeserializeOwned> Listing<F> {
    fn parse(query: &str) -> Result<Self, ApiError> {
        // Every listing pages alike, so the filter never names `limit` or `cursor`: the pairs are
        // split by name and each half parsed as its own query string.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let encode = |paging: bool| {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    pairs
                        .iter()
                        .filter(|(name, _)| PAGING.contains(&name.as_str()) == paging),
                )
                .finish()
        };
        let paging = parse_query::<Paging>(&encode(true));
        let filter = parse_query_beside::<F>(&encode(false), PAGING);
        match (paging, filter) {
            (Ok(paging), Ok(filter)) => Ok(Listing {
                filter,
                limit: paging.limit,
                cursor: paging.cursor,
            }),
            (Err(err), Ok(_)) | (Ok(_), Err(err)) => Err(err),
            // One struct would have stopped at the first bad parameter in the query.
            (Err(paging), Err(filter)) => {
                // Where in the query each half stopped: at its field's first pair, or at the
                // second pair of a field given twice.
                let at = |err: &ApiError| {
                    let ApiError::BadRequest { detail, errors } = err else {
                        return None;
                    };
                    let (name, nth) = match errors.first() {
                        Some(error) => (error.field.as_str(), 0),
                        None => (detail.split('`').nth(1)?, 1),
                    };
                    pairs
                        .iter()
                        .enumerate()
                        .filter(|(_, (field, _))| field == name)
                        .nth(nth)
                        .map(|(i, _)| i)
                };
                Err(if at(&filter) < at(&paging) {
                    filter
                } else {
                    paging
                })
            }
        }
    }
}

impl<F: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Listing<F> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Listing::parse(parts.uri.query().unwrap_or_default())
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credentials = Credentials::from_request_parts(parts, state).await?;
        checked(state, credentials).await
    }
}

/// The bare credentials: handlers that read the caller's own data take these and have the workflow
/// check the session in the same round trip as that data (`db::SessionRead`).
impl FromRequestParts<AppState> for Credentials {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?;
        let claims = state
            .token_verifier()?
            .verify_access(token)
            .map_err(|err| match err {
                TokenError::Expired => ApiError::Unauthorized("access token expired".into()),
                TokenError::Invalid => ApiError::Unauthorized("access token invalid".into()),
            })?;
        let invalid = || ApiError::Unauthorized("access token invalid".into());
        let user_id = UserId::parse(&claims.sub).map_err(|_| invalid())?;
        let session_id = SessionId::parse(&claims.sid).map_err(|_| invalid())?;
        if let Some(slot) = parts.extensions.get::<crate::http::CallerSlot>() {
            slot.set(user_id.as_str());
        }
        Ok(Credentials {
            user_id,
            session_id,
            claims,
        })
    }
}

/// What every back-office handler starts from: the caller, checked as staff, and the function's
/// state.
#[derive(Clone)]
pub struct Staff {
    pub admin: AdminUser,
    pub state: AppState,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Staff {
            admin: AdminUser::from_request_parts(parts, state).await?,
            state: state.clone(),
        })
    }
}

/// The caller's session checked beside `read` (which cannot join the check's batch: a Query, or a
/// read of what the caller names), both sent at once so the request waits one round trip for the
/// two; what `read` found comes out only with the caller the check proved.
async fn beside_session<T>(
    state: &AppState,
    credentials: &Credentials,
    read: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<(AuthUser, T), ApiError> {
    let (check, answer) = tokio::join!(state.db.session_and_user(credentials), read);
    let (caller, ()) = check?.authorise(credentials.clone())?;
    Ok((caller, answer?))
}

/// The caller the session check proves, the check alone.
async fn checked(state: &AppState, credentials: Credentials) -> Result<AuthUser, ApiError> {
    let (caller, ()) = state
        .db
        .session_and_user(&credentials)
        .await?
        .authorise(credentials)?;
    Ok(caller)
}

/// A back-office read: the caller's session is checked beside the route's own read, so the request
/// waits one round trip for both, and what was read comes out only to a caller who is staff now (a
/// revoked session, a deactivated or demoted user sees nothing of it). A token that does not even
/// claim the admin role gets the check alone, in the extractor, and its 401 or 403, with nothing
/// read beside it. A staff token whose session has ended is told so once its request has been
/// parsed: a bad body or query is its 400 first.
pub struct StaffBeside {
    credentials: Credentials,
    pub state: AppState,
}

impl StaffBeside {
    /// What `read` found, once the check has found the caller to be staff now.
    pub async fn read<T, F>(&self, read: impl FnOnce(StaffClaim) -> F) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        Ok(self.beside(read).await?.1)
    }

    /// The staff member and what `read` found: for a change that reads first and then writes as
    /// them (a move of an order names who made it).
    pub async fn beside<T, F>(
        &self,
        read: impl FnOnce(StaffClaim) -> F,
    ) -> Result<(AdminUser, T), ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let (caller, answer) =
            beside_session(&self.state, &self.credentials, read(StaffClaim::lent())).await?;
        Ok((caller.into_admin()?, answer))
    }

    /// One page of a back-office list (`list` names it for the cursor), read by `read` from where
    /// the client's cursor says.
    pub async fn page<F: std::fmt::Debug, T, Read>(
        &self,
        listing: &Listing<F>,
        list: &str,
        read: impl FnOnce(StaffClaim, Option<crate::db::Item>) -> Read,
    ) -> Result<crate::cursor::PageBody<T>, ApiError>
    where
        Read: std::future::Future<Output = Result<crate::db::Page<T>, ApiError>>,
    {
        let cursors = self.state.cursors()?;
        self.read(|claim| listing.page(cursors, list, |start| read(claim, start)))
            .await
    }
}

impl FromRequestParts<AppState> for StaffBeside {
    type Rejection = ApiError;

    /// A token that does not claim the admin role is refused here, by the whole check (401 or
    /// 403), before the request's body or query is looked at, as with [`Staff`].
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credentials = Credentials::from_request_parts(parts, state).await?;
        if credentials.claims.role != Role::Admin {
            checked(state, credentials.clone()).await?.into_admin()?;
        }
        Ok(StaffBeside {
            credentials,
            state: state.clone(),
        })
    }
}

/// A customer's own list: the caller's session is checked beside the list's read of the user their
/// token names, so the request waits one round trip for both; the list comes out only with the
/// caller the check proved (a revoked session sees nothing of it).
pub struct CallerBeside {
    credentials: Credentials,
    pub state: AppState,
}

impl CallerBeside {
    pub async fn read<T, F>(
        &self,
        read: impl FnOnce(OwnClaim) -> F,
    ) -> Result<(AuthUser, T), ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let claim = OwnClaim::lent(self.credentials.user_id.clone());
        beside_session(&self.state, &self.credentials, read(claim)).await
    }

    /// One page of the caller's own list, read by `read` from where `cursor` says; `scope` names
    /// the list for the cursor, from the caller's id (a cursor continues only its own listing).
    pub async fn page<T, Read>(
        &self,
        scope: impl FnOnce(&UserId) -> String,
        cursor: Option<&str>,
        read: impl FnOnce(OwnClaim, Option<crate::db::Item>) -> Read,
    ) -> Result<crate::cursor::PageBody<T>, ApiError>
    where
        Read: std::future::Future<Output = Result<crate::db::Page<T>, ApiError>>,
    {
        let cursors = self.state.cursors()?;
        let scope = scope(&self.credentials.user_id);
        let list = |owner| cursors.list(&scope, cursor, |start| read(owner, start));
        Ok(self.read(list).await?.1)
    }
}

impl FromRequestParts<AppState> for CallerBeside {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(CallerBeside {
            credentials: Credentials::from_request_parts(parts, state).await?,
            state: state.clone(),
        })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        AuthUser::from_request_parts(parts, state)
            .await?
            .into_admin()
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::Unauthorized(
            "malformed Authorization header".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Password, Role};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Register {
        email: Email,
        password: Password,
        #[serde(default)]
        items: Vec<Line>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        quantity: u8,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line2 {
        role: Option<Role>,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::BadRequest { errors, .. } => {
                errors.first().map(|e| e.field.clone()).unwrap_or_default()
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filter {
        active: Option<bool>,
        q: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct OneStruct {
        active: Option<bool>,
        q: Option<String>,
        #[serde(default)]
        limit: PageLimit,
        cursor: Option<String>,
    }

    /// A listing answers every query string as one struct with the paging fields would.
    #[test]
    fn a_listing_parses_and_fails_as_one_struct_would() {
        let listing = Listing::<Filter>::parse("q=rice&limit=5&active=true&cursor=a.b").unwrap();
        assert_eq!(listing.limit.get(), 5);
        assert_eq!(listing.cursor.as_deref(), Some("a.b"));
        assert_eq!(listing.filter.q.as_deref(), Some("rice"));
        assert_eq!(Listing::<Filter>::parse("").unwrap().limit.get(), 20);
        for query in [
            "sort=name",
            "limit=0",
            "limit=ten&active=maybe",
            "active=maybe&limit=ten",
            "limit=1&limit=2",
            "q=a&q=b&cursor=x&cursor=y",
            "cursor=x&q=a&q=b&cursor=y",
            "active=yes&zzz=1",
        ] {
            let listing = Listing::<Filter>::parse(query).unwrap_err();
            let one = parse_query::<OneStruct>(query).unwrap_err();
            assert_eq!(format!("{listing:?}"), format!("{one:?}"), "{query}");
        }
    }

    #[test]
    fn a_valid_body_parses() {
        let body: Register = parse_json(br#"{"email":"A@B.co","password":"12345678"}"#).unwrap();
        assert_eq!(body.email.as_str(), "a@b.co");
    }

    #[test]
    fn each_kind_of_bad_body_names_its_field() {
        let unknown =
            parse_json::<Register>(br#"{"email":"a@b.co","password":"12345678","role":"admin"}"#);
        assert_eq!(field_of(unknown.unwrap_err()), "role");
        let missing = parse_json::<Register>(br#"{"email":"a@b.co"}"#);
        assert_eq!(field_of(missing.unwrap_err()), "password");
        let wrong_type = parse_json::<Register>(br#"{"email":42,"password":"12345678"}"#);
        assert_eq!(field_of(wrong_type.unwrap_err()), "email");
        let invalid = parse_json::<Register>(br#"{"email":"a@b.co","password":"short"}"#);
        assert_eq!(field_of(invalid.unwrap_err()), "password");
        let nested = parse_json::<Register>(
            br#"{"email":"a@b.co","password":"12345678","items":[{"quantity":"x"}]}"#,
        );
        assert_eq!(field_of(nested.unwrap_err()), "items[0].quantity");
        let enum_number = parse_json::<Line2>(br#"{"role": 3}"#);
        assert_eq!(field_of(enum_number.unwrap_err()), "role");
        let nested_unknown = parse_json::<Register>(
            br#"{"email":"a@b.co","password":"12345678","items":[{"quantity":1,"price":5}]}"#,
        );
        assert_eq!(field_of(nested_unknown.unwrap_err()), "items[0].price");
    }

    #[test]
    fn malformed_and_empty_bodies_are_bad_requests_without_fields() {
        for body in [
            &b"{not json"[..],
            b"",
            b"  ",
            br#""a string""#,
            b"null",
            b"[null, null]",
            br#"[{"email":"a@b.co"}]"#,
            br#"{"email":"a@b.co","password":"12345678"} {}"#,
            br#"{"email":"a@b.co","password":"12345678"}]"#,
        ] {
            match parse_json::<Register>(body).unwrap_err() {
                ApiError::BadRequest { errors, .. } => assert!(errors.is_empty()),
                other => panic!("expected a 400, got {other:?}"),
            }
        }
    }

    #[test]
    fn only_bearer_tokens_are_accepted() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "bearer abc.def".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), "abc.def");
    }

    #[test]
    fn a_named_content_type_must_be_json() {
        let mut headers = HeaderMap::new();
        assert!(check_content_type(&headers).is_ok());
        headers.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(check_content_type(&headers).is_ok());
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(matches!(
            check_content_type(&headers),
            Err(ApiError::UnsupportedMediaType)
        ));
    }
}

/// The optional `Idempotency-Key` header; a malformed one is a 400.
#[derive(Debug, Clone)]
pub struct IdempotencyHeader(pub Option<crate::domain::IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyHeader(None));
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::invalid_field("Idempotency-Key", "must be ASCII"))?;
        crate::domain::IdempotencyKey::parse(text)
            .map(|key| IdempotencyHeader(Some(key)))
            .map_err(|message| ApiError::invalid_field("Idempotency-Key", message))
    }
}
