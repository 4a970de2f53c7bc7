//! An integration's settings, each with its help, validated by the API (one bad
//! value changes nothing and is shown next to its setting).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, page, see};
use crate::api::{integrations, mapping as api};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/integrations/{id}/settings", get(show).post(save))
}

struct SettingView {
    key: String,
    value: String,
    help: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    l: Layout,
    id: i64,
    name: String,
    items: Vec<SettingView>,
    error: Option<String>,
}

async fn render(
    st: AppState,
    user: &UiUser,
    id: i64,
    notice: Option<&str>,
    posted: Option<(&BTreeMap<String, String>, String, Option<String>)>,
) -> Result<Response, UiError> {
    let axum::Json(i) = integrations::show(State(st.clone()), user.auth()?, ApiPath(id)).await?;
    let axum::Json(s) = api::settings(State(st), user.auth()?, ApiPath(id)).await?;
    let (values, error, field) = match posted {
        Some((v, e, f)) => (Some(v), Some(e), f),
        None => (None, None, None),
    };
    let items = s
        .settings
        .into_iter()
        .map(|(k, d)| SettingView {
            value: values.and_then(|v| v.get(&k).cloned()).unwrap_or(d.value),
            error: (field.as_deref() == Some(k.as_str()))
                .then(|| error.clone())
                .flatten(),
            help: d.help,
            key: k,
        })
        .collect();
    let unplaced = error.filter(|_| field.is_none());
    let mut r = page(&SettingsPage {
        l: user.layout("integrations", notice),
        id,
        name: i.name,
        items,
        error: unplaced,
    })?;
    if values.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn show(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    render(st, &user, id, q.notice.as_deref(), None).await
}

async fn save(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let auth = p.user.auth()?;
    let axum::Json(current) = api::settings(State(st.clone()), p.user.auth()?, ApiPath(id)).await?;
    // Only the settings the form changed.
    let changed: BTreeMap<String, String> = p
        .form
        .iter()
        .filter(|(k, v)| {
            current
                .settings
                .get(k.as_str())
                .is_some_and(|d| d.value.trim() != v.trim())
        })
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    if changed.is_empty() {
        return Ok(see(format!("/integrations/{id}/settings?notice=nothing")));
    }
    match api::put_settings(State(st.clone()), auth, ApiPath(id), ApiJson(changed)).await {
        Ok(_) => Ok(see(format!(
            "/integrations/{id}/settings?notice=settings_saved"
        ))),
        Err(ApiError::Invalid { message, field }) => {
            render(st, &p.user, id, None, Some((&p.form, message, field))).await
        }
        Err(e) => Err(e.into()),
    }
}
