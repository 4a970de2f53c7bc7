//! The review of a sync: counts, per-employee field diffs with filters and paging,
//! privacy-held employees with a confirm checkbox, Import and Discard. The review is
//! the API's (kept in the store until applied or discarded).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use std::collections::{HashMap, HashSet};

use super::words::{self, IssueGroup, Person, name_of};
use super::{
    ChangeView, EntryView, Layout, Posted, UiError, UiUser, manager_emails, page, query, see, when,
};
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

/// How many names the issue groups and manager changes look up in the directory.
const NAMES: usize = 300;

impl EntryView {
    /// A review's entry, named from the plan.
    fn of_review(e: &ReviewEntryDto, plan: &roster_core::Plan) -> Self {
        let name = plan
            .entries
            .get(e.index)
            .map(|p| name_of(&p.after))
            .unwrap_or_else(|| e.employee_id.clone());
        let mut v = EntryView::new(
            &e.employee_id,
            name,
            &e.action,
            e.changes.iter().map(ChangeView::from).collect(),
        );
        v.privacy = e.privacy;
        v.held = e.held;
        v.id_change = e.id_change;
        v.duplicate_of = e.possible_duplicate_of.clone();
        v
    }
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    l: Layout,
    id: i64,
    integration: String,
    pending: bool,
    status: &'static str,
    import_id: Option<i64>,
    created: String,
    members_fetched: usize,
    verdict: &'static str,
    /// The guards' findings, as sentences.
    guards: Vec<String>,
    needs_mass_confirm: bool,
    counts: Vec<(&'static str, usize)>,
    groups: Vec<IssueGroup>,
    fields: Vec<(String, usize)>,
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

/// The plan's issues grouped by cause, members and managers named from the plan's
/// entries, else the directory.
async fn issue_groups(
    st: &AppState,
    account: i64,
    plan: &roster_core::Plan,
) -> Result<Vec<IssueGroup>, UiError> {
    let issues: Vec<words::IssueIn> = plan
        .issues
        .iter()
        .map(|i| words::IssueIn {
            code: i.code.as_str(),
            severity: i.severity.as_ref(),
            message: &i.message,
            employee_id: i.employee_id.as_deref(),
            source_id: i.source_id.as_deref(),
            position: i.position.map(|p| p as u64),
        })
        .collect();
    let wanted: HashSet<String> = issues.iter().flat_map(|i| i.ids()).collect();
    let known: HashMap<String, Person> = plan
        .entries
        .iter()
        .flat_map(|e| super::directory::person_entries(&e.after))
        .filter(|(id, _)| wanted.contains(id))
        .collect();
    let people = super::directory::people(st, account, wanted, NAMES, known).await?;
    Ok(words::group_issues(issues, &people))
}

/// The counts table of the review.
fn counts(c: &crate::dto::CountsDto) -> Vec<(&'static str, usize)> {
    vec![
        ("created", c.created),
        ("updated", c.updated),
        ("deactivated", c.deactivated),
        ("reactivated", c.reactivated),
        ("unchanged", c.unchanged),
        ("skipped", c.skipped),
        ("privacy-held", c.privacy),
        ("errors", c.errors),
        ("warnings", c.warnings),
    ]
}

/// The guards' findings as sentences.
fn guard_sentences(
    r: &crate::dto::ReviewDto,
    plan: &roster_core::Plan,
    settings: &roster_core::Settings,
    held: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if r.mass_change.triggered {
        out.extend(words::mass_change_sentences(&plan.mass_change, settings));
    }
    if held > 0 {
        out.push(words::privacy_sentence(held));
    }
    out
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, UiError> {
    let account = user.principal.account;
    let axum::Json(r) = syncs::show(State(st.clone()), user.auth()?, ApiPath(id)).await?;
    let payload = st.reviews.plan_of(account, id).await?;
    let plan = &payload.plan;
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
        State(st.clone()),
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
    let integration = st
        .engine(account)
        .integrations()
        .await?
        .into_iter()
        .find(|i| i.id == r.integration_id);
    let settings = integration
        .as_ref()
        .map(|i| i.settings.clone())
        .unwrap_or_default();
    let groups = issue_groups(&st, account, plan).await?;
    let fields = words::field_summary(
        plan.entries
            .iter()
            .filter(|e| e.action != roster_core::plan::Action::Create)
            .map(|e| e.changes.iter().map(|c| c.field.as_str())),
    );
    let mut held_rows: Vec<EntryView> = held
        .items
        .iter()
        .map(|e| EntryView::of_review(e, plan))
        .collect();
    let mut shown: Vec<EntryView> = entries
        .items
        .iter()
        .map(|e| EntryView::of_review(e, plan))
        .collect();
    let emails = manager_emails(&held_rows)
        .into_iter()
        .chain(manager_emails(&shown));
    let people = super::directory::people_by_email(&st, account, emails, NAMES).await?;
    for c in held_rows
        .iter_mut()
        .chain(shown.iter_mut())
        .flat_map(|e| e.changes.iter_mut())
    {
        c.name_managers(&people);
    }
    page(&ReviewPage {
        l: user.layout("integrations", q.notice.as_deref()),
        id,
        integration: integration
            .map(|i| i.name)
            .unwrap_or_else(|| format!("integration {}", r.integration_id)),
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
        guards: guard_sentences(&r, plan, &settings, held_rows.len()),
        needs_mass_confirm: matches!(r.verdict, VerdictDto::NeedsConfirmation),
        counts: counts(&r.counts),
        groups,
        fields,
        diagnostics: r.diagnostics.iter().map(|d| d.message.clone()).collect(),
        held: held_rows,
        total: entries.total,
        from: if entries.items.is_empty() {
            0
        } else {
            entries.offset + 1
        },
        to: entries.offset + entries.items.len(),
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (entries.offset + entries.items.len() < entries.total).then(|| link(page_no + 1)),
        entries: shown,
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
