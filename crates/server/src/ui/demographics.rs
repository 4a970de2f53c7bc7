//! Demographics: each with its source mapping and how many employees carry it;
//! delete an unused one (its mapping; old survey results are not touched).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, page, see};
use crate::api::mapping as api;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demographics", get(show))
        .route("/demographics/delete", post(delete))
}

struct Row {
    name: String,
    sources: String,
    employees: usize,
    /// (integration id, source key) of its mappings.
    mappings: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "demographics.html")]
struct DemographicsPage {
    l: Layout,
    rows: Vec<Row>,
}

async fn rows(st: &AppState, user: &UiUser) -> Result<Vec<Row>, UiError> {
    user.auth::<crate::auth::Read>()?;
    let engine = st.engine(user.principal.account);
    let mut by_name: BTreeMap<String, Row> = BTreeMap::new();
    for i in engine.integrations().await? {
        for m in &i.settings.mapping {
            let r = by_name.entry(m.demographic.clone()).or_insert_with(|| Row {
                name: m.demographic.clone(),
                sources: String::new(),
                employees: 0,
                mappings: Vec::new(),
            });
            r.mappings.push((i.id, m.source_key.clone()));
        }
    }
    let directory = st.engine(user.principal.account).directory().await?;
    for e in directory.iter().filter(|e| e.merged_into.is_none()) {
        for k in e.demographics.keys() {
            by_name
                .entry(k.to_string())
                .or_insert_with(|| Row {
                    name: k.to_string(),
                    sources: String::new(),
                    employees: 0,
                    mappings: Vec::new(),
                })
                .employees += 1;
        }
    }
    let mut out: Vec<Row> = by_name.into_values().collect();
    for r in &mut out {
        r.sources = if r.mappings.is_empty() {
            "not mapped (kept from earlier imports)".into()
        } else {
            r.mappings
                .iter()
                .map(|(i, k)| format!("{k} (integration {i})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
    }
    Ok(out)
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let rows = rows(&st, &user).await?;
    page(&DemographicsPage {
        l: user.layout("demographics", q.notice.as_deref()),
        rows,
    })
}

#[derive(Deserialize)]
struct DeleteForm {
    name: String,
}

async fn delete(State(st): State<AppState>, p: Posted<DeleteForm>) -> Result<Response, UiError> {
    // Changing the mapping needs EditData, as in the API.
    p.user.auth::<crate::auth::EditData>()?;
    let all = rows(&st, &p.user).await?;
    let Some(row) = all.iter().find(|r| r.name == p.form.name) else {
        return Err(ApiError::NotFound("no such demographic".into()).into());
    };
    if row.employees > 0 {
        return Err(ApiError::Conflict(format!(
            "{} employees carry this demographic: only an unused one can be deleted",
            row.employees
        ))
        .into());
    }
    for (id, key) in &row.mappings {
        let _ = api::unset_mapping(
            State(st.clone()),
            p.user.auth()?,
            ApiPath((*id, key.clone())),
        )
        .await?;
    }
    Ok(see("/demographics?notice=demographic_deleted"))
}
