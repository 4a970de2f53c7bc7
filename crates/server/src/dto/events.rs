//! The change feed: events, their field changes, a page of them.

use jiff::Timestamp;
use roster_store::FeedEvent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One field's change in an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDeltaDto {
    /// A directory field (`email`, `end_date` …), `demographic:<name>`,
    /// `email_edited` or `merged_into`.
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// The rule that gave the new value (`source`, `end_date`, `admin_edit`,
    /// `rollback` …).
    pub rule: String,
}

/// One event of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    /// Strictly increasing per account: pass the last one seen as `after`.
    pub cursor: i64,
    /// `employee.created`, `employee.updated`, `employee.deactivated`,
    /// `employee.reactivated`, `employee.merged`, `employee.removed` (a tombstone:
    /// the record was removed, `changes` holds its anonymised fields as `before`),
    /// `employee.deactivation_scheduled`,
    /// `employee.start_scheduled` or `import.applied` (closes an import's events).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the import was written.
    pub at: Timestamp,
    pub import_id: i64,
    /// `sync`, `csv_import`, `admin_edit`, `merge`, `rollback`, `tick` …
    pub import_kind: String,
    /// The employee's stable key (the id SCIM uses); absent for `import.applied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_key: Option<i64>,
    /// The employee ID after the import; absent for `import.applied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// The fields changed (for `employee.created`: every field it has).
    pub changes: Vec<FieldDeltaDto>,
}

impl From<&FeedEvent> for EventDto {
    fn from(e: &FeedEvent) -> Self {
        Self {
            cursor: e.cursor,
            event_type: e.event_type.as_str().into(),
            at: e.at,
            import_id: e.import_id,
            import_kind: e.import_kind.as_str().into(),
            employee_key: e.employee_key,
            employee_id: e.employee_id.clone(),
            changes: e
                .changes
                .iter()
                .map(|c| FieldDeltaDto {
                    field: c.field.clone(),
                    before: c.before.clone(),
                    after: c.after.clone(),
                    rule: c.rule.as_str().into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Events after this cursor (default 0: from the first).
    #[serde(default)]
    pub after: Option<i64>,
    /// Default 100, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only these types, comma-separated (e.g. `employee.created,employee.updated`).
    #[serde(default)]
    pub types: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    pub items: Vec<EventDto>,
    /// `after` for the next request: the last cursor of this page, or the `after`
    /// given when the page is empty (poll again with it for new events).
    pub next_after: i64,
}
