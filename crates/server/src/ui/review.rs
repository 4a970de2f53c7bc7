//! The review of a sync: counts, per-employee field diffs with filters and paging,
//! privacy-held employees with a confirm checkbox, Import and Discard. The review is
//! the API's (kept in the store until applied or discarded).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ChangeView, Layout, Posted, UiError, UiUser, page, query, see, seg, when};
use crate::api::syncs;
use crate::dto::{ApplyRequest, EntryFilter, ReviewEntryDto, ReviewStatusDto, VerdictDto};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reviews/{id}", get(show))
        .route("/reviews/{id}/import", post(apply))
        .route("/reviews/{id}/discard", post(discard))
}

const PAGE: usize = 25;

pub struct EntryView {
    pub employee_id: String,
    pub link: String,
    pub action: String,
    pub privacy: bool,
    pub held: bool,
    pub id_change: bool,
    pub duplicate_of: Option<String>,
    pub changes: Vec<ChangeView>,
}

impl From<&ReviewEntryDto> for EntryView {
    fn from(e: &ReviewEntryDto) -> Self {
        Self {
            employee_id: e.employee_id.clone(),
            link: format!("/users/{}", seg(&e.employee_id)),
            action: e.action.clone(),
            privacy: e.privacy,
            held: e.held,
            id_change: e.id_change,
            duplicate_of: e.possible_duplicate_of.clone(),
            changes: e.changes.iter().map(ChangeView::from).collect(),
        }
    }
}

struct IssueView {
    severity: String,
    message: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    l: Layout,
    id: i64,
    integration_id: i64,
    pending: bool,
    status: &'static str,
    import_id: Option<i64>,
    created: String,
    members_fetched: usize,
    verdict: &'static str,
    mass_change: Option<String>,
    needs_mass_confirm: bool,
    counts: Vec<(&'static str, usize)>,
    issues: Vec<IssueView>,
    diagnostics: Vec<String>,
    held: Vec<EntryView>,
    entries: Vec<EntryView>,
    total: usize,
    from: usize,
    to: usize,
    prev: Option<String>,
    next: Option<String>,
    action: String,
    search: String,
    /// A users file's review.
    file: Option<crate::dto::FileReviewDto>,
}

impl ReviewPage {
    fn action_is(&self, a: &str) -> bool {
        self.action == a
    }
}

#[derive(Debug, Default, Deserialize)]
struct ReviewQuery {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    notice: Option<String>,
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, UiError> {
    let axum::Json(r) = syncs::show(State(st.clone()), user.auth()?, ApiPath(id)).await?;
    let action = q
        .action
        .clone()
        .filter(|a| ["create", "update", "deactivate", "reactivate"].contains(&a.as_str()))
        .unwrap_or_default();
    let search = q.search.clone().unwrap_or_default();
    let page_no = q.page.unwrap_or(1).max(1);
    let filter = EntryFilter {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        privacy: None,
        field: None,
        search: Some(search.trim().to_string()).filter(|s| !s.is_empty()),
        offset: Some((page_no - 1) * PAGE),
        limit: Some(PAGE),
    };
    let axum::Json(entries) = syncs::entries(
        State(st.clone()),
        user.auth()?,
        ApiPath(id),
        ApiQuery(filter),
    )
    .await?;
    let axum::Json(held) = syncs::entries(
        State(st),
        user.auth()?,
        ApiPath(id),
        ApiQuery(EntryFilter {
            privacy: Some(true),
            limit: Some(1000),
            ..EntryFilter::default()
        }),
    )
    .await?;
    let link = |p: usize| {
        let p = p.to_string();
        format!(
            "/reviews/{id}?{}",
            query(&[("action", &action), ("search", &search), ("page", &p)])
        )
    };
    let c = &r.counts;
    page(&ReviewPage {
        l: user.layout("integrations", q.notice.as_deref()),
        id,
        integration_id: r.integration_id,
        pending: matches!(r.status, ReviewStatusDto::Pending),
        status: match r.status {
            ReviewStatusDto::Pending => "pending",
            ReviewStatusDto::Applying => "importing now",
            ReviewStatusDto::Applied => "imported",
            ReviewStatusDto::Discarded => "discarded",
            ReviewStatusDto::Failed => "failed (start a new sync)",
        },
        import_id: r.import_id,
        created: when(r.created_at),
        members_fetched: r.members_fetched,
        verdict: match r.verdict {
            VerdictDto::Apply => "ready to import",
            VerdictDto::NeedsConfirmation => "needs confirmation of the mass change",
            VerdictDto::Blocked => "blocked",
        },
        mass_change: r
            .mass_change
            .triggered
            .then(|| r.mass_change.description.clone()),
        needs_mass_confirm: matches!(r.verdict, VerdictDto::NeedsConfirmation),
        counts: vec![
            ("created", c.created),
            ("updated", c.updated),
            ("deactivated", c.deactivated),
            ("reactivated", c.reactivated),
            ("unchanged", c.unchanged),
            ("skipped", c.skipped),
            ("privacy-held", c.privacy),
            ("errors", c.errors),
            ("warnings", c.warnings),
        ],
        issues: r
            .issues
            .iter()
            .map(|i| IssueView {
                severity: i.severity.clone(),
                message: i.message.clone(),
            })
            .collect(),
        diagnostics: r.diagnostics.iter().map(|d| d.message.clone()).collect(),
        held: held.items.iter().map(EntryView::from).collect(),
        total: entries.total,
        from: if entries.items.is_empty() {
            0
        } else {
            entries.offset + 1
        },
        to: entries.offset + entries.items.len(),
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (entries.offset + entries.items.len() < entries.total).then(|| link(page_no + 1)),
        entries: entries.items.iter().map(EntryView::from).collect(),
        action,
        search,
        file: r.file,
    })
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    confirm_privacy: Option<String>,
    #[serde(default)]
    confirm_mass_change: Option<String>,
    #[serde(default)]
    skip_bad_rows: Option<String>,
}

async fn apply(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<ApplyForm>,
) -> Result<Response, UiError> {
    let req = ApplyRequest {
        confirm_privacy: p.form.confirm_privacy.is_some(),
        confirm_mass_change: p.form.confirm_mass_change.is_some(),
        skip_bad_rows: p.form.skip_bad_rows.is_some(),
    };
    let axum::Json(r) = syncs::apply(State(st), p.user.auth()?, ApiPath(id), ApiJson(req)).await?;
    let notice = match r.status.as_str() {
        "applied" => "applied",
        "partially_applied" => "partially_applied",
        "needs_confirmation" => "needs_confirmation",
        _ => "blocked",
    };
    Ok(match r.import_id {
        Some(i) if notice != "needs_confirmation" => see(format!("/imports/{i}?notice={notice}")),
        _ => see(format!("/reviews/{id}?notice={notice}")),
    })
}

#[derive(Deserialize)]
struct Empty {}

async fn discard(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let axum::Json(r) = syncs::discard(State(st), p.user.auth()?, ApiPath(id)).await?;
    Ok(see(format!("/imports/{}?notice=discarded", r.import_id)))
}
