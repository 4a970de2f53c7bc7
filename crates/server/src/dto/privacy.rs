//! Personal data (issue #17): a person's own export.

use jiff::Timestamp;
use roster_engine::{ExportedImport, PersonExport};
use roster_store::privacy::{PersonEntry, RetentionHold};
use serde::Serialize;
use utoipa::ToSchema;

use super::events::EventDto;
use super::shared::ChangeDto;
use super::users::EmployeeDto;

/// Everything Roster holds about one person (GDPR art. 15), as one document.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExportDto {
    /// The document's shape and version: `roster.person_export.v1`.
    pub format: String,
    pub generated_at: Timestamp,
    /// The person's directory row: every field.
    pub employee: EmployeeDto,
    /// Duplicates merged into them (their data too).
    pub merged_records: Vec<EmployeeDto>,
    /// An admin's retention hold on them (e.g. a legal hold), if any.
    pub retention_hold: Option<RetentionHoldDto>,
    /// Every history entry about them (or a merged record), oldest first: applied,
    /// held and blocked alike.
    pub history: Vec<PersonEntryDto>,
    /// Every change-feed event about them (or a merged record), in cursor order.
    pub events: Vec<EventDto>,
    /// Every import that touched them, oldest first.
    pub imports: Vec<ExportedImportDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionHoldDto {
    pub reason: String,
    pub since: Timestamp,
}

impl From<&RetentionHold> for RetentionHoldDto {
    fn from(h: &RetentionHold) -> Self {
        Self {
            reason: h.reason.clone(),
            since: h.since,
        }
    }
}

/// One history entry about the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonEntryDto {
    pub import_id: i64,
    /// The directory row it is about: the person's, or a merged record's.
    pub employee_key: i64,
    pub employee_id: String,
    /// `create`, `update`, `deactivate` or `reactivate`.
    pub action: String,
    /// Written to the directory (`false`: held, blocked or discarded).
    pub applied: bool,
    /// Held for approval by the privacy guard.
    pub held: bool,
    pub privacy: bool,
    /// Each field's old and new value (none for a create: the row holds them).
    pub changes: Vec<ChangeDto>,
    /// For an entry not applied: the employee as it would have left them.
    pub after: Option<EmployeeDto>,
}

impl From<&PersonEntry> for PersonEntryDto {
    fn from(e: &PersonEntry) -> Self {
        Self {
            import_id: e.import_id,
            employee_key: e.employee_key,
            employee_id: e.employee_id.clone(),
            action: e.action.as_str().to_string(),
            applied: e.applied,
            held: e.held,
            privacy: e.privacy,
            changes: e.changes.iter().map(ChangeDto::from).collect(),
            after: e.after.as_ref().map(EmployeeDto::from),
        }
    }
}

/// An import that touched the person: what ran, when, who ran it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedImportDto {
    pub id: i64,
    /// `sync`, `csv_import`, `admin_edit`, `merge`, `rollback`, `tick` …
    pub kind: String,
    pub status: String,
    /// Who: `manual` (an admin) or `automatic` (the scheduler) …
    pub trigger: String,
    /// … for this integration (`null`: an admin's edit).
    pub integration_id: Option<i64>,
    pub integration: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

impl From<&ExportedImport> for ExportedImportDto {
    fn from(i: &ExportedImport) -> Self {
        Self {
            id: i.id,
            kind: i.kind.as_str().to_string(),
            status: i.status.as_str().to_string(),
            trigger: i.trigger.as_str().to_string(),
            integration_id: i.integration_id,
            integration: i.integration.clone(),
            started_at: i.started_at,
            finished_at: i.finished_at,
        }
    }
}

impl From<&PersonExport> for PersonExportDto {
    fn from(x: &PersonExport) -> Self {
        Self {
            format: x.format.clone(),
            generated_at: x.generated_at,
            employee: (&x.employee).into(),
            merged_records: x.merged_records.iter().map(EmployeeDto::from).collect(),
            retention_hold: x.retention_hold.as_ref().map(RetentionHoldDto::from),
            history: x.history.iter().map(PersonEntryDto::from).collect(),
            events: x.events.iter().map(EventDto::from).collect(),
            imports: x.imports.iter().map(ExportedImportDto::from).collect(),
        }
    }
}
