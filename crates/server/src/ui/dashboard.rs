//! The home page (`/`): per integration its state and the last sync's outcome in
//! words, the next automatic run, what needs the admin now, leavers and starters in
//! the next 14 days, a headcount chart and a chart of each import's changes (SVG
//! drawn here, with the numbers as tables).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use roster_core::calendar::{UpcomingKind, upcoming};
use roster_engine::autosync::AutoSyncState;
use roster_store::{ImportKind, ImportStatus, ImportSummary, Integration, IntegrationState};
use serde_json::Value;

use super::chart::{self, BarChart, LineChart};
use super::tree::Tree;
use super::words::{self, count_of};
use super::{Layout, NoticeQuery, UiError, UiUser, page, seg, when};
use crate::auth::Read;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(show))
}

/// The look-ahead of the leavers and starters.
const DAYS: i64 = 14;
/// How many imports the charts read.
const RECENT: usize = 200;
/// Bars of the import chart.
const BAR_IMPORTS: usize = 12;
/// Points of the headcount chart.
const POINTS: usize = 30;
/// Pending reviews listed under "What needs you now".
const PENDING: usize = 20;

/// A link with its text.
pub struct Link {
    pub href: String,
    pub text: String,
}

struct Card {
    id: i64,
    name: String,
    state: &'static str,
    state_class: &'static str,
    /// The last sync's outcome, in words.
    outcome: String,
    /// Guard findings or the cause of a failure, as sentences.
    reasons: Vec<String>,
    /// Where to look (held employees, the import).
    link: Option<Link>,
    /// How to push a blocked sync through (with the sync button).
    push: Option<String>,
    next_run: String,
}

struct Todo {
    text: String,
    link: Link,
}

struct Coming {
    date: String,
    name: String,
    link: String,
}

struct ImportRow {
    id: i64,
    label: String,
    counts: [i64; 3],
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    cards: Vec<Card>,
    todos: Vec<Todo>,
    leavers: Vec<Coming>,
    starters: Vec<Coming>,
    /// Former employees retention anonymises within the look-ahead (due ones not
    /// done yet included); `None`: retention is off.
    retention: Option<(u32, Vec<Coming>)>,
    days: i64,
    active: usize,
    headcount: Vec<(String, i64)>,
    headcount_chart: LineChart,
    imports: Vec<ImportRow>,
    import_chart: BarChart,
    series: [&'static str; 3],
}

/// The last sync (or users file import) of `id`.
fn last_run(imports: &[ImportSummary], id: i64) -> Option<&ImportSummary> {
    imports.iter().find(|s| {
        s.integration_id == Some(id) && matches!(s.kind, ImportKind::Sync | ImportKind::CsvImport)
    })
}

/// The cause of a failed import, from its details.
fn failure_cause(details: &Value) -> String {
    details
        .get("error")
        .or_else(|| details.pointer("/extra/error"))
        .and_then(Value::as_str)
        .unwrap_or("the source could not be read (see the server log)")
        .to_string()
}

/// Which guards blocked, as sentences.
fn guard_reasons(s: &ImportSummary, details: &Value, i: &Integration) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = details
        .get("mass_change")
        .and_then(|m| serde_json::from_value::<roster_core::plan::MassChange>(m.clone()).ok())
    {
        for line in words::mass_change_sentences(&m, &i.settings) {
            out.push(format!("Mass-change guard: {line}"));
        }
    }
    if s.counts.privacy > 0 {
        out.push(format!(
            "Privacy guard: {}",
            words::privacy_sentence(s.counts.privacy)
        ));
    }
    out
}

/// The recorded details of import `s` (null when it has none).
async fn import_details(st: &AppState, user: &UiUser, s: &ImportSummary) -> Result<Value, UiError> {
    let head = st
        .store
        .import_head(user.principal.account, s.id)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(head.map(|(_, d)| d).unwrap_or(Value::Null))
}

async fn card(
    st: &AppState,
    user: &UiUser,
    i: &Integration,
    imports: &[ImportSummary],
    todos: &mut Vec<Todo>,
) -> Result<Card, UiError> {
    let engine = st.engine(user.principal.account);
    let job = engine.autosync(i.id).await?;
    let auto = AutoSyncState::of(job.as_ref());
    let here = Link {
        href: format!("/integrations#integration-{}", i.id),
        text: format!("Open {}", i.name),
    };
    let (state, state_class) = match (i.state, auto) {
        (IntegrationState::Connected, _) => {
            todos.push(Todo {
                text: format!(
                    "{}: run the setup sync to read the company and its fields.",
                    i.name
                ),
                link: here,
            });
            ("Connected: setup sync not run yet", "state-connected")
        }
        (IntegrationState::NeedsFinalise, _) => {
            todos.push(Todo {
                text: format!("{}: review and import the first sync.", i.name),
                link: here,
            });
            ("Waiting for the first sync", "state-needs-finalise")
        }
        (IntegrationState::Active, AutoSyncState::Paused) => {
            todos.push(Todo {
                text: format!(
                    "{}: auto-sync is paused; nothing runs until resumed.",
                    i.name
                ),
                link: here,
            });
            ("Active, auto-sync paused", "state-paused")
        }
        (IntegrationState::Active, _) => ("Active", "state-active"),
    };
    let next_run = match (auto, job.as_ref().and_then(|j| j.next_run_at)) {
        (AutoSyncState::On, Some(t)) => format!(
            "Next automatic run: {} ({}).",
            when(t),
            job.as_ref()
                .map(|j| j.schedule.describe())
                .unwrap_or_default()
        ),
        (AutoSyncState::Paused, _) => "Auto-sync is paused: no automatic run.".into(),
        _ => "Auto-sync is off: syncs run when an admin starts one.".into(),
    };
    let mut c = Card {
        id: i.id,
        name: i.name.clone(),
        state,
        state_class,
        outcome: "No sync yet.".into(),
        reasons: Vec::new(),
        link: None,
        push: None,
        next_run,
    };
    let Some(s) = last_run(imports, i.id) else {
        return Ok(c);
    };
    let at = when(s.finished_at);
    let import_link = |text: &str| Link {
        href: format!("/imports/{}", s.id),
        text: text.to_string(),
    };
    let changes = changes_text(s);
    match s.status {
        ImportStatus::Applied => {
            c.outcome = format!("Last sync applied {at}: {changes}.");
            c.link = Some(import_link("See what changed"));
        }
        ImportStatus::PartiallyApplied => {
            let held = count_of(s.counts.privacy, "employee", "employees");
            c.outcome = format!(
                "Last sync applied {at} ({changes}), but {held} held by the privacy guard."
            );
            c.link = Some(Link {
                href: format!("/imports/{}#held", s.id),
                text: format!("See the {held} held"),
            });
            todos.push(Todo {
                text: format!(
                    "{}: {held} held by the privacy guard; confirm them in a new review.",
                    i.name
                ),
                link: Link {
                    href: format!("/imports/{}#held", s.id),
                    text: "See who is held".into(),
                },
            });
        }
        ImportStatus::Blocked => {
            let details = import_details(st, user, s).await?;
            c.outcome = format!("Last sync blocked {at}: nothing was applied.");
            c.reasons = guard_reasons(s, &details, i);
            c.link = Some(import_link("See the blocked sync"));
            c.push = Some(
                "To push it through: start a sync, review it, tick the confirmation for what the guard stopped, and import."
                    .into(),
            );
            todos.push(Todo {
                text: format!("{}: the last sync was blocked by a guard.", i.name),
                link: Link {
                    href: format!("#integration-{}", i.id),
                    text: "How to push it through".into(),
                },
            });
        }
        ImportStatus::Failed => {
            let details = import_details(st, user, s).await?;
            c.outcome = format!("Last sync failed {at}: nothing was applied.");
            c.reasons = vec![format!("Cause: {}", failure_cause(&details))];
            c.link = Some(import_link("See the failed sync"));
            todos.push(Todo {
                text: format!("{}: the last sync failed.", i.name),
                link: import_link("See why"),
            });
        }
        ImportStatus::Discarded => {
            c.outcome = format!("The last review was discarded {at}: nothing was applied.");
            c.link = Some(import_link("See the discarded review"));
        }
        ImportStatus::RolledBack => {
            c.outcome = format!("The last sync ({at}) was rolled back.");
            c.link = Some(import_link("See the import"));
        }
    }
    Ok(c)
}

/// Reviews (of a sync or a users file) waiting for the admin's import or discard,
/// newest first, each linked to its page.
async fn pending_reviews(
    st: &AppState,
    account: roster_store::AccountId,
    integrations: &[Integration],
) -> Result<Vec<Todo>, UiError> {
    let reviews = st
        .store
        .pending_reviews(account, PENDING)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(reviews
        .iter()
        .map(|r| {
            let i = integrations.iter().find(|i| i.id == r.integration_id);
            let name = i.map_or_else(
                || format!("Integration {}", r.integration_id),
                |i| i.name.clone(),
            );
            Todo {
                text: format!(
                    "{name}: a review from {} waits for you to import or discard it.",
                    when(r.created_at)
                ),
                link: Link {
                    href: format!("/reviews/{}", r.id),
                    text: format!("Review {}", r.id),
                },
            }
        })
        .collect())
}

fn changes_text(s: &ImportSummary) -> String {
    let c = &s.counts;
    let parts: Vec<String> = [
        (c.created, "created"),
        (c.updated, "updated"),
        (c.deactivated, "deactivated"),
        (c.reactivated, "reactivated"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}

/// Whether an import's changes are in the directory (or were, before a rollback).
fn took_effect(s: &ImportSummary) -> bool {
    matches!(
        s.status,
        ImportStatus::Applied | ImportStatus::PartiallyApplied | ImportStatus::RolledBack
    )
}

/// Active employees after each import that changed the count, oldest first, ending
/// at `active_now`: walked back from now, each import's creates and reactivations
/// taken off and its deactivations put back. The first point is the count before
/// the oldest import read.
pub fn headcount(imports: &[ImportSummary], active_now: i64) -> Vec<(String, i64)> {
    let mut points = Vec::new();
    let mut count = active_now;
    for s in imports.iter().filter(|s| took_effect(s)) {
        let c = &s.counts;
        let net = c.created as i64 + c.reactivated as i64 - c.deactivated as i64;
        if net == 0 {
            continue;
        }
        points.push((s.finished_at.strftime("%Y-%m-%d").to_string(), count));
        count = (count - net).max(0);
        if points.len() == POINTS - 1 {
            break;
        }
    }
    if !points.is_empty() {
        points.push(("before".into(), count));
    }
    points.reverse();
    if points.is_empty() {
        points.push(("now".into(), active_now));
    }
    points
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    user.auth::<Read>()?;
    let account = user.principal.account;
    let engine = st.engine(account);
    let integrations = engine.integrations().await?;
    let imports = engine.imports(RECENT).await?;
    let mut todos = Vec::new();
    let mut cards = Vec::new();
    for i in &integrations {
        cards.push(card(&st, &user, i, &imports, &mut todos).await?);
    }
    todos.extend(pending_reviews(&st, account, &integrations).await?);
    if integrations.is_empty() {
        todos.push(Todo {
            text: "No integration yet: connect Justworks (an account admin can).".into(),
            link: Link {
                href: "/integrations".into(),
                text: "Integrations".into(),
            },
        });
    }
    let directory = engine.directory().await?;
    let today = engine.today().await?;
    let reported = super::directory::reported_lines(&st, account).await?;
    let tree = Tree::build(&directory, &reported);
    let broken = tree.broken_lines().len();
    if broken > 0 {
        todos.push(Todo {
            text: format!(
                "{} broken in the org chart.",
                count_of(broken, "reporting line is", "reporting lines are")
            ),
            link: Link {
                href: "/org#broken".into(),
                text: "See them with their fix".into(),
            },
        });
    }
    let (mut leavers, mut starters) = (Vec::new(), Vec::new());
    for u in upcoming(&directory, today, DAYS) {
        let row = Coming {
            date: u.date.to_string(),
            link: format!("/users/{}", seg(&u.employee_id)),
            name: if u.name.trim().is_empty() {
                u.employee_id
            } else {
                u.name
            },
        };
        match u.kind {
            UpcomingKind::Deactivation => leavers.push(row),
            UpcomingKind::Start => starters.push(row),
            // core::calendar::upcoming lists no anonymisations (the engine adds them).
            UpcomingKind::Anonymisation => {}
        }
    }
    let retention = match engine.retention_days().await? {
        Some(days) => {
            let until = today
                .checked_add(jiff::Span::new().days(DAYS))
                .unwrap_or(jiff::civil::Date::MAX);
            let due = engine.retention_due(until).await?;
            let rows = due
                .into_iter()
                .map(|d| Coming {
                    date: d.due_on.to_string(),
                    link: format!("/users/{}", seg(&d.employee_id)),
                    name: if d.name.trim().is_empty() {
                        d.employee_id
                    } else {
                        d.name
                    },
                })
                .collect();
            Some((days, rows))
        }
        None => None,
    };
    let active = tree.people.len();
    let headcount = headcount(&imports, active as i64);
    let rows: Vec<ImportRow> = imports
        .iter()
        .filter(|s| took_effect(s))
        .filter(|s| s.counts.created + s.counts.updated + s.counts.deactivated > 0)
        .take(BAR_IMPORTS)
        .map(|s| ImportRow {
            id: s.id,
            label: format!("#{} {}", s.id, s.finished_at.strftime("%m-%d")),
            counts: [
                s.counts.created as i64,
                s.counts.updated as i64,
                s.counts.deactivated as i64,
            ],
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let bars: Vec<(String, [i64; 3])> = rows.iter().map(|r| (r.label.clone(), r.counts)).collect();
    page(&DashboardPage {
        l: user.layout("home", q.notice.as_deref()),
        cards,
        todos,
        leavers,
        starters,
        retention,
        days: DAYS,
        active,
        headcount_chart: chart::line(&headcount),
        headcount,
        import_chart: chart::bars(&bars),
        imports: rows,
        series: chart::SERIES,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_core::guard::Trigger;
    use roster_core::plan::Counts;

    fn import(id: i64, status: ImportStatus, created: usize, deactivated: usize) -> ImportSummary {
        ImportSummary {
            id,
            integration_id: Some(1),
            kind: ImportKind::Sync,
            trigger: Trigger::Manual,
            status,
            started_at: jiff::Timestamp::from_second(1_780_000_000 + id * 86_400)
                .unwrap_or_default(),
            finished_at: jiff::Timestamp::from_second(1_780_000_000 + id * 86_400)
                .unwrap_or_default(),
            counts: Counts {
                created,
                deactivated,
                ..Counts::default()
            },
        }
    }

    #[test]
    fn headcount_walks_back_from_now() {
        // Newest first: #3 deactivated 2, #2 blocked (no effect), #1 created 10.
        let imports = [
            import(3, ImportStatus::Applied, 0, 2),
            import(2, ImportStatus::Blocked, 50, 0),
            import(1, ImportStatus::Applied, 10, 0),
        ];
        let h = headcount(&imports, 8);
        let values: Vec<i64> = h.iter().map(|p| p.1).collect();
        assert_eq!(values, [0, 10, 8]);
        assert_eq!(h[0].0, "before");
        assert_eq!(headcount(&[], 5), [("now".to_string(), 5)]);
    }
}
