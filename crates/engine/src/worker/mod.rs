//! The worker loop: claim due jobs from the store, run them through the engine, keep
//! their lease, record and reschedule them, and deliver the outbox.
//!
//! Many workers (processes, or tasks of `roster serve`) may share one store: a job is
//! leased to one worker at a time (`JobStore::claim_jobs`; PostgreSQL uses `FOR
//! UPDATE SKIP LOCKED`), the lease is renewed while the job runs, and a job whose
//! worker died is claimed again once its lease has run out. Two syncs of one
//! integration never run at once: the engine's sync lock (`Store::lock_sync`) is
//! taken by every sync, manual or scheduled, and a job that finds it taken is
//! postponed by [`WorkerConfig::retry_running`].
//!
//! An automatic sync runs exactly as `roster sync --apply --yes --automatic`: the
//! guards block it or hold employees, and the engine records the import and queues
//! the notification (`sync.blocked`, `sync.held`, `sync.applied`, `sync.failed`).
//! A failure before the engine could record one (no credentials, a store error) is
//! recorded here as a failed import with its `sync.failed` notification.
//!
//! A worker whose credentials key does not decrypt what it reads (another key than
//! the database's; `roster` checks it at start-up with [`crate::verify_key`]) puts the
//! job back as it found it (unclaimed, schedule unchanged, no import, no
//! notification), becomes unhealthy ([`Worker::health`]) and claims nothing more:
//! one wrong process must not fail every account's scheduled sync.
//!
//! Time: due-ness and leases use the injected [`Clock`]; the engine's sync lock uses
//! real time (as the store checks it).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

mod deliver;
mod feed;
mod jobs;

pub use feed::FeedReport;

use async_trait::async_trait;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use roster_core::guard::Trigger;
use roster_source::Source;
use roster_store::jobs::{
    DeliveryAttempt, Job, JobDone, JobId, JobKind, PendingMessage, RoundDone,
};
use roster_store::{
    AccountId, ImportId, Integration, IntegrationId, IntegrationState, Store, StoreError,
};
use serde::Serialize;

use crate::clock::Clock;
use crate::crypto::{Cipher, CryptoError};
use crate::engine::{Engine, EngineError, LEASE};
use crate::notify::{DeliveryPolicy, Destination, Notifier, Outgoing, wants};
use crate::outcome::{SyncOptions, SyncStatus};

/// Builds the source of an integration (the CLI and the server build a Justworks
/// source from the integration's stored config and credentials).
#[async_trait]
pub trait SourceFactory: Send + Sync {
    /// The error is a message for the import's record: no personal data.
    async fn source(
        &self,
        engine: &Arc<Engine>,
        integration: &Integration,
    ) -> std::result::Result<Box<dyn Source>, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The worker is unhealthy and claims nothing (see [`Health`]).
    #[error("the worker stopped claiming work: {0}")]
    Unhealthy(String),
}

/// Whether a worker may go on claiming work. Cloned handles share the state (the
/// `/healthz` of `roster worker` reads it). Once unhealthy, always unhealthy: the
/// process must be restarted with a fixed configuration.
#[derive(Clone, Debug, Default)]
pub struct Health(Arc<OnceLock<String>>);

impl Health {
    pub fn is_healthy(&self) -> bool {
        self.0.get().is_none()
    }

    /// Why the worker is unhealthy (no secrets, no personal data).
    pub fn reason(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Mark unhealthy; the first reason stays. `true` when this call changed it.
    pub fn set_unhealthy(&self, reason: impl Into<String>) -> bool {
        self.0.set(reason.into()).is_ok()
    }
}

/// Metrics a worker records (through the `metrics` facade; `roster worker
/// --metrics-listen` and `roster serve` export them at `/metrics`).
pub mod names {
    /// Jobs run, by kind and outcome (a sync's outcome as `roster_syncs_total` counts it).
    pub const JOBS: &str = "roster_worker_jobs_total";
    /// Syncs, by outcome: shared with the server's manual syncs.
    pub const SYNCS: &str = "roster_syncs_total";
    /// How long a job ran, by kind.
    pub const JOB_DURATION: &str = "roster_worker_job_duration_seconds";
    /// Jobs claimed.
    pub const CLAIMS: &str = "roster_worker_claims_total";
    /// Now − `next_run_at` of the oldest due job, at the last claim (0 when none was
    /// due): how far behind the workers are.
    pub const JOB_LAG: &str = "roster_worker_job_lag_seconds";
    /// Leases this worker lost while a job ran (renewal refused).
    pub const LEASE_LOSSES: &str = "roster_worker_lease_losses_total";
    /// Writes refused because this worker no longer held the job or its sync lock: an
    /// apply fenced off (the lock or the job was taken over while it ran, `kind` =
    /// `apply`) or a completion after a lost lease (`kind` = `completion`).
    pub const FENCING_REFUSALS: &str = "roster_worker_fencing_refusals_total";
    /// 1 while the worker claims work, 0 once it is unhealthy.
    pub const HEALTHY: &str = "roster_worker_healthy";
}

/// Why a claimed job was put back untouched.
const WRONG_KEY: &str = "stored credentials could not be decrypted with this worker's key \
     (ROSTER_SECRET_KEY or key file): the job was put back, this worker claims no more";

/// A run that must not count: the job goes back as it was.
struct PutBack(String);

/// How a worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// This worker's name in leases (unique per worker).
    pub id: String,
    /// Sleep between passes when nothing is due.
    pub poll: Duration,
    /// How long a claimed job is leased (clock time); renewed every third of it.
    pub job_lease: SignedDuration,
    /// The engine's sync-lock lease (real time), [`LEASE`] by default.
    pub sync_lease: SignedDuration,
    /// A job that finds another sync of its integration running waits until that
    /// sync's lock lease ends, and at most this long (then it tries again).
    pub retry_running: SignedDuration,
    /// Messages per delivery claim; also how long they are leased.
    pub delivery_batch: usize,
    pub delivery_lease: SignedDuration,
    pub delivery: DeliveryPolicy,
    /// Jobs per pass at most (a pass ends earlier when nothing is due).
    pub max_jobs_per_pass: usize,
}

impl WorkerConfig {
    /// Defaults with a unique id (`roster-<uuid>`).
    pub fn new() -> Self {
        Self::default()
    }

    /// One lease for the job and the sync lock, and the longest wait of a job that
    /// finds its integration's lock held. A killed worker's job then runs again
    /// within `lease` + one poll interval: its job lease and its sync lock both end
    /// within `lease` of its last renewal, another worker claims the job at its
    /// next poll after that, and a job that still meets the lock waits only until
    /// the lock's lease ends.
    pub fn with_lease(mut self, lease: SignedDuration) -> Self {
        self.job_lease = lease;
        self.sync_lease = lease;
        self.retry_running = lease;
        self
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            id: format!("roster-{}", uuid::Uuid::new_v4().simple()),
            poll: Duration::from_secs(15),
            job_lease: SignedDuration::from_mins(2),
            sync_lease: LEASE,
            retry_running: LEASE,
            delivery_batch: 20,
            delivery_lease: SignedDuration::from_mins(2),
            delivery: DeliveryPolicy::default(),
            max_jobs_per_pass: 1000,
        }
    }
}

/// What a job run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobReport {
    pub job_id: JobId,
    pub account_id: AccountId,
    pub integration_id: Option<IntegrationId>,
    pub kind: JobKind,
    /// `applied`, `partially_applied`, `blocked`, `failed`, `skipped`, `postponed`,
    /// `nothing_due`, `gone`.
    pub status: String,
    pub import_id: Option<ImportId>,
    /// Whether the completion was recorded (false: the lease was lost meanwhile).
    pub recorded: bool,
}

/// What a delivery pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PassReport {
    pub jobs: Vec<JobReport>,
    pub delivery: DeliveryReport,
    pub feed: FeedReport,
}

/// A worker: one loop over the store's due jobs and outbox.
pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cipher: Cipher,
    sources: Arc<dyn SourceFactory>,
    notifier: Arc<dyn Notifier>,
    config: WorkerConfig,
    health: Health,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        sources: Arc<dyn SourceFactory>,
        notifier: Arc<dyn Notifier>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            store,
            clock,
            cipher,
            sources,
            notifier,
            config,
            health: Health::default(),
        }
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// This worker's health (a shared handle).
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    fn become_unhealthy(&self, reason: &str) {
        metrics::gauge!(names::HEALTHY).set(0.0);
        if self.health.set_unhealthy(reason) {
            tracing::error!(worker = %self.config.id, reason, "worker unhealthy: it claims no more work");
        }
    }

    /// Run passes until `shutdown` resolves. A pass in progress is finished first
    /// (its job completes and its lease is released); errors of a pass are logged
    /// and the next pass follows after `poll`.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let stop = AtomicBool::new(false);
        loop {
            let pass = self.pass(Some(&stop));
            tokio::pin!(pass);
            // Shutdown asked during a pass: let the running job finish, claim no more.
            let result = tokio::select! {
                r = &mut pass => r,
                () = &mut shutdown => {
                    stop.store(true, Ordering::SeqCst);
                    let r = pass.await;
                    if let Err(e) = &r {
                        tracing::warn!(worker = %self.config.id, error = %e, "worker pass failed");
                    }
                    tracing::info!(worker = %self.config.id, "worker stopped");
                    return;
                }
            };
            match result {
                Ok(r) if !r.jobs.is_empty() => {
                    tracing::info!(worker = %self.config.id, jobs = r.jobs.len(), "worker pass done");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(worker = %self.config.id, error = %e, "worker pass failed")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.poll) => {}
                () = &mut shutdown => {
                    tracing::info!(worker = %self.config.id, "worker stopped");
                    return;
                }
            }
        }
    }

    /// One pass: run every due job (one claim at a time, so that several workers
    /// share the work), then deliver the outbox.
    pub async fn run_once(&self) -> Result<PassReport, WorkerError> {
        self.pass(None).await
    }

    async fn pass(&self, stop: Option<&AtomicBool>) -> Result<PassReport, WorkerError> {
        let mut report = PassReport::default();
        for _ in 0..self.config.max_jobs_per_pass {
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) || !self.health.is_healthy() {
                break;
            }
            let now = self.clock.now();
            let until = now
                .saturating_add(self.config.job_lease)
                .unwrap_or(Timestamp::MAX);
            let Some(job) = self
                .store
                .claim_jobs(&self.config.id, now, until, 1)
                .await?
                .into_iter()
                .next()
            else {
                metrics::gauge!(names::JOB_LAG).set(0.0);
                break;
            };
            // Claims go earliest due first: this job is the oldest due one.
            metrics::counter!(names::CLAIMS).increment(1);
            if let Some(due) = job.next_run_at {
                let lag = now.duration_since(due).as_secs_f64().max(0.0);
                metrics::gauge!(names::JOB_LAG).set(lag);
            }
            report.jobs.push(self.run_job(job).await?);
        }
        if self.health.is_healthy() {
            report.delivery = self.deliver().await?;
        }
        if self.health.is_healthy() {
            report.feed = self.deliver_feed().await?;
        }
        Ok(report)
    }

    /// Run one claimed job, renewing its lease meanwhile, and record it.
    pub async fn run_job(&self, job: Job) -> Result<JobReport, WorkerError> {
        let started = std::time::Instant::now();
        let renew = self.renew_lease(&job);
        let outcome = match job.kind {
            JobKind::Sync => self.run_sync(&job).await,
            JobKind::Tick => Ok(self.run_tick(&job).await),
        };
        renew.abort();
        let (status, import_id, error, postpone) = match outcome {
            Ok(o) => o,
            Err(PutBack(reason)) => return self.put_back(job, &reason).await,
        };
        let now = self.clock.now();
        let next = if postpone {
            now.checked_add(self.postponement(&job).await).ok()
        } else {
            let tz = TimeZone::get(&job.schedule.timezone).unwrap_or(TimeZone::UTC);
            job.schedule.next_after(&tz, now)
        };
        let recorded = self
            .store
            .complete_job(
                job.account_id,
                job.id,
                &self.config.id,
                JobDone {
                    at: now,
                    next_run_at: next,
                    ran: !postpone,
                    status: status.clone(),
                    import_id,
                    error,
                },
            )
            .await?;
        if !recorded {
            metrics::counter!(names::FENCING_REFUSALS, "kind" => "completion").increment(1);
            tracing::warn!(worker = %self.config.id, job = job.id, "job lease was lost while it ran");
        }
        metrics::counter!(names::JOBS, "kind" => job.kind.as_str(), "outcome" => status.clone())
            .increment(1);
        metrics::histogram!(names::JOB_DURATION, "kind" => job.kind.as_str())
            .record(started.elapsed().as_secs_f64());
        if job.kind == JobKind::Sync && !postpone {
            metrics::counter!(names::SYNCS, "outcome" => status.clone()).increment(1);
        }
        tracing::info!(
            worker = %self.config.id,
            job = job.id,
            account = job.account_id,
            integration = job.integration_id,
            kind = job.kind.as_str(),
            status = %status,
            import = import_id,
            "job done"
        );
        Ok(JobReport {
            job_id: job.id,
            account_id: job.account_id,
            integration_id: job.integration_id,
            kind: job.kind,
            status,
            import_id,
            recorded,
        })
    }

    /// How long a job that met a held sync lock waits: until the lock's lease ends
    /// (a killed holder's lock is free then), at least a second and at most
    /// `retry_running`.
    async fn postponement(&self, job: &Job) -> SignedDuration {
        let cap = self.config.retry_running;
        let Some(id) = job.integration_id else {
            return cap;
        };
        match self.store.sync_lock(job.account_id, id).await {
            Ok(Some(lock)) => lock
                .until
                .duration_since(Timestamp::now())
                .saturating_add(SignedDuration::from_millis(100))
                .clamp(
                    SignedDuration::from_secs(1),
                    cap.max(SignedDuration::from_secs(1)),
                ),
            Ok(None) => SignedDuration::from_secs(1).min(cap),
            Err(_) => cap,
        }
    }

    /// Release `job` as it was claimed: due when it was due, nothing recorded.
    async fn put_back(&self, job: Job, reason: &str) -> Result<JobReport, WorkerError> {
        self.become_unhealthy(reason);
        let recorded = self
            .store
            .complete_job(
                job.account_id,
                job.id,
                &self.config.id,
                JobDone {
                    at: self.clock.now(),
                    next_run_at: job.next_run_at,
                    ran: false,
                    status: "put_back".into(),
                    import_id: None,
                    error: Some(reason.to_string()),
                },
            )
            .await?;
        tracing::warn!(worker = %self.config.id, job = job.id, account = job.account_id, "job put back unrun");
        Ok(JobReport {
            job_id: job.id,
            account_id: job.account_id,
            integration_id: job.integration_id,
            kind: job.kind,
            status: "put_back".into(),
            import_id: None,
            recorded,
        })
    }

    fn renew_lease(&self, job: &Job) -> AbortOnDrop {
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let (account, id, worker) = (job.account_id, job.id, self.config.id.clone());
        let lease = self.config.job_lease;
        let every = (lease.unsigned_abs() / 3).max(Duration::from_millis(50));
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let until = clock.now().saturating_add(lease).unwrap_or(Timestamp::MAX);
                match store.renew_job(account, id, &worker, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        metrics::counter!(names::LEASE_LOSSES).increment(1);
                        tracing::warn!(worker = %worker, job = id, "job lease lost");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(worker = %worker, job = id, error = %e, "could not renew the job lease")
                    }
                }
            }
        }))
    }

    fn engine(&self, account: AccountId) -> Arc<Engine> {
        Arc::new(
            Engine::for_account(
                self.store.clone(),
                self.clock.clone(),
                self.cipher.clone(),
                account,
            )
            .with_lease(self.config.sync_lease),
        )
    }
}

/// A task aborted when this handle is dropped (a dropped worker future stops its
/// lease renewal too).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    fn abort(&self) {
        self.0.abort();
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
