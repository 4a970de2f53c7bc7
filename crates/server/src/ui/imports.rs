//! Import history and one import's detail in plain words: what happened, the
//! guards' findings as sentences, the held employees by name with their changes,
//! what changed by field, the findings grouped by cause, the other recorded
//! details as sentences, and the employees with their changes (before → after);
//! with rollback of an applied import.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use roster_store::{EntryRecord, ImportSummary};
use serde::Deserialize;
use serde_json::Value;

use super::words::{self, IssueGroup, Person, name_of};
use super::{
    ChangeView, EntryView, Layout, NoticeQuery, Posted, UiError, UiUser, manager_emails, page, see,
    when,
};
use crate::api::imports as api;
use crate::auth::Read;
use crate::dto::{ImportSummaryDto, ImportsQuery};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports", get(list))
        .route("/imports/{id}", get(show))
        .route("/imports/{id}/rollback", post(rollback))
}

struct SummaryView {
    id: i64,
    integration: String,
    kind: String,
    trigger: String,
    /// As stored (`data-status`, `#import-status`) and in words.
    status: String,
    status_words: &'static str,
    finished: String,
    counts: String,
}

fn counts_text(s: &ImportSummaryDto) -> String {
    let c = &s.counts;
    let parts = [
        ("created", c.created),
        ("updated", c.updated),
        ("deactivated", c.deactivated),
        ("reactivated", c.reactivated),
        ("skipped", c.skipped),
        ("held", c.privacy),
        ("errors", c.errors),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    if text.is_empty() {
        "no changes".into()
    } else {
        text.join(", ")
    }
}

impl SummaryView {
    /// `names`: integration id → name.
    fn of(s: &ImportSummaryDto, names: &HashMap<i64, String>) -> Self {
        Self {
            id: s.id,
            integration: match s.integration_id {
                Some(i) => names
                    .get(&i)
                    .cloned()
                    .unwrap_or_else(|| format!("integration {i} (deleted)")),
                None => "—".into(),
            },
            kind: words::kind_words(&s.kind).to_string(),
            trigger: words::trigger_words(&s.trigger).to_string(),
            status: s.status.clone(),
            status_words: words::status_words(&s.status),
            finished: when(s.finished_at),
            counts: counts_text(s),
        }
    }
}

/// Integration names by id.
async fn integration_names(st: &AppState, user: &UiUser) -> Result<HashMap<i64, String>, UiError> {
    Ok(st
        .engine(user.principal.account)
        .integrations()
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect())
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ListPage {
    l: Layout,
    items: Vec<SummaryView>,
}

async fn list(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let axum::Json(list) = api::list(
        State(st.clone()),
        user.auth()?,
        ApiQuery(ImportsQuery { limit: Some(200) }),
    )
    .await?;
    let names = integration_names(&st, &user).await?;
    page(&ListPage {
        l: user.layout("imports", q.notice.as_deref()),
        items: list.iter().map(|s| SummaryView::of(s, &names)).collect(),
    })
}

#[derive(Template)]
#[template(path = "import.html")]
struct DetailPage {
    l: Layout,
    s: SummaryView,
    started: String,
    /// The guards' findings, as sentences.
    guards: Vec<String>,
    held: Vec<EntryView>,
    fields: Vec<(String, usize)>,
    groups: Vec<IssueGroup>,
    details: Vec<(String, String)>,
    entries: Vec<EntryView>,
    total: usize,
    prev: Option<String>,
    next: Option<String>,
    can_roll_back: bool,
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    notice: Option<String>,
}

const PAGE: usize = 50;
/// How many managers' names the changes look up.
const NAMES: usize = 300;

fn entry_view(e: &EntryRecord) -> EntryView {
    let action = e.action.as_str();
    let mut v = EntryView::new(
        &e.employee_id,
        name_of(&e.after),
        action,
        e.changes.iter().map(ChangeView::from).collect(),
    );
    if !e.applied {
        v.action_words = format!("{} (not applied)", v.action_words);
    }
    v.privacy = e.privacy;
    v.held = e.held;
    v
}

/// The recorded issues grouped by cause, members and managers named from the
/// entries (and the directory for the rest).
async fn issue_groups(
    st: &AppState,
    account: i64,
    details: &Value,
    entries: &[EntryRecord],
) -> Result<Vec<IssueGroup>, UiError> {
    let issues: Vec<words::IssueIn> = details
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(words::IssueIn::from_json)
        .collect();
    let wanted: HashSet<String> = issues.iter().flat_map(|i| i.ids()).collect();
    let known: HashMap<String, Person> = entries
        .iter()
        .flat_map(|e| super::directory::person_entries(&e.after))
        .filter(|(id, _)| wanted.contains(id))
        .collect();
    let people = super::directory::people(st, account, wanted, NAMES, known).await?;
    Ok(words::group_issues(issues, &people))
}

/// The guards' findings recorded with a blocked or partly applied import.
fn guard_sentences(
    s: &ImportSummary,
    details: &Value,
    settings: &roster_core::Settings,
    held: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = details
        .get("mass_change")
        .and_then(|m| serde_json::from_value::<roster_core::plan::MassChange>(m.clone()).ok())
    {
        out.extend(words::mass_change_sentences(&m, settings));
    }
    let privacy = held.max(if s.status == roster_store::ImportStatus::Blocked {
        s.counts.privacy
    } else {
        0
    });
    if privacy > 0 {
        out.push(words::privacy_sentence(privacy));
    }
    out
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<DetailQuery>,
) -> Result<Response, UiError> {
    user.auth::<Read>()?;
    let account = user.principal.account;
    let engine = st.engine(account);
    let r = engine
        .import(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no import {id}")))?;
    let page_no = q.page.unwrap_or(1).max(1);
    let integrations = engine.integrations().await?;
    let names: HashMap<i64, String> = integrations
        .iter()
        .map(|i| (i.id, i.name.clone()))
        .collect();
    let settings = integrations
        .iter()
        .find(|i| Some(i.id) == r.summary.integration_id)
        .map(|i| i.settings.clone())
        .unwrap_or_default();
    let summary = ImportSummaryDto::from(&r.summary);
    let mut held: Vec<EntryView> = r
        .entries
        .iter()
        .filter(|e| e.held)
        .map(entry_view)
        .collect();
    let offset = (page_no - 1) * PAGE;
    let mut entries: Vec<EntryView> = r
        .entries
        .iter()
        .skip(offset)
        .take(PAGE)
        .map(entry_view)
        .collect();
    let emails = manager_emails(&held)
        .into_iter()
        .chain(manager_emails(&entries));
    let people = super::directory::people_by_email(&st, account, emails, NAMES).await?;
    for c in held
        .iter_mut()
        .chain(entries.iter_mut())
        .flat_map(|e| e.changes.iter_mut())
    {
        c.name_managers(&people);
    }
    let fields = words::field_summary(
        r.entries
            .iter()
            .filter(|e| e.action != roster_core::plan::Action::Create)
            .map(|e| e.changes.iter().map(|c| c.field.as_str())),
    );
    let shown = offset + entries.len();
    page(&DetailPage {
        l: user.layout("imports", q.notice.as_deref()),
        started: when(r.summary.started_at),
        can_roll_back: matches!(summary.status.as_str(), "applied" | "partially_applied")
            && user.can_edit(),
        guards: guard_sentences(&r.summary, &r.details, &settings, held.len()),
        groups: issue_groups(&st, account, &r.details, &r.entries).await?,
        details: words::detail_sentences(&r.details),
        s: SummaryView::of(&summary, &names),
        held,
        fields,
        entries,
        total: r.entries.len(),
        prev: (page_no > 1).then(|| format!("/imports/{id}?page={}", page_no - 1)),
        next: (shown < r.entries.len()).then(|| format!("/imports/{id}?page={}", page_no + 1)),
    })
}

#[derive(Deserialize)]
struct Empty {}

async fn rollback(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let axum::Json(o) = api::rollback(State(st), p.user.auth()?, ApiPath(id)).await?;
    Ok(match o.import_id {
        Some(i) => see(format!("/imports/{i}?notice=rolled_back")),
        None => see(format!("/imports/{id}?notice=nothing")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Ported from the test of the former `detail_lines` (issue #16 replaced its
    /// "message (×9: E1, …)" lines with groups by cause): a warning that applies to
    /// nine members is one group, not nine lines, and names at most the first
    /// [`words::MEMBERS_SHOWN`] members.
    #[test]
    fn identical_issues_are_one_line_with_a_count_and_the_members() {
        let mut issues: Vec<Value> = (1..=9)
            .map(|n| {
                json!({ "severity": "warning", "code": "manager_no_work_email",
                        "employee_id": format!("E{n}"),
                        "message": "manager without a work email: reporting line not linked" })
            })
            .collect();
        issues.insert(
            3,
            json!({ "severity": "error", "code": "malformed_email", "position": 4,
                    "message": "malformed email" }),
        );
        let groups = words::group_issues(
            issues.iter().map(words::IssueIn::from_json),
            &HashMap::new(),
        );
        let lines: Vec<(usize, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.count, g.members.iter().map(|m| m.name.as_str()).collect()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, vec!["member #4"]),
                (
                    9,
                    vec!["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"]
                ),
            ]
        );
        let many: Vec<Value> = (1..=words::MEMBERS_SHOWN + 2)
            .map(|n| json!({ "source_id": format!("m{n}"), "code": "bad_date", "message": "same" }))
            .collect();
        let groups =
            words::group_issues(many.iter().map(words::IssueIn::from_json), &HashMap::new());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, words::MEMBERS_SHOWN + 2);
        assert_eq!(groups[0].more, 2);
        assert_eq!(groups[0].messages, ["same"]);
    }
}
