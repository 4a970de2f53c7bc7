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
                for i in items.iter().take(50) {
                    let text = i
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| compact(i));
                    out.push((k.clone(), text));
                }
            }
            other => out.push((k.clone(), compact(other))),
        }
    }
    out
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
