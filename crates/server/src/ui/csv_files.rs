//! CSV files: the users export (download) and a users file import (multipart
//! upload) with its review, on the API's CSV import.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::EntryView;
use super::{Layout, UiError, UiUser, page};
use crate::api::{imports, users};
use crate::auth::{self, Auth, EditData};
use crate::dto::{CsvImportQuery, CsvModeDto, ExportQuery};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files", get(show))
        .route("/files/users.csv", get(export))
        .route("/files/import", post(import))
}

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    l: Layout,
    result: Option<ImportResult>,
}

struct ImportResult {
    file_name: String,
    status: String,
    import_id: Option<i64>,
    rows: usize,
    counts: String,
    messages: Vec<String>,
    entries: Vec<EntryView>,
}

async fn show(user: UiUser) -> Result<Response, UiError> {
    user.auth::<auth::Read>()?;
    page(&FilesPage {
        l: user.layout("files", None),
        result: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct ExportForm {
    #[serde(default)]
    include_deactivated: Option<String>,
}

async fn export(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<ExportForm>,
) -> Result<Response, UiError> {
    let r = users::export(
        State(st),
        user.auth()?,
        ApiQuery(ExportQuery {
            include_deactivated: q.include_deactivated.is_some(),
            as_of: None,
        }),
    )
    .await?;
    Ok(r.into_response())
}

async fn import(
    State(st): State<AppState>,
    user: UiUser,
    mut mp: Multipart,
) -> Result<Response, UiError> {
    let mut csrf = String::new();
    let mut mode = String::new();
    let mut delimiter = String::new();
    let mut map_text = String::new();
    let mut flags = Vec::new();
    let mut file_name = String::from("upload.csv");
    let mut body = Vec::new();
    let bad = |e: axum::extract::multipart::MultipartError| {
        UiError::Api(ApiError::bad_request(e.body_text(), None))
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if let Some(f) = field.file_name() {
                    file_name = f.rsplit(['/', '\\']).next().unwrap_or(f).to_string();
                }
                body = field.bytes().await.map_err(bad)?.to_vec();
            }
            "csrf_token" => csrf = field.text().await.map_err(bad)?,
            "mode" => mode = field.text().await.map_err(bad)?,
            "delimiter" => delimiter = field.text().await.map_err(bad)?,
            "map" => map_text = field.text().await.map_err(bad)?,
            other => flags.push(other.to_string()),
        }
    }
    if !auth::csrf_matches(&user.session, &csrf) {
        return Err(UiError::Api(ApiError::Csrf));
    }
    let has = |f: &str| flags.iter().any(|x| x == f);
    let q = CsvImportQuery {
        mode: if mode == "full" {
            CsvModeDto::Full
        } else {
            CsvModeDto::Partial
        },
        apply: has("apply"),
        skip_bad_rows: has("skip_bad_rows"),
        confirm_privacy: has("confirm_privacy"),
        confirm_mass_change: has("confirm_mass_change"),
        deactivate_missing: false,
        date_format: has("mdy").then(|| "mdy".to_string()),
        delimiter: Some(delimiter).filter(|d| !d.is_empty()),
        // One `Header=field` per line.
        map: map_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        file_name: Some(file_name.clone()),
        integration: None,
    };
    let Auth(principal, ..) = user.auth::<EditData>()?;
    let axum::Json(r) = imports::import_file(st, principal, q, body.into()).await?;
    if let Some(review) = r.review_id {
        // Reviewed: the same review page as a sync's, with Import and Discard.
        return Ok(super::see(format!("/reviews/{review}")));
    }
    let c = &r.counts;
    page(&FilesPage {
        l: user.layout("files", None),
        result: Some(ImportResult {
            file_name,
            status: r.status.clone(),
            import_id: r.import_id,
            rows: r.rows,
            counts: format!(
                "{} created, {} updated, {} deactivated, {} reactivated, {} unchanged, {} skipped, {} errors",
                c.created,
                c.updated,
                c.deactivated,
                c.reactivated,
                c.unchanged,
                c.skipped,
                c.errors
            ),
            messages: r.messages.clone(),
            entries: r.entries.iter().map(EntryView::from).collect(),
        }),
    })
}
