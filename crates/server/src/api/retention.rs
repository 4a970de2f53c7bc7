//! Retention (issue #17): who is due, applying it now, and the retention holds
//! (e.g. a legal hold) that keep someone out of it. The same engine calls as
//! `roster retention` and `roster users hold/holds/release-hold`.

use axum::Json;
use axum::extract::State;
use roster_core::guard::Trigger;

use crate::auth::{Admin, Auth, EditData};
use crate::dto::{HoldDto, HoldReleasedDto, HoldRequest, RetentionDto};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/retention", tag = "retention",
    description = "Retention's review for today: the former employees it would anonymise now (end date plus `retention_days` passed, not re-hired since, not held, not anonymised already), each with the fields it would replace (names, never values), and those skipped because a pending review would change them. Changes nothing. `retention_days` is `null` when retention is off. For employee data admins and account admins.",
    responses((status = 200, body = RetentionDto), (status = "4XX", body = ErrorBody)))]
pub async fn review(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
) -> Result<Json<RetentionDto>, ApiError> {
    let o = st
        .engine(p.account)
        .retention(Trigger::Manual, true)
        .await?;
    Ok(Json((&o).into()))
}

#[utoipa::path(post, path = "/api/v1/retention/apply", tag = "retention",
    description = "Apply retention now, as the daily end-date job would: everyone due is anonymised (the fields replaced by neutral values everywhere Roster keeps them) in one import of kind `retention`, recorded with the fields' names and the admin, none of the values. Those a pending review would change are skipped and listed. Cannot be undone. Account admins only.",
    responses((status = 200, body = RetentionDto), (status = "4XX", body = ErrorBody)))]
pub async fn apply(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
) -> Result<Json<RetentionDto>, ApiError> {
    let o = st
        .engine(p.account)
        .retention_by(Trigger::Manual, false, &p.label())
        .await?;
    tracing::info!(account = p.account, import = ?o.import_id, employees = o.due.len(), principal = %p.label(), "retention applied");
    Ok(Json((&o).into()))
}

#[utoipa::path(get, path = "/api/v1/retention/holds", tag = "retention",
    description = "The retention holds: who retention leaves alone, why and since when. Account admins only.",
    responses((status = 200, body = Vec<HoldDto>), (status = "4XX", body = ErrorBody)))]
pub async fn holds(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
) -> Result<Json<Vec<HoldDto>>, ApiError> {
    let list = st.engine(p.account).retention_holds().await?;
    Ok(Json(list.iter().map(|(h, e)| (h, e).into()).collect()))
}

#[utoipa::path(put, path = "/api/v1/users/{who}/hold", tag = "retention",
    description = "Put a retention hold on the employee (e.g. a legal hold): retention leaves them alone until it is lifted. A second hold replaces the reason. The reason is required. Account admins only.",
    params(("who" = String, Path, description = "employee ID or email")),
    request_body = HoldRequest,
    responses((status = 200, body = HoldDto), (status = "4XX", body = ErrorBody)))]
pub async fn hold(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(who): ApiPath<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<Json<HoldDto>, ApiError> {
    let engine = st.engine(p.account);
    let h = engine
        .hold_retention(&who, &req.reason)
        .await
        .map_err(|e| match e {
            roster_engine::EngineError::Invalid(m) => ApiError::invalid(m, Some("reason")),
            other => other.into(),
        })?;
    let e = engine.find(&who).await?;
    tracing::info!(account = p.account, employee = e.key, principal = %p.label(), "retention hold placed");
    Ok(Json((&h, &e).into()))
}

#[utoipa::path(delete, path = "/api/v1/users/{who}/hold", tag = "retention",
    description = "Lift the employee's retention hold: retention applies to them again (`released` is `false` when there was none). Account admins only.",
    params(("who" = String, Path, description = "employee ID or email")),
    responses((status = 200, body = HoldReleasedDto), (status = "4XX", body = ErrorBody)))]
pub async fn release_hold(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(who): ApiPath<String>,
) -> Result<Json<HoldReleasedDto>, ApiError> {
    let released = st.engine(p.account).release_retention(&who).await?;
    tracing::info!(account = p.account, released, principal = %p.label(), "retention hold lifted");
    Ok(Json(HoldReleasedDto { released }))
}
