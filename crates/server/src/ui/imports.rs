//! Import history and one import's detail (counts, recorded details, the entries
//! with their field changes), with rollback of an applied import.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::review::EntryView;
use super::{ChangeView, Layout, NoticeQuery, Posted, UiError, UiUser, page, see, seg, when};
use crate::api::imports as api;
use crate::dto::{ImportSummaryDto, ImportsQuery, PageQuery};
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
    status: String,
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

impl From<&ImportSummaryDto> for SummaryView {
    fn from(s: &ImportSummaryDto) -> Self {
        Self {
            id: s.id,
            integration: s
                .integration_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "—".into()),
            kind: s.kind.clone(),
            trigger: s.trigger.clone(),
            status: s.status.clone(),
            finished: when(s.finished_at),
            counts: counts_text(s),
        }
    }
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
        State(st),
        user.auth()?,
        ApiQuery(ImportsQuery { limit: Some(200) }),
    )
    .await?;
    page(&ListPage {
        l: user.layout("imports", q.notice.as_deref()),
        items: list.iter().map(SummaryView::from).collect(),
    })
}

#[derive(Template)]
#[template(path = "import.html")]
struct DetailPage {
    l: Layout,
    s: SummaryView,
    started: String,
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

/// The recorded details as readable lines (issues and notes as their messages).
fn detail_lines(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(map) = v.as_object() else {
        return out;
    };
    for (k, v) in map {
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) if items.is_empty() => {}
            serde_json::Value::Array(items) => {
                for (text, members) in grouped(items).into_iter().take(50) {
                    out.push((k.clone(), with_members(text, &members)));
                }
            }
            other => out.push((k.clone(), compact(other))),
        }
    }
    out
}

/// Identical messages once each, in first-seen order, with the members they concern
/// (employee ID, else source id, else line): a warning that applies to nine members
/// is one line, not nine.
fn grouped(items: &[serde_json::Value]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for i in items {
        let text = i
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| compact(i));
        let member = ["employee_id", "source_id"]
            .iter()
            .find_map(|f| i.get(*f).and_then(|v| v.as_str()).map(str::to_string))
            .or_else(|| {
                i.get("position")
                    .and_then(|p| p.as_u64())
                    .map(|p| format!("#{p}"))
            })
            .unwrap_or_default();
        let g = *index.entry(text.clone()).or_insert_with(|| {
            groups.push((text, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(member);
    }
    groups
}

/// How many members a grouped line names before "and N more".
const MEMBERS_SHOWN: usize = 10;

fn with_members(text: String, members: &[String]) -> String {
    if members.len() < 2 {
        return text;
    }
    let named: Vec<&str> = members
        .iter()
        .filter(|m| !m.is_empty())
        .map(String::as_str)
        .collect();
    let mut list = named
        .iter()
        .take(MEMBERS_SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if named.len() > MEMBERS_SHOWN {
        list.push_str(&format!(" and {} more", named.len() - MEMBERS_SHOWN));
    }
    if list.is_empty() {
        format!("{text} (×{})", members.len())
    } else {
        format!("{text} (×{}: {list})", members.len())
    }
}

fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<DetailQuery>,
) -> Result<Response, UiError> {
    let page_no = q.page.unwrap_or(1).max(1);
    let axum::Json(d) = api::show(
        State(st),
        user.auth()?,
        ApiPath(id),
        ApiQuery(PageQuery {
            offset: Some((page_no - 1) * PAGE),
            limit: Some(PAGE),
        }),
    )
    .await?;
    let entries = d
        .entries
        .iter()
        .map(|e| EntryView {
            employee_id: e.employee_id.clone(),
            link: format!("/users/{}", seg(&e.employee_id)),
            action: if e.applied {
                e.action.clone()
            } else {
                format!("{} (not applied)", e.action)
            },
            privacy: e.privacy,
            held: e.held,
            id_change: false,
            duplicate_of: None,
            changes: e.changes.iter().map(ChangeView::from).collect(),
        })
        .collect();
    let shown = d.offset + d.entries.len();
    page(&DetailPage {
        l: user.layout("imports", q.notice.as_deref()),
        started: when(d.summary.started_at),
        can_roll_back: matches!(d.summary.status.as_str(), "applied" | "partially_applied")
            && user.can_edit(),
        s: SummaryView::from(&d.summary),
        details: detail_lines(&d.details),
        entries,
        total: d.entries_total,
        prev: (page_no > 1).then(|| format!("/imports/{id}?page={}", page_no - 1)),
        next: (shown < d.entries_total).then(|| format!("/imports/{id}?page={}", page_no + 1)),
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

    #[test]
    fn identical_issues_are_one_line_with_a_count_and_the_members() {
        let mut issues: Vec<serde_json::Value> = (1..=9)
            .map(|n| {
                json!({ "severity": "warning", "employee_id": format!("E{n}"),
                        "message": "manager without a work email: reporting line not linked" })
            })
            .collect();
        issues.insert(
            3,
            json!({ "severity": "error", "position": 4, "message": "malformed email" }),
        );
        let lines = detail_lines(&json!({ "issues": issues, "file": "x.csv" }));
        let issue_lines: Vec<&str> = lines
            .iter()
            .filter(|(k, _)| k == "issues")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            issue_lines,
            [
                "manager without a work email: reporting line not linked (×9: E1, E2, E3, E4, E5, E6, E7, E8, E9)",
                "malformed email",
            ]
        );
        let many: Vec<serde_json::Value> = (1..=12)
            .map(|n| json!({ "source_id": format!("m{n}"), "message": "same" }))
            .collect();
        let lines = detail_lines(&json!({ "issues": many }));
        assert_eq!(
            lines,
            [(
                "issues".to_string(),
                "same (×12: m1, m2, m3, m4, m5, m6, m7, m8, m9, m10 and 2 more)".to_string()
            )]
        );
    }
}
