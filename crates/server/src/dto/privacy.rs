//! Personal data (issue #17): a person's own export, retention's review and run,
//! retention holds.

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::retention::Due;
use roster_engine::{ExportedImport, PersonExport, RetentionOutcome};
use roster_store::privacy::{PersonEntry, RetentionHold};
use serde::{Deserialize, Serialize};
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

/// Someone retention anonymises (or, applied, has anonymised): who, since when
/// they left, the day they are due, and which fields are replaced (names, never
/// values).
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionDueDto {
    pub employee_id: String,
    /// Their name, as the directory shows it to an admin (the values retention
    /// replaces are not listed).
    pub name: String,
    pub end_date: Date,
    /// `end_date + retention_days`: anonymised by the first run on or after it.
    pub due_on: Date,
    /// The fields replaced; empty for someone skipped.
    pub fields: Vec<String>,
}

impl RetentionDueDto {
    fn of(d: &Due, fields: &[String]) -> Self {
        Self {
            employee_id: d.employee_id.clone(),
            name: d.name.clone(),
            end_date: d.end_date,
            due_on: d.due_on,
            fields: fields.to_vec(),
        }
    }
}

/// Retention's review (who is due today) or what applying it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionDto {
    /// The setting `retention_days`; `null`: retention is off and nothing was
    /// looked at.
    pub retention_days: Option<u32>,
    /// The account's today, in its time zone.
    pub today: Option<Date>,
    /// Due today or earlier (a review), or anonymised (applied).
    pub due: Vec<RetentionDueDto>,
    /// Due, but a pending review would change them: left until it is applied or
    /// discarded.
    pub skipped: Vec<RetentionDueDto>,
    /// The `retention` import that recorded the run (`null`: a review, or nobody
    /// was due).
    pub import_id: Option<i64>,
}

impl From<&RetentionOutcome> for RetentionDto {
    fn from(o: &RetentionOutcome) -> Self {
        Self {
            retention_days: o.retention_days,
            today: o.today,
            due: o
                .due
                .iter()
                .map(|(d, f)| RetentionDueDto::of(d, f))
                .collect(),
            skipped: o
                .skipped
                .iter()
                .map(|d| RetentionDueDto::of(d, &[]))
                .collect(),
            import_id: o.import_id,
        }
    }
}

/// A retention hold (e.g. a legal hold): retention leaves the employee alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldDto {
    pub employee_id: String,
    pub name: String,
    pub reason: String,
    pub since: Timestamp,
}

impl From<(&RetentionHold, &Employee)> for HoldDto {
    fn from((h, e): (&RetentionHold, &Employee)) -> Self {
        Self {
            employee_id: e.employee_id.clone(),
            name: e.display_name(),
            reason: h.reason.clone(),
            since: h.since,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why the data is kept (e.g. "legal hold: case 14"); required.
    pub reason: String,
}

/// Whether a hold was lifted (`false`: there was none).
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldReleasedDto {
    pub released: bool,
}
