use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::calendar;
pub use roster_core::calendar::{Milestone, MilestoneKind, Upcoming, UpcomingKind};
use roster_core::edits;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::guard::{BlockReason, Confirmations, Decision, Trigger, decide};
use roster_core::member::SourceField;
use roster_core::plan::{self, Entry, Plan, PlanOptions, Rule};
use roster_core::rollback::{RollbackConflict, plan_rollback};
use roster_core::settings::{FieldKind, LookAlike, MappingError, Settings};
use roster_source::{Diagnostic, FetchRequest, ProgressFn, Snapshot, Source, SourceError};
use roster_store::jobs::JobId;
use roster_store::{
    AccountId, Changeset, EntryRecord, Fence, FieldChange, ImportId, ImportKind, ImportStatus,
    Integration, IntegrationId, IntegrationState, IntegrationUpdate, NewIntegration, Notification,
    Store, StoreError, SyncLockInfo,
};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::crypto::{Cipher, CryptoError};
use crate::lock::SyncLock;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cause is in the message and deliberately not a `source()`: a chain printer
    /// (`anyhow`'s `{:#}`) would repeat it.
    #[error("fetch failed, nothing was changed: {0}")]
    Source(SourceError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("integration {0} needs finalising: run and apply a manual sync first")]
    NeedsFinalise(IntegrationId),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl From<SourceError> for EngineError {
    fn from(e: SourceError) -> Self {
        Self::Source(e)
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Self::Reviewed => "reviewed",
            Self::Applied => "applied",
            Self::PartiallyApplied => "partially_applied",
            Self::Blocked => "blocked",
            Self::NeedsConfirmation => "needs_confirmation",
        }
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
}

/// The directory as a plan leaves it, with the settings its export follows
/// ([`Engine::directory_after`]).
#[derive(Debug, Clone)]
pub struct DirectoryAfter {
    pub employees: Vec<Employee>,
    pub settings: Settings,
}

/// The engine of one account.
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cipher: Cipher,
    account: AccountId,
    lease: jiff::SignedDuration,
}

pub use crate::lock::LEASE;

fn field_changes(e: &Entry) -> Vec<FieldChange> {
    e.changes
        .iter()
        .map(|c| FieldChange {
            field: c.field.clone(),
            old: c.old.clone(),
            new: c.new.clone(),
            rule: c.rule,
        })
        .collect()
}

fn entry_record(e: &Entry, applied: bool, held: bool) -> EntryRecord {
    EntryRecord {
        action: e.action.as_str().to_string(),
        key: e.key,
        employee_id: e.employee_id.clone(),
        changes: field_changes(e),
        after: e.after.clone(),
        applied,
        held,
        privacy: e.privacy,
    }
}

fn invalid(e: edits::EditError) -> EngineError {
    EngineError::Invalid(e.to_string())
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

impl Engine {
    /// The engine for the account named `account` (created if missing).
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        account: &str,
    ) -> Result<Self> {
        let account = store.ensure_account(account).await?;
        Ok(Self {
            store,
            clock,
            cipher,
            account,
            lease: LEASE,
        })
    }

    /// The engine of an existing account, by id (a server serving many accounts; the
    /// store checks the account on every call).
    pub fn for_account(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        account: AccountId,
    ) -> Self {
        Self {
            store,
            clock,
            cipher,
            account,
            lease: LEASE,
        }
    }

    /// Another sync-lock lease than [`LEASE`] (tests, operators).
    pub fn with_lease(mut self, lease: jiff::SignedDuration) -> Self {
        self.lease = lease;
        self
    }

    /// The sync lock's lease.
    pub fn lease(&self) -> jiff::SignedDuration {
        self.lease
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn account(&self) -> AccountId {
        self.account
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// Today for this account (the time zone of the first integration's settings).
    pub async fn today(&self) -> Result<Date> {
        let tz = match self.store.integrations(self.account).await?.first() {
            Some(i) => i.settings.timezone.clone(),
            None => "UTC".into(),
        };
        Ok(self.clock.today(&tz))
    }

    // ---- integrations -------------------------------------------------------

    /// Store a new integration; credentials are encrypted here.
    pub async fn connect(
        &self,
        kind: &str,
        name: &str,
        config: serde_json::Value,
        credentials: Option<&[u8]>,
    ) -> Result<Integration> {
        let integration = self
            .store
            .create_integration(NewIntegration {
                account_id: self.account,
                kind: kind.to_string(),
                name: name.to_string(),
                config,
                credentials: credentials.map(|c| self.cipher.encrypt(c)),
                settings: Settings::default(),
            })
            .await?;
        tracing::info!(integration = integration.id, kind, "integration connected");
        Ok(integration)
    }

    /// An integration by id, or the only/first one when `id` is `None`.
    pub async fn integration(&self, id: Option<IntegrationId>) -> Result<Integration> {
        match id {
            Some(id) => self
                .store
                .integration(self.account, id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("no integration {id}"))),
            None => self
                .store
                .integrations(self.account)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::NotFound(
                        "no integration yet: run `roster connect justworks` first".into(),
                    )
                }),
        }
    }

    pub async fn integrations(&self) -> Result<Vec<Integration>> {
        Ok(self.store.integrations(self.account).await?)
    }

    /// The decrypted credentials of an integration.
    pub fn credentials(&self, integration: &Integration) -> Result<Option<Vec<u8>>> {
        Ok(integration
            .credentials
            .as_deref()
            .map(|c| self.cipher.decrypt(c))
            .transpose()?)
    }

    /// Replace an integration's credentials (e.g. refreshed tokens), encrypted.
    pub async fn save_credentials(&self, id: IntegrationId, plaintext: &[u8]) -> Result<()> {
        let mut i = self.integration(Some(id)).await?;
        i.credentials = Some(self.cipher.encrypt(plaintext));
        self.store.save_integration(&i).await?;
        Ok(())
    }

    /// Change settings through a validated closure; nothing is saved on error.
    pub async fn update_settings(
        &self,
        id: IntegrationId,
        f: impl FnOnce(&mut Settings) -> std::result::Result<(), String>,
    ) -> Result<Settings> {
        let mut i = self.integration(Some(id)).await?;
        let mut s = i.settings.clone();
        f(&mut s).map_err(EngineError::Invalid)?;
        i.settings = s.clone();
        self.store.save_integration(&i).await?;
        Ok(s)
    }

    /// Map a source field to a demographic (`Settings::map_field`: a known field, a
    /// name, replacing the field's mapping) and save. The settings as saved, and the
    /// look-alike warning if the name looks like another mapped one.
    pub async fn set_mapping(
        &self,
        id: IntegrationId,
        source_key: &str,
        demographic: &str,
        kind: FieldKind,
    ) -> Result<(Settings, Option<LookAlike>)> {
        let mut i = self.integration(Some(id)).await?;
        let warning = i
            .settings
            .map_field(source_key, demographic, kind, &i.source_fields)?;
        self.store.save_integration(&i).await?;
        Ok((i.settings, warning))
    }

    /// Remove a source field's mapping and save; the settings as saved.
    pub async fn unset_mapping(&self, id: IntegrationId, source_key: &str) -> Result<Settings> {
        let mut i = self.integration(Some(id)).await?;
        i.settings.unmap_field(source_key)?;
        self.store.save_integration(&i).await?;
        Ok(i.settings)
    }

    pub async fn delete_integration(&self, id: IntegrationId) -> Result<bool> {
        Ok(self.store.delete_integration(self.account, id).await?)
    }

    // ---- setup and sync -----------------------------------------------------

    /// Read the company, custom-field definitions, member count and a sample value
    /// per source field. Imports no employee data; the state becomes `needs_finalise`.
    pub async fn setup_sync(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        progress: Option<ProgressFn>,
    ) -> Result<SetupReport> {
        let mut integration = self.integration(Some(id)).await?;
        let company = source.company().await?;
        let snapshot = source
            .fetch(FetchRequest {
                updated_since: None,
                custom_fields: true,
                progress,
            })
            .await?;
        let mut fields = sample_fields(&snapshot, &company.custom_fields);
        fields.sort_by(|a, b| a.key.cmp(&b.key));
        integration.company_name = Some(company.name.clone());
        integration.member_count = Some(snapshot.members.len() as i64);
        integration.source_fields = fields.clone();
        if integration.state == IntegrationState::Connected {
            integration.state = IntegrationState::NeedsFinalise;
        }
        self.store.save_integration(&integration).await?;
        tracing::info!(
            integration = id,
            members = snapshot.members.len(),
            "setup sync done"
        );
        Ok(SetupReport {
            company_name: company.name,
            member_count: snapshot.members.len(),
            source_fields: fields,
            diagnostics: snapshot.diagnostics,
        })
    }

    /// Fetch, plan, guard and (with `apply`) apply and record one sync.
    pub async fn sync(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        opts: SyncOptions,
    ) -> Result<SyncOutcome> {
        let integration = self.integration(Some(id)).await?;
        let trigger = opts.trigger.unwrap_or(Trigger::Manual);
        if trigger == Trigger::Automatic && integration.state != IntegrationState::Active {
            return Err(EngineError::NeedsFinalise(id));
        }
        // Applying runs under the integration's sync lock (renewed meanwhile), and
        // its writes are fenced by it: if the lock is taken over while this sync
        // runs (a stalled process), nothing of it is applied.
        let lock = if opts.apply {
            Some(SyncLock::acquire(&self.store, self.account, id, self.lease).await?)
        } else {
            None
        };
        let fence = lock.as_ref().map(|l| l.fence(opts.job.clone()));
        let result = self
            .sync_locked(&integration, source, &opts, trigger, fence.as_ref())
            .await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result
    }

    async fn sync_locked(
        &self,
        integration: &Integration,
        source: &dyn Source,
        opts: &SyncOptions,
        trigger: Trigger,
        fence: Option<&Fence>,
    ) -> Result<SyncOutcome> {
        let id = integration.id;
        let settings = &integration.settings;
        let started_at = self.clock.now();
        // The incremental marker is compared with the source's clock, so it is real
        // time (not the injected clock), less an overlap for clock skew: members read
        // twice plan to no change.
        let fetch_marker = Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_mins(5))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let incremental = opts.incremental && integration.last_fetch_at.is_some();
        // The directory is read while the source is fetched (a remote API mostly waits).
        let fetch = async {
            let t = Instant::now();
            let r = source
                .fetch(FetchRequest {
                    updated_since: if incremental {
                        integration.last_fetch_at
                    } else {
                        None
                    },
                    custom_fields: opts.custom_fields,
                    progress: opts.progress.clone(),
                })
                .await;
            (r, ms(t.elapsed()))
        };
        let load = async {
            let t = Instant::now();
            let r = if incremental {
                self.store.directory_outline(self.account).await
            } else {
                self.store.directory(self.account).await
            };
            (r, ms(t.elapsed()))
        };
        let ((fetched, fetch_ms), (directory, mut load_ms)) = tokio::join!(fetch, load);
        let snapshot: Snapshot = match fetched {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(integration = id, error = %e, "sync fetch failed");
                if opts.apply {
                    self.record_failure(integration, trigger, started_at, &e.to_string(), fence)
                        .await?;
                }
                return Err(e.into());
            }
        };
        let members_fetched = snapshot.members.len();
        let (bytes_read, requests, diagnostics) = (
            snapshot.bytes_read,
            snapshot.requests,
            snapshot.diagnostics.clone(),
        );

        // A full sync plans over the whole directory. An incremental one reads few
        // members: it plans over the directory's outline with full rows only where
        // the plan needs them (the same plan; see `plan::rows_to_load`).
        let t = Instant::now();
        let mut directory = directory?;
        let mut loaded = vec![!incremental; directory.len()];
        if incremental {
            let rows = plan::rows_to_load(&directory, &snapshot.members, settings);
            self.load_rows(&mut directory, &mut loaded, &rows).await?;
        }
        load_ms += ms(t.elapsed());
        let today = self.clock.today(&settings.timezone);
        let t = Instant::now();
        let options = PlanOptions {
            complete: snapshot.complete && !incremental,
            deactivate_missing: opts.deactivate_missing,
            only_fields: None,
        };
        if let Some(f) = &opts.on_step {
            f(SyncStep::Planning {
                members: snapshot.members.len(),
            });
        }
        let mut members = snapshot.members;
        let mut reload_ms = 0;
        let plan = loop {
            let input = if incremental {
                members.clone()
            } else {
                std::mem::take(&mut members)
            };
            let p = plan::plan(
                &directory,
                input,
                &snapshot.rejected,
                settings,
                today,
                &options,
            );
            let missing = plan::rows_missing(&p, &directory, &loaded);
            if missing.is_empty() {
                break p;
            }
            let t = Instant::now();
            self.load_rows(&mut directory, &mut loaded, &missing)
                .await?;
            reload_ms += ms(t.elapsed());
        };
        drop((directory, members));
        let plan_ms = ms(t.elapsed()).saturating_sub(reload_ms);
        load_ms += reload_ms;
        let decision = decide(&plan, trigger, settings, opts.confirm);
        tracing::info!(
            integration = id,
            created = plan.counts.created,
            updated = plan.counts.updated,
            deactivated = plan.counts.deactivated,
            reactivated = plan.counts.reactivated,
            skipped = plan.counts.skipped,
            privacy = plan.counts.privacy,
            "sync planned"
        );

        let mut outcome = SyncOutcome {
            integration_id: id,
            import_id: None,
            status: SyncStatus::Reviewed,
            plan,
            decision: decision.clone(),
            applied: Vec::new(),
            held: Vec::new(),
            diagnostics,
            members_fetched,
            bytes_read,
            requests,
            timings: Timings {
                fetch_ms,
                load_ms,
                plan_ms,
                apply_ms: 0,
            },
        };
        if let Decision::Apply { held, .. } = &decision {
            outcome.held = held.clone();
        }
        if !opts.apply {
            if matches!(decision, Decision::Blocked { .. }) {
                outcome.status = SyncStatus::Blocked;
            } else if decision == Decision::NeedsConfirmation {
                outcome.status = SyncStatus::NeedsConfirmation;
            }
            return Ok(outcome);
        }

        if let Some(f) = &opts.on_step {
            f(SyncStep::Applying {
                entries: outcome.plan.entries.len(),
            });
        }
        let t = Instant::now();
        let details = |extra: serde_json::Value| {
            serde_json::json!({
                "issues": outcome.plan.issues,
                "mass_change": outcome.plan.mass_change,
                "diagnostics": outcome.diagnostics,
                "complete": outcome.plan.complete,
                "incremental": incremental,
                "today": today,
                "members_fetched": members_fetched,
                "extra": extra,
            })
        };
        let (status, entries, notifications, applied, held) = match &decision {
            Decision::Blocked { reasons } => {
                let why: Vec<&str> = reasons
                    .iter()
                    .map(|r| match r {
                        BlockReason::Privacy => "privacy",
                        BlockReason::MassChange => "mass_change",
                    })
                    .collect();
                let entries = outcome
                    .plan
                    .entries
                    .iter()
                    .map(|e| entry_record(e, false, e.privacy))
                    .collect();
                let note = Notification {
                    event: "sync.blocked".into(),
                    payload: serde_json::json!({
                        "integration_id": id,
                        "reasons": why,
                        "privacy_employees": outcome.plan.counts.privacy,
                        "mass_change": outcome.plan.mass_change.describe(),
                        "counts": outcome.plan.counts,
                    }),
                };
                outcome.status = SyncStatus::Blocked;
                (
                    ImportStatus::Blocked,
                    entries,
                    vec![note],
                    Vec::new(),
                    Vec::new(),
                )
            }
            Decision::NeedsConfirmation => {
                let entries = outcome
                    .plan
                    .entries
                    .iter()
                    .map(|e| entry_record(e, false, false))
                    .collect();
                outcome.status = SyncStatus::NeedsConfirmation;
                let note = Notification {
                    event: "sync.blocked".into(),
                    payload: serde_json::json!({
                        "integration_id": id,
                        "reasons": ["mass_change"],
                        "mass_change": outcome.plan.mass_change.describe(),
                        "counts": outcome.plan.counts,
                    }),
                };
                (
                    ImportStatus::Blocked,
                    entries,
                    vec![note],
                    Vec::new(),
                    Vec::new(),
                )
            }
            Decision::Apply { apply, held } => {
                let held_set: std::collections::HashSet<usize> = held.iter().copied().collect();
                let entries = outcome
                    .plan
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| entry_record(e, !held_set.contains(&i), held_set.contains(&i)))
                    .collect();
                let mut notes = vec![Notification {
                    event: "sync.applied".into(),
                    payload: serde_json::json!({ "integration_id": id, "counts": outcome.plan.counts, "held": held.len() }),
                }];
                if !held.is_empty() {
                    notes.push(Notification {
                        event: "sync.held".into(),
                        payload: serde_json::json!({ "integration_id": id, "held": held.len() }),
                    });
                }
                let (status, s) = if held.is_empty() {
                    (ImportStatus::Applied, SyncStatus::Applied)
                } else {
                    (ImportStatus::PartiallyApplied, SyncStatus::PartiallyApplied)
                };
                outcome.status = s;
                (status, entries, notes, apply.clone(), held.clone())
            }
        };
        let applied_any = matches!(
            status,
            ImportStatus::Applied | ImportStatus::PartiallyApplied
        );
        let integration_update = applied_any.then(|| IntegrationUpdate {
            state: (trigger == Trigger::Manual && integration.state != IntegrationState::Active)
                .then_some(IntegrationState::Active),
            last_fetch_at: Some(fetch_marker),
            last_sync_at: Some(self.clock.now()),
        });
        let changeset = Changeset {
            integration_id: Some(id),
            kind: ImportKind::Sync,
            trigger: trigger.as_str().to_string(),
            status,
            started_at,
            finished_at: self.clock.now(),
            counts: outcome.plan.counts.clone(),
            details: details(serde_json::json!({ "held": held })),
            entries,
            notifications,
            rolls_back: None,
            integration_update,
        };
        outcome.import_id = Some(self.write(changeset, fence).await?);
        outcome.applied = applied;
        outcome.timings.apply_ms = ms(t.elapsed());
        tracing::info!(
            integration = id,
            import = outcome.import_id,
            status = status.as_str(),
            "sync recorded"
        );
        Ok(outcome)
    }

    /// Replace outline rows of `directory` (in key order) by the full rows.
    async fn load_rows(
        &self,
        directory: &mut [Employee],
        loaded: &mut [bool],
        rows: &[usize],
    ) -> Result<()> {
        let keys: Vec<EmployeeKey> = rows.iter().map(|&i| directory[i].key).collect();
        for e in self.store.employees_by_key(self.account, &keys).await? {
            if let Ok(i) = directory.binary_search_by_key(&e.key, |d| d.key) {
                directory[i] = e;
            }
        }
        // Marked even if a row has gone meanwhile, so that planning settles.
        for &i in rows {
            loaded[i] = true;
        }
        Ok(())
    }

    /// Record a reviewed sync the admin declined: a `discarded` import with its plan,
    /// nothing applied (DESIGN §7: a discarded sync is still an import).
    pub async fn discard(&self, review: &SyncOutcome, trigger: Trigger) -> Result<ImportId> {
        let now = self.clock.now();
        let changeset = Changeset {
            integration_id: Some(review.integration_id),
            kind: ImportKind::Sync,
            trigger: trigger.as_str().to_string(),
            status: ImportStatus::Discarded,
            started_at: now,
            finished_at: now,
            counts: review.plan.counts.clone(),
            details: serde_json::json!({
                "issues": review.plan.issues,
                "mass_change": review.plan.mass_change,
                "diagnostics": review.diagnostics,
                "members_fetched": review.members_fetched,
            }),
            entries: review
                .plan
                .entries
                .iter()
                .map(|e| entry_record(e, false, false))
                .collect(),
            notifications: Vec::new(),
            rolls_back: None,
            integration_update: None,
        };
        Ok(self.store.write(self.account, changeset).await?)
    }

    /// Who holds the sync lock of an integration, if anyone.
    pub async fn sync_lock(&self, id: IntegrationId) -> Result<Option<SyncLockInfo>> {
        self.integration(Some(id)).await?;
        Ok(self.store.sync_lock(self.account, id).await?)
    }

    /// Release the sync lock of an integration as it was read (`lock`), whatever its
    /// lease, and record that in the history (an `unlock` import). For a holder that
    /// is gone on another host; its writes are fenced off from then on. `None`: the
    /// lock changed hands or was released meanwhile, and nothing was done.
    pub async fn unlock(&self, id: IntegrationId, lock: &SyncLockInfo) -> Result<Option<ImportId>> {
        if !self
            .store
            .break_sync_lock(self.account, id, &lock.holder, lock.generation)
            .await?
        {
            return Ok(None);
        }
        tracing::warn!(integration = id, holder = %lock.holder, "sync lock released by an operator");
        let now = self.clock.now();
        let holder = crate::lock::Holder::parse(&lock.holder);
        let changeset = Changeset {
            integration_id: Some(id),
            kind: ImportKind::Unlock,
            trigger: Trigger::Manual.as_str().to_string(),
            status: ImportStatus::Applied,
            started_at: now,
            finished_at: now,
            counts: Default::default(),
            details: serde_json::json!({
                "released_lock": {
                    "holder": lock.holder,
                    "host": holder.as_ref().map(|h| h.host.clone()),
                    "pid": holder.as_ref().map(|h| h.pid),
                    "generation": lock.generation,
                    "lease_until": lock.until,
                    "lease_expired": lock.until < Timestamp::now(),
                }
            }),
            entries: Vec::new(),
            notifications: Vec::new(),
            rolls_back: None,
            integration_update: None,
        };
        Ok(Some(self.write(changeset, None).await?))
    }

    /// Write a changeset, fenced by the run's sync lock when it has one.
    pub(crate) async fn write(
        &self,
        changeset: Changeset,
        fence: Option<&Fence>,
    ) -> Result<ImportId> {
        Ok(match fence {
            Some(f) => self.store.write_fenced(self.account, changeset, f).await?,
            None => self.store.write(self.account, changeset).await?,
        })
    }

    pub(crate) async fn record_failure(
        &self,
        integration: &Integration,
        trigger: Trigger,
        started_at: Timestamp,
        message: &str,
        fence: Option<&Fence>,
    ) -> Result<ImportId> {
        let changeset = Changeset {
            integration_id: Some(integration.id),
            kind: ImportKind::Sync,
            trigger: trigger.as_str().to_string(),
            status: ImportStatus::Failed,
            started_at,
            finished_at: self.clock.now(),
            counts: Default::default(),
            details: serde_json::json!({ "error": message }),
            entries: Vec::new(),
            notifications: vec![Notification {
                event: "sync.failed".into(),
                payload: serde_json::json!({ "integration_id": integration.id, "error": message }),
            }],
            rolls_back: None,
            integration_update: None,
        };
        self.write(changeset, fence).await
    }

    // ---- admin changes ------------------------------------------------------

    async fn record_edits(
        &self,
        kind: ImportKind,
        plan: Plan,
        details: serde_json::Value,
        rolls_back: Option<ImportId>,
    ) -> Result<Option<ImportId>> {
        if plan.entries.is_empty() && rolls_back.is_none() {
            return Ok(None);
        }
        let now = self.clock.now();
        let changeset = Changeset {
            integration_id: None,
            kind,
            trigger: "manual".into(),
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
            notifications: vec![Notification {
                event: format!("{}.applied", kind.as_str()),
                payload: serde_json::json!({ "counts": plan.counts }),
            }],
            rolls_back,
            integration_update: None,
        };
        Ok(Some(self.store.write(self.account, changeset).await?))
    }

    /// An employee by employee ID or email.
    pub async fn find(&self, who: &str) -> Result<Employee> {
        self.store
            .find_employee(self.account, who)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no employee with ID or email {who:?}")))
    }

    /// Record admin edits. With `repoint = Some((old, new))`, employees whose manager
    /// email is `old` follow to `new` in the same import.
    async fn edit(
        &self,
        kind: ImportKind,
        rule: Rule,
        mut changed: Vec<Employee>,
        repoint: Option<(&str, &str)>,
        details: serde_json::Value,
    ) -> Result<ChangeOutcome> {
        let directory = self.store.directory(self.account).await?;
        if let Some((old, new)) = repoint {
            let reports = edits::reports_following(&directory, &changed, old, new);
            changed.extend(reports);
        }
        let today = self.today().await?;
        let plan = plan::edits(&directory, changed, rule, today);
        let import_id = self.record_edits(kind, plan.clone(), details, None).await?;
        Ok(ChangeOutcome {
            import_id,
            plan,
            conflicts: Vec::new(),
        })
    }

    /// An admin sets an employee's email. With `override_emails` off, syncs keep it.
    pub async fn set_email(&self, who: &str, email: &str) -> Result<ChangeOutcome> {
        let email = edits::checked_email(email).map_err(invalid)?;
        let e = self.find(who).await?;
        if let Some(other) = self.store.find_employee(self.account, email).await?
            && other.key != e.key
        {
            return Err(EngineError::Invalid(format!(
                "that email already belongs to employee {}",
                other.employee_id
            )));
        }
        let edited = edits::set_email(&e, email).map_err(invalid)?;
        // Reports follow their manager's new address.
        self.edit(
            ImportKind::AdminEdit,
            Rule::AdminEdit,
            vec![edited],
            Some((&e.email, email)),
            serde_json::json!({ "action": "set_email" }),
        )
        .await
    }

    /// Exclude: deactivated now and in every later sync until included again.
    pub async fn exclude(&self, who: &str) -> Result<ChangeOutcome> {
        let e = self.find(who).await?;
        self.edit(
            ImportKind::AdminEdit,
            Rule::Exclusion,
            vec![edits::exclude(&e)],
            None,
            serde_json::json!({ "action": "exclude" }),
        )
        .await
    }

    /// Include again: active unless the end date has passed.
    pub async fn include(&self, who: &str) -> Result<ChangeOutcome> {
        let e = self.find(who).await?;
        let today = self.today().await?;
        self.edit(
            ImportKind::AdminEdit,
            Rule::Exclusion,
            vec![edits::include(&e, today)],
            None,
            serde_json::json!({ "action": "include" }),
        )
        .await
    }

    /// Merge a duplicate into the original: the original takes the duplicate's
    /// identifiers (the ones the source now uses) and the duplicate is deactivated,
    /// in one audited step (`core::edits::merge`).
    pub async fn merge(&self, duplicate: &str, into: &str) -> Result<ChangeOutcome> {
        let dup = self.find(duplicate).await?;
        let orig = self.find(into).await?;
        let merged = edits::merge(&dup, &orig).map_err(invalid)?;
        // Reports of the duplicate now report to the original (same email, so nothing
        // changes for them unless the original's email differs).
        self.edit(
            ImportKind::Merge,
            Rule::Merge,
            merged.into_vec(),
            Some((&orig.email, &dup.email)),
            serde_json::json!({ "action": "merge", "duplicate": dup.key, "into": orig.key }),
        )
        .await
    }

    /// Apply what has come due today: future end dates.
    pub async fn tick(&self) -> Result<ChangeOutcome> {
        let directory = self.store.directory(self.account).await?;
        let today = self.today().await?;
        let plan = plan::tick(&directory, today);
        let import_id = self
            .record_edits(
                ImportKind::Tick,
                plan.clone(),
                serde_json::json!({ "today": today }),
                None,
            )
            .await?;
        Ok(ChangeOutcome {
            import_id,
            plan,
            conflicts: Vec::new(),
        })
    }

    /// Roll back an applied import: employees it touched return to their prior values,
    /// unless changed since (reported per employee).
    pub async fn rollback(&self, import_id: ImportId) -> Result<ChangeOutcome> {
        let record = self
            .store
            .import(self.account, import_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no import {import_id}")))?;
        match record.summary.status {
            ImportStatus::Applied | ImportStatus::PartiallyApplied => {}
            s => {
                return Err(EngineError::Invalid(format!(
                    "import {import_id} is {}: only applied imports can be rolled back",
                    s.as_str()
                )));
            }
        }
        let changes = self.store.import_changes(self.account, import_id).await?;
        let directory = self.store.directory(self.account).await?;
        let rb = plan_rollback(&changes, &directory);
        let today = self.today().await?;
        let restored: Vec<Employee> = rb.restore.iter().map(|(e, _)| e.clone()).collect();
        let mut plan = plan::edits(&directory, restored, Rule::Rollback, today);
        for e in &mut plan.entries {
            e.action = roster_core::plan::Action::Update;
        }
        let details = serde_json::json!({ "rolls_back": import_id, "conflicts": rb.conflicts });
        let id = self
            .record_edits(ImportKind::Rollback, plan.clone(), details, Some(import_id))
            .await?;
        Ok(ChangeOutcome {
            import_id: id,
            plan,
            conflicts: rb.conflicts,
        })
    }

    /// Deactivations due within `days` days (those due today or earlier that `tick`
    /// has not applied yet included) and starts from today on (`core::calendar`).
    pub async fn upcoming(&self, days: i64) -> Result<Vec<Upcoming>> {
        let today = self.today().await?;
        let directory = self.store.directory(self.account).await?;
        Ok(calendar::upcoming(&directory, today, days))
    }

    /// Work anniversaries (following the first integration's `hire_date_priority`)
    /// and birthdays (only where no integration hides the date of birth) within
    /// `days` days (`core::calendar`).
    pub async fn milestones(&self, days: i64) -> Result<Vec<Milestone>> {
        let integrations = self.integrations().await?;
        let settings: Vec<&Settings> = integrations.iter().map(|i| &i.settings).collect();
        let priority = settings
            .first()
            .map(|s| s.hire_date_priority)
            .unwrap_or_default();
        let today = self.today().await?;
        let directory = self.store.directory(self.account).await?;
        Ok(calendar::milestones(
            &directory,
            priority,
            calendar::dob_shared(&settings),
            today,
            days,
        ))
    }

    /// The user file preview's data: the directory as `plan` leaves it (every planned
    /// change applied; with `applied`, the plan is in the directory already and the
    /// directory is read as it is), and the settings of the run's `integration` the
    /// export follows.
    pub async fn directory_after(
        &self,
        integration: IntegrationId,
        plan: &Plan,
        applied: bool,
    ) -> Result<DirectoryAfter> {
        let settings = self.integration(Some(integration)).await?.settings;
        let directory = self.store.directory(self.account).await?;
        let employees = if applied {
            directory
        } else {
            let entries: Vec<&Entry> = plan.entries.iter().collect();
            plan::apply(&directory, &entries)
        };
        Ok(DirectoryAfter {
            employees,
            settings,
        })
    }

    /// Keys of employees, for callers that only hold IDs.
    pub async fn employee(&self, key: EmployeeKey) -> Result<Option<Employee>> {
        Ok(self.store.employee(self.account, key).await?)
    }
}

/// Each source field with its first populated value (core fields included).
fn sample_fields(snapshot: &Snapshot, custom: &[SourceField]) -> Vec<SourceField> {
    use std::collections::BTreeMap;
    let mut samples: BTreeMap<String, Option<String>> = BTreeMap::new();
    type Getter = fn(&roster_core::SourceMember) -> Option<String>;
    let core: [(&str, Getter); 9] = [
        ("id", |m| Some(m.source_id.clone())),
        ("given_name", |m| m.given_name.clone()),
        ("family_name", |m| m.family_name.clone()),
        ("preferred_name", |m| m.preferred_name.clone()),
        ("work_email", |m| m.work_email.clone()),
        ("personal_email", |m| m.personal_email.clone()),
        ("phone", |m| m.phone.clone()),
        ("start_date", |m| m.start_date.clone()),
        ("end_date", |m| m.end_date.clone()),
    ];
    for (k, _) in &core {
        samples.insert(k.to_string(), None);
    }
    for c in custom {
        samples.insert(c.key.clone(), None);
    }
    for m in &snapshot.members {
        for (k, get) in &core {
            let slot = samples.get_mut(*k).expect("inserted above");
            if slot.is_none() {
                *slot = get(m).filter(|v| !v.is_empty());
            }
        }
        for (k, v) in &m.fields {
            let slot = samples.entry(k.clone()).or_insert(None);
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v.clone());
            }
        }
        if samples.values().all(Option::is_some) {
            break;
        }
    }
    samples
        .into_iter()
        .map(|(key, sample)| {
            let label = custom
                .iter()
                .find(|c| c.key == key)
                .map(|c| c.label.clone())
                .unwrap_or_else(|| key.clone());
            // Date of birth is never shown as a sample.
            SourceField { key, label, sample }
        })
        .collect()
}
