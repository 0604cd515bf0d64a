//! The two error surfaces of the simulator, each mapped to HTTP in one place.
//!
//! - [`PaystackError`]: what the imitated Paystack API answers, in Paystack's own envelope
//!   (<https://paystack.com/docs/api/errors/>):
//!   `{"status": false, "message", "meta": {"nextStep"}, "type", "code"}`; the 401 carries only
//!   `status` and `message`, as in the OpenAPI spec's `Unauthorized` response.
//! - [`SimError`]: what the simulator's own `/_sim/...` control routes answer:
//!   `{"status": false, "message": "...", "error": "..."}` — Paystack's two fields, so a client
//!   reads them as it reads the API's refusals, and `error` (the same text), which earlier callers
//!   and the checkout page read.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error response of the imitated Paystack API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaystackError {
    status: StatusCode,
    message: String,
    detail: Option<Detail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Detail {
    kind: &'static str,
    code: &'static str,
    next_step: &'static str,
}

impl PaystackError {
    /// Missing or wrong secret key.
    pub fn invalid_key() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "Invalid key".to_owned(),
            detail: None,
        }
    }

    /// An `Authorization` header that is not `Bearer <key>` (Paystack's `errors/api-errors.json`).
    pub fn malformed_authorization() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "Format is Authorization Bearer [secret key]".to_owned(),
            detail: None,
        }
    }

    /// A required parameter is absent (`code: missing_params`, the documented sample).
    pub fn missing(message: impl Into<String>) -> Self {
        Self::validation(message, "missing_params", "Provide all required params")
    }

    /// A parameter is present but unacceptable. Paystack documents the messages but not a code
    /// for these; `invalid_params` is ours.
    pub fn invalid(message: impl Into<String>, next_step: &'static str) -> Self {
        Self::validation(message, "invalid_params", next_step)
    }

    /// The example of `TransactionInitializeBadRequestModel.yaml`, word for word.
    pub fn duplicate_reference() -> Self {
        Self::validation(
            "Duplicate Transaction Reference",
            "duplicate_reference",
            "Try and create the Transaction or Charge with a new reference",
        )
    }

    /// Verify of a reference this integration never saw: 404 "Transaction reference not found".
    pub fn reference_not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: "Transaction reference not found".to_owned(),
            detail: Some(Detail {
                kind: "validation_error",
                code: "transaction_not_found",
                next_step: "Ensure that you're passing the reference of a transaction that exists on this integration",
            }),
        }
    }

    /// A 404 with Paystack's validation detail, e.g. `POST /refund` of an unknown transaction.
    pub fn not_found(
        message: impl Into<String>,
        code: &'static str,
        next_step: &'static str,
    ) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            detail: Some(Detail {
                kind: "validation_error",
                code,
                next_step,
            }),
        }
    }

    /// `GET /refund/{id}` of an id this integration never issued: status and message only.
    pub fn refund_not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: "Refund not found".to_owned(),
            detail: None,
        }
    }

    fn validation(message: impl Into<String>, code: &'static str, next_step: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            detail: Some(Detail {
                kind: "validation_error",
                code,
                next_step,
            }),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for PaystackError {
    fn into_response(self) -> Response {
        let body = match self.detail {
            None => json!({ "status": false, "message": self.message }),
            Some(detail) => json!({
                "status": false,
                "message": self.message,
                "meta": { "nextStep": detail.next_step },
                "type": detail.kind,
                "code": detail.code,
            }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Why a control operation (succeed, fail, re-send, refund or dispute step, config) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("no transaction with reference {0:?}")]
    UnknownReference(String),
    #[error("no refund with id {0}")]
    UnknownRefund(u64),
    #[error("{0}")]
    NotFound(String),
    /// The step does not follow from where the refund or dispute is now.
    #[error("{0}")]
    Conflict(String),
    #[error("transaction {0:?} has already succeeded")]
    AlreadySucceeded(String),
    #[error("no webhook has been sent for transaction {0:?} yet")]
    NothingSent(String),
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::UnknownReference(_) | Self::UnknownRefund(_) | Self::NotFound(_) => {
                StatusCode::NOT_FOUND
            }
            Self::AlreadySucceeded(_) | Self::NothingSent(_) | Self::Conflict(_) => {
                StatusCode::CONFLICT
            }
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        let message = self.to_string();
        let body = json!({ "status": false, "message": message, "error": message });
        (status, Json(body)).into_response()
    }
}
