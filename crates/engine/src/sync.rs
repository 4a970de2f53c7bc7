//! A sync: fetch the source while the directory loads, plan (incrementally when
//! asked: [`Engine::plan_incremental`]), guard, and with `apply` record and apply it
//! under the integration's sync lock (the setup sync is `setup`'s). What is
//! recorded is `record`'s; CSV imports (`import`) share the lock and the recording
//! step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::guard::{Trigger, decide};
use roster_core::issue::IssueCode;
use roster_core::member::{RejectedMember, SourceMember};
use roster_core::plan::{self, Plan, PlanOptions};
use roster_core::settings::Settings;
use roster_source::{FetchRequest, KnownMembers, Snapshot, Source, SourceError};
use roster_store::{
    Fence, ImportId, ImportStatus, Integration, IntegrationId, IntegrationState, StoreError,
};

use crate::engine::{Engine, EngineError, Result};
use crate::lock::SyncLock;
use crate::outcome::{StepFn, SyncOptions, SyncOutcome, SyncStep, Timings};
use crate::record::{self, Discard, Run, RunKind};

pub(crate) fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// How a sync plans.
#[derive(Clone, Copy)]
struct PlanWith<'a> {
    settings: &'a Settings,
    today: Date,
    options: &'a PlanOptions,
    /// Over the directory's outline (see [`Engine::plan_incremental`]).
    incremental: bool,
    on_step: Option<&'a StepFn>,
}

/// A plan and what making it cost.
struct Planned {
    plan: Plan,
    load_ms: u128,
    plan_ms: u128,
}

impl Engine {
    /// Fetch, plan, guard and (with `apply`) apply and record one sync.
    pub async fn sync(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        opts: SyncOptions,
    ) -> Result<SyncOutcome> {
        self.sync_shown(id, source, opts, None).await
    }

    /// [`Engine::sync`] for a review that shows at most `shown` entries: an applied
    /// outcome keeps only those of its plan, and the write takes the others by move
    /// ([`SyncOutcome::omitted`] counts them; counts, issues and guards stay whole).
    /// A first import holds its new employees once instead of twice.
    pub async fn sync_showing(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        opts: SyncOptions,
        shown: usize,
    ) -> Result<SyncOutcome> {
        self.sync_shown(id, source, opts, Some(shown)).await
    }

    async fn sync_shown(
        &self,
        id: IntegrationId,
        source: &dyn Source,
        opts: SyncOptions,
        keep: Option<usize>,
    ) -> Result<SyncOutcome> {
        let integration = self.integration(Some(id)).await?;
        let trigger = opts.trigger.unwrap_or(Trigger::Manual);
        if trigger == Trigger::Automatic && integration.state != IntegrationState::Active {
            return Err(EngineError::NeedsFinalise(id));
        }
        // Applying runs under the integration's sync lock (renewed meanwhile), and
        // its writes are fenced by it: if the lock is taken over while this sync
        // runs (a stalled process), nothing of it is applied.
        let lock = self.lock_to_apply(id, opts.apply).await?;
        let fence = lock.as_ref().map(|l| l.fence(opts.job.clone()));
        let result = self
            .sync_locked(&integration, source, &opts, trigger, keep, fence.as_ref())
            .await;
        release(lock).await;
        result
    }

    /// The integration's sync lock when a run applies (acquired, renewed while held).
    pub(crate) async fn lock_to_apply(
        &self,
        id: IntegrationId,
        apply: bool,
    ) -> Result<Option<SyncLock>> {
        Ok(match apply {
            true => Some(SyncLock::acquire(&self.store, self.account, id, self.lease()).await?),
            false => None,
        })
    }

    async fn sync_locked(
        &self,
        integration: &Integration,
        source: &dyn Source,
        opts: &SyncOptions,
        trigger: Trigger,
        keep: Option<usize>,
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
        let (fetched, directory, fetch_ms, load_ms) = self
            .fetch_and_load(integration, source, opts, incremental)
            .await;
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
        let (members_fetched, bytes_read, requests) = (
            snapshot.members.len(),
            snapshot.bytes_read,
            snapshot.requests,
        );
        let today = self.clock.today(&settings.timezone);
        let complete = snapshot.complete && !incremental;
        let Snapshot {
            members,
            rejected,
            diagnostics,
            ..
        } = snapshot;
        // A full sync has the directory: members it holds by source id are no
        // erased person (whose record has none), and need no digest.
        let loaded = match (&directory, incremental) {
            (Ok(d), false) => Some(d.as_slice()),
            _ => None,
        };
        let returning = self.returning(&members, loaded).await?;
        let options = PlanOptions {
            complete,
            deactivate_missing: opts.deactivate_missing,
            only_fields: None,
            returning,
        };
        // A re-hire after an erasure is planned over the whole directory (rare): the
        // anonymous record has no source id for an incremental look-up to find.
        let (incremental_plan, directory) = match (incremental, options.returning.is_empty()) {
            (true, false) => (false, Ok(self.store.directory(self.account).await?)),
            _ => (incremental, directory),
        };
        let how = PlanWith {
            settings,
            today,
            options: &options,
            incremental: incremental_plan,
            on_step: opts.on_step.as_ref(),
        };
        let planned = self
            .plan_incremental(directory?, members, &rejected, &how)
            .await?;
        let decision = decide(&planned.plan, trigger, settings, opts.confirm);
        log_planned(id, &planned.plan);
        let timings = Timings {
            fetch_ms,
            load_ms: load_ms + planned.load_ms,
            plan_ms: planned.plan_ms,
            apply_ms: 0,
        };
        let mut outcome = SyncOutcome {
            members_fetched,
            bytes_read,
            requests,
            ..SyncOutcome::review(id, planned.plan, decision, diagnostics, timings)
        };
        if !opts.apply {
            return Ok(outcome);
        }
        if let Some(f) = &opts.on_step {
            f(SyncStep::Applying {
                entries: outcome.plan.entries.len(),
            });
        }
        let diagnostics = outcome.diagnostics.clone();
        let run = Run {
            integration,
            trigger,
            started_at,
            finished_at: self.clock.now(),
            today,
            diagnostics: &diagnostics,
            kind: RunKind::Sync {
                incremental,
                members_fetched,
                fetch_marker,
            },
        };
        let status = self.apply_run(&mut outcome, &run, fence, keep).await?;
        tracing::info!(
            integration = id,
            import = outcome.import_id,
            status = status.as_str(),
            "sync recorded"
        );
        Ok(outcome)
    }

    /// Fetch the source while the directory loads (a remote API mostly waits): the
    /// snapshot, the directory (in outline for an incremental sync) and how long each
    /// took.
    async fn fetch_and_load(
        &self,
        integration: &Integration,
        source: &dyn Source,
        opts: &SyncOptions,
        incremental: bool,
    ) -> (
        std::result::Result<Snapshot, SourceError>,
        std::result::Result<Vec<Employee>, StoreError>,
        u128,
        u128,
    ) {
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
                    known: incremental.then(|| {
                        Arc::new(crate::known::KnownManagers {
                            store: self.store.clone(),
                            account: self.account,
                        }) as Arc<dyn KnownMembers>
                    }),
                    expected_members: integration
                        .member_count
                        .and_then(|n| usize::try_from(n).ok()),
                })
                .await;
            (r, ms(t.elapsed()))
        };
        // The directory loads on a task of its own, so that decoding its rows and
        // mapping the fetched members run on two cores. An incremental sync reads
        // its part of the directory once it knows the members (`plan_part`).
        let (store, account) = (self.store.clone(), self.account);
        let load = tokio::spawn(async move {
            let t = Instant::now();
            let r = if incremental {
                Ok(Vec::new())
            } else {
                store.directory(account).await
            };
            (r, ms(t.elapsed()))
        });
        let (fetched, fetch_ms) = fetch.await;
        let (directory, load_ms) = match load.await {
            Ok(loaded) => loaded,
            Err(e) => (
                Err(StoreError::Database(format!(
                    "loading the directory failed: {e}"
                ))),
                0,
            ),
        };
        (fetched, directory, fetch_ms, load_ms)
    }

    /// Plan the fetched members over the directory. A full sync plans once over the
    /// whole directory. An incremental one reads few members, so it plans over the
    /// part of the directory they need ([`Engine::plan_part`]); when that plan finds
    /// a manager cycle, over the directory's outline with full rows only where the
    /// plan needs them: the rows a member could match (`plan::rows_to_load`), then,
    /// while the plan still changes a row not loaded in full (a derived
    /// `is_manager`, `plan::rows_missing`), those rows, planning again. Each gives
    /// the plan the whole directory gives (property-tested).
    async fn plan_incremental(
        &self,
        mut directory: Vec<Employee>,
        mut members: Vec<SourceMember>,
        rejected: &[RejectedMember],
        how: &PlanWith<'_>,
    ) -> Result<Planned> {
        let PlanWith {
            settings,
            today,
            options,
            incremental,
            on_step,
        } = *how;
        let t = Instant::now();
        if incremental {
            if let Some(planned) = self.plan_part(&members, rejected, how).await? {
                return Ok(planned);
            }
            directory = self.store.directory_outline(self.account).await?;
        }
        let mut loaded = vec![!incremental; directory.len()];
        if incremental {
            let rows = plan::rows_to_load(&directory, &members, settings);
            self.load_rows(&mut directory, &mut loaded, &rows).await?;
        }
        let mut load_ms = ms(t.elapsed());
        let t = Instant::now();
        if let Some(f) = on_step {
            f(SyncStep::Planning {
                members: members.len(),
            });
        }
        let mut reload_ms = 0;
        let plan = loop {
            let input = if incremental {
                members.clone()
            } else {
                std::mem::take(&mut members)
            };
            let p = plan::plan(&directory, input, rejected, settings, today, options);
            let missing = plan::rows_missing(&p, &directory, &loaded);
            if missing.is_empty() {
                break p;
            }
            let t = Instant::now();
            self.load_rows(&mut directory, &mut loaded, &missing)
                .await?;
            reload_ms += ms(t.elapsed());
        };
        free_apart((directory, members));
        let plan_ms = ms(t.elapsed()).saturating_sub(reload_ms);
        load_ms += reload_ms;
        Ok(Planned {
            plan,
            load_ms,
            plan_ms,
        })
    }

    /// Plan an incremental sync over the part of the directory its members need,
    /// read by indexed look-ups round by round (`plan::Part`), with what planning
    /// needs of the other rows counted by the store (`plan::Rest`; the active
    /// reports only when a link or a status changes, `plan::Reports`). `None` when the
    /// plan finds a manager cycle: which link closes it depends on rows outside the
    /// part, so the caller plans over the whole directory.
    async fn plan_part(
        &self,
        members: &[SourceMember],
        rejected: &[RejectedMember],
        how: &PlanWith<'_>,
    ) -> Result<Option<Planned>> {
        let t = Instant::now();
        let (account, settings) = (self.account, how.settings);
        self.store.key_manager_emails(account).await?;
        // The rounds of look-ups, and beside them (on another pooled connection, so
        // on the other core) what the plan needs of the whole directory: its active
        // count and its demographic names (≈ 4 ms of a 100k incremental sync).
        let rounds = async {
            let mut part = plan::Part::new(members, settings);
            let mut lookups = part.first();
            let mut rounds = 0;
            while !lookups.is_empty() {
                let rows = self.store.employees_matching(account, &lookups).await?;
                lookups = part.add(rows);
                rounds += 1;
            }
            Ok::<_, EngineError>((part, rounds))
        };
        let whole = async {
            let active = self.store.count_employees(account, true).await? as usize;
            let names = self
                .store
                .demographic_names(account, plan::DEMOGRAPHIC_SAMPLE_ROWS)
                .await?;
            Ok::<_, EngineError>((active, names))
        };
        let ((part, rounds), (active, names)) = tokio::try_join!(rounds, whole)?;
        // The report counts are read with the chains (a link may change); otherwise
        // the plan first stands on the stored `is_manager` flags (`plan::Reports`).
        let chains = part.follows_reporting_lines();
        let counted = if chains {
            let keys = part.report_keys();
            Some(self.store.active_report_counts(account, &keys).await?)
        } else {
            None
        };
        let next_generated = if part.needs_generated_ids() {
            let prefix = &settings.generated_id_prefix;
            let ids = self.store.employee_ids_with_prefix(account, prefix).await?;
            plan::next_generated(ids.iter().map(String::as_str), prefix)
        } else {
            0
        };
        let reports = counted
            .as_deref()
            .map_or(plan::Reports::AsStored, plan::Reports::Counted);
        let mut rest = part.rest(active, reports, next_generated, names);
        let rows = part.into_rows();
        let load_ms = ms(t.elapsed());
        tracing::debug!(
            rows = rows.len(),
            rounds,
            chains,
            "sync: part of the directory read"
        );
        if let Some(f) = how.on_step {
            f(SyncStep::Planning {
                members: members.len(),
            });
        }
        let t = Instant::now();
        let plan_over = |rest: &plan::Rest| {
            plan::plan_part(
                &rows,
                rest,
                members.to_vec(),
                rejected,
                settings,
                how.today,
                how.options,
            )
        };
        let mut plan = plan_over(&rest);
        let mut count_ms = 0;
        if counted.is_none() && !plan::keeps_reports(&plan) {
            let c = Instant::now();
            let keys = plan::report_keys(&rows, members);
            let counts = self.store.active_report_counts(account, &keys).await?;
            count_ms = ms(c.elapsed());
            tracing::debug!("sync: a status or link changes; planning with the report counts");
            rest.managed = plan::managed(&rows, plan::Reports::Counted(&counts));
            plan = plan_over(&rest);
        }
        if plan
            .issues
            .iter()
            .any(|i| i.code == IssueCode::ManagerCycle)
        {
            tracing::info!("sync: a manager cycle; planning over the whole directory");
            return Ok(None);
        }
        Ok(Some(Planned {
            plan,
            load_ms: load_ms + count_ms,
            plan_ms: ms(t.elapsed()).saturating_sub(count_ms),
        }))
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

    /// Record and apply a planned run as its decision says (`record::record`), fenced
    /// by its sync lock; the outcome gets the import, status, applied entries and
    /// apply time. The import's status.
    ///
    /// `keep`: the outcome keeps only the first this many plan entries (for a review
    /// that shows no more), and the others are moved into the write instead of being
    /// copied ([`SyncOutcome::omitted`] counts them); `None` keeps the whole plan.
    pub(crate) async fn apply_run(
        &self,
        outcome: &mut SyncOutcome,
        run: &Run<'_>,
        fence: Option<&Fence>,
        keep: Option<usize>,
    ) -> Result<ImportStatus> {
        let t = Instant::now();
        let recorded = match keep {
            None => record::record(run, &outcome.plan, &outcome.decision),
            Some(n) => {
                let entries = std::mem::take(&mut outcome.plan.entries);
                outcome.plan.entries = entries.iter().take(n).cloned().collect();
                outcome.omitted = entries.len() - outcome.plan.entries.len();
                record::record_moved(run, &outcome.plan, entries, &outcome.decision)
            }
        };
        let status = recorded.changeset.status;
        outcome.import_id = Some(self.write(recorded.changeset, fence).await?);
        outcome.status = recorded.status;
        outcome.applied = recorded.applied;
        outcome.timings.apply_ms = ms(t.elapsed());
        Ok(status)
    }

    /// Record a sync that failed (`sync.failed`): nothing was applied.
    pub(crate) async fn record_failure(
        &self,
        integration: &Integration,
        trigger: Trigger,
        started_at: Timestamp,
        message: &str,
        fence: Option<&Fence>,
    ) -> Result<ImportId> {
        let changeset = record::sync_failure(
            integration.id,
            trigger,
            started_at,
            self.clock.now(),
            message,
        );
        self.write(changeset, fence).await
    }

    /// Record a reviewed sync the admin declined: a `discarded` import with its plan,
    /// nothing applied (DESIGN §7: a discarded sync is still an import).
    pub async fn discard(&self, review: &SyncOutcome, trigger: Trigger) -> Result<ImportId> {
        let changeset = record::discard(
            &Discard {
                integration: review.integration_id,
                trigger,
                plan: &review.plan,
                diagnostics: &review.diagnostics,
                members_fetched: review.members_fetched,
                file: None,
            },
            self.clock.now(),
        );
        self.write(changeset, None).await
    }
}

/// Free a large value on a blocking thread while the sync goes on: the rows of a
/// 100k directory take a tenth of a second to free.
fn free_apart<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || drop(value));
}

/// Release a run's sync lock, if it took one.
pub(crate) async fn release(lock: Option<SyncLock>) {
    if let Some(lock) = lock {
        lock.release().await;
    }
}

fn log_planned(id: IntegrationId, plan: &Plan) {
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
}
