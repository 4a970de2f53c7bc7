//! Integrations: the list with each one's state, last sync and auto-sync; connect
//! Justworks (OAuth redirect or a token); setup sync; start a sync (to its review);
//! auto-sync on/off, pause/resume; delete with a confirmation step.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use roster_core::schedule::{Frequency, Schedule, parse_time};
use roster_engine::autosync::AutoSyncState;
use serde::Deserialize;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, page, see, when_opt};
use crate::api::{integrations as api, syncs};
use crate::dto::{ConnectJustworksRequest, IntegrationStateDto, StartSyncRequest};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list))
        .route("/integrations/connect", get(connect_form).post(connect))
        .route("/integrations/{id}/setup-sync", post(setup_sync))
        .route("/integrations/{id}/sync", post(start_sync))
        .route("/integrations/{id}/autosync", post(autosync))
        .route("/integrations/{id}/delete", get(delete_form).post(delete))
}

struct IntegrationView {
    id: i64,
    name: String,
    kind: String,
    company: String,
    members: String,
    /// Connected / Needs finalise / Active / Paused / Blocked.
    state: &'static str,
    state_class: &'static str,
    state_help: &'static str,
    last_sync: String,
    mode: String,
    base_url: String,
    autosync: &'static str,
    schedule: String,
    next_run: String,
    last_auto: String,
    /// Form defaults.
    frequency: String,
    at: String,
    timezone: String,
    weekday: String,
    day: String,
    blocked_import: Option<i64>,
    needs_setup: bool,
    active: bool,
}

impl IntegrationView {
    fn weekday_is(&self, w: &str) -> bool {
        self.weekday == w
    }
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct ListPage {
    l: Layout,
    items: Vec<IntegrationView>,
    /// Where SCIM clients (Okta, Entra, JumpCloud …) read the directory.
    scim_base_url: String,
}

const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

async fn list(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let axum::Json(list) = api::list(State(st.clone()), user.auth()?).await?;
    let engine = st.engine(user.principal.account);
    let imports = engine.imports(200).await?;
    let full = engine.integrations().await?;
    let mut items = Vec::new();
    for i in &list {
        let job = engine.autosync(i.id).await?;
        let auto = AutoSyncState::of(job.as_ref());
        let last = imports
            .iter()
            .find(|s| s.integration_id == Some(i.id) && s.kind.as_str() == "sync");
        let blocked = last
            .filter(|s| s.status.as_str() == "blocked")
            .map(|s| s.id);
        let (state, state_class, state_help) = match (i.state, blocked, auto) {
            (_, Some(_), _) => (
                "Blocked",
                "state-blocked",
                "The last sync was blocked by a guard: nothing was applied. Review a manual sync to let it through.",
            ),
            (IntegrationStateDto::Active, None, AutoSyncState::Paused) => (
                "Paused",
                "state-paused",
                "Auto-sync is paused: nothing runs until it is resumed.",
            ),
            (IntegrationStateDto::Connected, ..) => (
                "Connected",
                "state-connected",
                "Run the setup sync to read the company, its fields and sample values.",
            ),
            (IntegrationStateDto::NeedsFinalise, ..) => (
                "Needs finalise",
                "state-needs-finalise",
                "Review and import the first sync; auto-sync can be switched on after it.",
            ),
            (IntegrationStateDto::Active, ..) => (
                "Active",
                "state-active",
                "The first sync is imported; syncs and auto-sync can run.",
            ),
        };
        let timezone = full
            .iter()
            .find(|f| f.id == i.id)
            .map(|f| f.settings.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        let (frequency, weekday, day) = match job.as_ref().map(|j| j.schedule.frequency) {
            Some(Frequency::Weekly { weekday }) => (
                "weekly",
                WEEKDAYS[weekday.to_monday_zero_offset() as usize].to_string(),
                "1".to_string(),
            ),
            Some(Frequency::Monthly { day }) => ("monthly", "mon".into(), day.to_string()),
            _ => ("daily", "mon".into(), "1".into()),
        };
        items.push(IntegrationView {
            id: i.id,
            name: i.name.clone(),
            kind: i.kind.clone(),
            company: i.company_name.clone().unwrap_or_else(|| "—".into()),
            members: i
                .member_count
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
            state,
            state_class,
            state_help,
            last_sync: when_opt(i.last_sync_at),
            mode: match i.mode.as_deref() {
                Some("oauth") => "OAuth".into(),
                Some("static") => "access token".into(),
                Some(other) => other.to_string(),
                None => "—".into(),
            },
            base_url: i.base_url.clone().unwrap_or_else(|| "—".into()),
            autosync: auto.as_str(),
            schedule: job
                .as_ref()
                .map(|j| j.schedule.describe())
                .unwrap_or_else(|| "not scheduled".into()),
            next_run: job
                .as_ref()
                .and_then(|j| j.next_run_at)
                .map(super::when)
                .unwrap_or_else(|| "—".into()),
            last_auto: job
                .as_ref()
                .and_then(|j| {
                    j.last_run_at.map(|t| {
                        format!(
                            "{} ({})",
                            super::when(t),
                            j.last_status.as_deref().unwrap_or("?")
                        )
                    })
                })
                .unwrap_or_else(|| "never".into()),
            frequency: frequency.into(),
            at: job
                .as_ref()
                .map(|j| j.schedule.at.strftime("%H:%M").to_string())
                .unwrap_or_else(|| "02:00".into()),
            timezone: job
                .as_ref()
                .map(|j| j.schedule.timezone.clone())
                .unwrap_or(timezone),
            weekday,
            day,
            blocked_import: blocked,
            needs_setup: matches!(i.state, IntegrationStateDto::Connected),
            active: matches!(i.state, IntegrationStateDto::Active),
        });
    }
    page(&ListPage {
        l: user.layout("integrations", q.notice.as_deref()),
        items,
        scim_base_url: crate::scim::base_url(&st.config.public_url),
    })
}

#[derive(Template)]
#[template(path = "connect.html")]
struct ConnectPage {
    l: Layout,
    error: Option<String>,
    name: String,
    base_url: String,
    client_id: String,
}

async fn connect_form(user: UiUser) -> Result<Response, UiError> {
    user.auth::<crate::auth::Admin>()?;
    page(&ConnectPage {
        l: user.layout("integrations", None),
        error: None,
        name: "Justworks".into(),
        base_url: String::new(),
        client_id: String::new(),
    })
}

#[derive(Deserialize)]
struct ConnectForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    token: String,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn connect(State(st): State<AppState>, p: Posted<ConnectForm>) -> Result<Response, UiError> {
    let f = p.form;
    let oauth = f.method != "token";
    let req = ConnectJustworksRequest {
        name: some(&f.name),
        base_url: some(&f.base_url),
        authorize_url: None,
        token_url: None,
        scopes: None,
        requests_per_second: None,
        token: if oauth { None } else { some(&f.token) },
        client_id: if oauth { some(&f.client_id) } else { None },
        client_secret: if oauth { some(&f.client_secret) } else { None },
    };
    if !oauth && req.token.is_none() {
        return connect_error(&p.user, &f, "Give the access token.".into());
    }
    match api::connect(State(st), p.user.auth()?, ApiJson(req)).await {
        Ok((_, axum::Json(r))) => match r.authorize_url {
            // To the consent page; Justworks sends the browser back to the API's
            // callback, which finishes the connection.
            Some(url) => Ok(see(url)),
            None => Ok(see("/integrations?notice=connected")),
        },
        Err(ApiError::Invalid { message, .. }) => connect_error(&p.user, &f, message),
        Err(e) => Err(e.into()),
    }
}

fn connect_error(user: &UiUser, f: &ConnectForm, error: String) -> Result<Response, UiError> {
    let mut r = page(&ConnectPage {
        l: user.layout("integrations", None),
        error: Some(error),
        name: f.name.clone(),
        base_url: f.base_url.clone(),
        client_id: f.client_id.clone(),
    })?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

#[derive(Deserialize)]
struct Empty {}

async fn setup_sync(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<Empty>,
) -> Result<Response, UiError> {
    let _ = api::setup_sync(State(st), p.user.auth()?, ApiPath(id)).await?;
    Ok(see("/integrations?notice=setup_done"))
}

#[derive(Deserialize)]
struct SyncForm {
    #[serde(default)]
    incremental: Option<String>,
    #[serde(default)]
    deactivate_missing: Option<String>,
    #[serde(default)]
    custom_fields: Option<String>,
}

async fn start_sync(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<SyncForm>,
) -> Result<Response, UiError> {
    let req = StartSyncRequest {
        incremental: p.form.incremental.is_some(),
        deactivate_missing: p.form.deactivate_missing.is_some(),
        custom_fields: p.form.custom_fields.is_some(),
    };
    let (_, axum::Json(review)) =
        syncs::start(State(st), p.user.auth()?, ApiPath(id), ApiJson(req)).await?;
    Ok(see(format!("/reviews/{}", review.id)))
}

#[derive(Deserialize)]
struct AutoSyncForm {
    action: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    day: String,
}

async fn autosync(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<AutoSyncForm>,
) -> Result<Response, UiError> {
    // Changing when syncs run is editing the integration's data flow: EditData, as
    // starting a sync is.
    let crate::auth::Auth(principal, ..) = p.user.auth::<crate::auth::EditData>()?;
    let engine = st.engine(principal.account);
    let f = p.form;
    let invalid = |m: String, field: &str| UiError::Api(ApiError::invalid(m, Some(field)));
    let notice = match f.action.as_str() {
        "on" => {
            let day =
                match f.day.trim() {
                    "" => None,
                    d => Some(d.parse::<i64>().map_err(|_| {
                        invalid("the day must be a number from 1 to 31".into(), "day")
                    })?),
                };
            let frequency = Frequency::parse(&f.frequency, Some(f.weekday.as_str()), day)
                .map_err(|e| invalid(e.to_string(), "frequency"))?;
            let at = parse_time(&f.at).map_err(|e| invalid(e.to_string(), "at"))?;
            let timezone = f.timezone.trim().to_string();
            engine
                .enable_autosync(
                    id,
                    Schedule {
                        frequency,
                        at,
                        timezone,
                    },
                )
                .await?;
            "autosync_on"
        }
        "off" => {
            engine.disable_autosync(id).await?;
            "autosync_off"
        }
        "pause" => {
            engine.pause_autosync(id).await?;
            "paused"
        }
        "resume" => {
            engine.resume_autosync(id).await?;
            "resumed"
        }
        _ => {
            return Err(UiError::Api(ApiError::bad_request(
                "action must be on, off, pause or resume",
                Some("action"),
            )));
        }
    };
    tracing::info!(account = principal.account, integration = id, principal = %principal.label(), action = %f.action, "auto-sync changed from the web UI");
    Ok(see(format!("/integrations?notice={notice}")))
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    l: Layout,
    id: i64,
    name: String,
    company: String,
}

async fn delete_form(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    user: UiUser,
) -> Result<Response, UiError> {
    user.auth::<crate::auth::Admin>()?;
    let axum::Json(i) = api::show(State(st), user.auth()?, ApiPath(id)).await?;
    page(&DeletePage {
        l: user.layout("integrations", None),
        id,
        name: i.name,
        company: i.company_name.unwrap_or_else(|| "—".into()),
    })
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    confirm: Option<String>,
}

async fn delete(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    p: Posted<DeleteForm>,
) -> Result<Response, UiError> {
    if p.form.confirm.as_deref() != Some("yes") {
        return Ok(see(format!("/integrations/{id}/delete")));
    }
    api::delete(State(st), p.user.auth()?, ApiPath(id)).await?;
    Ok(see("/integrations?notice=deleted"))
}
