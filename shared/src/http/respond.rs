//! Workflow outcomes as responses: a new resource (`201` with its `Location`), or the first answer
//! to an idempotent request again, marked as replayed.

use crate::app::idempotency::{Outcome, Replay};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// The response header that marks a replayed first response.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

impl IntoResponse for Replay {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        response
    }
}

/// `201` with the created resource and, when `location` gives one, its `Location`; or the replay.
pub fn created<T: Serialize>(
    outcome: Outcome<T>,
    location: impl FnOnce(&T) -> Option<String>,
) -> Response {
    match outcome {
        Outcome::Replayed(first) => first.into_response(),
        Outcome::Done(created) => {
            let at = location(&created);
            let mut response = (StatusCode::CREATED, Json(&created)).into_response();
            if let Some(location) = at.and_then(|at| HeaderValue::from_str(&at).ok()) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
    }
}
