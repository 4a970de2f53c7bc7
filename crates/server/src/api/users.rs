//! The directory: list and search, show with history, set email, exclude and
//! include, merge; upcoming changes and milestones; the users CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use roster_core::employee::Employee;
use roster_store::EmployeeQuery;

use crate::auth::{Admin, Auth, EditData, Read};
use crate::dto::{
    AsOfQuery, ChangeOutcomeDto, DaysQuery, EmployeeDto, EraseQuery, ErasureDto, ExportQuery,
    HistoryEntryDto, MergeRequest, MilestoneDto, PersonExportDto, SetEmailRequest, UpcomingDto,
    UserDetailDto, UsersPage, UsersQuery, limit_of,
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
    let engine = st.engine(p.account);
    let (items, total) = match q.as_of {
        Some(day) => {
            let past = engine.directory_as_of(day).await?;
            let total = search.is_none().then(|| {
                past.iter()
                    .filter(|e| q.include_deactivated || e.active)
                    .count() as u64
            });
            (page_of(past, &query), total)
        }
        None => {
            let items = engine.employees(&query).await?;
            let total = match search {
                None => Some(engine.count_employees(!q.include_deactivated).await?),
                Some(_) => None,
            };
            (items, total)
        }
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

/// A page of `list` (in key order), as the store's query would give it: the
/// directory as of a date is filtered in memory.
fn page_of(list: Vec<Employee>, q: &EmployeeQuery) -> Vec<Employee> {
    list.into_iter()
        .filter(|e| q.include_inactive || e.active)
        .filter(|e| q.after.is_none_or(|k| e.key > k))
        .filter(|e| q.search.as_deref().is_none_or(|n| e.matches(n)))
        .skip(q.offset)
        .take(q.limit.unwrap_or(usize::MAX))
        .collect()
}

#[utoipa::path(get, path = "/api/v1/users/{who}", tag = "users",
    description = "One employee, by employee ID or email, with the change history (newest first). With `as_of`: the employee as it stood at the end of that day, found by the ID or email it had then, without the history.",
    params(("who" = String, Path, description = "employee ID or email"), AsOfQuery),
    responses((status = 200, body = UserDetailDto), (status = "4XX", body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(who): ApiPath<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<UserDetailDto>, ApiError> {
    let engine = st.engine(p.account);
    if let Some(day) = q.as_of {
        let e = engine.find_as_of(&who, day).await?;
        return Ok(Json(UserDetailDto {
            employee: (&e).into(),
            history: Vec::new(),
        }));
    }
    let e = engine.find(&who).await?;
    let history = engine.history(e.key).await?;
    Ok(Json(UserDetailDto {
        employee: (&e).into(),
        history: history.iter().map(HistoryEntryDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{who}/export", tag = "users",
    description = "Everything Roster holds about one person (their data-protection access request), as one JSON document: every field of the employee and of duplicates merged into them, every history entry about them (applied, held or blocked, with old and new values), every change-feed event about them, every import that touched them (what, when, who), and a retention hold if any. For employee data admins and account admins; each export is logged (ids only).",
    params(("who" = String, Path, description = "employee ID or email")),
    responses((status = 200, body = PersonExportDto), (status = "4XX", body = ErrorBody)))]
pub async fn export_person(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(who): ApiPath<String>,
) -> Result<Json<PersonExportDto>, ApiError> {
    let doc = st.engine(p.account).person_export(&who).await?;
    tracing::info!(account = p.account, employee = doc.employee.key, principal = %p.label(), "person exported");
    Ok(Json((&doc).into()))
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

#[utoipa::path(post, path = "/api/v1/users/{who}/erase", tag = "users",
    description = "Erase the employee's personal data (names, emails, phone, birth date, home address, demographics marked personal) everywhere Roster keeps it: the directory, every history entry, the change feed, review and notification payloads. The employee stays as an anonymous record (`Former employee …`), or with `remove=true` is removed entirely once anonymised (its reports follow its manager; the change feed gets an `employee.removed` tombstone; SCIM answers 404). Recorded as an import of kind `erasure` with the field names only. An employee still active (in the source as of the last sync) is erased with a `warning`: the next sync brings their data back from the source unless they leave it. Account admins only; refused (422) while a pending review holds the employee.",
    params(("who" = String, Path, description = "employee ID or email"), EraseQuery),
    responses((status = 200, body = ErasureDto), (status = "4XX", body = ErrorBody)))]
pub async fn erase(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(who): ApiPath<String>,
    ApiQuery(q): ApiQuery<EraseQuery>,
) -> Result<Json<ErasureDto>, ApiError> {
    let engine = st.engine(p.account);
    let warning = roster_engine::Engine::erasure_warning(&engine.find(&who).await?);
    let done = engine.erase_and(&who, &p.label(), q.remove).await?;
    tracing::info!(account = p.account, import = done.import_id, principal = %p.label(), removed = q.remove, "personal data erased");
    let mut dto = ErasureDto::from(done);
    dto.warning = warning;
    Ok(Json(dto))
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
    description = "Deactivations (end dates) due within `days` days (default 90), those due today or earlier that no tick or sync has applied yet included, starts from today on, and anonymisations by retention (`retention_days` after an end date) due within them, those due and not done yet included.",
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
                kind: u.kind.as_str().into(),
                employee_id: u.employee_id,
                name: u.name,
            })
            .collect(),
    ))
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
    let list = st.engine(p.account).milestones(days(&q, 30)?).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| MilestoneDto {
                date: m.date,
                kind: m.kind.as_str().into(),
                employee_id: m.employee_id,
                name: m.name,
                years: m.years,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/exports/users.csv", tag = "users",
    description = "The users CSV file (re-importable): every directory field, demographics as columns (hidden ones aside), `Manager Email` and `Employee Deactivated`. With `as_of`: the directory as it stood at the end of that day.",
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
    let directory = match q.as_of {
        Some(day) => engine.directory_as_of(day).await?,
        None => engine.directory().await?,
    };
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
