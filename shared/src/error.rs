//! `ApiError`: the one error type of the workflows and the handlers. It says what went wrong in the
//! API's terms (not found, conflict, a field at fault, a dependency down); `crate::http::problem` is
//! the one place it becomes an HTTP response.

use serde::Serialize;
use std::error::Error as StdError;

pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is malformed: bad JSON, a wrong type, an unknown or invalid field.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No valid credentials. `detail` says which part failed without helping an attacker.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A customer whose email is not verified asked for what needs it (placing an order, paying).
    #[error(
        "confirm your email address first: open the link we emailed you, or ask for a new one at POST /auth/email/resend"
    )]
    EmailUnverified,
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// Well-formed, but the business rules say no (a dish that cannot be ordered that day).
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// A dependency answered wrongly.
    #[error("upstream service failed")]
    BadGateway(#[source] BoxError),
    /// A dependency is down or throttling; the client may retry.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 422 naming one field: the request matches the OpenAPI document, but breaks a rule the
    /// document cannot express (two fields that disagree, a dish listed twice).
    pub fn unprocessable_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::Unprocessable {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }
}

/// `error: cause: cause…`, for the log line of a 5xx.
pub fn cause_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
