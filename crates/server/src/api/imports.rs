//! Import history, detail with the recorded plan, rollback.

use axum::Json;
use axum::extract::{RawQuery, State};

use crate::auth::{Auth, EditData, Read};
use crate::dto::{
    ChangeOutcomeDto, ImportDetailDto, ImportEntryDto, ImportSummaryDto, ImportsQuery, PageQuery,
    limit_of,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/imports", tag = "imports",
    params(ImportsQuery),
    responses((status = 200, body = Vec<ImportSummaryDto>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<ImportsQuery>,
) -> Result<Json<Vec<ImportSummaryDto>>, ApiError> {
    let list = st.engine(p.account).imports(limit_of(q.limit, 50)).await?;
    Ok(Json(list.iter().map(ImportSummaryDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    description = "One import: counts, recorded details (issues, diagnostics, guard findings, file) and its entries with their field changes, paged.",
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = ImportDetailDto), (status = "4XX", body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ImportDetailDto>, ApiError> {
    let r = st
        .engine(p.account)
        .import(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no import {id}")))?;
    let offset = q.offset.unwrap_or(0);
    let limit = limit_of(q.limit, 100);
    Ok(Json(ImportDetailDto {
        summary: (&r.summary).into(),
        details: r.details.clone(),
        entries_total: r.entries.len(),
        offset,
        limit,
        entries: r
            .entries
            .iter()
            .skip(offset)
            .take(limit)
            .map(ImportEntryDto::from)
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/rollback", tag = "imports",
    description = "Revert an applied import: employees it touched return to their prior values, unless changed since (listed in `conflicts`).",
    params(("id" = i64, Path)),
    responses((status = 200, body = ChangeOutcomeDto), (status = "4XX", body = ErrorBody)))]
pub async fn rollback(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChangeOutcomeDto>, ApiError> {
    let o = st.engine(p.account).rollback(id).await?;
    tracing::info!(account = p.account, import = id, rollback = o.import_id, principal = %p.label(), "import rolled back");
    Ok(Json((&o).into()))
}

#[utoipa::path(post, path = "/api/v1/imports/csv", tag = "imports",
    description = "Import a users file (the body, `text/csv`, UTF-8) on the same rules as a sync: review (default) or `apply=true`. A file with rows in error is refused on apply (recorded as a failed import) unless `skip_bad_rows`; a file that fails as a whole writes nothing.",
    params(crate::dto::CsvImportQuery,
        ("map" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Map a column: `HEADER=FIELD` (a directory field such as `employee_id`, or a mapped demographic), or `HEADER=` to ignore it. Repeat for several columns.")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = crate::dto::CsvImportResponse), (status = "4XX", body = ErrorBody)))]
pub async fn import_csv(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Result<Json<crate::dto::CsvImportResponse>, ApiError> {
    // `map` repeats, which the query struct cannot hold: take it out first.
    let raw = raw.unwrap_or_default();
    let mut map = Vec::new();
    let rest = {
        // (The serializer is not `Send`: keep it out of the await below.)
        let mut rest = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            if k == "map" {
                map.push(v.into_owned());
            } else {
                rest.append_pair(&k, &v);
            }
        }
        rest.finish()
    };
    let mut q: crate::dto::CsvImportQuery =
        crate::extract::serde_urlencoded_de(&rest).map_err(|(field, message)| {
            ApiError::BadRequest {
                message: match &field {
                    Some(f) => format!("bad query parameter `{f}`: {message}"),
                    None => format!("bad query string: {message}"),
                },
                field,
            }
        })?;
    q.map = map;
    import_file(st, p, q, body).await
}

/// A users file import, however it arrived (the API's body, the UI's upload). A
/// review (not applied, not refused) is kept, with the file, until it is applied or
/// discarded through `/api/v1/reviews/{id}`, like a sync's.
pub(crate) async fn import_file(
    st: AppState,
    p: crate::auth::Principal,
    q: crate::dto::CsvImportQuery,
    body: axum::body::Bytes,
) -> Result<Json<crate::dto::CsvImportResponse>, ApiError> {
    use base64::Engine as _;
    let run = run_import(&st, &p, &q, body.clone()).await?;
    let o = &run.outcome;
    let s = &o.sync;
    let held: std::collections::HashSet<usize> = s.held.iter().copied().collect();
    let mut response = crate::dto::CsvImportResponse {
        status: run.status.into(),
        import_id: s.import_id,
        review_id: None,
        rows: o.rows,
        counts: (&s.plan.counts).into(),
        bad_rows: o.bad_rows.clone(),
        messages: run.messages.clone(),
        held: crate::reviews::held_ids(&s.plan, &s.held),
        entries: s
            .plan
            .entries
            .iter()
            .enumerate()
            .take(100)
            .map(|(i, e)| crate::dto::ReviewEntryDto::new(i, e, held.contains(&i)))
            .collect(),
    };
    if run.status == "reviewed" {
        let file = crate::reviews::FileSource {
            file_name: o.file_name.clone(),
            full: matches!(q.mode, crate::dto::CsvModeDto::Full),
            date_format: q.date_format.clone(),
            delimiter: q.delimiter.clone(),
            map: q.map.clone(),
            deactivate_missing: q.deactivate_missing,
            rows: o.rows,
            bad_rows: o.bad_rows.clone(),
            messages: run.messages,
            content: base64::engine::general_purpose::STANDARD.encode(&body),
        };
        let integration = run.outcome.sync.integration_id;
        let payload = crate::reviews::ReviewPayload::of_file(run.outcome, file);
        let r = st.reviews.keep(p.account, integration, &payload).await?;
        tracing::info!(account = p.account, integration, review = r.id, principal = %p.label(), "users file reviewed");
        response.review_id = Some(r.id);
    }
    Ok(Json(response))
}

/// A users file read, planned and (with `apply`) applied.
pub(crate) struct FileRun {
    pub outcome: roster_engine::ImportOutcome,
    /// `reviewed`, `applied`, … or `refused` (see `CsvImportResponse::status`).
    pub status: &'static str,
    /// Every issue, naming its line and column.
    pub messages: Vec<String>,
}

pub(crate) async fn run_import(
    st: &AppState,
    p: &crate::auth::Principal,
    q: &crate::dto::CsvImportQuery,
    body: axum::body::Bytes,
) -> Result<FileRun, ApiError> {
    use roster_core::guard::{Confirmations, Trigger};
    use roster_engine::ImportOptions;
    use roster_wiring::{self as wiring, IntakeError, ReadRequest, UsersFile};

    let date_format = match q.date_format.as_deref() {
        None => roster_csv::DateFormat::default(),
        Some(s) => roster_csv::DateFormat::parse(s).ok_or_else(|| {
            ApiError::bad_request("date_format must be iso or mdy", Some("date_format"))
        })?,
    };
    let engine = st.engine(p.account);
    let integration = engine.import_integration(q.integration).await?;
    let file_name = q
        .file_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("upload.csv")
        .to_string();
    let delimiter = match q
        .delimiter
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(d) => Some(roster_csv::parse_delimiter(d).map_err(|e| {
            ApiError::bad_request(e.replace("--delimiter", "delimiter"), Some("delimiter"))
        })?),
    };
    let map: Vec<String> = q
        .map
        .iter()
        .filter(|m| !m.trim().is_empty())
        .cloned()
        .collect();
    for m in &map {
        roster_csv::parse_map(m)
            .map_err(|e| ApiError::bad_request(e.replace("--map", "map"), Some("map")))?;
    }
    let request = ReadRequest {
        file_name,
        full: matches!(q.mode, crate::dto::CsvModeDto::Full),
        delimiter,
        date_format,
        map,
        apply: q.apply,
    };
    let UsersFile { import, columns } =
        match wiring::read_users_file(&engine, &integration, Ok(&body[..]), &request).await {
            Ok(f) => f,
            Err(IntakeError::Unreadable { message, .. }) => {
                return Err(ApiError::invalid(
                    format!("the file: {message}"),
                    Some("body"),
                ));
            }
            Err(IntakeError::Engine(e)) => return Err(e.into()),
        };
    let opts = ImportOptions {
        trigger: Some(Trigger::Manual),
        apply: q.apply,
        confirm: Confirmations {
            privacy: q.confirm_privacy,
            mass_change: q.confirm_mass_change,
        },
        skip_bad_rows: q.skip_bad_rows,
        deactivate_missing: q.deactivate_missing,
    };
    let o = engine.import_csv(&integration, import, opts).await?;
    let status = if o.refused {
        "refused"
    } else {
        o.sync.status.as_str()
    };
    tracing::info!(account = p.account, import = o.sync.import_id, rows = o.rows, status, principal = %p.label(), "csv import");
    let messages = o
        .sync
        .plan
        .issues
        .iter()
        .map(|i| roster_csv::describe(i, &columns))
        .collect();
    Ok(FileRun {
        outcome: o,
        status,
        messages,
    })
}
