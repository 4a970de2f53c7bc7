//! What the engine's runs return: a sync's or import's outcome and status, its
//! options and progress steps, the setup sync's report, an admin change's outcome.

use std::sync::Arc;

use roster_core::employee::Employee;
use roster_core::guard::{Confirmations, Decision, Trigger};
use roster_core::member::SourceField;
use roster_core::plan::Plan;
use roster_core::rollback::RollbackConflict;
use roster_core::settings::Settings;
use roster_source::{Diagnostic, ProgressFn};
use roster_store::jobs::JobId;
use roster_store::{ImportId, IntegrationId};
use serde::{Deserialize, Serialize};

/// A step of a sync after the fetch, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStep {
    /// Matching and planning this many members against the directory.
    Planning { members: usize },
    /// Writing this many entries in one transaction.
    Applying { entries: usize },
}

/// Called as a sync enters each [`SyncStep`].
pub type StepFn = Arc<dyn Fn(SyncStep) + Send + Sync>;

/// How a sync is run.
#[derive(Clone, Default)]
pub struct SyncOptions {
    pub trigger: Option<Trigger>,
    /// Fetch only members updated since the last applied sync.
    pub incremental: bool,
    /// Deactivate members missing from this full sync, this once.
    pub deactivate_missing: bool,
    /// Apply (otherwise review only: nothing is recorded).
    pub apply: bool,
    pub confirm: Confirmations,
    /// Read per-member custom-field values.
    pub custom_fields: bool,
    pub progress: Option<ProgressFn>,
    pub on_step: Option<StepFn>,
    /// The worker's job this sync runs for, `(job, worker)`: the apply commits only
    /// while the job is still leased to that worker.
    pub job: Option<(JobId, String)>,
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("trigger", &self.trigger)
            .field("incremental", &self.incremental)
            .field("deactivate_missing", &self.deactivate_missing)
            .field("apply", &self.apply)
            .field("confirm", &self.confirm)
            .finish_non_exhaustive()
    }
}

/// Wall-clock time of each step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timings {
    pub fetch_ms: u128,
    pub load_ms: u128,
    pub plan_ms: u128,
    pub apply_ms: u128,
}

/// What a sync did.
#[derive(Debug, Serialize)]
pub struct SyncOutcome {
    pub integration_id: IntegrationId,
    /// Recorded import, when anything was recorded.
    pub import_id: Option<ImportId>,
    pub status: SyncStatus,
    pub plan: Plan,
    pub decision: Decision,
    /// Indices into `plan.entries` that were applied.
    pub applied: Vec<usize>,
    /// Indices into `plan.entries` held for approval.
    pub held: Vec<usize>,
    pub diagnostics: Vec<Diagnostic>,
    pub members_fetched: usize,
    pub bytes_read: u64,
    pub requests: u64,
    pub timings: Timings,
    /// Plan entries applied but not kept in `plan.entries` (after the first ones a
    /// review shows: [`crate::Engine::sync_showing`]); 0 when the plan is whole.
    #[serde(skip)]
    pub omitted: usize,
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SyncStatus {
    /// Reviewed only; nothing recorded or changed.
    Reviewed,
    Applied,
    /// Applied, privacy-guarded employees held.
    PartiallyApplied,
    /// A guard blocked the sync: nothing applied.
    Blocked,
    /// A manual sync needs the mass change confirmed.
    NeedsConfirmation,
}

impl SyncStatus {
    /// The status as the API, the metrics and the JSON output name it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the setup sync read (imports no employee data).
#[derive(Debug, Serialize)]
pub struct SetupReport {
    pub company_name: String,
    pub member_count: usize,
    pub source_fields: Vec<SourceField>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Result of an admin change (edit, exclude, merge, tick, rollback).
#[derive(Debug, Serialize)]
pub struct ChangeOutcome {
    pub import_id: Option<ImportId>,
    pub plan: Plan,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<RollbackConflict>,
    /// Rollback: fields erased since the import (issue #17), left as they are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<RollbackConflict>,
    /// Rollback: employees (by key) removed since the import, not brought back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<roster_core::employee::EmployeeKey>,
}

/// The directory as a plan leaves it, with the settings its export follows
/// ([`Engine::directory_after`]).
#[derive(Debug, Clone)]
pub struct DirectoryAfter {
    pub employees: Vec<Employee>,
    pub settings: Settings,
}

impl SyncOutcome {
    /// A planned and guarded run as reviewed: nothing recorded yet; the status a
    /// review ends with, and the entries the decision holds.
    pub(crate) fn review(
        integration_id: IntegrationId,
        plan: Plan,
        decision: Decision,
        diagnostics: Vec<Diagnostic>,
        timings: Timings,
    ) -> Self {
        Self {
            integration_id,
            import_id: None,
            status: review_status(&decision),
            held: held(&decision),
            plan,
            decision,
            applied: Vec::new(),
            diagnostics,
            members_fetched: 0,
            bytes_read: 0,
            requests: 0,
            timings,
            omitted: 0,
        }
    }
}

/// The status of a run reviewed, not applied.
pub fn review_status(decision: &Decision) -> SyncStatus {
    match decision {
        Decision::Apply { .. } => SyncStatus::Reviewed,
        Decision::Blocked { .. } => SyncStatus::Blocked,
        Decision::NeedsConfirmation => SyncStatus::NeedsConfirmation,
    }
}

/// The entries a decision holds for approval.
pub fn held(decision: &Decision) -> Vec<usize> {
    match decision {
        Decision::Apply { held, .. } => held.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn a_status_is_named_as_it_is_serialised() {
        for s in SyncStatus::VARIANTS {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(SyncStatus::PartiallyApplied.as_str(), "partially_applied");
    }
}
