//! The `/_sandbox` control API: not part of Justworks, no OAuth. Each route calls the
//! [`SandboxHandle`] method of the same name.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Faults;
use crate::error::ApiError;
use crate::state::{NameChange, SandboxHandle};

pub(super) fn router() -> Router<SandboxHandle> {
    Router::new()
        .route("/", get(index))
        .route("/info", get(info))
        .route("/members", get(list).post(hire))
        .route("/members/{id}", get(member).patch(patch))
        .route("/members/{id}/terminate", post(terminate))
        .route("/members/{id}/cancel-termination", post(cancel_termination))
        .route("/members/{id}/rehire", post(rehire))
        .route("/members/{id}/manager", put(manager))
        .route("/members/{id}/work-email", put(work_email))
        .route("/members/{id}/name-dob", put(name_dob))
        .route("/members/{id}/hide", post(hide))
        .route("/members/{id}/unhide", post(unhide))
        .route("/faults", get(get_faults).put(set_faults))
        .route("/tokens", post(mint))
        .route("/reset", post(reset))
        .route("/today", get(get_today).put(set_today))
}

/// Parses a JSON body; an empty body reads as `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

fn ok(v: impl serde::Serialize) -> Response {
    axum::Json(v).into_response()
}

pub(super) async fn index() -> Response {
    ok(json!({
        "endpoints": [
            "GET /_sandbox/info",
            "GET /_sandbox/members?include_hidden=true&offset=0&limit=100",
            "POST /_sandbox/members",
            "GET /_sandbox/members/{id}",
            "PATCH /_sandbox/members/{id}",
            "POST /_sandbox/members/{id}/terminate",
            "POST /_sandbox/members/{id}/cancel-termination",
            "POST /_sandbox/members/{id}/rehire",
            "PUT /_sandbox/members/{id}/manager",
            "PUT /_sandbox/members/{id}/work-email",
            "PUT /_sandbox/members/{id}/name-dob",
            "POST /_sandbox/members/{id}/hide",
            "POST /_sandbox/members/{id}/unhide",
            "GET|PUT /_sandbox/faults",
            "POST /_sandbox/tokens",
            "POST /_sandbox/reset",
            "GET|PUT /_sandbox/today"
        ]
    }))
}

async fn info(State(h): State<SandboxHandle>) -> Response {
    ok(h.info())
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(default)]
    include_hidden: bool,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

async fn list(State(h): State<SandboxHandle>, Query(p): Query<ListParams>) -> Response {
    let limit = p.limit.unwrap_or(1000);
    let items = h.members_page(p.include_hidden, p.offset, limit);
    let info = h.info();
    let total = if p.include_hidden {
        info.members
    } else {
        info.members - info.hidden
    };
    ok(json!({ "items": items, "total": total, "offset": p.offset, "limit": limit }))
}

async fn hire(State(h): State<SandboxHandle>, bytes: Bytes) -> Result<Response, ApiError> {
    let doc: Value = body(&bytes)?;
    let member = h.hire(doc)?;
    Ok((StatusCode::CREATED, axum::Json(member)).into_response())
}

async fn member(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    h.member(&id)
        .map(ok)
        .ok_or_else(|| ApiError::not_found(format!("no member has id `{id}`")))
}

async fn patch(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let doc: Value = body(&bytes)?;
    Ok(ok(h.patch_member(&id, &doc)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DateBody {
    date: Date,
}

async fn terminate(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: DateBody = body(&bytes)?;
    Ok(ok(h.terminate(&id, b.date)?))
}

async fn cancel_termination(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(h.cancel_termination(&id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RehireBody {
    start_date: Date,
}

async fn rehire(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: RehireBody = body(&bytes)?;
    Ok(ok(h.rehire(&id, b.start_date)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagerBody {
    manager_id: Option<String>,
}

async fn manager(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: ManagerBody = body(&bytes)?;
    Ok(ok(h.set_manager(&id, b.manager_id.as_deref())?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    work_email: Option<String>,
}

async fn work_email(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: EmailBody = body(&bytes)?;
    Ok(ok(h.set_work_email(&id, b.work_email.as_deref())?))
}

async fn name_dob(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: NameChange = body(&bytes)?;
    Ok(ok(h.set_name_and_dob(&id, &b)?))
}

async fn hide(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(h.hide(&id)?))
}

async fn unhide(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(h.unhide(&id)?))
}

async fn get_faults(State(h): State<SandboxHandle>) -> Response {
    ok(h.faults())
}

async fn set_faults(State(h): State<SandboxHandle>, bytes: Bytes) -> Result<Response, ApiError> {
    let f: Faults = body(&bytes)?;
    h.set_faults(f)?;
    Ok(ok(h.faults()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintBody {
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

async fn mint(State(h): State<SandboxHandle>, bytes: Bytes) -> Result<Response, ApiError> {
    let b: MintBody = body(&bytes)?;
    let scopes: Vec<String> = b.scopes.unwrap_or_else(|| {
        crate::scopes::all_scopes()
            .into_iter()
            .map(str::to_owned)
            .collect()
    });
    let names: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let ttl = b
        .ttl_seconds
        .map_or(h.config().access_ttl, Duration::from_secs);
    Ok(ok(h.mint_token_with_ttl(&names, ttl)?))
}

async fn reset(State(h): State<SandboxHandle>) -> Result<Response, ApiError> {
    let h2 = h.clone();
    tokio::task::spawn_blocking(move || h2.reset())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "reset failed",
            )
        })?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(ok(h.info()))
}

async fn get_today(State(h): State<SandboxHandle>) -> Response {
    ok(json!({ "today": h.today() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TodayBody {
    today: Date,
}

async fn set_today(State(h): State<SandboxHandle>, bytes: Bytes) -> Result<Response, ApiError> {
    let b: TodayBody = body(&bytes)?;
    let changed = h.set_today(b.today);
    Ok(ok(json!({ "today": h.today(), "changed": changed })))
}
