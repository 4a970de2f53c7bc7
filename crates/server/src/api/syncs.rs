//! Syncs and their reviews. Starting a sync fetches, plans and guards without
//! applying (as `roster sync` does) and keeps the review in the store, so it survives
//! between requests and restarts. Applying runs the sync again with apply, as
//! `roster sync --apply` after its prompt does: the source may have moved on, and the
//! answer says whether the applied plan differs from the reviewed one.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use roster_core::guard::{Confirmations, Decision, Trigger};
use roster_core::issue::Severity;
use roster_core::plan::{Entry, Plan};
use roster_engine::{SyncOptions, SyncOutcome, SyncStatus, Timings};
use roster_source::Diagnostic;
use roster_store::AccountId;
use roster_store::access::{NewReview, ReviewStatus, StoredReview};
use serde::{Deserialize, Serialize};

use crate::api::integrations::wiring_error;
use crate::auth::{Auth, EditData, Principal, Read};
use crate::dto::{
    ApplyRequest, ApplyResponse, CountsDto, DiagnosticDto, DiscardResponse, EntryFilter, IssueDto,
    MassChangeDto, ReviewDto, ReviewEntriesPage, ReviewEntryDto, ReviewStatusDto, StartSyncRequest,
    VerdictDto, limit_of,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::metrics;
use crate::state::AppState;
use crate::wiring;

/// The options a review was made with (applied with the same).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct ReviewOptions {
    incremental: bool,
    deactivate_missing: bool,
    custom_fields: bool,
}

/// What the store keeps of a review.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ReviewPayload {
    options: ReviewOptions,
    status: SyncStatus,
    plan: Plan,
    decision: Decision,
    held: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
    members_fetched: usize,
    /// A users file's review: the file and how to read it (applying imports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<FileSource>,
}

/// A users file under review: applying the review imports this file as read then.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FileSource {
    pub file_name: String,
    pub full: bool,
    pub date_format: Option<String>,
    pub delimiter: Option<String>,
    pub map: Vec<String>,
    pub deactivate_missing: bool,
    pub rows: usize,
    /// Lines with an error.
    pub bad_rows: Vec<usize>,
    /// Every issue, naming its line and column.
    pub messages: Vec<String>,
    /// The file, base64.
    pub content: String,
}

/// Keep a users file's review (as a sync's: applied or discarded later); its id.
pub(crate) async fn keep_file_review(
    st: &AppState,
    p: &Principal,
    o: roster_engine::ImportOutcome,
    file: FileSource,
) -> Result<i64, ApiError> {
    let s = o.sync;
    let payload = ReviewPayload {
        options: ReviewOptions::default(),
        status: s.status,
        plan: s.plan,
        decision: s.decision,
        held: s.held,
        diagnostics: s.diagnostics,
        members_fetched: o.rows,
        file: Some(file),
    };
    let value = serde_json::to_value(&payload).map_err(|e| ApiError::internal(&e))?;
    let r = st
        .store
        .create_review(NewReview {
            account_id: p.account,
            integration_id: s.integration_id,
            created_at: st.clock.now(),
            payload: value,
        })
        .await?;
    tracing::info!(account = p.account, integration = s.integration_id, review = r.id, principal = %p.label(), "users file reviewed");
    Ok(r.id)
}

/// The employee IDs of the entries `held` points at.
pub(crate) fn held_ids(plan: &Plan, held: &[usize]) -> Vec<String> {
    held.iter()
        .filter_map(|&i| plan.entries.get(i))
        .map(|e| e.employee_id.clone())
        .collect()
}

/// How often a running apply renews its reservation of the review.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
/// A reservation not renewed for this long is stale: its process stopped (killed,
/// crashed) mid-apply, and the review is marked `failed` when next read. Failed, not
/// pending again: whether the stopped apply committed is for the import history to
/// say, and a new sync plans from the directory as it is now.
pub(crate) const STALE_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// One apply's or discard's hold on a review (`pending` → `applying`), renewed in
/// the background until [`Reservation::finish`]. Dropped unfinished (a panic), the
/// renewal stops and the reservation goes stale.
struct Reservation {
    account: AccountId,
    id: i64,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

impl Reservation {
    /// Reserve review `id`, or 409 when another apply or discard holds or closed it.
    async fn take(st: &AppState, account: AccountId, id: i64) -> Result<Reservation, ApiError> {
        let holder = format!("apply-{}", uuid::Uuid::new_v4().simple());
        if !st
            .store
            .reserve_review(account, id, &holder, st.clock.now())
            .await?
        {
            let r = st.store.review_head(account, id).await?;
            return Err(match r {
                None => ApiError::NotFound(format!("no review {id}")),
                Some(r) => not_pending(&r),
            });
        }
        let renew = tokio::spawn({
            let store = st.store.clone();
            let clock = st.clock.clone();
            let holder = holder.clone();
            async move {
                let mut tick = tokio::time::interval(RENEW_EVERY);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match store.renew_review(account, id, &holder, clock.now()).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::error!(account, review = id, "review reservation lost");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(account, review = id, error = %e, "could not renew the review reservation");
                        }
                    }
                }
            }
        });
        Ok(Reservation {
            account,
            id,
            holder,
            renew,
        })
    }

    /// End the reservation: the review becomes `status` (`Pending`: released, nothing
    /// was applied). A reservation lost meanwhile (declared stale) is an error: the
    /// review and what this run did could disagree, and the caller must hear it.
    async fn finish(
        self,
        st: &AppState,
        status: ReviewStatus,
        import_id: Option<i64>,
    ) -> Result<(), ApiError> {
        self.renew.abort();
        let done = st
            .store
            .finish_review(
                self.account,
                self.id,
                &self.holder,
                status,
                import_id,
                st.clock.now(),
            )
            .await?;
        if done {
            return Ok(());
        }
        tracing::error!(
            account = self.account,
            review = self.id,
            import = import_id,
            status = status.as_str(),
            "review reservation lost before the run finished"
        );
        Err(ApiError::Conflict(format!(
            "review {} was marked failed while this run went on (its reservation was not renewed for {} s){}",
            self.id,
            STALE_AFTER.as_secs(),
            import_id
                .map(|i| format!("; import {i} records what the run did"))
                .unwrap_or_default()
        )))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.renew.abort();
    }
}

/// The 409 for a review that is not pending.
fn not_pending(r: &StoredReview) -> ApiError {
    let id = r.id;
    ApiError::Conflict(match r.status {
        ReviewStatus::Applying => {
            format!("review {id} is being applied or discarded by another request right now")
        }
        status => format!(
            "review {id} is already {}{}",
            status.as_str(),
            r.import_id
                .map(|i| format!(" (import {i})"))
                .unwrap_or_default()
        ),
    })
}

/// `r` as it stands: a review still `applying` whose reservation went stale (its
/// process stopped) is marked `failed` first.
async fn settled(st: &AppState, r: StoredReview, head: bool) -> Result<StoredReview, ApiError> {
    let stale = r.status == ReviewStatus::Applying
        && r.reserved_at
            .is_none_or(|t| st.clock.now().duration_since(t) > STALE_AFTER);
    if !stale {
        return Ok(r);
    }
    let now = st.clock.now();
    let before = now
        .checked_sub(STALE_AFTER)
        .map_err(|e| ApiError::internal(&e))?;
    if st
        .store
        .fail_stale_review(r.account_id, r.id, before, now)
        .await?
    {
        tracing::warn!(
            account = r.account_id,
            review = r.id,
            "review marked failed: its apply stopped before it finished"
        );
    }
    let again = if head {
        st.store.review_head(r.account_id, r.id).await?
    } else {
        st.store.review(r.account_id, r.id).await?
    };
    again.ok_or_else(|| ApiError::NotFound(format!("no review {}", r.id)))
}

fn payload(r: &StoredReview) -> Result<ReviewPayload, ApiError> {
    ReviewPayload::deserialize(&r.payload).map_err(|e| ApiError::internal(&e))
}

/// Decoded review plans, most recently used last. A review's plan never changes once
/// stored, so paging through a large review decodes it once, not once per page.
/// Keyed by account and review: one account never reads another's.
#[derive(Default)]
pub struct ReviewCache(
    std::sync::Mutex<std::collections::VecDeque<(ReviewKey, Arc<ReviewPayload>)>>,
);

type ReviewKey = (roster_store::AccountId, i64);

/// How many decoded reviews a server keeps (a 10k-member plan is a few MB).
const CACHED_REVIEWS: usize = 8;

impl ReviewCache {
    fn get(&self, key: ReviewKey) -> Option<Arc<ReviewPayload>> {
        let mut cache = self.0.lock().ok()?;
        let at = cache.iter().position(|(k, _)| *k == key)?;
        let hit = cache.remove(at)?;
        let value = hit.1.clone();
        cache.push_back(hit);
        Some(value)
    }

    fn put(&self, key: ReviewKey, value: Arc<ReviewPayload>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.retain(|(k, _)| *k != key);
            if cache.len() >= CACHED_REVIEWS {
                cache.pop_front();
            }
            cache.push_back((key, value));
        }
    }
}

/// A review's decoded plan, from the cache or from `r`.
fn cached_payload(st: &AppState, r: &StoredReview) -> Result<Arc<ReviewPayload>, ApiError> {
    let key = (r.account_id, r.id);
    if let Some(p) = st.reviews.get(key) {
        return Ok(p);
    }
    let p = Arc::new(payload(r)?);
    st.reviews.put(key, p.clone());
    Ok(p)
}

/// A review's decoded plan for reading its entries: from the cache without touching
/// the store when it is there (entries never change), else read and decoded.
async fn plan_of(st: &AppState, p: &Principal, id: i64) -> Result<Arc<ReviewPayload>, ApiError> {
    if let Some(hit) = st.reviews.get((p.account, id)) {
        return Ok(hit);
    }
    let r = st
        .store
        .review(p.account, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no review {id}")))?;
    cached_payload(st, &r)
}

/// A review (its current status) and its decoded plan: with the plan cached, only the
/// review's head is read (not its payload, megabytes of JSON for a big sync).
async fn review_with_plan(
    st: &AppState,
    account: AccountId,
    id: i64,
) -> Result<(StoredReview, Arc<ReviewPayload>), ApiError> {
    let not_found = || ApiError::NotFound(format!("no review {id}"));
    if let Some(hit) = st.reviews.get((account, id)) {
        let r = st
            .store
            .review_head(account, id)
            .await?
            .ok_or_else(not_found)?;
        return Ok((settled(st, r, true).await?, hit));
    }
    let r = st.store.review(account, id).await?.ok_or_else(not_found)?;
    let plan = cached_payload(st, &r)?;
    Ok((settled(st, r, true).await?, plan))
}

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
            Some(e.employee_id.as_str()),
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

async fn pending_review(
    st: &AppState,
    p: &Principal,
    id: i64,
) -> Result<(StoredReview, ReviewPayload), ApiError> {
    let r = st
        .store
        .review(p.account, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no review {id}")))?;
    let r = settled(st, r, false).await?;
    if r.status != ReviewStatus::Pending {
        return Err(not_pending(&r));
    }
    let payload = payload(&r)?;
    Ok((r, payload))
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
        wiring::source_on(&engine, &i, Some(&st.http), st.source_policy).map_err(wiring_error)?;
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
    let value = serde_json::to_value(&payload).map_err(|e| ApiError::internal(&e))?;
    let r = st
        .store
        .create_review(NewReview {
            account_id: p.account,
            integration_id: id,
            created_at: st.clock.now(),
            payload: value,
        })
        .await?;
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
    let (r, plan) = review_with_plan(&st, p.account, id).await?;
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
    Ok(Json(entries_page(&*plan_of(&st, &p, id).await?, &f)?))
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
    let (r, payload) = review_with_plan(&st, p.account, id).await?;
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
    let (r, reviewed) = pending_review(&st, &p, id).await?;
    if matches!(reviewed.decision, Decision::NeedsConfirmation) && !req.confirm_mass_change {
        return Err(ApiError::Conflict(format!(
            "the mass-change guard fired ({}): apply with confirm_mass_change",
            reviewed.plan.mass_change.describe()
        )));
    }
    let reservation = Reservation::take(&st, p.account, id).await?;
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
                reservation.finish(&st, status, res.import_id).await?;
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
                reservation.finish(&st, status, None).await?;
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
        wiring::source_on(&engine, &i, Some(&st.http), st.source_policy).map_err(wiring_error)?;
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
    let (r, reviewed) = pending_review(&st, &p, id).await?;
    let reservation = Reservation::take(&st, p.account, id).await?;
    tokio::spawn(async move {
        match record_discard(&st, &r, reviewed).await {
            Ok(import_id) => {
                reservation
                    .finish(&st, ReviewStatus::Discarded, Some(import_id))
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
                reservation.finish(&st, ReviewStatus::Pending, None).await?;
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
