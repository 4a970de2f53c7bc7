//! Upcoming changes: future leavers (end dates) and starters.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Layout, UiError, UiUser, page, seg};
use crate::api::users as api;
use crate::dto::DaysQuery;
use crate::extract::ApiQuery;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/upcoming", get(show))
}

struct Row {
    date: String,
    kind: String,
    link: String,
    employee_id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "upcoming.html")]
struct UpcomingPage {
    l: Layout,
    days: i64,
    rows: Vec<Row>,
}

#[derive(Debug, Default, Deserialize)]
struct Q {
    #[serde(default)]
    days: Option<i64>,
}

async fn show(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<Q>,
) -> Result<Response, UiError> {
    let days = q.days.unwrap_or(90).clamp(0, 366);
    let axum::Json(list) = api::upcoming(
        State(st),
        user.auth()?,
        ApiQuery(DaysQuery { days: Some(days) }),
    )
    .await?;
    page(&UpcomingPage {
        l: user.layout("upcoming", None),
        days,
        rows: list
            .into_iter()
            .map(|u| Row {
                date: u.date.to_string(),
                kind: match u.kind.as_str() {
                    "deactivation" => "leaves".into(),
                    "anonymisation" => "anonymised by retention".into(),
                    _ => "starts".into(),
                },
                link: format!("/users/{}", seg(&u.employee_id)),
                employee_id: u.employee_id,
                name: u.name,
            })
            .collect(),
    })
}
