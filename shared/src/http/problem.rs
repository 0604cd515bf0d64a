//! The one place an [`ApiError`] becomes an HTTP response: an RFC 9457 problem document
//! (`application/problem+json`). Client errors explain themselves; server errors say nothing
//! internal and log their whole cause chain instead.

use crate::error::{ApiError, FieldError, cause_chain};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// The HTTP status and the problem type of each error.
pub trait Status {
    fn status(&self) -> StatusCode;
}

impl Status for ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::EmailUnverified => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The problem type's short name; the `type` member is `urn:kitchen:problem:<slug>`.
fn slug(error: &ApiError) -> &'static str {
    match error {
        ApiError::BadRequest { .. } => "bad-request",
        ApiError::Unauthorized(_) => "unauthorized",
        ApiError::Forbidden(_) => "forbidden",
        ApiError::EmailUnverified => "email-unverified",
        ApiError::NotFound(_) => "not-found",
        ApiError::MethodNotAllowed => "method-not-allowed",
        ApiError::Conflict(_) => "conflict",
        ApiError::PayloadTooLarge { .. } => "payload-too-large",
        ApiError::UnsupportedMediaType => "unsupported-media-type",
        ApiError::Unprocessable { .. } => "unprocessable",
        ApiError::TooManyRequests { .. } => "too-many-requests",
        ApiError::BadGateway(_) => "bad-gateway",
        ApiError::Unavailable(_) => "unavailable",
        ApiError::Internal(_) => "internal",
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Seconds a client should wait before retrying after a 503.
const UNAVAILABLE_RETRY_AFTER: &str = "2";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %cause_chain(&self), "request failed");
        }
        let errors = match &self {
            Self::BadRequest { errors, .. } | Self::Unprocessable { errors, .. }
                if !errors.is_empty() =>
            {
                Some(errors.clone())
            }
            _ => None,
        };
        let detail = match &self {
            Self::Internal(_) => "The server could not complete the request.".to_string(),
            Self::Unavailable(_) => {
                "A service this request depends on is unavailable; retry shortly.".to_string()
            }
            Self::BadGateway(_) => "A service this request depends on failed.".to_string(),
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("urn:kitchen:problem:{}", slug(&self)),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Self::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER),
                );
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_validation_error_lists_its_fields() {
        let response =
            ApiError::invalid_field("quantity", "must be between 1 and 50").into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = body_of(response).await;
        assert_eq!(body["status"], 400);
        assert_eq!(body["type"], "urn:kitchen:problem:bad-request");
        assert_eq!(body["errors"][0]["field"], "quantity");
    }

    #[tokio::test]
    async fn a_server_error_hides_its_cause() {
        let response = ApiError::internal("table exploded at 0xdeadbeef").into_response();
        assert_eq!(response.status(), 500);
        let body = body_of(response).await;
        assert!(!body.to_string().contains("deadbeef"));
        assert!(body.get("errors").is_none());
    }

    #[tokio::test]
    async fn unauthorized_carries_a_bearer_challenge() {
        let response = ApiError::Unauthorized("token expired".into()).into_response();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }

    #[tokio::test]
    async fn unavailable_and_throttled_say_when_to_retry() {
        let response = ApiError::Unavailable("down".into()).into_response();
        assert_eq!(response.headers()["retry-after"], "2");
        let response = ApiError::TooManyRequests {
            detail: "slow down".into(),
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.headers()["retry-after"], "42");
    }
}
