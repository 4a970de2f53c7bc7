//! The directory: employees, their history, edits, upcoming changes and milestones.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_store::HistoryEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shared::ChangeDto;

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeDto {
    /// The directory's key (stable).
    pub key: i64,
    pub employee_id: String,
    pub source_id: Option<String>,
    /// `null`: no email (a merged record's, or an employee without one).
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub start_date: Option<Date>,
    pub latest_rehire_date: Option<Date>,
    pub hire_date: Option<Date>,
    pub end_date: Option<Date>,
    pub manager_email: Option<String>,
    pub phone: Option<String>,
    pub demographics: BTreeMap<String, String>,
    pub active: bool,
    pub deactivation_reason: Option<String>,
    pub is_manager: bool,
    pub excluded: bool,
    pub email_edited: bool,
    pub merged_into: Option<i64>,
}

impl From<&Employee> for EmployeeDto {
    fn from(e: &Employee) -> Self {
        let Employee {
            key,
            employee_id,
            source_id,
            email,
            secondary_email,
            first_name,
            last_name,
            preferred_name,
            date_of_birth,
            start_date,
            latest_rehire_date,
            hire_date,
            end_date,
            manager_email,
            phone,
            demographics,
            active,
            deactivation_reason,
            is_manager,
            excluded,
            email_edited,
            merged_into,
        } = e;
        Self {
            key: *key,
            employee_id: employee_id.clone(),
            source_id: source_id.clone(),
            email: (!email.is_empty()).then(|| email.clone()),
            secondary_email: secondary_email.clone(),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            preferred_name: preferred_name.clone(),
            date_of_birth: *date_of_birth,
            start_date: *start_date,
            latest_rehire_date: *latest_rehire_date,
            hire_date: *hire_date,
            end_date: *end_date,
            manager_email: manager_email.clone(),
            phone: phone.clone(),
            demographics: demographics.to_btree(),
            active: *active,
            deactivation_reason: deactivation_reason.map(|r| r.as_str().to_string()),
            is_manager: *is_manager,
            excluded: *excluded,
            email_edited: *email_edited,
            merged_into: *merged_into,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Case-insensitive substring of employee ID, email or a name.
    #[serde(default)]
    pub search: Option<String>,
    /// Deactivated employees too.
    #[serde(default)]
    pub include_deactivated: bool,
    #[serde(default)]
    pub offset: Option<usize>,
    /// Continue after this key: the previous page's `next_after`. Every page then costs
    /// the same, however deep (an `offset` walks the rows before it).
    #[serde(default)]
    pub after: Option<i64>,
    /// Default 100, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
    /// The directory as it stood at the end of this day (`YYYY-MM-DD`) in the
    /// account's time zone, reconstructed from the history.
    #[serde(default)]
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The employee as of the end of this day (`YYYY-MM-DD`) in the account's time
    /// zone, found by the employee ID or email it had then; the history is left out.
    #[serde(default)]
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersPage {
    pub items: Vec<EmployeeDto>,
    pub offset: usize,
    pub limit: usize,
    /// Employees in the listing (without a search), else none.
    pub total: Option<u64>,
    /// Offset of the next page, when there may be one.
    pub next_offset: Option<usize>,
    /// `after` for the next page (the last key of this one), when there may be one.
    pub next_after: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntryDto {
    pub import_id: i64,
    pub kind: String,
    pub at: Timestamp,
    pub action: String,
    pub changes: Vec<ChangeDto>,
    /// A line of a duplicate merged into this employee: the merged record's employee
    /// ID (DESIGN §6: merging moves the history). `null` for the employee's own.
    pub merged_from: Option<String>,
}

impl From<&HistoryEntry> for HistoryEntryDto {
    fn from(h: &HistoryEntry) -> Self {
        let HistoryEntry {
            import_id,
            kind,
            at,
            action,
            changes,
            merged_from,
        } = h;
        Self {
            import_id: *import_id,
            kind: kind.as_str().to_string(),
            at: *at,
            action: action.as_str().to_string(),
            changes: changes.iter().map(ChangeDto::from).collect(),
            merged_from: merged_from.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetailDto {
    pub employee: EmployeeDto,
    /// Newest first.
    pub history: Vec<HistoryEntryDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEmailRequest {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The original (employee ID or email) the duplicate is merged into.
    pub into: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Look this many days ahead (default 90 for upcoming, 30 for milestones; at most
    /// 366).
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpcomingDto {
    pub date: Date,
    /// `deactivation`, `start` or `anonymisation` (retention anonymises a former
    /// employee's personal fields that day).
    pub kind: String,
    pub employee_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneDto {
    pub date: Date,
    /// `work_anniversary` or `birthday`.
    pub kind: String,
    pub employee_id: String,
    pub name: String,
    /// Years of service on that date (anniversaries only).
    pub years: Option<i16>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Deactivated employees too (`Employee Deactivated` TRUE).
    #[serde(default)]
    pub include_deactivated: bool,
    /// The directory as it stood at the end of this day (`YYYY-MM-DD`) in the
    /// account's time zone.
    #[serde(default)]
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// One employee whose personal data was erased.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedEmployeeDto {
    pub key: i64,
    /// The employee ID now (neutral when it was the source's id).
    pub employee_id: String,
    /// The fields replaced (names only; `demographic:<name>` for demographics).
    pub fields: Vec<String>,
}

/// What an erasure did: recorded as an import of kind `erasure`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureDto {
    pub import_id: i64,
    pub employees: Vec<ErasedEmployeeDto>,
    /// The record was removed entirely (`?remove=true`).
    pub removed: bool,
    /// With `removed`: the removed record's reports, now reporting to its manager.
    pub reports_moved: Vec<ReportMovedDto>,
    /// The employee was active (in the source as of the last sync): the next sync
    /// brings their data back from the source (held by the privacy guard for review)
    /// unless they leave the source first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A report of a removed record, re-pointed to the removed record's manager.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportMovedDto {
    /// The report's key.
    pub key: i64,
    /// Its manager now (the removed record's manager); `null`: none.
    pub manager_key: Option<i64>,
}

/// `POST /api/v1/users/{who}/erase` options.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EraseQuery {
    /// Remove the record entirely once anonymised (its reports follow its manager;
    /// the change feed gets an `employee.removed` tombstone).
    #[serde(default)]
    pub remove: bool,
}

impl From<roster_store::Anonymised> for ErasureDto {
    fn from(a: roster_store::Anonymised) -> Self {
        Self {
            import_id: a.import_id,
            employees: a
                .employees
                .into_iter()
                .map(|e| ErasedEmployeeDto {
                    key: e.key,
                    employee_id: e.employee_id,
                    fields: e.fields,
                })
                .collect(),
            removed: !a.removed.is_empty(),
            reports_moved: a
                .removed
                .into_iter()
                .flat_map(|r| r.reports_moved)
                .map(|m| ReportMovedDto {
                    key: m.key,
                    manager_key: m.manager_key,
                })
                .collect(),
            warning: None,
        }
    }
}
