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

use std::collections::BTreeSet;
use std::time::Instant;

use roster_core::guard::{Confirmations, Trigger, decide};
use roster_core::member::{RejectedMember, SourceMember};
use roster_core::plan::{self, Plan, PlanOptions};
use roster_core::settings::{EmployeeIds, Settings};
use roster_source::Diagnostic;
use roster_store::{Fence, ImportId, Integration, IntegrationKind};
use serde::Serialize;

use crate::engine::{Engine, Result};
use crate::outcome::{SyncOutcome, Timings};
use crate::record::{self, Discard, FileRun, Run, RunKind};
use crate::sync::{ms, release};

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
        let lock = self.lock_to_apply(integration.id, opts.apply).await?;
        let fence = lock.as_ref().map(|l| l.fence(None));
        let result = self
            .import_locked(integration, file, &opts, fence.as_ref())
            .await;
        release(lock).await;
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
        let started_at = self.clock.now();
        let settings = &integration.settings;
        let planning = Settings {
            employee_ids: EmployeeIds::Source,
            ..settings.clone()
        };
        let t = Instant::now();
        let directory = self.directory().await?;
        let load_ms = ms(t.elapsed());
        let today = self.clock.today(&settings.timezone);
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
                returning: Default::default(),
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
        let timings = Timings {
            fetch_ms: 0,
            load_ms,
            plan_ms,
            apply_ms: 0,
        };
        let mut outcome = ImportOutcome {
            sync: SyncOutcome {
                members_fetched: rows,
                bytes_read: bytes,
                requests: 0,
                ..SyncOutcome::review(id, plan, decision, diagnostics, timings)
            },
            file_name,
            rows,
            bad_rows: bad,
            refused: false,
        };
        if !opts.apply {
            return Ok(outcome);
        }

        let diagnostics = outcome.sync.diagnostics.clone();
        let bad_rows = outcome.bad_rows.clone();
        let file_name = outcome.file_name.clone();
        let run = Run {
            integration,
            trigger,
            started_at,
            finished_at: self.clock.now(),
            today,
            diagnostics: &diagnostics,
            kind: RunKind::CsvImport(FileRun {
                file_name: &file_name,
                rows,
                full,
                columns: &columns,
                bad_rows: &bad_rows,
                skip_bad_rows: opts.skip_bad_rows,
            }),
        };
        if !bad_rows.is_empty() && !opts.skip_bad_rows {
            let message = format!(
                "the file has {} row(s) in error: nothing was applied; fix them or skip them explicitly",
                bad_rows.len()
            );
            let changeset = record::refusal(&run, &outcome.sync.plan, &message);
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
        let status = self.apply_run(&mut outcome.sync, &run, fence, None).await?;
        tracing::info!(
            integration = id,
            import = outcome.sync.import_id,
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
        let s = &review.sync;
        let changeset = record::discard(
            &Discard {
                integration: s.integration_id,
                trigger,
                plan: &s.plan,
                diagnostics: &s.diagnostics,
                members_fetched: review.rows,
                file: Some((&review.file_name, &review.bad_rows)),
            },
            self.clock.now(),
        );
        self.write(changeset, None).await
    }

    /// Record a file that failed as a whole (nothing planned, nothing applied).
    pub async fn record_file_failure(
        &self,
        integration: &Integration,
        file_name: &str,
        message: &str,
    ) -> Result<ImportId> {
        let changeset = record::file_failure(integration.id, file_name, message, self.clock.now());
        self.write(changeset, None).await
    }
}
