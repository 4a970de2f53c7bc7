//! Import history, detail and rollback; the outcome of an admin change.

use jiff::Timestamp;
use roster_store::{EntryRecord, ImportSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reviews::ReviewEntryDto;
use super::shared::{ChangeDto, CountsDto};

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryDto {
    pub id: i64,
    pub integration_id: Option<i64>,
    /// `sync`, `csv_import`, `rollback`, `admin_edit` (an admin's set-email, exclude or
    /// include; older rows stored `manual`, read as `admin_edit`), `merge` or `tick`.
    pub kind: String,
    /// `manual` or `automatic`.
    pub trigger: String,
    /// `applied`, `partially_applied`, `blocked`, `discarded`, `failed`, `rolled_back`.
    pub status: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: CountsDto,
}

impl From<&ImportSummary> for ImportSummaryDto {
    fn from(s: &ImportSummary) -> Self {
        let ImportSummary {
            id,
            integration_id,
            kind,
            trigger,
            status,
            started_at,
            finished_at,
            counts,
        } = s;
        Self {
            id: *id,
            integration_id: *integration_id,
            kind: kind.as_str().to_string(),
            trigger: trigger.as_str().to_string(),
            status: status.as_str().to_string(),
            started_at: *started_at,
            finished_at: *finished_at,
            counts: counts.into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportsQuery {
    /// At most this many, newest first (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportEntryDto {
    pub action: String,
    pub employee_id: String,
    pub key: Option<i64>,
    pub applied: bool,
    pub held: bool,
    pub privacy: bool,
    pub changes: Vec<ChangeDto>,
}

impl From<&EntryRecord> for ImportEntryDto {
    fn from(e: &EntryRecord) -> Self {
        // Not exposed: the employee as it is now (`GET /api/v1/users/{who}` has it).
        let EntryRecord {
            action,
            key,
            employee_id,
            changes,
            after: _,
            applied,
            held,
            privacy,
        } = e;
        Self {
            action: action.as_str().to_string(),
            employee_id: employee_id.clone(),
            key: *key,
            applied: *applied,
            held: *held,
            privacy: *privacy,
            changes: changes.iter().map(ChangeDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDetailDto {
    pub summary: ImportSummaryDto,
    /// Issues, diagnostics, guard findings, file name … as recorded.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub entries_total: usize,
    pub offset: usize,
    pub limit: usize,
    pub entries: Vec<ImportEntryDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictDto {
    pub employee_id: String,
    /// Fields changed since, left as they are.
    pub fields: Vec<String>,
}

/// What an admin change (edit, exclude, merge, rollback) did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOutcomeDto {
    /// None when there was nothing to change.
    pub import_id: Option<i64>,
    pub entries: Vec<ReviewEntryDto>,
    /// Rollback: employees changed since, not rolled back.
    pub conflicts: Vec<ConflictDto>,
    /// Rollback: fields erased since the import (personal data), not restored.
    pub erased: Vec<ConflictDto>,
    /// Rollback: employees (by key) whose record was removed since, not brought back.
    pub removed: Vec<i64>,
}

impl From<&roster_engine::ChangeOutcome> for ChangeOutcomeDto {
    fn from(o: &roster_engine::ChangeOutcome) -> Self {
        let roster_engine::ChangeOutcome {
            import_id,
            plan,
            conflicts,
            erased,
            removed,
        } = o;
        let dto = |c: &roster_core::rollback::RollbackConflict| {
            let roster_core::rollback::RollbackConflict {
                key: _,
                employee_id,
                fields,
            } = c;
            ConflictDto {
                employee_id: employee_id.clone(),
                fields: fields.clone(),
            }
        };
        Self {
            import_id: *import_id,
            entries: plan
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| ReviewEntryDto::new(i, e, false))
                .collect(),
            conflicts: conflicts.iter().map(dto).collect(),
            erased: erased.iter().map(dto).collect(),
            removed: removed.clone(),
        }
    }
}
