//! The dishes function: the public menu, the kitchen's calendar, the API's health check, and its
//! documentation
//! (`/openapi.json` and an interactive page at `/docs` that needs no internet).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::header,
    response::IntoResponse,
    routing::get,
};
use kitchen::{
    ApiError, AppState,
    app::{
        calendar::KitchenView,
        menu::{DishQuery, MenuDish, MenuQuery},
    },
    cursor::PageBody,
    http::extract::{Listing, Query},
};
use serde_json::{Value, json};

/// The OpenAPI document of the whole API, as kept in the repository.
pub const OPENAPI: &str = include_str!("../../../openapi/openapi.json");
const DOCS_PAGE: &str = include_str!("../../../openapi/docs.html");

/// The dishes function: the menu is for the kitchen's today.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "dishes",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::CursorKey,
        kitchen::config::Setting::KitchenTimezone,
    ],
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/dishes", get(list_menu))
        .route("/dishes/{id}", get(one_dish))
        .route("/kitchen", get(kitchen_settings))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

/// Active dishes orderable on `date` (the kitchen's today by default).
async fn list_menu(
    State(state): State<AppState>,
    Listing {
        filter,
        limit,
        cursor,
    }: Listing<MenuQuery>,
) -> Result<Json<PageBody<MenuDish>>, ApiError> {
    let mut scope = String::new();
    let menu = state.menu();
    let page = menu
        .dishes(&filter, limit.get(), |date, filter| {
            // The cursor is only good for the same date and filters.
            scope = format!(
                "dishes|{date}|{}|{}|{}",
                filter.dish_type.map(|t| t.as_str()).unwrap_or_default(),
                filter.tag.as_ref().map(|t| t.as_str()).unwrap_or_default(),
                filter.name_contains.as_deref().unwrap_or_default(),
            );
            state.cursors()?.start(&scope, cursor.as_deref())
        })
        .await?;
    Ok(Json(state.cursors()?.page(&scope, page, |dish| dish)))
}

/// One active dish, for `date` (the kitchen's today by default); an inactive or unknown one is
/// 404 alike.
async fn one_dish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DishQuery>,
) -> Result<Json<MenuDish>, ApiError> {
    Ok(Json(state.menu().dish(&id, &query).await?))
}

/// The kitchen's calendar: time zone, cut-off, closed dates, daily cap, and the next open dates.
async fn kitchen_settings(State(state): State<AppState>) -> Result<Json<KitchenView>, ApiError> {
    Ok(Json(state.calendar().settings().await?))
}

/// 200 when the table answers a read, 503 (with Retry-After) when it does not.
async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.menu().ping().await?;
    Ok(Json(json!({"status": "ok"})))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn docs() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        DOCS_PAGE,
    )
}
