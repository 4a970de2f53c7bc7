//! What a run records: an import, its entries and notifications (one
//! [`Changeset`], written in one transaction), and how the history reads back.

use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Change, Counts};
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::{ImportId, ImportKind, IntegrationId, IntegrationUpdate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum ImportStatus {
    /// Everything planned was applied.
    Applied,
    /// Applied, with privacy-guarded employees held for approval.
    PartiallyApplied,
    /// A guard blocked it: nothing applied.
    Blocked,
    /// Reviewed, not applied (a dry run or the admin said no).
    Discarded,
    /// The fetch or the apply failed: nothing applied.
    Failed,
    /// Applied, then rolled back.
    RolledBack,
}

impl ImportStatus {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One employee an import touches (or would have touched).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// What the entry does (a rollback records the plan of its edits: `update`,
    /// `deactivate` …).
    pub action: Action,
    /// `None` for an employee the write creates; filled in by the store.
    pub key: Option<EmployeeKey>,
    pub employee_id: String,
    /// Field changes. Empty for a create (the employee row holds the values).
    pub changes: Vec<Change>,
    /// The employee as it will be. Written to the directory when `applied`.
    pub after: Employee,
    /// Written to the directory by this changeset.
    pub applied: bool,
    /// Held for approval by the privacy guard.
    pub held: bool,
    pub privacy: bool,
}

/// An outbound notification, delivered later from the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// e.g. `sync.applied`, `sync.blocked`, `sync.failed`.
    pub event: String,
    pub payload: serde_json::Value,
}

/// Everything one run records, written in one transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Changeset {
    pub integration_id: Option<IntegrationId>,
    pub kind: ImportKind,
    pub trigger: Trigger,
    pub status: ImportStatus,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: Counts,
    /// The plan's issues, diagnostics, guard findings, file name … (JSON).
    pub details: serde_json::Value,
    pub entries: Vec<EntryRecord>,
    pub notifications: Vec<Notification>,
    /// This changeset rolls back that import; its status becomes `rolled_back`.
    pub rolls_back: Option<ImportId>,
    /// Set the integration's state / last-sync marks in the same transaction.
    pub integration_update: Option<IntegrationUpdate>,
}

/// An import as listed in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: ImportId,
    pub integration_id: Option<IntegrationId>,
    pub kind: ImportKind,
    pub trigger: Trigger,
    pub status: ImportStatus,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: Counts,
}

/// An import with everything recorded for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub summary: ImportSummary,
    pub details: serde_json::Value,
    pub entries: Vec<EntryRecord>,
}

/// One line of an employee's change history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub import_id: ImportId,
    pub kind: ImportKind,
    pub at: Timestamp,
    pub action: Action,
    pub changes: Vec<Change>,
    /// A line of a duplicate merged into this employee (DESIGN §6: merging moves the
    /// history): the merged record's employee ID. `None` for the employee's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub import_id: Option<ImportId>,
    pub event: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}
