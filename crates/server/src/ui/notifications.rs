//! Notifications: the account's channels (webhooks, admin email) and the delivery
//! log of the outbox.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Layout, NoticeQuery, Posted, UiError, UiUser, page, see, when, when_opt};
use crate::auth::{Admin, Auth, Read};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(show))
        .route("/notifications/email", post(add_email))
        .route("/notifications/remove", post(remove))
}

struct ChannelView {
    id: i64,
    kind: String,
    target: String,
    events: String,
    enabled: bool,
    created: String,
}

struct MessageView {
    id: i64,
    event: String,
    import_id: Option<i64>,
    created: String,
    attempts: i64,
    state: String,
    error: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    l: Layout,
    channels: Vec<ChannelView>,
    messages: Vec<MessageView>,
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let Auth(p, ..) = user.auth::<Read>()?;
    let engine = st.engine(p.account);
    let channels = engine.channels().await?;
    let messages = engine.notifications(100).await?;
    page(&NotificationsPage {
        l: user.layout("notifications", q.notice.as_deref()),
        channels: channels
            .iter()
            .map(|c| ChannelView {
                id: c.id,
                kind: format!("{:?}", c.kind).to_lowercase(),
                target: c.target.clone(),
                events: if c.events.is_empty() {
                    "default (all sync events)".into()
                } else {
                    c.events.join(", ")
                },
                enabled: c.enabled,
                created: when(c.created_at),
            })
            .collect(),
        messages: messages
            .iter()
            .map(|m| MessageView {
                id: m.message.id,
                event: m.message.event.clone(),
                import_id: m.message.import_id,
                created: when(m.message.created_at),
                attempts: m.attempts,
                state: if let Some(t) = m.message.delivered_at {
                    format!("delivered {}", when(t))
                } else if let Some(t) = m.failed_at {
                    format!("given up {}", when(t))
                } else if m.next_attempt_at.is_some() {
                    format!("retry at {}", when_opt(m.next_attempt_at))
                } else {
                    "waiting for the worker".into()
                },
                error: m.last_error.clone().unwrap_or_default(),
            })
            .collect(),
    })
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    address: String,
}

async fn add_email(State(st): State<AppState>, p: Posted<EmailForm>) -> Result<Response, UiError> {
    let Auth(principal, ..) = p.user.auth::<Admin>()?;
    let c = st
        .engine(principal.account)
        .add_email(&p.form.address, Vec::new())
        .await?;
    tracing::info!(account = principal.account, channel = c.id, principal = %principal.label(), "email channel added from the web UI");
    Ok(see("/notifications?notice=channel_added"))
}

#[derive(Deserialize)]
struct RemoveForm {
    id: i64,
}

async fn remove(State(st): State<AppState>, p: Posted<RemoveForm>) -> Result<Response, UiError> {
    let Auth(principal, ..) = p.user.auth::<Admin>()?;
    if !st
        .engine(principal.account)
        .remove_channel(p.form.id)
        .await?
    {
        return Err(ApiError::NotFound(format!("no channel {}", p.form.id)).into());
    }
    Ok(see("/notifications?notice=channel_removed"))
}
