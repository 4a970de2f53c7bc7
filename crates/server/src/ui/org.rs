//! The org chart (`/org`): the reporting tree from the top down, each team opened
//! and closed by a `<details>` toggle before it (no JavaScript: CSS hides the team
//! while its toggle is closed), searchable with a GET form, each manager's team
//! size, and the broken reporting lines with their fix. A big company is shown a
//! few levels deep, each deeper team one link away (`?root=ID`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::tree::Tree;
use super::{Layout, UiError, UiUser, page, query, seg};
use crate::auth::Read;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/org", get(show))
}

/// Up to this many employees the whole tree is on the page.
const WHOLE: usize = 20_000;
/// Levels shown of a bigger company (each deeper team is a link).
const DEPTH_BIG: usize = 3;
/// Levels open (expanded) when the page opens.
const OPEN_LEVELS: usize = 2;
/// Search results listed.
const HITS: usize = 50;

/// One line of the tree, in document order: a person (opening their team when
/// they have one shown) or the end of a team.
pub struct Row {
    /// Closes the team opened last (no person).
    pub close: bool,
    pub name: String,
    pub link: String,
    pub reports: usize,
    pub team: usize,
    /// Their team follows (a `<details>` opens).
    pub branch: bool,
    /// The `<details>` is open.
    pub open: bool,
    /// Their team is not on the page: a link to it.
    pub more: Option<String>,
    pub hit: bool,
    pub broken: Option<BrokenView>,
}

pub struct BrokenView {
    pub code: &'static str,
    pub what: String,
    pub fix: &'static str,
}

struct Hit {
    name: String,
    link: String,
    chain: Vec<(String, String)>,
    team: usize,
    team_link: String,
}

struct BrokenRow {
    name: String,
    link: String,
    b: BrokenView,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    l: Layout,
    q: String,
    total: usize,
    managers: usize,
    top: usize,
    rows: Vec<Row>,
    hits: Vec<Hit>,
    more_hits: usize,
    broken: Vec<BrokenRow>,
    /// The subtree shown: its head's name and the chain above.
    root: Option<(String, Vec<(String, String)>)>,
    depth: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct OrgQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    root: Option<String>,
    #[serde(default)]
    depth: Option<usize>,
}

fn user_link(t: &Tree, i: usize) -> String {
    format!("/users/{}", seg(&t.people[i].employee_id))
}

fn broken_view(t: &Tree, i: usize) -> Option<BrokenView> {
    t.broken[i].as_ref().map(|b| BrokenView {
        code: b.code(),
        what: b.what(),
        fix: b.fix(),
    })
}

/// The rows of the tree under `heads`, `depth` levels deep (unlimited: `None`);
/// `on_path[i]`: `i` is above a search hit (shown and open whatever the depth).
pub fn rows(
    t: &Tree,
    heads: &[usize],
    depth: Option<usize>,
    on_path: &[bool],
    hit: &[bool],
) -> Vec<Row> {
    let mut out = Vec::with_capacity(t.people.len().min(200_000) + 16);
    // (person, level) to visit; `None` closes a team.
    let mut stack: Vec<Option<(usize, usize)>> =
        heads.iter().rev().map(|&h| Some((h, 0))).collect();
    while let Some(item) = stack.pop() {
        let Some((i, level)) = item else {
            out.push(Row {
                close: true,
                name: String::new(),
                link: String::new(),
                reports: 0,
                team: 0,
                branch: false,
                open: false,
                more: None,
                hit: false,
                broken: None,
            });
            continue;
        };
        let kids = &t.children[i];
        let shown = !kids.is_empty() && (depth.is_none_or(|d| level + 1 < d) || on_path[i]);
        out.push(Row {
            close: false,
            name: t.people[i].name.clone(),
            link: user_link(t, i),
            reports: kids.len(),
            team: t.below[i],
            branch: shown,
            open: shown && (level + 1 < OPEN_LEVELS || on_path[i]),
            more: (!kids.is_empty() && !shown).then(|| {
                format!(
                    "/org?{}",
                    query(&[("root", t.people[i].employee_id.as_str())])
                )
            }),
            hit: hit[i],
            broken: broken_view(t, i),
        });
        if shown {
            stack.push(None);
            for &k in kids.iter().rev() {
                stack.push(Some((k, level + 1)));
            }
        }
    }
    out
}

fn chain_links(t: &Tree, i: usize) -> Vec<(String, String)> {
    t.chain(i)
        .into_iter()
        .map(|m| (t.people[m].name.clone(), user_link(t, m)))
        .collect()
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<OrgQuery>,
) -> Result<Response, UiError> {
    user.auth::<Read>()?;
    let t = super::directory::tree(&st, user.principal.account).await?;
    let n = t.people.len();
    let search = q.q.clone().unwrap_or_default().trim().to_string();
    let needle = search.to_lowercase();
    let mut hit = vec![false; n];
    let mut on_path = vec![false; n];
    let mut hits = Vec::new();
    let mut more_hits = 0;
    if !needle.is_empty() {
        for (i, person) in t.people.iter().enumerate() {
            if !person.search.contains(&needle) {
                continue;
            }
            hit[i] = true;
            for m in t.chain(i) {
                on_path[m] = true;
            }
            if hits.len() < HITS {
                hits.push(Hit {
                    name: person.name.clone(),
                    link: user_link(&t, i),
                    chain: chain_links(&t, i),
                    team: t.below[i],
                    team_link: format!("/org?{}", query(&[("root", person.employee_id.as_str())])),
                });
            } else {
                more_hits += 1;
            }
        }
    }
    let (heads, root) = match q.root.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => {
            let i = t
                .find(r)
                .ok_or_else(|| ApiError::NotFound(format!("no active employee {r}")))?;
            (
                vec![i],
                Some((t.people[i].name.clone(), chain_links(&t, i))),
            )
        }
        None => {
            let mut heads = t.roots.clone();
            // The top of the company first: people without a broken line, biggest
            // team first.
            heads.sort_by_key(|&i| (t.broken[i].is_some(), std::cmp::Reverse(t.below[i])));
            (heads, None)
        }
    };
    let depth = q
        .depth
        .filter(|d| *d > 0)
        .or((n > WHOLE).then_some(DEPTH_BIG));
    let broken = t
        .broken_lines()
        .into_iter()
        .filter_map(|i| {
            Some(BrokenRow {
                name: t.people[i].name.clone(),
                link: user_link(&t, i),
                b: broken_view(&t, i)?,
            })
        })
        .collect();
    page(&OrgPage {
        l: user.layout("org", None),
        total: n,
        managers: t.children.iter().filter(|c| !c.is_empty()).count(),
        top: t.roots.len(),
        rows: rows(&t, &heads, depth, &on_path, &hit),
        hits,
        more_hits,
        broken,
        root,
        depth,
        q: search,
    })
}
