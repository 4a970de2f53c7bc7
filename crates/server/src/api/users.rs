//! The directory: list and search, show with history, set email, exclude and
//! include, merge; upcoming changes and milestones; the users CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::settings::{HireDatePriority, Settings};
use roster_store::EmployeeQuery;

use crate::auth::{Auth, EditData, Read};
use crate::dto::{
    ChangeOutcomeDto, DaysQuery, EmployeeDto, ExportQuery, HistoryEntryDto, MergeRequest,
    MilestoneDto, SetEmailRequest, UpcomingDto, UserDetailDto, UsersPage, UsersQuery, limit_of,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    params(UsersQuery),
    responses((status = 200, body = UsersPage), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> Result<Json<UsersPage>, ApiError> {
    let offset = q.offset.unwrap_or(0);
    let limit = limit_of(q.limit, 100);
    let search = q
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let query = EmployeeQuery {
        search: search.clone(),
        include_inactive: q.include_deactivated,
        limit: Some(limit),
        offset,
        after: q.after,
    };
    let items = st.store.employees(p.account, &query).await?;
    let total = match search {
        None => Some(
            st.store
                .count_employees(p.account, !q.include_deactivated)
                .await?,
        ),
        Some(_) => None,
    };
    let full = items.len() == limit;
    let next_offset = full.then_some(offset + limit);
    let next_after = items.last().filter(|_| full).map(|e| e.key);
    Ok(Json(UsersPage {
        items: items.iter().map(EmployeeDto::from).collect(),
        offset,
        limit,
        total,
        next_offset,
        next_after,
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{who}", tag = "users",
    description = "One employee, by employee ID or email, with the change history (newest first).",
    params(("who" = String, Path, description = "employee ID or email")),
    responses((status = 200, body = UserDetailDto), (status = "4XX", body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(who): ApiPath<String>,
) -> Result<Json<UserDetailDto>, ApiError> {
    let engine = st.engine(p.account);
    let e = engine.find(&who).await?;
    let history = st.store.employee_history(p.account, e.key).await?;
    Ok(Json(UserDetailDto {
        employee: (&e).into(),
        history: history.iter().map(HistoryEntryDto::from).collect(),
    }))
}

fn changed(
    p: &crate::auth::Principal,
    what: &'static str,
    o: &roster_engine::ChangeOutcome,
) -> Json<ChangeOutcomeDto> {
    tracing::info!(account = p.account, import = o.import_id, principal = %p.label(), what, "directory edited");
    Json(o.into())
}

#[utoipa::path(put, path = "/api/v1/users/{who}/email", tag = "users",
    description = "Set an employee's email; reports follow their manager's new address. With `override_emails` off, later syncs keep it.",
    params(("who" = String, Path, description = "employee ID or email")),
    request_body = SetEmailRequest,
    responses((status = 200, body = ChangeOutcomeDto), (status = "4XX", body = ErrorBody)))]
pub async fn set_email(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(who): ApiPath<String>,
    ApiJson(req): ApiJson<SetEmailRequest>,
) -> Result<Json<ChangeOutcomeDto>, ApiError> {
    let o = st
        .engine(p.account)
        .set_email(&who, &req.email)
        .await
        .map_err(|e| match e {
            roster_engine::EngineError::Invalid(m) => ApiError::invalid(m, Some("email")),
            other => other.into(),
        })?;
    Ok(changed(&p, "set_email", &o))
}

#[utoipa::path(post, path = "/api/v1/users/{who}/exclude", tag = "users",
    description = "Deactivate, and keep deactivated in every later sync until included again.",
    params(("who" = String, Path, description = "employee ID or email")),
    responses((status = 200, body = ChangeOutcomeDto), (status = "4XX", body = ErrorBody)))]
pub async fn exclude(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(who): ApiPath<String>,
) -> Result<Json<ChangeOutcomeDto>, ApiError> {
    let o = st.engine(p.account).exclude(&who).await?;
    Ok(changed(&p, "exclude", &o))
}

#[utoipa::path(post, path = "/api/v1/users/{who}/include", tag = "users",
    params(("who" = String, Path, description = "employee ID or email")),
    responses((status = 200, body = ChangeOutcomeDto), (status = "4XX", body = ErrorBody)))]
pub async fn include(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(who): ApiPath<String>,
) -> Result<Json<ChangeOutcomeDto>, ApiError> {
    let o = st.engine(p.account).include(&who).await?;
    Ok(changed(&p, "include", &o))
}

#[utoipa::path(post, path = "/api/v1/users/{who}/merge", tag = "users",
    description = "Merge this duplicate into the original in one audited step: the original takes the duplicate's identifiers, the duplicate is deactivated.",
    params(("who" = String, Path, description = "the duplicate: employee ID or email")),
    request_body = MergeRequest,
    responses((status = 200, body = ChangeOutcomeDto), (status = "4XX", body = ErrorBody)))]
pub async fn merge(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(who): ApiPath<String>,
    ApiJson(req): ApiJson<MergeRequest>,
) -> Result<Json<ChangeOutcomeDto>, ApiError> {
    let o = st.engine(p.account).merge(&who, &req.into).await?;
    Ok(changed(&p, "merge", &o))
}

fn days(q: &DaysQuery, default: i64) -> Result<i64, ApiError> {
    let d = q.days.unwrap_or(default);
    if !(0..=366).contains(&d) {
        return Err(ApiError::bad_request(
            "days must be from 0 to 366",
            Some("days"),
        ));
    }
    Ok(d)
}

#[utoipa::path(get, path = "/api/v1/upcoming", tag = "users",
    description = "Deactivations (end dates) due within `days` days (default 90), those due today or earlier that no tick or sync has applied yet included, and starts from today on.",
    params(DaysQuery),
    responses((status = 200, body = Vec<UpcomingDto>), (status = "4XX", body = ErrorBody)))]
pub async fn upcoming(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<UpcomingDto>>, ApiError> {
    let list = st.engine(p.account).upcoming(days(&q, 90)?).await?;
    Ok(Json(
        list.into_iter()
            .map(|u| UpcomingDto {
                date: u.date,
                kind: u.kind,
                employee_id: u.employee_id,
                name: u.name,
            })
            .collect(),
    ))
}

/// The date in `year` with `base`'s month and day (29 February → 28 February in a
/// common year).
fn in_year(base: Date, year: i16) -> Option<Date> {
    Date::new(year, base.month(), base.day())
        .or_else(|_| Date::new(year, base.month(), 28))
        .ok()
}

/// The first recurrence of `base`'s month and day on or after `from`, if by `until`.
fn next_occurrence(base: Date, from: Date, until: Date) -> Option<Date> {
    [from.year(), from.year().saturating_add(1)]
        .into_iter()
        .filter_map(|y| in_year(base, y))
        .find(|d| *d >= from)
        .filter(|d| *d <= until)
}

/// Whether dates of birth may be shown: no integration redacts or excludes them.
/// (A withheld DOB scope leaves `date_of_birth` empty, so those employees simply have
/// none.)
pub fn dob_shared(settings: &[&Settings]) -> bool {
    !settings.iter().any(|s| {
        s.redact_fields.contains("date_of_birth") || s.exclude_fields.contains("date_of_birth")
    })
}

/// Work anniversaries (by `hire_date_priority`) and birthdays (only where the date of
/// birth is shared) from `today` through `today + days`.
pub fn milestones(
    directory: &[Employee],
    priority: HireDatePriority,
    birthdays: bool,
    today: Date,
    days: i64,
) -> Vec<MilestoneDto> {
    let until = today
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(Date::MAX);
    let mut out = Vec::new();
    for e in directory
        .iter()
        .filter(|e| e.active && e.merged_into.is_none())
    {
        let hire = match priority {
            HireDatePriority::Original => e.start_date.or(e.hire_date),
            HireDatePriority::Latest => e.latest_rehire_date.or(e.start_date).or(e.hire_date),
        };
        if let Some(h) = hire
            && let Some(d) = next_occurrence(h, today, until)
        {
            let years = d.year() - h.year();
            if years >= 1 {
                out.push(MilestoneDto {
                    date: d,
                    kind: "work_anniversary".into(),
                    employee_id: e.employee_id.clone(),
                    name: e.display_name(),
                    years: Some(years),
                });
            }
        }
        if birthdays
            && let Some(b) = e.date_of_birth
            && let Some(d) = next_occurrence(b, today, until)
        {
            out.push(MilestoneDto {
                date: d,
                kind: "birthday".into(),
                employee_id: e.employee_id.clone(),
                name: e.display_name(),
                years: None,
            });
        }
    }
    out.sort_by(|a, b| (a.date, &a.kind, &a.employee_id).cmp(&(b.date, &b.kind, &b.employee_id)));
    out
}

#[utoipa::path(get, path = "/api/v1/milestones", tag = "users",
    description = "Work anniversaries (following `hire_date_priority`) and birthdays (only where the date of birth is shared: not redacted or excluded by a setting, and granted by the source) within `days` days (default 30). Birthdays carry no age.",
    params(DaysQuery),
    responses((status = 200, body = Vec<MilestoneDto>), (status = "4XX", body = ErrorBody)))]
pub async fn milestones_handler(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<MilestoneDto>>, ApiError> {
    let days = days(&q, 30)?;
    let engine = st.engine(p.account);
    let integrations = engine.integrations().await?;
    let settings: Vec<&Settings> = integrations.iter().map(|i| &i.settings).collect();
    let priority = settings
        .first()
        .map(|s| s.hire_date_priority)
        .unwrap_or_default();
    let today = engine.today().await?;
    let directory = st.store.directory(p.account).await?;
    Ok(Json(milestones(
        &directory,
        priority,
        dob_shared(&settings),
        today,
        days,
    )))
}

#[utoipa::path(get, path = "/api/v1/exports/users.csv", tag = "users",
    description = "The users CSV file (re-importable): every directory field, demographics as columns (hidden ones aside), `Manager Email` and `Employee Deactivated`.",
    params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn export(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let engine = st.engine(p.account);
    let settings = engine
        .integrations()
        .await?
        .into_iter()
        .next()
        .map(|i| i.settings)
        .unwrap_or_default();
    let directory = st.store.directory(p.account).await?;
    let options = roster_csv::ExportOptions::from_settings(&settings, q.include_deactivated);
    let mut out = Vec::new();
    let n =
        roster_csv::export(&mut out, &directory, &options).map_err(|e| ApiError::internal(&e))?;
    tracing::info!(account = p.account, employees = n, principal = %p.label(), "users exported");
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"users.csv\""),
        ],
        out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn emp(id: &str, start: Option<Date>, rehire: Option<Date>, dob: Option<Date>) -> Employee {
        Employee {
            key: 1,
            employee_id: id.into(),
            email: format!("{id}@x.example"),
            start_date: start,
            latest_rehire_date: rehire,
            date_of_birth: dob,
            active: true,
            ..Employee::default()
        }
    }

    #[test]
    fn anniversaries_follow_hire_date_priority() {
        let e = emp("A", Some(date(2015, 3, 10)), Some(date(2022, 3, 12)), None);
        let today = date(2026, 3, 1);
        let m = milestones(
            std::slice::from_ref(&e),
            HireDatePriority::Original,
            true,
            today,
            30,
        );
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].date, m[0].years), (date(2026, 3, 10), Some(11)));
        let m = milestones(&[e], HireDatePriority::Latest, true, today, 30);
        assert_eq!((m[0].date, m[0].years), (date(2026, 3, 12), Some(4)));
    }

    #[test]
    fn birthdays_only_when_shared_and_leap_days_fall_back() {
        let e = emp("B", None, None, Some(date(1992, 2, 29)));
        let today = date(2026, 2, 20);
        let m = milestones(
            std::slice::from_ref(&e),
            HireDatePriority::Original,
            true,
            today,
            30,
        );
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].kind.as_str(), m[0].date),
            ("birthday", date(2026, 2, 28))
        );
        assert!(m[0].years.is_none(), "no age");
        assert!(milestones(&[e], HireDatePriority::Original, false, today, 30).is_empty());
        let mut s = Settings::default();
        assert!(dob_shared(&[&s]));
        s.redact_fields.insert("date_of_birth".into());
        assert!(!dob_shared(&[&s]));
    }

    #[test]
    fn first_year_and_out_of_range_are_left_out() {
        let today = date(2026, 6, 1);
        let new_hire = emp("C", Some(date(2026, 6, 5)), None, None);
        let far = emp("D", Some(date(2010, 12, 1)), None, None);
        assert!(
            milestones(
                &[new_hire, far],
                HireDatePriority::Original,
                true,
                today,
                30
            )
            .is_empty()
        );
    }
}
