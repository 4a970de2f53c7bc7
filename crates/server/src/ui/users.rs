//! The directory: search, a profile with its change history, edit the email,
//! exclude/include, merge a duplicate.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::words::Person;
use super::{ChangeView, Layout, Posted, UiError, UiUser, or_dash, page, query, see, seg, when};
use crate::api::users as api;
use crate::dto::{
    AsOfQuery, ChangeOutcomeDto, EmployeeDto, MergeRequest, SetEmailRequest, UsersQuery,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list))
        .route("/users/{who}", get(show))
        .route("/users/{who}/email", post(set_email))
        .route("/users/{who}/exclude", post(exclude))
        .route("/users/{who}/include", post(include))
        .route("/users/{who}/merge", post(merge))
}

const PAGE: usize = 50;

struct Row {
    link: String,
    employee_id: String,
    name: String,
    email: String,
    /// The manager by name and linked, else their email (or —).
    manager: Option<Person>,
    manager_text: String,
    status: String,
}

fn name_of(e: &EmployeeDto) -> String {
    let first = e.preferred_name.as_deref().or(e.first_name.as_deref());
    let parts: Vec<&str> = [first, e.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" ")
    }
}

fn status_of(e: &EmployeeDto) -> String {
    if e.merged_into.is_some() {
        "merged".into()
    } else if e.excluded {
        "excluded".into()
    } else if e.active {
        "active".into()
    } else {
        match &e.deactivation_reason {
            Some(r) => format!("deactivated ({r})"),
            None => "deactivated".into(),
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct ListPage {
    l: Layout,
    rows: Vec<Row>,
    search: String,
    all: bool,
    as_of: String,
    total: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    notice: Option<String>,
    /// The directory as of this day (empty: today).
    #[serde(default)]
    as_of: Option<String>,
}

/// An "as of" date field: empty is none; anything else must be a date.
fn as_of_date(text: Option<&str>) -> Result<Option<jiff::civil::Date>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request("the as-of date must be YYYY-MM-DD", Some("as_of"))),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    let search = q.search.clone().unwrap_or_default();
    let all = q.all.is_some();
    let page_no = q.page.unwrap_or(1).max(1);
    let as_of = as_of_date(q.as_of.as_deref())?;
    let as_of_text = as_of.map(|d| d.to_string()).unwrap_or_default();
    let axum::Json(p) = api::list(
        State(st.clone()),
        user.auth()?,
        ApiQuery(UsersQuery {
            search: Some(search.trim().to_string()).filter(|s| !s.is_empty()),
            include_deactivated: all,
            offset: Some((page_no - 1) * PAGE),
            after: None,
            limit: Some(PAGE),
            as_of,
        }),
    )
    .await?;
    let all_text = if all { "1" } else { "" };
    let link = |n: usize| {
        let n = n.to_string();
        format!(
            "/users?{}",
            query(&[
                ("search", &search),
                ("all", all_text),
                ("as_of", &as_of_text),
                ("page", &n)
            ])
        )
    };
    let emails: Vec<String> = p
        .items
        .iter()
        .filter_map(|e| e.manager_email.clone())
        .collect();
    let managers =
        super::directory::people_by_email(&st, user.principal.account, emails, PAGE).await?;
    let manager_of = |e: &EmployeeDto| {
        e.manager_email
            .as_deref()
            .and_then(|m| managers.get(&m.to_lowercase()))
            .cloned()
    };
    page(&ListPage {
        l: user.layout("users", q.notice.as_deref()),
        rows: p
            .items
            .iter()
            .map(|e| Row {
                link: match &as_of {
                    Some(d) => format!("/users/{}?as_of={d}", seg(&e.employee_id)),
                    None => format!("/users/{}", seg(&e.employee_id)),
                },
                employee_id: e.employee_id.clone(),
                name: name_of(e),
                email: or_dash(e.email.as_deref()),
                manager: manager_of(e),
                manager_text: or_dash(e.manager_email.as_deref()),
                status: status_of(e),
            })
            .collect(),
        total: p
            .total
            .map(|t| format!("{t} employees"))
            .unwrap_or_default(),
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: p.next_offset.map(|_| link(page_no + 1)),
        search,
        all,
        as_of: as_of_text,
    })
}

struct HistoryView {
    import_id: i64,
    kind: String,
    at: String,
    action: String,
    changes: Vec<ChangeView>,
    /// The merged record this line comes from.
    merged_from: Option<String>,
}

/// A user's place in the reporting tree.
struct Place {
    /// Their managers up to the top, nearest first.
    chain: Vec<Person>,
    reports: Vec<(Person, usize)>,
    team: usize,
    org_link: String,
}

/// `who`'s place in the tree, if they are an active employee.
async fn place(st: &AppState, account: i64, employee_id: &str) -> Result<Option<Place>, UiError> {
    let t = super::directory::tree(st, account).await?;
    let Some(i) = t.find(employee_id) else {
        return Ok(None);
    };
    let person = |j: usize| Person {
        name: t.people[j].name.clone(),
        link: Some(format!("/users/{}", seg(&t.people[j].employee_id))),
    };
    Ok(Some(Place {
        chain: t.chain(i).into_iter().map(person).collect(),
        reports: t.children[i]
            .iter()
            .map(|&k| (person(k), t.below[k]))
            .collect(),
        team: t.below[i],
        org_link: format!("/org?{}", query(&[("root", employee_id)])),
    }))
}

#[derive(Template)]
#[template(path = "user.html")]
struct ProfilePage {
    l: Layout,
    /// The employee as of this day (empty: today; edits are offered only then).
    as_of: String,
    who: String,
    employee_id: String,
    name: String,
    email: String,
    status: String,
    excluded: bool,
    fields: Vec<(&'static str, String)>,
    /// The manager by name and linked, else their email (or —).
    manager: Option<Person>,
    manager_text: String,
    place: Option<Place>,
    demographics: Vec<(String, String)>,
    history: Vec<HistoryView>,
    email_error: Option<String>,
    merge_error: Option<String>,
    new_email: String,
    /// The retention hold (shown to account admins).
    hold: Option<super::retention::HoldView>,
}

async fn profile(
    st: AppState,
    user: &UiUser,
    who: String,
    notice: Option<&str>,
    email_error: Option<(String, String)>,
    merge_error: Option<String>,
    as_of: Option<jiff::civil::Date>,
) -> Result<Response, UiError> {
    let axum::Json(d) = api::show(
        State(st.clone()),
        user.auth()?,
        ApiPath(who),
        ApiQuery(AsOfQuery { as_of }),
    )
    .await?;
    let e = &d.employee;
    let account = user.principal.account;
    let place = place(&st, account, &e.employee_id).await?;
    let hold = match as_of {
        None => super::retention::hold_of(&st, user, &e.employee_id).await?,
        Some(_) => None,
    };
    let mut history: Vec<HistoryView> = d
        .history
        .iter()
        .map(|h| HistoryView {
            import_id: h.import_id,
            kind: super::words::kind_words(&h.kind).to_string(),
            at: when(h.at),
            action: super::words::action_words(&h.action).to_string(),
            changes: h.changes.iter().map(ChangeView::from).collect(),
            merged_from: h.merged_from.clone(),
        })
        .collect();
    let emails: Vec<String> = history
        .iter()
        .flat_map(|h| &h.changes)
        .filter(|c| c.field == "manager_email")
        .flat_map(|c| [c.old.clone(), c.new.clone()])
        .chain(e.manager_email.clone())
        .filter(|m| m.contains('@'))
        .collect();
    let people = super::directory::people_by_email(&st, account, emails, 100).await?;
    for c in history.iter_mut().flat_map(|h| h.changes.iter_mut()) {
        c.name_managers(&people);
    }
    let date =
        |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
    let failed = email_error.is_some() || merge_error.is_some();
    let (email_error, new_email) = match email_error {
        Some((m, v)) => (Some(m), v),
        None => (None, e.email.clone().unwrap_or_default()),
    };
    let mut r = page(&ProfilePage {
        l: user.layout("users", notice),
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        who: seg(&e.employee_id),
        employee_id: e.employee_id.clone(),
        name: name_of(e),
        email: or_dash(e.email.as_deref()),
        status: status_of(e),
        excluded: e.excluded,
        fields: vec![
            ("First name", or_dash(e.first_name.as_deref())),
            ("Last name", or_dash(e.last_name.as_deref())),
            ("Preferred name", or_dash(e.preferred_name.as_deref())),
            ("Secondary email", or_dash(e.secondary_email.as_deref())),
            (
                "Email edited in Roster",
                if e.email_edited { "yes" } else { "no" }.into(),
            ),
            (
                "Is a manager",
                if e.is_manager { "yes" } else { "no" }.into(),
            ),
            ("Phone", or_dash(e.phone.as_deref())),
            ("Date of birth", date(e.date_of_birth)),
            ("Start date", date(e.start_date)),
            ("Latest rehire date", date(e.latest_rehire_date)),
            ("End date", date(e.end_date)),
            ("Source ID", or_dash(e.source_id.as_deref())),
        ],
        demographics: e
            .demographics
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        manager: e
            .manager_email
            .as_deref()
            .and_then(|m| people.get(&m.to_lowercase()))
            .cloned(),
        manager_text: or_dash(e.manager_email.as_deref()),
        place,
        history,
        email_error,
        merge_error,
        new_email,
        hold,
    })?;
    if failed {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn show(
    State(st): State<AppState>,
    Path(who): Path<String>,
    user: UiUser,
    Query(q): Query<ShowQuery>,
) -> Result<Response, UiError> {
    let as_of = as_of_date(q.as_of.as_deref())?;
    profile(st, &user, who, q.notice.as_deref(), None, None, as_of).await
}

fn after_change(o: &ChangeOutcomeDto, who: &str, notice: &str) -> Response {
    let notice = if o.import_id.is_some() {
        notice
    } else {
        "nothing"
    };
    see(format!("/users/{}?notice={notice}", seg(who)))
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn set_email(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<EmailForm>,
) -> Result<Response, UiError> {
    let email = p.form.email.trim().to_string();
    let r = api::set_email(
        State(st.clone()),
        p.user.auth()?,
        ApiPath(who.clone()),
        ApiJson(SetEmailRequest {
            email: email.clone(),
        }),
    )
    .await;
    match r {
        Ok(axum::Json(o)) => {
            // The profile is found by employee ID (the email may have changed).
            // (The outcome also lists the reports whose manager email follows.)
            let id = o
                .entries
                .iter()
                .find(|e| e.changes.iter().any(|c| c.field == "email"))
                .map(|e| e.employee_id.clone())
                .unwrap_or(who);
            Ok(after_change(&o, &id, "email_set"))
        }
        Err(ApiError::Invalid { message, .. }) | Err(ApiError::Conflict(message)) => {
            profile(st, &p.user, who, None, Some((message, email)), None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn exclude(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let axum::Json(o) = api::exclude(State(st), p.user.auth()?, ApiPath(who.clone())).await?;
    Ok(after_change(&o, &who, "excluded"))
}

async fn include(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let axum::Json(o) = api::include(State(st), p.user.auth()?, ApiPath(who.clone())).await?;
    Ok(after_change(&o, &who, "included"))
}

#[derive(Deserialize)]
struct MergeForm {
    #[serde(default)]
    into: String,
}

async fn merge(
    State(st): State<AppState>,
    Path(who): Path<String>,
    p: Posted<MergeForm>,
) -> Result<Response, UiError> {
    let into = p.form.into.trim().to_string();
    let r = api::merge(
        State(st.clone()),
        p.user.auth()?,
        ApiPath(who.clone()),
        ApiJson(MergeRequest { into: into.clone() }),
    )
    .await;
    match r {
        // The original takes the duplicate's identifiers: `who` now names it.
        Ok(axum::Json(_)) => Ok(see(format!("/users/{}?notice=merged", seg(&who)))),
        Err(ApiError::Invalid { message, .. })
        | Err(ApiError::Conflict(message))
        | Err(ApiError::NotFound(message)) => {
            profile(st, &p.user, who, None, None, Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}
