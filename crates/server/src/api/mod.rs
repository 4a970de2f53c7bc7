//! The routes, and the OpenAPI document generated from them.

pub mod access;
pub mod events;
pub mod imports;
pub mod integrations;
pub mod mapping;
pub mod retention;
pub mod syncs;
pub mod users;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::HealthDto;
use crate::error::{ApiError, ErrorBody};
use crate::scim::ScimDoc;
use crate::state::AppState;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`rst_…`) from `roster admin create-token` or POST /api/v1/tokens",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "A web session from POST /api/v1/session; changes also need the X-CSRF-Token header",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        description = "Keeps an employee directory in step with Justworks. Every request works on the caller's account only. Errors are `{\"error\": {\"code\", \"message\", \"field\"?, \"error_id\"?}}` with stable codes (see the README).",
        license(name = "MIT"),
    ),
    modifiers(&Security, &ScimDoc),
    security(("bearer_token" = []), ("session_cookie" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "integrations", description = "Source connections"),
        (name = "mapping", description = "Source fields to demographics"),
        (name = "settings", description = "Integration settings"),
        (name = "syncs", description = "Reviews: start, page, apply, discard"),
        (name = "imports", description = "History and rollback"),
        (name = "users", description = "The directory"),
        (name = "retention", description = "Retention of former employees' personal data, and holds"),
        (name = "events", description = "The change feed"),
        (name = "access", description = "Tokens, web users, sessions"),
        (name = "ops", description = "Health and metrics"),
    )
)]
struct ApiDoc;

#[utoipa::path(get, path = "/healthz", tag = "ops", security(()),
    description = "The process is up.",
    responses((status = 200, body = HealthDto)))]
async fn healthz() -> Json<HealthDto> {
    Json(HealthDto { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "ops", security(()),
    description = "The directory database answers.",
    responses((status = 200, body = HealthDto), (status = 503, body = ErrorBody)))]
async fn readyz(State(st): State<AppState>) -> Result<Json<HealthDto>, ApiError> {
    // Any read that reaches the database: a digest no token has.
    match st.store.api_token_by_digest("readyz").await {
        Ok(_) => Ok(Json(HealthDto { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "store not ready");
            Err(ApiError::Unavailable)
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops", security(()),
    description = "Prometheus metrics: roster_syncs_total{outcome}, roster_sync_duration_seconds{step}, roster_members_fetched_total, roster_guard_blocks_total{guard}, roster_http_requests_total{route,method,status}, roster_http_request_duration_seconds{route}. Counts and durations only.",
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let body = st.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}

/// Every route with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(integrations::list))
        .routes(routes!(integrations::show, integrations::delete))
        .routes(routes!(integrations::lock, integrations::unlock))
        .routes(routes!(integrations::connect))
        .routes(routes!(integrations::callback))
        .routes(routes!(integrations::setup_sync))
        .routes(routes!(mapping::mapping))
        .routes(routes!(mapping::set_mapping, mapping::unset_mapping))
        .routes(routes!(mapping::settings, mapping::put_settings))
        .routes(routes!(syncs::start))
        .routes(routes!(syncs::show))
        .routes(routes!(syncs::entries))
        .routes(routes!(syncs::preview))
        .routes(routes!(syncs::apply))
        .routes(routes!(syncs::discard))
        .routes(routes!(imports::list))
        .routes(routes!(imports::show))
        .routes(routes!(imports::rollback))
        .routes(routes!(imports::import_csv))
        .routes(routes!(users::list))
        .routes(routes!(users::show))
        .routes(routes!(users::export_person))
        .routes(routes!(users::set_email))
        .routes(routes!(users::exclude))
        .routes(routes!(users::erase))
        .routes(routes!(users::include))
        .routes(routes!(users::merge))
        .routes(routes!(users::upcoming))
        .routes(routes!(users::milestones_handler))
        .routes(routes!(users::export))
        .routes(routes!(retention::review))
        .routes(routes!(retention::apply))
        .routes(routes!(retention::holds))
        .routes(routes!(retention::hold, retention::release_hold))
        .routes(routes!(events::list))
        .routes(routes!(events::employee))
        .routes(routes!(access::list_tokens, access::create_token))
        .routes(routes!(access::revoke_token))
        .routes(routes!(access::list_users, access::create_user))
        .routes(routes!(access::delete_user))
        .routes(routes!(access::login, access::whoami, access::logout))
}

/// The OpenAPI document, as served at `/api/v1/openapi.json` and checked in as
/// `openapi.json` (pretty JSON with a final newline).
pub fn openapi_json() -> String {
    let (_, doc) = routes().split_for_parts();
    let mut text = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
