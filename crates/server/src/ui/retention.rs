//! Personal data on the admin UI (issue #17): the retention page (who is due, the
//! holds, "Apply retention now" through a confirmation page), a user's retention
//! hold (place, release) and the download of everything held about a person. The
//! API's handlers do the work (`api::retention`, `api::users::export_person`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, page, see, seg, when};
use crate::api::retention as api;
use crate::api::users;
use crate::auth::{Admin, EditData};
use crate::dto::{HoldDto, HoldRequest, RetentionDueDto};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/retention", get(show))
        .route("/retention/apply", get(confirm_apply).post(apply))
        .route("/users/{who}/hold", post(hold))
        .route("/users/{who}/release-hold", post(release_hold))
        .route("/users/{who}/export.json", get(export_person))
}

/// A person due (or skipped), for the templates.
struct DueRow {
    link: String,
    employee_id: String,
    name: String,
    end_date: String,
    due_on: String,
    fields: String,
}

impl From<&RetentionDueDto> for DueRow {
    fn from(d: &RetentionDueDto) -> Self {
        Self {
            link: format!("/users/{}", seg(&d.employee_id)),
            employee_id: d.employee_id.clone(),
            name: d.name.clone(),
            end_date: d.end_date.to_string(),
            due_on: d.due_on.to_string(),
            fields: d
                .fields
                .iter()
                .map(|f| match f.strip_prefix("demographic:") {
                    Some(name) => name.to_string(),
                    None => super::words::field_label(f),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// A retention hold, for the templates.
pub struct HoldView {
    pub link: String,
    pub employee_id: String,
    pub name: String,
    pub reason: String,
    pub since: String,
}

impl From<&HoldDto> for HoldView {
    fn from(h: &HoldDto) -> Self {
        Self {
            link: format!("/users/{}", seg(&h.employee_id)),
            employee_id: h.employee_id.clone(),
            name: h.name.clone(),
            reason: h.reason.clone(),
            since: when(h.since),
        }
    }
}

/// The hold on `employee_id`, for an account admin's view of their page (`None`
/// for other roles: holds are theirs).
pub async fn hold_of(
    st: &AppState,
    user: &UiUser,
    employee_id: &str,
) -> Result<Option<HoldView>, UiError> {
    if !user.can_admin() {
        return Ok(None);
    }
    let axum::Json(list) = api::holds(State(st.clone()), user.auth()?).await?;
    Ok(list
        .iter()
        .find(|h| h.employee_id == employee_id)
        .map(HoldView::from))
}

#[derive(Template)]
#[template(path = "retention.html")]
struct RetentionPage {
    l: Layout,
    /// `None`: retention is off.
    days: Option<u32>,
    today: String,
    due: Vec<DueRow>,
    skipped: Vec<DueRow>,
    /// Shown to account admins only.
    holds: Vec<HoldView>,
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let axum::Json(r) = api::review(State(st.clone()), user.auth::<EditData>()?).await?;
    let holds = if user.can_admin() {
        let axum::Json(list) = api::holds(State(st), user.auth()?).await?;
        list.iter().map(HoldView::from).collect()
    } else {
        Vec::new()
    };
    page(&RetentionPage {
        l: user.layout("retention", q.notice.as_deref()),
        days: r.retention_days,
        today: r.today.map(|d| d.to_string()).unwrap_or_default(),
        due: r.due.iter().map(DueRow::from).collect(),
        skipped: r.skipped.iter().map(DueRow::from).collect(),
        holds,
    })
}

#[derive(Template)]
#[template(path = "retention_apply.html")]
struct ApplyPage {
    l: Layout,
    days: u32,
    today: String,
    due: Vec<DueRow>,
}

async fn confirm_apply(State(st): State<AppState>, user: UiUser) -> Result<Response, UiError> {
    user.auth::<Admin>()?;
    let axum::Json(r) = api::review(State(st), user.auth()?).await?;
    let Some(days) = r.retention_days else {
        return Ok(see("/retention"));
    };
    page(&ApplyPage {
        l: user.layout("retention", None),
        days,
        today: r.today.map(|d| d.to_string()).unwrap_or_default(),
        due: r.due.iter().map(DueRow::from).collect(),
    })
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

async fn apply(State(st): State<AppState>, p: Posted<ConfirmForm>) -> Result<Response, UiError> {
    if p.form.confirm.as_deref() != Some("yes") {
        return Ok(see("/retention/apply"));
    }
    let axum::Json(done) = api::apply(State(st), p.user.auth()?).await?;
    Ok(see(match done.import_id {
        Some(_) => "/retention?notice=retention_applied",
        None => "/retention?notice=nothing",
    }))
}

#[derive(Deserialize)]
struct HoldForm {
    #[serde(default)]
    reason: String,
}

async fn hold(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<HoldForm>,
) -> Result<Response, UiError> {
    let axum::Json(h) = api::hold(
        State(st),
        p.user.auth()?,
        ApiPath(who),
        ApiJson(HoldRequest {
            reason: p.form.reason,
        }),
    )
    .await?;
    Ok(see(format!("/users/{}?notice=held", seg(&h.employee_id))))
}

#[derive(Deserialize)]
struct Empty {}

async fn release_hold(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let axum::Json(r) = api::release_hold(State(st), p.user.auth()?, ApiPath(who.clone())).await?;
    let notice = if r.released {
        "hold_released"
    } else {
        "nothing"
    };
    Ok(see(format!("/users/{}?notice={notice}", seg(&who))))
}

/// Everything held about the person, as the API's JSON document, downloaded as a
/// file (`person-<employee ID>.json`); never cached.
async fn export_person(
    State(st): State<AppState>,
    Path(who): Path<String>,
    user: UiUser,
) -> Result<Response, UiError> {
    let axum::Json(doc) = users::export_person(State(st), user.auth()?, ApiPath(who)).await?;
    let mut body = serde_json::to_vec_pretty(&doc).map_err(|e| ApiError::internal(&e))?;
    body.push(b'\n');
    let name: String = doc
        .employee
        .employee_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"person-{name}.json\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
