//! Syncs and their reviews. Starting a sync fetches, plans and guards without
//! applying (as `roster sync` does) and keeps the review in the store, so it survives
//! between requests and restarts. Applying runs the sync again with apply, as
//! `roster sync --apply` after its prompt does: the source may have moved on, and the
//! answer says whether the applied plan differs from the reviewed one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use roster_core::guard::{Confirmations, Decision, Trigger};
use roster_core::issue::Severity;
use roster_core::plan::Entry;
use roster_engine::{SyncOptions, SyncOutcome, Timings};
use roster_store::access::{ReviewStatus, StoredReview};

use crate::auth::{Auth, EditData, Principal, Read};
use crate::dto::{
    ApplyRequest, ApplyResponse, CountsDto, DiagnosticDto, DiscardResponse, EntryFilter, IssueDto,
    MassChangeDto, ReviewDto, ReviewEntriesPage, ReviewEntryDto, ReviewStatusDto, StartSyncRequest,
    VerdictDto, limit_of,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::metrics;
use crate::reviews::{FileSource, ReviewOptions, ReviewPayload, held_ids};
use crate::state::AppState;
use roster_wiring as wiring;

fn verdict(d: &Decision) -> VerdictDto {
    match d {
        Decision::Apply { .. } => VerdictDto::Apply,
        Decision::NeedsConfirmation => VerdictDto::NeedsConfirmation,
        Decision::Blocked { .. } => VerdictDto::Blocked,
    }
}

fn status_dto(s: ReviewStatus) -> ReviewStatusDto {
    match s {
        ReviewStatus::Pending => ReviewStatusDto::Pending,
        ReviewStatus::Applying => ReviewStatusDto::Applying,
        ReviewStatus::Applied => ReviewStatusDto::Applied,
        ReviewStatus::Discarded => ReviewStatusDto::Discarded,
        ReviewStatus::Failed => ReviewStatusDto::Failed,
    }
}

const ACTIONS: &[&str] = &["create", "update", "deactivate", "reactivate"];

fn matches(e: &Entry, f: &EntryFilter, search: Option<&str>) -> bool {
    if let Some(a) = &f.action
        && e.action.as_str() != a
    {
        return false;
    }
    if let Some(p) = f.privacy
        && e.privacy != p
    {
        return false;
    }
    if let Some(field) = &f.field
        && !e.all_changes().iter().any(|c| &c.field == field)
    {
        return false;
    }
    if let Some(needle) = search {
        let a = &e.after;
        let hay = [
            Some(e.employee_id()),
            Some(a.email.as_str()),
            a.first_name.as_deref(),
            a.last_name.as_deref(),
            a.preferred_name.as_deref(),
        ];
        if !hay
            .iter()
            .flatten()
            .any(|h| h.to_lowercase().contains(needle))
        {
            return false;
        }
    }
    true
}

fn entries_page(p: &ReviewPayload, f: &EntryFilter) -> Result<ReviewEntriesPage, ApiError> {
    if let Some(a) = &f.action
        && !ACTIONS.contains(&a.as_str())
    {
        return Err(ApiError::bad_request(
            format!("action must be one of {}", ACTIONS.join(", ")),
            Some("action"),
        ));
    }
    let search = f
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let offset = f.offset.unwrap_or(0);
    let limit = limit_of(f.limit, 50);
    let held: std::collections::HashSet<usize> = p.held.iter().copied().collect();
    let mut total = 0;
    let mut items = Vec::new();
    for (i, e) in p.plan.entries.iter().enumerate() {
        if !matches(e, f, search.as_deref()) {
            continue;
        }
        if total >= offset && items.len() < limit {
            items.push(ReviewEntryDto::new(i, e, held.contains(&i)));
        }
        total += 1;
    }
    Ok(ReviewEntriesPage {
        total,
        offset,
        limit,
        items,
    })
}

fn review_dto(r: &StoredReview, p: &ReviewPayload) -> Result<ReviewDto, ApiError> {
    let m = &p.plan.mass_change;
    Ok(ReviewDto {
        file: p.file.as_ref().map(|f| crate::dto::FileReviewDto {
            file_name: f.file_name.clone(),
            mode: if f.full { "full" } else { "partial" }.into(),
            rows: f.rows,
            bad_rows: f.bad_rows.clone(),
            messages: f.messages.clone(),
        }),
        id: r.id,
        integration_id: r.integration_id,
        status: status_dto(r.status),
        created_at: r.created_at,
        closed_at: r.closed_at,
        import_id: r.import_id,
        verdict: verdict(&p.decision),
        today: p.plan.today,
        complete: p.plan.complete,
        members_fetched: p.members_fetched,
        counts: (&p.plan.counts).into(),
        mass_change: MassChangeDto {
            triggered: m.triggered(),
            description: m.describe(),
            deactivations: m.deactivations,
            active_before: m.active_before,
            id_changes: m.id_changes,
            matched: m.matched,
        },
        privacy_held: held_ids(&p.plan, &p.held),
        issues: p
            .plan
            .issues
            .iter()
            .map(|i| IssueDto {
                severity: match i.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                }
                .into(),
                code: i.code.as_str().into(),
                message: i.message.clone(),
                position: i.position,
                employee_id: i.employee_id.clone(),
                field: i.field.clone(),
            })
            .collect(),
        diagnostics: p
            .diagnostics
            .iter()
            .map(|d| DiagnosticDto {
                code: d.code.clone(),
                message: d.message.clone(),
            })
            .collect(),
        entries: entries_page(p, &EntryFilter::default())?,
    })
}

#[utoipa::path(post, path = "/api/v1/integrations/{id}/syncs", tag = "syncs",
    description = "Fetch, plan and guard a manual sync without applying it. The review is kept until applied or discarded; its entries page on at `/api/v1/reviews/{id}/entries`.",
    params(("id" = i64, Path)),
    request_body = StartSyncRequest,
    responses((status = 201, body = ReviewDto), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StartSyncRequest>,
) -> Result<(StatusCode, Json<ReviewDto>), ApiError> {
    let engine = st.engine(p.account);
    let i = engine.integration(Some(id)).await?;
    let source =
        wiring::source_on(&engine, &i, Some(&st.http), st.source_policy).map_err(ApiError::from)?;
    let options = ReviewOptions {
        incremental: req.incremental,
        deactivate_missing: req.deactivate_missing,
        custom_fields: req.custom_fields,
    };
    let outcome = engine
        .sync(
            id,
            &source,
            sync_options(options, false, Confirmations::default()),
        )
        .await
        .inspect_err(|_| metrics::record_sync_failure())?;
    metrics::record_sync(&outcome);
    let payload = ReviewPayload {
        options,
        status: outcome.status,
        held: outcome.held,
        diagnostics: outcome.diagnostics,
        members_fetched: outcome.members_fetched,
        decision: outcome.decision,
        plan: outcome.plan,
        file: None,
    };
    let r = st.reviews.keep(p.account, id, &payload).await?;
    tracing::info!(account = p.account, integration = id, review = r.id, principal = %p.label(), "sync reviewed");
    Ok((StatusCode::CREATED, Json(review_dto(&r, &payload)?)))
}

fn sync_options(o: ReviewOptions, apply: bool, confirm: Confirmations) -> SyncOptions {
    SyncOptions {
        trigger: Some(Trigger::Manual),
        incremental: o.incremental,
        deactivate_missing: o.deactivate_missing,
        apply,
        confirm,
        custom_fields: o.custom_fields,
        ..SyncOptions::default()
    }
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "syncs",
    params(("id" = i64, Path)),
    responses((status = 200, body = ReviewDto), (status = "4XX", body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReviewDto>, ApiError> {
    let (r, plan) = st.reviews.with_plan(p.account, id).await?;
    Ok(Json(review_dto(&r, &plan)?))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}/entries", tag = "syncs",
    params(("id" = i64, Path), EntryFilter),
    responses((status = 200, body = ReviewEntriesPage), (status = "4XX", body = ErrorBody)))]
pub async fn entries(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<EntryFilter>,
) -> Result<Json<ReviewEntriesPage>, ApiError> {
    Ok(Json(entries_page(
        &*st.reviews.plan_of(p.account, id).await?,
        &f,
    )?))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}/preview.csv", tag = "syncs",
    description = "The user file preview: the directory as this review would leave it (every planned change applied, deactivated users included), in the users-export CSV format.",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (r, payload) = st.reviews.with_plan(p.account, id).await?;
    let after = st
        .engine(p.account)
        .directory_after(r.integration_id, &payload.plan, false)
        .await?;
    let options = roster_csv::ExportOptions::from_settings(&after.settings, true);
    let mut out = Vec::new();
    let n = roster_csv::export(&mut out, &after.employees, &options)
        .map_err(|e| ApiError::internal(&e))?;
    tracing::info!(account = p.account, review = id, employees = n, principal = %p.label(), "user file preview");
    let disposition = format!("attachment; filename=\"user-file-preview-{id}.csv\"");
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    ))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/apply", tag = "syncs",
    description = "Apply a pending review: the sync runs again with apply and the review's options. Privacy-guarded employees are held unless `confirm_privacy`; a fired mass-change guard needs `confirm_mass_change`. The review is reserved first (`applying`): a discard or another apply meanwhile answers 409. It ends `applied`, or `failed` when the run failed; a run that applied nothing (blocked, or refused with a 4XX) leaves it pending.",
    params(("id" = i64, Path)),
    request_body = ApplyRequest,
    responses((status = 200, body = ApplyResponse), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn apply(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ApplyRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let (r, reviewed) = st.reviews.pending(p.account, id).await?;
    if matches!(reviewed.decision, Decision::NeedsConfirmation) && !req.confirm_mass_change {
        return Err(ApiError::Conflict(format!(
            "the mass-change guard fired ({}): apply with confirm_mass_change",
            reviewed.plan.mass_change.describe()
        )));
    }
    let reservation = st.reviews.reserve(p.account, id).await?;
    // The run and the end of the reservation go on if the client goes away: an
    // apply cut half-way would leave the review `applying` until it goes stale.
    tokio::spawn(async move {
        let run = match reviewed.file.clone() {
            Some(file) => apply_file(&st, &p, &r, &reviewed, file, req).await,
            None => apply_sync(&st, &p, &r, &reviewed, req).await,
        };
        match run {
            Ok(res) => {
                let applied = matches!(res.status.as_str(), "applied" | "partially_applied");
                let status = if applied {
                    ReviewStatus::Applied
                } else {
                    ReviewStatus::Pending
                };
                reservation.finish(status, res.import_id).await?;
                tracing::info!(account = p.account, review = id, import = res.import_id, status = %res.status, principal = %p.label(), "review applied");
                Ok(Json(res))
            }
            Err(e) => {
                // A 4XX refused the run before it applied anything (a file with rows
                // in error, a sync already running): the review can be applied again.
                let status = if e.status().is_client_error() {
                    ReviewStatus::Pending
                } else {
                    ReviewStatus::Failed
                };
                reservation.finish(status, None).await?;
                tracing::warn!(account = p.account, review = id, status = status.as_str(), principal = %p.label(), "review apply failed");
                Err(e)
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// Run a sync's review again with apply.
async fn apply_sync(
    st: &AppState,
    p: &Principal,
    r: &StoredReview,
    reviewed: &ReviewPayload,
    req: ApplyRequest,
) -> Result<ApplyResponse, ApiError> {
    let engine = st.engine(p.account);
    let i = engine.integration(Some(r.integration_id)).await?;
    let source =
        wiring::source_on(&engine, &i, Some(&st.http), st.source_policy).map_err(ApiError::from)?;
    let confirm = Confirmations {
        privacy: req.confirm_privacy,
        mass_change: req.confirm_mass_change,
    };
    let outcome = engine
        .sync(
            r.integration_id,
            &source,
            sync_options(reviewed.options, true, confirm),
        )
        .await
        .inspect_err(|_| metrics::record_sync_failure())?;
    metrics::record_sync(&outcome);
    Ok(ApplyResponse {
        review_id: r.id,
        import_id: outcome.import_id,
        status: outcome.status.as_str().into(),
        counts: CountsDto::from(&outcome.plan.counts),
        held: held_ids(&outcome.plan, &outcome.held),
        plan_changed: outcome.plan.entries != reviewed.plan.entries,
    })
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/discard", tag = "syncs",
    description = "Decline a pending review: it is recorded as a `discarded` import (DESIGN §7); nothing is applied. The review is reserved first: while an apply holds it, a discard answers 409.",
    params(("id" = i64, Path)),
    responses((status = 200, body = DiscardResponse), (status = "4XX", body = ErrorBody)))]
pub async fn discard(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DiscardResponse>, ApiError> {
    let (r, reviewed) = st.reviews.pending(p.account, id).await?;
    let reservation = st.reviews.reserve(p.account, id).await?;
    tokio::spawn(async move {
        match record_discard(&st, &r, reviewed).await {
            Ok(import_id) => {
                reservation
                    .finish(ReviewStatus::Discarded, Some(import_id))
                    .await?;
                metrics::record_discard();
                tracing::info!(account = p.account, review = id, import = import_id, principal = %p.label(), "review discarded");
                Ok(Json(DiscardResponse {
                    review_id: id,
                    import_id,
                }))
            }
            Err(e) => {
                // Nothing was recorded: the review is pending again.
                reservation.finish(ReviewStatus::Pending, None).await?;
                Err(e)
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// Record a declined review as a `discarded` import; its id.
async fn record_discard(
    st: &AppState,
    r: &StoredReview,
    mut reviewed: ReviewPayload,
) -> Result<i64, ApiError> {
    let file = reviewed.file.take();
    let outcome = SyncOutcome {
        integration_id: r.integration_id,
        import_id: None,
        status: reviewed.status,
        plan: reviewed.plan,
        decision: reviewed.decision,
        applied: Vec::new(),
        held: reviewed.held,
        diagnostics: reviewed.diagnostics,
        members_fetched: reviewed.members_fetched,
        bytes_read: 0,
        requests: 0,
        timings: Timings::default(),
        omitted: 0,
    };
    let engine = st.engine(r.account_id);
    Ok(match file {
        None => engine.discard(&outcome, Trigger::Manual).await?,
        Some(f) => {
            let reviewed = roster_engine::ImportOutcome {
                sync: outcome,
                file_name: f.file_name,
                rows: f.rows,
                bad_rows: f.bad_rows,
                refused: false,
            };
            engine.discard_import(&reviewed, Trigger::Manual).await?
        }
    })
}

/// Apply a users file's review: the kept file is imported again with apply (the
/// directory may have changed since the review; the import records what applied).
async fn apply_file(
    st: &AppState,
    p: &Principal,
    r: &StoredReview,
    reviewed: &ReviewPayload,
    file: FileSource,
    req: ApplyRequest,
) -> Result<ApplyResponse, ApiError> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD
        .decode(&file.content)
        .map_err(|e| ApiError::internal(&e))?;
    let q = crate::dto::CsvImportQuery {
        mode: if file.full {
            crate::dto::CsvModeDto::Full
        } else {
            crate::dto::CsvModeDto::Partial
        },
        apply: true,
        skip_bad_rows: req.skip_bad_rows,
        confirm_privacy: req.confirm_privacy,
        confirm_mass_change: req.confirm_mass_change,
        deactivate_missing: file.deactivate_missing,
        date_format: file.date_format,
        delimiter: file.delimiter,
        map: file.map,
        file_name: Some(file.file_name),
        integration: Some(r.integration_id),
    };
    let run = crate::api::imports::run_import(st, p, &q, body.into()).await?;
    let o = &run.outcome;
    if o.refused {
        let lines: Vec<String> = o.bad_rows.iter().take(10).map(usize::to_string).collect();
        return Err(ApiError::Conflict(format!(
            "{} rows of the file are in error (lines {}{}): fix the file and upload it again, or apply with skip_bad_rows to leave them out (recorded as failed import {})",
            o.bad_rows.len(),
            lines.join(", "),
            if o.bad_rows.len() > lines.len() {
                ", …"
            } else {
                ""
            },
            o.sync
                .import_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into()),
        )));
    }
    let s = &o.sync;
    Ok(ApplyResponse {
        review_id: r.id,
        import_id: s.import_id,
        status: run.status.into(),
        counts: CountsDto::from(&s.plan.counts),
        held: held_ids(&s.plan, &s.held),
        plan_changed: s.plan.entries != reviewed.plan.entries,
    })
}
