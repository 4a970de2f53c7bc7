//! A CSV import (issue #5): members read from a file by `roster-csv`, planned,
//! guarded, reviewed, applied and recorded the same way as an API sync. The engine
//! never sees the file; it gets the members, the rows it could not read, and the
//! columns present.
//!
//! What differs from a sync, and why:
//! - Planning uses `only_fields` = the columns present (a column not in the file is
//!   left alone, full or partial) and `complete` = full mode.
//! - Planning uses `employee_ids = source`: a row's `Employee ID` is the directory's
//!   employee ID whatever the integration's setting, since that is what the users
//!   export writes (DESIGN §5: an employee ID identifies an employee).
//! - A file with rows in error is reviewed but not applied unless the admin skips
//!   the bad rows explicitly; the refusal is recorded as a failed import.
//! - It is recorded as a `csv_import` with its file name and row count; the
//!   integration's incremental-fetch marker is never touched.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use roster_core::guard::{BlockReason, Confirmations, Decision, Trigger, decide};
use roster_core::member::{RejectedMember, SourceMember};
use roster_core::plan::{self, Entry, Plan, PlanOptions};
use roster_core::settings::{EmployeeIds, Settings};
use roster_source::Diagnostic;
use roster_store::{
    Changeset, EntryRecord, Fence, ImportId, ImportKind, ImportStatus, Integration,
    IntegrationKind, IntegrationState, IntegrationUpdate, Notification,
};
use serde::Serialize;

use crate::engine::{Engine, Result, SyncOutcome, SyncStatus, Timings};
use crate::lock::SyncLock;

/// A users file, read.
#[derive(Clone, Debug, Default)]
pub struct FileImport {
    /// The file's name as the admin gave it (recorded in the history).
    pub file_name: String,
    /// Data rows read.
    pub rows: usize,
    pub bytes: u64,
    /// Rows that parsed; `position` is the line.
    pub members: Vec<SourceMember>,
    /// Rows that did not, each naming its line and column.
    pub rejected: Vec<RejectedMember>,
    /// Full (missing employees follow `on_missing`) or partial (untouched).
    pub full: bool,
    /// The fields the file updates: its columns (`PlanOptions::only_fields`).
    pub fields: BTreeSet<String>,
    /// File-level remarks (unknown columns, detected delimiter …).
    pub diagnostics: Vec<Diagnostic>,
    /// Recorded with the import so the history can name columns (issue field →
    /// column header).
    pub columns: serde_json::Value,
}

/// How an import is run.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub trigger: Option<Trigger>,
    /// Apply (otherwise review only: nothing is recorded).
    pub apply: bool,
    pub confirm: Confirmations,
    /// Apply although some rows are in error (they are skipped and reported).
    pub skip_bad_rows: bool,
    /// A full import: deactivate missing employees this once.
    pub deactivate_missing: bool,
}

/// What an import did: a sync's outcome plus the file's.
#[derive(Debug, Serialize)]
pub struct ImportOutcome {
    #[serde(flatten)]
    pub sync: SyncOutcome,
    pub file_name: String,
    pub rows: usize,
    /// Lines with an error: skipped if applied with `skip_bad_rows`.
    pub bad_rows: Vec<usize>,
    /// Apply was refused because of `bad_rows` (recorded as a failed import).
    pub refused: bool,
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn entry_record(e: &Entry, applied: bool, held: bool) -> EntryRecord {
    EntryRecord {
        action: e.action,
        key: e.key,
        employee_id: e.employee_id.clone(),
        changes: e.changes.clone(),
        after: e.after.clone(),
        applied,
        held,
        privacy: e.privacy,
    }
}

/// Lines with an error issue.
pub fn bad_rows(plan: &Plan) -> Vec<usize> {
    plan.issues
        .iter()
        .filter(|i| i.is_error())
        .filter_map(|i| i.position)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

impl Engine {
    /// The integration a file is imported into: `id`, else the first one, else a
    /// new `csv` integration (where a CSV-only directory keeps its settings).
    pub async fn import_integration(&self, id: Option<i64>) -> Result<Integration> {
        if id.is_some() || !self.integrations().await?.is_empty() {
            return self.integration(id).await;
        }
        self.connect(
            IntegrationKind::Csv,
            "CSV files",
            serde_json::json!({}),
            None,
        )
        .await
    }

    /// Plan, guard and (with `apply`) apply and record a users file.
    pub async fn import_csv(
        &self,
        integration: &Integration,
        file: FileImport,
        opts: ImportOptions,
    ) -> Result<ImportOutcome> {
        // The same sync lock as a sync (same lease, renewed, released on every exit
        // path), and the import's writes are fenced by it.
        let lock = if opts.apply {
            Some(
                SyncLock::acquire(self.store(), self.account(), integration.id, self.lease())
                    .await?,
            )
        } else {
            None
        };
        let fence = lock.as_ref().map(|l| l.fence(None));
        let result = self
            .import_locked(integration, file, &opts, fence.as_ref())
            .await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result
    }

    async fn import_locked(
        &self,
        integration: &Integration,
        file: FileImport,
        opts: &ImportOptions,
        fence: Option<&Fence>,
    ) -> Result<ImportOutcome> {
        let id = integration.id;
        let trigger = opts.trigger.unwrap_or(Trigger::Manual);
        let started_at = self.clock().now();
        let settings = &integration.settings;
        let planning = Settings {
            employee_ids: EmployeeIds::Source,
            ..settings.clone()
        };
        let t = Instant::now();
        let directory = self.store().directory(self.account()).await?;
        let load_ms = ms(t.elapsed());
        let today = self.clock().today(&settings.timezone);
        let t = Instant::now();
        let FileImport {
            file_name,
            rows,
            bytes,
            members,
            rejected,
            full,
            fields,
            diagnostics,
            columns,
        } = file;
        let plan = plan::plan(
            &directory,
            members,
            &rejected,
            &planning,
            today,
            &PlanOptions {
                complete: full,
                deactivate_missing: opts.deactivate_missing,
                only_fields: Some(fields),
            },
        );
        drop(directory);
        let plan_ms = ms(t.elapsed());
        let decision = decide(&plan, trigger, settings, opts.confirm);
        let bad = bad_rows(&plan);
        tracing::info!(
            integration = id,
            rows,
            created = plan.counts.created,
            updated = plan.counts.updated,
            deactivated = plan.counts.deactivated,
            reactivated = plan.counts.reactivated,
            skipped = plan.counts.skipped,
            bad_rows = bad.len(),
            "csv import planned"
        );
        let mut outcome = ImportOutcome {
            sync: SyncOutcome {
                integration_id: id,
                import_id: None,
                status: SyncStatus::Reviewed,
                plan,
                decision: decision.clone(),
                applied: Vec::new(),
                held: Vec::new(),
                diagnostics,
                members_fetched: rows,
                bytes_read: bytes,
                requests: 0,
                timings: Timings {
                    fetch_ms: 0,
                    load_ms,
                    plan_ms,
                    apply_ms: 0,
                },
            },
            file_name,
            rows,
            bad_rows: bad,
            refused: false,
        };
        let o = &mut outcome.sync;
        if let Decision::Apply { held, .. } = &decision {
            o.held = held.clone();
        }
        if !opts.apply {
            if matches!(decision, Decision::Blocked { .. }) {
                o.status = SyncStatus::Blocked;
            } else if decision == Decision::NeedsConfirmation {
                o.status = SyncStatus::NeedsConfirmation;
            }
            return Ok(outcome);
        }

        let t = Instant::now();
        let kind = ImportKind::CsvImport;
        let details = |o: &SyncOutcome, extra: serde_json::Value| {
            serde_json::json!({
                "file": outcome.file_name,
                "rows": outcome.rows,
                "mode": if full { "full" } else { "partial" },
                "columns": columns,
                "bad_rows": outcome.bad_rows,
                "skip_bad_rows": opts.skip_bad_rows,
                "issues": o.plan.issues,
                "mass_change": o.plan.mass_change,
                "diagnostics": o.diagnostics,
                "complete": o.plan.complete,
                "today": today,
                "members_fetched": outcome.rows,
                "extra": extra,
            })
        };
        let event = |what: &str| format!("{}.{what}", kind.as_str());

        if !outcome.bad_rows.is_empty() && !opts.skip_bad_rows {
            let message = format!(
                "the file has {} row(s) in error: nothing was applied; fix them or skip them explicitly",
                outcome.bad_rows.len()
            );
            let changeset = Changeset {
                integration_id: Some(id),
                kind,
                trigger,
                status: ImportStatus::Failed,
                started_at,
                finished_at: self.clock().now(),
                counts: outcome.sync.plan.counts.clone(),
                details: details(&outcome.sync, serde_json::json!({ "error": message })),
                entries: Vec::new(),
                notifications: Vec::new(),
                rolls_back: None,
                integration_update: None,
            };
            let import_id = self.write(changeset, fence).await?;
            outcome.sync.import_id = Some(import_id);
            outcome.refused = true;
            tracing::info!(
                integration = id,
                import = import_id,
                "csv import refused: bad rows"
            );
            return Ok(outcome);
        }

        let o = &outcome.sync;
        let (status, sync_status, entries, notifications, applied, held) = match &decision {
            Decision::Blocked { reasons } => {
                let why: Vec<&str> = reasons
                    .iter()
                    .map(|r| match r {
                        BlockReason::Privacy => "privacy",
                        BlockReason::MassChange => "mass_change",
                    })
                    .collect();
                let note = Notification {
                    event: event("blocked"),
                    payload: serde_json::json!({
                        "integration_id": id,
                        "file": outcome.file_name,
                        "reasons": why,
                        "privacy_employees": o.plan.counts.privacy,
                        "mass_change": o.plan.mass_change.describe(),
                        "counts": o.plan.counts,
                    }),
                };
                let entries = o
                    .plan
                    .entries
                    .iter()
                    .map(|e| entry_record(e, false, e.privacy))
                    .collect();
                let s = (ImportStatus::Blocked, SyncStatus::Blocked);
                (s.0, s.1, entries, vec![note], Vec::new(), Vec::new())
            }
            Decision::NeedsConfirmation => {
                let note = Notification {
                    event: event("blocked"),
                    payload: serde_json::json!({
                        "integration_id": id,
                        "file": outcome.file_name,
                        "reasons": ["mass_change"],
                        "mass_change": o.plan.mass_change.describe(),
                        "counts": o.plan.counts,
                    }),
                };
                let entries = o
                    .plan
                    .entries
                    .iter()
                    .map(|e| entry_record(e, false, false))
                    .collect();
                (
                    ImportStatus::Blocked,
                    SyncStatus::NeedsConfirmation,
                    entries,
                    vec![note],
                    Vec::new(),
                    Vec::new(),
                )
            }
            Decision::Apply { apply, held } => {
                let held_set: HashSet<usize> = held.iter().copied().collect();
                let entries = o
                    .plan
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| entry_record(e, !held_set.contains(&i), held_set.contains(&i)))
                    .collect();
                let mut notes = vec![Notification {
                    event: event("applied"),
                    payload: serde_json::json!({
                        "integration_id": id,
                        "file": outcome.file_name,
                        "counts": o.plan.counts,
                        "held": held.len(),
                    }),
                }];
                if !held.is_empty() {
                    notes.push(Notification {
                        event: event("held"),
                        payload: serde_json::json!({ "integration_id": id, "held": held.len() }),
                    });
                }
                let (status, s) = if held.is_empty() {
                    (ImportStatus::Applied, SyncStatus::Applied)
                } else {
                    (ImportStatus::PartiallyApplied, SyncStatus::PartiallyApplied)
                };
                (status, s, entries, notes, apply.clone(), held.clone())
            }
        };
        let applied_any = matches!(
            status,
            ImportStatus::Applied | ImportStatus::PartiallyApplied
        );
        // A CSV integration is finalised by its first applied import; another
        // integration's state and marks belong to its own syncs.
        let integration_update =
            (applied_any && integration.kind == IntegrationKind::Csv).then(|| IntegrationUpdate {
                state: (trigger == Trigger::Manual
                    && integration.state != IntegrationState::Active)
                    .then_some(IntegrationState::Active),
                last_fetch_at: None,
                last_sync_at: Some(self.clock().now()),
            });
        let changeset = Changeset {
            integration_id: Some(id),
            kind,
            trigger,
            status,
            started_at,
            finished_at: self.clock().now(),
            counts: o.plan.counts.clone(),
            details: details(o, serde_json::json!({ "held": held })),
            entries,
            notifications,
            rolls_back: None,
            integration_update,
        };
        let import_id = self.write(changeset, fence).await?;
        let o = &mut outcome.sync;
        o.status = sync_status;
        o.import_id = Some(import_id);
        o.applied = applied;
        o.timings.apply_ms = ms(t.elapsed());
        tracing::info!(
            integration = id,
            import = import_id,
            status = status.as_str(),
            "csv import recorded"
        );
        Ok(outcome)
    }

    /// Record a reviewed import the admin declined: a `discarded` csv_import.
    pub async fn discard_import(
        &self,
        review: &ImportOutcome,
        trigger: Trigger,
    ) -> Result<ImportId> {
        let now = self.clock().now();
        let s = &review.sync;
        let changeset = Changeset {
            integration_id: Some(s.integration_id),
            kind: ImportKind::CsvImport,
            trigger,
            status: ImportStatus::Discarded,
            started_at: now,
            finished_at: now,
            counts: s.plan.counts.clone(),
            details: serde_json::json!({
                "file": review.file_name,
                "rows": review.rows,
                "bad_rows": review.bad_rows,
                "issues": s.plan.issues,
                "mass_change": s.plan.mass_change,
                "diagnostics": s.diagnostics,
                "members_fetched": review.rows,
            }),
            entries: s
                .plan
                .entries
                .iter()
                .map(|e| entry_record(e, false, false))
                .collect(),
            notifications: Vec::new(),
            rolls_back: None,
            integration_update: None,
        };
        Ok(self.store().write(self.account(), changeset).await?)
    }

    /// Record a file that failed as a whole (nothing planned, nothing applied).
    pub async fn record_file_failure(
        &self,
        integration: &Integration,
        file_name: &str,
        message: &str,
    ) -> Result<ImportId> {
        let now = self.clock().now();
        let changeset = Changeset {
            integration_id: Some(integration.id),
            kind: ImportKind::CsvImport,
            trigger: Trigger::Manual,
            status: ImportStatus::Failed,
            started_at: now,
            finished_at: now,
            counts: Default::default(),
            details: serde_json::json!({ "file": file_name, "error": message }),
            entries: Vec::new(),
            notifications: Vec::new(),
            rolls_back: None,
            integration_update: None,
        };
        Ok(self.store().write(self.account(), changeset).await?)
    }
}
