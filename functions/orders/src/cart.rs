//! The cart's routes.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kitchen::{
    ApiError, AppState,
    app::cart::{AddLine, CartLine, CartView},
    domain::Quantity,
    http::extract::{Credentials, JsonBody},
};
use serde::Deserialize;

/// The cart priced now.
pub async fn show(
    State(state): State<AppState>,
    credentials: Credentials,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts().show(credentials).await?))
}

/// Adds a dish: 201 for a new line, 200 for a grown one.
pub async fn add(
    State(state): State<AppState>,
    credentials: Credentials,
    JsonBody(body): JsonBody<AddLine>,
) -> Result<(StatusCode, Json<CartLine>), ApiError> {
    let (new, line) = state.carts().add(credentials, body).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(line)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeLine {
    quantity: Quantity,
}

/// Sets a line's quantity.
pub async fn change(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(line_id): Path<String>,
    JsonBody(body): JsonBody<ChangeLine>,
) -> Result<Json<CartLine>, ApiError> {
    let line = state
        .carts()
        .change(credentials, &line_id, body.quantity)
        .await?;
    Ok(Json(line))
}

pub async fn remove(
    State(state): State<AppState>,
    credentials: Credentials,
    Path(line_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.carts().remove(credentials, &line_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
