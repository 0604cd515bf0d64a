//! The dishes function: the public menu, the API's health check, and its documentation
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
    cursor::PageBody,
    db::MenuFilter,
    domain::Dish,
    domain::{Date, DishId, DishType, PageLimit, SearchText, Tag},
    http::extract::Query,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The OpenAPI document of the whole API, as kept in the repository.
pub const OPENAPI: &str = include_str!("../../../openapi/openapi.json");
const DOCS_PAGE: &str = include_str!("../../../openapi/docs.html");

/// The dishes function: the menu is for the kitchen's today.
pub const FUNCTION: kitchen::state::Function = kitchen::state::Function {
    name: "dishes",
    settings: &[
        kitchen::config::Setting::Table,
        kitchen::config::Setting::TokenKey,
        kitchen::config::Setting::KitchenTimezone,
    ],
    router,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/dishes", get(menu))
        .route("/dishes/{id}", get(dish))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
        .with_state(state);
    kitchen::http::with_defaults(routes)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MenuQuery {
    date: Option<Date>,
    dish_type: Option<DishType>,
    tag: Option<Tag>,
    q: Option<SearchText>,
    #[serde(default)]
    limit: PageLimit,
    cursor: Option<String>,
}

/// Active dishes orderable on `date` (the kitchen's today by default): open-ended dishes first,
/// newest first, then limited-time dishes, latest-ending first.
async fn menu(
    State(state): State<AppState>,
    Query(query): Query<MenuQuery>,
) -> Result<Json<PageBody<Dish>>, ApiError> {
    let date = query
        .date
        .unwrap_or_else(|| Date::today_in(&state.config.kitchen_zone));
    let filter = MenuFilter {
        dish_type: query.dish_type,
        tag: query.tag,
        name_contains: query.q.as_ref().map(|q| q.as_str().to_string()),
    };
    // The cursor is only good for the same date and filters.
    let scope = format!(
        "dishes|{date}|{}|{}|{}",
        filter.dish_type.map(|t| t.as_str()).unwrap_or_default(),
        filter.tag.as_ref().map(|t| t.as_str()).unwrap_or_default(),
        filter.name_contains.as_deref().unwrap_or_default(),
    );
    let start = state.cursors()?.start(&scope, query.cursor.as_deref())?;
    let page = state
        .db
        .menu(date, &filter, query.limit.get(), start)
        .await?;
    Ok(Json(state.cursors()?.page(&scope, page, |dish| dish)))
}

/// One active dish; an inactive or unknown one is 404 alike.
async fn dish(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Dish>, ApiError> {
    let not_found = || ApiError::NotFound("no such dish".into());
    let id = DishId::parse(&id).map_err(|_| not_found())?;
    let stored = state
        .db
        .get_dish(&id)
        .await?
        .filter(|d| d.dish.active)
        .ok_or_else(not_found)?;
    Ok(Json(stored.dish))
}

/// 200 when the table answers a read, 503 (with Retry-After) when it does not.
async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.db.ping().await?;
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
