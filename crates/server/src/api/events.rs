//! The change feed: the account's events in cursor order, and one employee's.

use axum::Json;
use axum::extract::State;
use roster_store::{EventQuery, EventType};

use crate::auth::{Auth, Read};
use crate::dto::{EventDto, EventsPage, EventsQuery, limit_of};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The types of a comma-separated list; an unknown name is a 400 naming it.
fn types(list: Option<&str>) -> Result<Vec<EventType>, ApiError> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            EventType::parse(t).ok_or_else(|| {
                ApiError::bad_request(format!("unknown event type {t:?}"), Some("types"))
            })
        })
        .collect()
}

fn query(q: &EventsQuery) -> Result<EventQuery, ApiError> {
    Ok(EventQuery {
        after: q.after.unwrap_or(0).max(0),
        limit: limit_of(q.limit, 100),
        types: types(q.types.as_deref())?,
        employee: None,
    })
}

fn page(items: Vec<roster_store::FeedEvent>, after: i64) -> EventsPage {
    let next_after = items.last().map_or(after, |e| e.cursor);
    EventsPage {
        items: items.iter().map(EventDto::from).collect(),
        next_after,
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    description = "The change feed: what changed for whom, in cursor order (strictly increasing per account). Pass `next_after` as `after` to read on; an empty page keeps `after`, to poll with. Derived from the history in the transaction that wrote it: replaying every event from the first rebuilds the directory. Any role may read it.",
    params(EventsQuery),
    responses((status = 200, body = EventsPage), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let query = query(&q)?;
    let items = st.engine(p.account).events(&query).await?;
    Ok(Json(page(items, query.after)))
}

#[utoipa::path(get, path = "/api/v1/employees/{id}/events", tag = "events",
    description = "One employee's events, in cursor order. `id` is the employee's stable key (`key` in /users, the SCIM id).",
    params(("id" = i64, Path, description = "the employee's key (the SCIM id)"), EventsQuery),
    responses((status = 200, body = EventsPage), (status = "4XX", body = ErrorBody)))]
pub async fn employee(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let query = query(&q)?;
    let after = query.after;
    let items = st.engine(p.account).employee_events(id, query).await?;
    Ok(Json(page(items, after)))
}
