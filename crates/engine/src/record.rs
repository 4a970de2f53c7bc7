//! How every run is recorded: the [`Changeset`] (import row, entries, outbox
//! events, integration marks) and the status a sync, a CSV import, a discard, a
//! failure, an admin edit or an unlock ends with. Pure: the engine reads the clock
//! and writes what these functions build, in one transaction.

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::guard::{BlockReason, Decision, Trigger};
use roster_core::plan::{Entry, Plan};
use roster_source::Diagnostic;
use roster_store::{
    Changeset, EntryRecord, ImportId, ImportKind, ImportStatus, Integration, IntegrationId,
    IntegrationKind, IntegrationState, IntegrationUpdate, SyncLockInfo,
};
use serde_json::{Value, json};

use crate::event::{Blocked, Event};
use crate::lock::Holder;
use crate::outcome::SyncStatus;

/// A sync or a CSV import, as recorded beside its plan and decision.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    pub integration: &'a Integration,
    pub trigger: Trigger,
    pub started_at: Timestamp,
    /// When it is recorded (also the integration's `last_sync_at` if it applied).
    pub finished_at: Timestamp,
    pub today: Date,
    pub diagnostics: &'a [Diagnostic],
    pub kind: RunKind<'a>,
}

/// What kind of run, with what only that kind records.
#[derive(Clone, Debug)]
pub enum RunKind<'a> {
    Sync {
        incremental: bool,
        members_fetched: usize,
        /// The integration's next `last_fetch_at` if the sync applies.
        fetch_marker: Timestamp,
    },
    CsvImport(FileRun<'a>),
}

/// A users file as its import records it.
#[derive(Clone, Copy, Debug)]
pub struct FileRun<'a> {
    pub file_name: &'a str,
    pub rows: usize,
    pub full: bool,
    /// Issue field → column header (JSON), so the history can name columns.
    pub columns: &'a Value,
    pub bad_rows: &'a [usize],
    pub skip_bad_rows: bool,
}

/// A run's record and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub changeset: Changeset,
    pub status: SyncStatus,
    /// Indices into `plan.entries` applied.
    pub applied: Vec<usize>,
    /// Indices into `plan.entries` held for approval.
    pub held: Vec<usize>,
}

/// An entry as recorded.
pub fn entry_record(e: &Entry, applied: bool, held: bool) -> EntryRecord {
    entry_record_moved(e.clone(), applied, held)
}

/// [`entry_record`] of an entry the caller gives up: its employee and changes are
/// moved, not copied.
fn entry_record_moved(e: Entry, applied: bool, held: bool) -> EntryRecord {
    EntryRecord {
        action: e.action,
        key: e.key,
        employee_id: e.after.employee_id.clone(),
        changes: e.changes,
        after: e.after,
        applied,
        held,
        privacy: e.privacy,
    }
}

/// Every entry of `plan`, none applied (a review, a discard, a block).
fn unapplied(plan: &Plan, held: impl Fn(&Entry) -> bool) -> Vec<EntryRecord> {
    plan.entries
        .iter()
        .map(|e| entry_record(e, false, held(e)))
        .collect()
}

impl Run<'_> {
    fn id(&self) -> IntegrationId {
        self.integration.id
    }

    fn import_kind(&self) -> ImportKind {
        match self.kind {
            RunKind::Sync { .. } => ImportKind::Sync,
            RunKind::CsvImport(_) => ImportKind::CsvImport,
        }
    }

    /// The import's details: the plan's findings and what the run kind knows;
    /// `extra` holds what the outcome adds (held entries, an error).
    fn details(&self, plan: &Plan, extra: Value) -> Value {
        match &self.kind {
            RunKind::Sync {
                incremental,
                members_fetched,
                ..
            } => json!({
                "issues": plan.issues,
                "mass_change": plan.mass_change,
                "diagnostics": self.diagnostics,
                "complete": plan.complete,
                "incremental": incremental,
                "today": self.today,
                "members_fetched": members_fetched,
                "extra": extra,
            }),
            RunKind::CsvImport(f) => json!({
                "file": f.file_name,
                "rows": f.rows,
                "mode": if f.full { "full" } else { "partial" },
                "columns": f.columns,
                "bad_rows": f.bad_rows,
                "skip_bad_rows": f.skip_bad_rows,
                "issues": plan.issues,
                "mass_change": plan.mass_change,
                "diagnostics": self.diagnostics,
                "complete": plan.complete,
                "today": self.today,
                "members_fetched": f.rows,
                "extra": extra,
            }),
        }
    }

    fn applied_event(&self, plan: &Plan, held: usize) -> Event {
        let (integration_id, counts) = (self.id(), plan.counts.clone());
        match &self.kind {
            RunKind::Sync { .. } => Event::SyncApplied {
                integration_id,
                counts,
                held,
            },
            RunKind::CsvImport(f) => Event::CsvImportApplied {
                integration_id,
                file: f.file_name.to_string(),
                counts,
                held,
            },
        }
    }

    fn held_event(&self, held: usize) -> Event {
        let integration_id = self.id();
        match &self.kind {
            RunKind::Sync { .. } => Event::SyncHeld {
                integration_id,
                held,
            },
            RunKind::CsvImport(_) => Event::CsvImportHeld {
                integration_id,
                held,
            },
        }
    }

    fn blocked_event(&self, blocked: Blocked) -> Event {
        let integration_id = self.id();
        match &self.kind {
            RunKind::Sync { .. } => Event::SyncBlocked {
                integration_id,
                blocked,
            },
            RunKind::CsvImport(f) => Event::CsvImportBlocked {
                integration_id,
                file: f.file_name.to_string(),
                blocked,
            },
        }
    }

    /// The integration's marks when the run applied: a manual run finalises it
    /// (`active`); a sync moves the incremental marker. A CSV import touches only a
    /// CSV integration: another integration's state and marks are its syncs'.
    fn integration_update(&self) -> Option<IntegrationUpdate> {
        let i = self.integration;
        let last_fetch_at = match &self.kind {
            RunKind::Sync { fetch_marker, .. } => Some(*fetch_marker),
            RunKind::CsvImport(_) if i.kind == IntegrationKind::Csv => None,
            RunKind::CsvImport(_) => return None,
        };
        Some(IntegrationUpdate {
            state: (self.trigger == Trigger::Manual && i.state != IntegrationState::Active)
                .then_some(IntegrationState::Active),
            last_fetch_at,
            last_sync_at: Some(self.finished_at),
        })
    }

    fn changeset(&self, status: ImportStatus, plan: &Plan, details: Value) -> Changeset {
        Changeset {
            integration_id: Some(self.id()),
            kind: self.import_kind(),
            trigger: self.trigger,
            status,
            started_at: self.started_at,
            finished_at: self.finished_at,
            counts: plan.counts.clone(),
            details,
            entries: Vec::new(),
            notifications: Vec::new(),
            rolls_back: None,
            integration_update: None,
        }
    }
}

/// Record a sync or a CSV import that was to be applied, as `decision` says: the
/// entries applied or held, or nothing applied when a guard blocked it (DESIGN §7),
/// with the events the account's channels get.
pub fn record(run: &Run, plan: &Plan, decision: &Decision) -> Recorded {
    recorded(run, plan, decision, |mark| {
        plan.entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (applied, held) = mark(i, e);
                entry_record(e, applied, held)
            })
            .collect()
    })
}

/// [`record`] of `plan` with its entries given apart and moved into the record, not
/// copied (`plan.entries` is not read): a first import of a million members holds
/// its employees once, in the changeset the store writes.
pub fn record_moved(run: &Run, plan: &Plan, entries: Vec<Entry>, decision: &Decision) -> Recorded {
    recorded(run, plan, decision, |mark| {
        entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let (applied, held) = mark(i, &e);
                entry_record_moved(e, applied, held)
            })
            .collect()
    })
}

/// Whether the entry at an index is applied and whether it is held.
type Mark<'a> = &'a dyn Fn(usize, &Entry) -> (bool, bool);

/// The record of a run as `decision` says; `entries` builds the entry records with
/// the mark of each.
fn recorded(
    run: &Run,
    plan: &Plan,
    decision: &Decision,
    entries: impl FnOnce(Mark<'_>) -> Vec<EntryRecord>,
) -> Recorded {
    let blocked = |reasons: Vec<BlockReason>, privacy_employees: Option<usize>| {
        run.blocked_event(Blocked {
            reasons,
            privacy_employees,
            mass_change: plan.mass_change.describe(),
            counts: plan.counts.clone(),
        })
    };
    let held_set: std::collections::HashSet<usize> = match decision {
        Decision::Apply { held, .. } => held.iter().copied().collect(),
        _ => Default::default(),
    };
    let (status, sync_status, entries, events, applied, held) = match decision {
        Decision::Blocked { reasons } => (
            ImportStatus::Blocked,
            SyncStatus::Blocked,
            entries(&|_, e: &Entry| (false, e.privacy)),
            vec![blocked(reasons.clone(), Some(plan.counts.privacy))],
            Vec::new(),
            Vec::new(),
        ),
        Decision::NeedsConfirmation => (
            ImportStatus::Blocked,
            SyncStatus::NeedsConfirmation,
            entries(&|_, _: &Entry| (false, false)),
            vec![blocked(vec![BlockReason::MassChange], None)],
            Vec::new(),
            Vec::new(),
        ),
        Decision::Apply { apply, held } => {
            let entries = entries(&|i, _: &Entry| {
                let held = held_set.contains(&i);
                (!held, held)
            });
            let mut events = vec![run.applied_event(plan, held.len())];
            if !held.is_empty() {
                events.push(run.held_event(held.len()));
            }
            let (status, s) = if held.is_empty() {
                (ImportStatus::Applied, SyncStatus::Applied)
            } else {
                (ImportStatus::PartiallyApplied, SyncStatus::PartiallyApplied)
            };
            (status, s, entries, events, apply.clone(), held.clone())
        }
    };
    let applied_any = matches!(
        status,
        ImportStatus::Applied | ImportStatus::PartiallyApplied
    );
    let changeset = Changeset {
        entries,
        notifications: events.iter().map(Event::notification).collect(),
        integration_update: run.integration_update().filter(|_| applied_any),
        ..run.changeset(status, plan, run.details(plan, json!({ "held": held })))
    };
    Recorded {
        changeset,
        status: sync_status,
        applied,
        held,
    }
}

/// A CSV import refused because rows are in error (and not skipped): a failed
/// import with the plan's counts and findings, nothing applied, no events.
pub fn refusal(run: &Run, plan: &Plan, message: &str) -> Changeset {
    run.changeset(
        ImportStatus::Failed,
        plan,
        run.details(plan, json!({ "error": message })),
    )
}

/// A sync whose fetch failed: a failed import, and the `sync.failed` event.
pub fn sync_failure(
    integration: IntegrationId,
    trigger: Trigger,
    started_at: Timestamp,
    finished_at: Timestamp,
    message: &str,
) -> Changeset {
    let event = Event::SyncFailed {
        integration_id: integration,
        error: message.to_string(),
    };
    Changeset {
        integration_id: Some(integration),
        kind: ImportKind::Sync,
        trigger,
        status: ImportStatus::Failed,
        started_at,
        finished_at,
        counts: Default::default(),
        details: json!({ "error": message }),
        entries: Vec::new(),
        notifications: vec![event.notification()],
        rolls_back: None,
        integration_update: None,
    }
}

/// A users file that failed as a whole (nothing planned, nothing applied).
pub fn file_failure(
    integration: IntegrationId,
    file_name: &str,
    message: &str,
    now: Timestamp,
) -> Changeset {
    Changeset {
        integration_id: Some(integration),
        kind: ImportKind::CsvImport,
        trigger: Trigger::Manual,
        status: ImportStatus::Failed,
        started_at: now,
        finished_at: now,
        counts: Default::default(),
        details: json!({ "file": file_name, "error": message }),
        entries: Vec::new(),
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    }
}

/// A reviewed run the admin declined: a `discarded` import with its plan, nothing
/// applied (DESIGN §7: a discarded sync is still an import). `file`: a users file's
/// review (its name, rows and rows in error).
pub struct Discard<'a> {
    pub integration: IntegrationId,
    pub trigger: Trigger,
    pub plan: &'a Plan,
    pub diagnostics: &'a [Diagnostic],
    pub members_fetched: usize,
    pub file: Option<(&'a str, &'a [usize])>,
}

/// The record of a [`Discard`].
pub fn discard(d: &Discard, now: Timestamp) -> Changeset {
    let (kind, details) = match d.file {
        None => (
            ImportKind::Sync,
            json!({
                "issues": d.plan.issues,
                "mass_change": d.plan.mass_change,
                "diagnostics": d.diagnostics,
                "members_fetched": d.members_fetched,
            }),
        ),
        Some((file_name, bad_rows)) => (
            ImportKind::CsvImport,
            json!({
                "file": file_name,
                "rows": d.members_fetched,
                "bad_rows": bad_rows,
                "issues": d.plan.issues,
                "mass_change": d.plan.mass_change,
                "diagnostics": d.diagnostics,
                "members_fetched": d.members_fetched,
            }),
        ),
    };
    Changeset {
        integration_id: Some(d.integration),
        kind,
        trigger: d.trigger,
        status: ImportStatus::Discarded,
        started_at: now,
        finished_at: now,
        counts: d.plan.counts.clone(),
        details,
        entries: unapplied(d.plan, |_| false),
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    }
}

/// An admin change (edit, merge, tick, rollback) applied whole, with its
/// `{kind}.applied` event. `None` when there is nothing to record (no entries, and
/// not a rollback, which is recorded even when it restores nothing).
pub fn edits(
    kind: ImportKind,
    plan: &Plan,
    details: Value,
    rolls_back: Option<ImportId>,
    now: Timestamp,
) -> Option<Changeset> {
    if plan.entries.is_empty() && rolls_back.is_none() {
        return None;
    }
    let event = Event::EditApplied {
        kind,
        counts: plan.counts.clone(),
    };
    Some(Changeset {
        integration_id: None,
        kind,
        trigger: Trigger::Manual,
        status: ImportStatus::Applied,
        started_at: now,
        finished_at: now,
        counts: plan.counts.clone(),
        details,
        entries: plan
            .entries
            .iter()
            .map(|e| entry_record(e, true, false))
            .collect(),
        notifications: vec![event.notification()],
        rolls_back,
        integration_update: None,
    })
}

/// An operator released the sync lock `lock` of `integration` (`roster unlock`):
/// an `unlock` import naming the holder. `real_now` tells whether its lease had run
/// out (the lease is real time, not the injected clock).
pub fn unlock(
    integration: IntegrationId,
    lock: &SyncLockInfo,
    now: Timestamp,
    real_now: Timestamp,
) -> Changeset {
    let holder = Holder::parse(&lock.holder);
    Changeset {
        integration_id: Some(integration),
        kind: ImportKind::Unlock,
        trigger: Trigger::Manual,
        status: ImportStatus::Applied,
        started_at: now,
        finished_at: now,
        counts: Default::default(),
        details: json!({
            "released_lock": {
                "holder": lock.holder,
                "host": holder.as_ref().map(|h| h.host.clone()),
                "pid": holder.as_ref().map(|h| h.pid),
                "generation": lock.generation,
                "lease_until": lock.until,
                "lease_expired": lock.until < real_now,
            }
        }),
        entries: Vec::new(),
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    }
}

#[cfg(test)]
mod tests;
