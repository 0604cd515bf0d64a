//! The kitchen's calendar (`kitchen::app::calendar`): time zone, cut-off, closed dates, daily cap.

use axum::Json;
use kitchen::{
    ApiError,
    app::calendar::KitchenView,
    domain::KitchenChange,
    http::extract::{JsonBody, Staff},
};

/// Changes the settings; what is left out stays as it is. Limits lowered below what placed orders
/// hold take nothing from them.
pub async fn update(
    Staff { admin, state }: Staff,
    JsonBody(change): JsonBody<KitchenChange>,
) -> Result<Json<KitchenView>, ApiError> {
    Ok(Json(state.calendar().change(&admin, change).await?))
}
