//! The scheduler and the worker loop over the real SQLite store, with an injected
//! clock: daily, weekly and monthly firing, pause and resume, refusal before
//! finalising, a crashed worker's job picked up after its lease, a future end date
//! applied on its day, blocked and failed auto-syncs recorded and notified, and a
//! job postponed while another sync of its integration runs.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use roster_core::employee::DeactivationReason;
use roster_core::guard::Trigger;
use roster_core::member::SourceMember;
use roster_core::schedule::{Frequency, Schedule, parse_time};
use roster_engine::notify::NoNotifier;
use roster_engine::testing::{acme, apply, person as member};
use roster_engine::worker::{SourceFactory, Worker, WorkerConfig};
use roster_engine::{Cipher, Clock, Engine, EngineError, FixedClock};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::jobs::JobKind;
use roster_store::{ImportKind, ImportStatus, Integration, Store};

/// The company as the source has it; `fail` makes fetches fail.
#[derive(Default)]
struct Company {
    members: Mutex<Vec<SourceMember>>,
    fail: Mutex<bool>,
    /// Credentials missing: the factory cannot build a source.
    no_source: Mutex<bool>,
}

struct Members(Arc<Company>);

#[async_trait]
impl Source for Members {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(acme())
    }
    async fn fetch(&self, _: FetchRequest) -> Result<Snapshot, SourceError> {
        if *self.0.fail.lock().unwrap() {
            return Err(SourceError::Status {
                status: 503,
                what: "members".into(),
                attempts: 3,
            });
        }
        Ok(Snapshot {
            members: self.0.members.lock().unwrap().clone(),
            complete: true,
            ..Snapshot::default()
        })
    }
}

struct Factory(Arc<Company>);

#[async_trait]
impl SourceFactory for Factory {
    async fn source(&self, _: &Arc<Engine>, _: &Integration) -> Result<Box<dyn Source>, String> {
        if *self.0.no_source.lock().unwrap() {
            return Err("integration has no credentials: connect again".into());
        }
        Ok(Box::new(Members(self.0.clone())))
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct World {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    clock: Arc<FixedClock>,
    cipher: Cipher,
    company: Arc<Company>,
    integration: i64,
    _dir: tempfile::TempDir,
}

impl World {
    /// A company of three, connected, its clock at `now`; `finalise` runs and
    /// applies the first manual sync (state `active`).
    async fn new(now: &str, finalise: bool) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().unwrap())
                .await
                .unwrap(),
        );
        let clock = Arc::new(FixedClock::new(ts(now)));
        let cipher = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
        let engine = Arc::new(
            Engine::open(store.clone(), clock.clone(), cipher.clone(), "acme")
                .await
                .unwrap(),
        );
        let company = Arc::new(Company::default());
        *company.members.lock().unwrap() = vec![
            member("m1", "Ada", "ada@acme.example"),
            member("m2", "Grace", "grace@acme.example"),
            member("m3", "Alan", "alan@acme.example"),
        ];
        let i = engine
            .connect(
                roster_store::IntegrationKind::Justworks,
                "test",
                serde_json::json!({}),
                Some(b"secret"),
            )
            .await
            .unwrap();
        engine
            .update_settings(i.id, |s| {
                s.timezone = "Europe/Paris".into();
                Ok(())
            })
            .await
            .unwrap();
        let w = World {
            engine,
            store,
            clock,
            cipher,
            company,
            integration: i.id,
            _dir: dir,
        };
        if finalise {
            w.finalise().await;
        }
        w
    }

    /// Runs the setup sync and applies the first manual sync (state `active`).
    async fn finalise(&self) {
        self.setup_sync().await;
        self.first_sync().await;
    }

    async fn setup_sync(&self) {
        self.engine
            .setup_sync(self.integration, &Members(self.company.clone()), None)
            .await
            .unwrap();
    }

    /// The first manual sync, applied.
    async fn first_sync(&self) {
        self.engine
            .sync(self.integration, &Members(self.company.clone()), apply())
            .await
            .unwrap();
    }

    /// Auto-sync on, daily at 02:00 in Paris.
    async fn daily_autosync(&self) -> roster_store::jobs::Job {
        self.engine
            .enable_autosync(
                self.integration,
                schedule(Frequency::Daily, "02:00", "Europe/Paris"),
            )
            .await
            .unwrap()
    }

    /// Auto-sync on and off again: only the daily end-date job stays.
    async fn daily_job_only(&self) {
        self.daily_autosync().await;
        self.engine
            .disable_autosync(self.integration)
            .await
            .unwrap();
    }

    fn worker(&self, id: &str) -> Worker {
        Worker::new(
            self.store.clone(),
            self.clock.clone(),
            self.cipher.clone(),
            Arc::new(Factory(self.company.clone())),
            Arc::new(NoNotifier),
            WorkerConfig {
                id: id.into(),
                job_lease: SignedDuration::from_mins(2),
                sync_lease: SignedDuration::from_secs(5),
                ..WorkerConfig::default()
            },
        )
    }

    async fn automatic_imports(&self) -> Vec<roster_store::ImportSummary> {
        self.store
            .imports(self.engine.account(), 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| {
                i.kind == ImportKind::Sync && i.trigger == roster_core::guard::Trigger::Automatic
            })
            .collect()
    }

    /// An import of this account, which must exist.
    async fn import(&self, id: i64) -> roster_store::ImportRecord {
        self.store
            .import(self.engine.account(), id)
            .await
            .unwrap()
            .unwrap()
    }

    async fn sync_job(&self) -> roster_store::jobs::Job {
        self.engine
            .autosync(self.integration)
            .await
            .unwrap()
            .expect("job")
    }
}

fn schedule(f: Frequency, at: &str, tz: &str) -> Schedule {
    Schedule {
        frequency: f,
        at: parse_time(at).unwrap(),
        timezone: tz.into(),
    }
}

/// Only the sync job's reports.
fn sync_statuses(r: &roster_engine::worker::PassReport) -> Vec<&str> {
    r.jobs
        .iter()
        .filter(|j| j.kind == JobKind::Sync)
        .map(|j| j.status.as_str())
        .collect()
}

/// One worker pass: the sync job's reports.
async fn sync_pass(worker: &Worker) -> Vec<String> {
    let r = worker.run_once().await.unwrap();
    sync_statuses(&r).into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn autosync_is_refused_until_the_integration_is_finalised() {
    let w = World::new("2026-03-02T10:00:00Z", false).await;
    let daily = schedule(Frequency::Daily, "02:00", "Europe/Paris");
    let err = w
        .engine
        .enable_autosync(w.integration, daily.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NeedsFinalise(_)), "{err}");
    w.setup_sync().await;
    let err = w
        .engine
        .enable_autosync(w.integration, daily.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::NeedsFinalise(_)),
        "still refused after the setup sync: {err}"
    );
    assert!(w.engine.autosync(w.integration).await.unwrap().is_none());
    assert!(
        w.engine.jobs().await.unwrap().is_empty(),
        "off by default: no job at all"
    );
    // Unknown time zones are refused too, once finalised.
    w.first_sync().await;
    let bad = schedule(Frequency::Daily, "02:00", "Mars/Olympus_Mons");
    assert!(matches!(
        w.engine.enable_autosync(w.integration, bad).await,
        Err(EngineError::Invalid(_))
    ));
    w.engine
        .enable_autosync(w.integration, daily)
        .await
        .expect("allowed once active");
}

#[tokio::test]
async fn daily_autosync_fires_once_a_day_at_its_local_time() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    let job = w.daily_autosync().await;
    // 02:00 in Paris (CET) is 01:00 UTC.
    assert_eq!(job.next_run_at, Some(ts("2026-03-03T01:00:00Z")));
    let worker = w.worker("w1");
    let r = worker.run_once().await.unwrap();
    assert!(sync_statuses(&r).is_empty(), "not due yet: {r:?}");

    w.clock.set(ts("2026-03-03T01:00:00Z"));
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["applied"]);
    assert_eq!(w.automatic_imports().await.len(), 1);
    let r = worker.run_once().await.unwrap();
    assert!(sync_statuses(&r).is_empty(), "once a day: {r:?}");

    let job = w.sync_job().await;
    assert_eq!(job.runs, 1);
    assert_eq!(job.next_run_at, Some(ts("2026-03-04T01:00:00Z")));
    assert_eq!(job.last_status.as_deref(), Some("applied"));
    assert_eq!(job.lease_holder, None);

    // The worker was down for two days: one catch-up run, then the schedule.
    w.clock.set(ts("2026-03-06T09:00:00Z"));
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["applied"]);
    assert_eq!(w.automatic_imports().await.len(), 2);
    assert_eq!(
        w.sync_job().await.next_run_at,
        Some(ts("2026-03-07T01:00:00Z"))
    );
}

#[tokio::test]
async fn weekly_and_monthly_autosyncs_fire_on_their_days() {
    let w = World::new("2026-01-07T12:00:00Z", true).await;
    let worker = w.worker("w1");
    // Weekly on Monday at 09:00 UTC: 2026-01-07 is a Wednesday.
    let weekly = Frequency::parse("weekly", Some("mon"), None).unwrap();
    let job = w
        .engine
        .enable_autosync(w.integration, schedule(weekly, "09:00", "UTC"))
        .await
        .unwrap();
    assert_eq!(job.next_run_at, Some(ts("2026-01-12T09:00:00Z")));
    w.clock.set(ts("2026-01-11T09:00:00Z"));
    assert!(sync_pass(&worker).await.is_empty());
    w.clock.set(ts("2026-01-12T09:00:00Z"));
    assert_eq!(sync_pass(&worker).await, ["applied"]);
    assert_eq!(
        w.sync_job().await.next_run_at,
        Some(ts("2026-01-19T09:00:00Z"))
    );

    // Monthly on the 31st: January's 31st, then February's last day.
    let monthly = Frequency::parse("monthly", None, Some(31)).unwrap();
    let job = w
        .engine
        .enable_autosync(w.integration, schedule(monthly, "06:00", "UTC"))
        .await
        .unwrap();
    assert_eq!(job.next_run_at, Some(ts("2026-01-31T06:00:00Z")));
    w.clock.set(ts("2026-01-31T06:00:00Z"));
    assert_eq!(sync_pass(&worker).await, ["applied"]);
    let job = w.sync_job().await;
    assert_eq!(job.next_run_at, Some(ts("2026-02-28T06:00:00Z")));
    assert_eq!(job.runs, 2, "the weekly run and the monthly one");
    w.clock.set(ts("2026-02-28T06:00:00Z"));
    assert_eq!(sync_pass(&worker).await, ["applied"]);
    assert_eq!(
        w.sync_job().await.next_run_at,
        Some(ts("2026-03-31T06:00:00Z"))
    );
    assert_eq!(w.automatic_imports().await.len(), 3);
}

#[tokio::test]
async fn paused_autosync_runs_nothing_until_resumed() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    let worker = w.worker("w1");
    w.daily_autosync().await;
    let job = w.engine.pause_autosync(w.integration).await.unwrap();
    assert!(job.paused && job.enabled);
    assert_eq!(job.next_run_at, None);
    w.clock.set(ts("2026-03-05T10:00:00Z"));
    assert!(sync_pass(&worker).await.is_empty());
    assert!(
        w.engine.autosync_now(w.integration).await.is_err(),
        "a paused auto-sync is not run now"
    );

    let job = w.engine.resume_autosync(w.integration).await.unwrap();
    assert!(!job.paused);
    assert_eq!(
        job.next_run_at,
        Some(ts("2026-03-06T01:00:00Z")),
        "resumed at its next time, not at once"
    );
    assert!(sync_pass(&worker).await.is_empty());
    w.clock.set(ts("2026-03-06T01:00:00Z"));
    assert_eq!(sync_pass(&worker).await, ["applied"]);

    // Off: nothing, and pausing an auto-sync that is off is refused.
    let off = w.engine.disable_autosync(w.integration).await.unwrap();
    assert!(off.is_some_and(|j| !j.enabled && j.next_run_at.is_none()));
    assert!(w.engine.pause_autosync(w.integration).await.is_err());
    w.clock.set(ts("2026-03-09T10:00:00Z"));
    assert!(sync_pass(&worker).await.is_empty());
    assert_eq!(w.automatic_imports().await.len(), 1);

    // "Run now" makes it due at once.
    w.daily_autosync().await;
    w.engine.autosync_now(w.integration).await.unwrap();
    assert_eq!(sync_pass(&worker).await, ["applied"]);
}

#[tokio::test]
async fn a_crashed_workers_job_is_run_by_another_after_its_lease() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    w.daily_autosync().await;
    w.clock.set(ts("2026-03-03T01:00:00Z"));
    let now = w.clock.now();
    // Worker "dead" claims the sync job, then crashes before doing anything.
    let claimed = w
        .store
        .claim_jobs("dead", now, now + SignedDuration::from_mins(2), 10)
        .await
        .unwrap();
    assert!(claimed.iter().any(|j| j.kind == JobKind::Sync));

    let rescuer = w.worker("rescuer");
    let r = rescuer.run_once().await.unwrap();
    assert!(
        sync_statuses(&r).is_empty(),
        "the dead worker's lease still lives: {r:?}"
    );
    w.clock.set(ts("2026-03-03T01:02:01Z"));
    let r = rescuer.run_once().await.unwrap();
    assert_eq!(
        sync_statuses(&r),
        vec!["applied"],
        "taken over after the lease"
    );
    assert_eq!(w.automatic_imports().await.len(), 1, "run exactly once");
    let job = w.sync_job().await;
    assert_eq!(job.runs, 1);
    assert_eq!(job.next_run_at, Some(ts("2026-03-04T01:00:00Z")));
}

#[tokio::test]
async fn a_future_end_date_is_applied_on_its_day() {
    let w = World::new("2026-03-02T10:00:00Z", false).await;
    w.company.members.lock().unwrap()[1].end_date = Some("2026-03-05".into());
    w.finalise().await;
    // Auto-sync on and off again: the daily end-date job stays.
    w.daily_job_only().await;
    let tick = w
        .engine
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == JobKind::Tick)
        .expect("the end-date job");
    // 00:05 in Paris on 3 March is 23:05 UTC on the 2nd.
    assert_eq!(tick.next_run_at, Some(ts("2026-03-02T23:05:00Z")));
    let worker = w.worker("w1");
    let grace_active = || async { w.engine.find("m2").await.unwrap().active };

    w.clock.set(ts("2026-03-03T23:05:00Z")); // 00:05 on the 4th in Paris
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs.len(), 1);
    assert_eq!(r.jobs[0].status, "nothing_due");
    assert!(grace_active().await);

    w.clock.set(ts("2026-03-04T23:05:00Z")); // 00:05 on the 5th in Paris
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].kind, JobKind::Tick);
    assert_eq!(r.jobs[0].status, "applied");
    let grace = w.engine.find("m2").await.unwrap();
    assert!(!grace.active, "deactivated on the day of her end date");
    assert_eq!(grace.deactivation_reason, Some(DeactivationReason::EndDate));
    let import = w.import(r.jobs[0].import_id.unwrap()).await;
    assert_eq!(import.summary.kind, ImportKind::Tick);
}

#[tokio::test]
async fn blocked_and_failed_autosyncs_are_recorded_and_notified() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    let worker = w.worker("w1");
    w.daily_autosync().await;
    let account = w.engine.account();

    // Privacy guard: name and date of birth change at once.
    {
        let mut m = w.company.members.lock().unwrap();
        m[0].given_name = Some("Augusta".into());
        m[0].date_of_birth = Some("1991-02-03".into());
    }
    w.engine.autosync_now(w.integration).await.unwrap();
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["blocked"]);
    let blocked = r.jobs.iter().find(|j| j.kind == JobKind::Sync).unwrap();
    let import = w.import(blocked.import_id.expect("recorded")).await;
    assert_eq!(import.summary.status, ImportStatus::Blocked);
    assert_eq!(
        import.summary.trigger,
        roster_core::guard::Trigger::Automatic
    );
    assert_eq!(
        w.engine.find("m1").await.unwrap().first_name.as_deref(),
        Some("Ada"),
        "nothing applied"
    );

    // The source fails.
    *w.company.fail.lock().unwrap() = true;
    w.engine.autosync_now(w.integration).await.unwrap();
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["failed"]);
    *w.company.fail.lock().unwrap() = false;

    // The source cannot be built (credentials gone).
    *w.company.no_source.lock().unwrap() = true;
    w.engine.autosync_now(w.integration).await.unwrap();
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["failed"]);
    let failed = r.jobs.iter().find(|j| j.kind == JobKind::Sync).unwrap();
    let import = w.import(failed.import_id.expect("recorded")).await;
    assert_eq!(import.summary.status, ImportStatus::Failed);
    let job = w.sync_job().await;
    assert_eq!(job.last_status.as_deref(), Some("failed"));
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("credentials"))
    );

    let events: Vec<String> = w
        .store
        .notifications(account, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message.event)
        .collect();
    assert_eq!(
        events.iter().filter(|e| *e == "sync.blocked").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "sync.failed").count(),
        2,
        "{events:?}"
    );
    // No channels: a worker pass marks them delivered to nobody.
    let outbox = w.store.outbox(account, 100).await.unwrap();
    assert!(outbox.is_empty(), "{outbox:?}");
}

#[tokio::test]
async fn a_job_waits_while_another_sync_of_its_integration_runs() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    let worker = w.worker("w1");
    w.daily_autosync().await;
    // A manual sync holds the integration's sync lock (real time) for 20 s more.
    let until = Timestamp::now() + SignedDuration::from_secs(20);
    w.store
        .lock_sync(w.engine.account(), w.integration, "manual", until)
        .await
        .unwrap();
    w.engine.autosync_now(w.integration).await.unwrap();
    let r = worker.run_once().await.unwrap();
    assert_eq!(sync_statuses(&r), vec!["postponed"]);
    let job = w.sync_job().await;
    assert_eq!(job.runs, 0, "a postponement is not a run");
    // It waits until the lock's lease ends (a killed holder's lock is free then),
    // not a fixed minute.
    let wait = job.next_run_at.unwrap().duration_since(w.clock.now());
    assert!(
        wait > SignedDuration::from_secs(15) && wait <= SignedDuration::from_secs(21),
        "postponed by {wait:?}"
    );
    assert_eq!(
        job.postponed.as_deref(),
        Some("another sync of this integration is running"),
        "autosync status shows why it waits"
    );
    assert!(w.automatic_imports().await.is_empty());

    // A lease far off: the wait is capped (the holder renews, or dies and its lease
    // ends within one lease).
    w.store
        .lock_sync(
            w.engine.account(),
            w.integration,
            "manual",
            Timestamp::now() + SignedDuration::from_mins(30),
        )
        .await
        .unwrap();
    w.engine.autosync_now(w.integration).await.unwrap();
    worker.run_once().await.unwrap();
    assert_eq!(
        w.sync_job().await.next_run_at,
        Some(w.clock.now() + worker.config().retry_running)
    );

    w.store
        .unlock_sync(w.engine.account(), w.integration, "manual")
        .await
        .unwrap();
    w.clock.set(w.clock.now() + worker.config().retry_running);
    assert_eq!(sync_pass(&worker).await, ["applied"]);
    assert_eq!(w.sync_job().await.postponed, None, "a run clears it");
}

#[tokio::test]
async fn run_stops_gracefully_on_shutdown() {
    let w = World::new("2026-03-02T10:00:00Z", true).await;
    w.daily_autosync().await;
    w.engine.autosync_now(w.integration).await.unwrap();
    let worker = Arc::new(w.worker("w1"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let worker = worker.clone();
        async move {
            worker
                .run(async {
                    let _ = rx.await;
                })
                .await
        }
    });
    // The first pass runs the due sync.
    for _ in 0..100 {
        if !w.automatic_imports().await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(w.automatic_imports().await.len(), 1);
    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("stops promptly")
        .unwrap();
    let job = w.sync_job().await;
    assert_eq!(job.lease_holder, None, "no lease left behind");
}

/// The daily end-date job runs retention after the day's end dates: a former
/// employee is anonymised on the day `retention_days` after their end date (not the
/// day before), recorded as a `retention` import by the job, and only once.
#[tokio::test]
async fn the_daily_job_anonymises_former_employees_on_their_retention_day() {
    let w = World::new("2026-03-02T10:00:00Z", false).await;
    w.company.members.lock().unwrap()[1].end_date = Some("2026-03-05".into());
    w.finalise().await;
    w.engine
        .update_settings(w.integration, |s| {
            s.set("retention_days", "30").map_err(|e| e.to_string())
        })
        .await
        .unwrap();
    w.daily_job_only().await;
    let worker = w.worker("w1");
    let name = || async { w.engine.find("m2").await.unwrap().first_name };
    let before = name().await;

    w.clock.set(ts("2026-03-04T23:05:00Z")); // the 5th in Paris: her end date
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].status, "applied", "{r:?}");
    assert!(!w.engine.find("m2").await.unwrap().active);
    assert_eq!(name().await, before, "deactivated, not anonymised");

    w.clock.set(ts("2026-04-02T22:05:00Z")); // 3 April in Paris: 29 days later
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].status, "nothing_due", "{r:?}");
    assert_eq!(name().await, before, "not due the day before");

    // 4 April in Paris, 30 days later, she is due; but a pending review holds her:
    // the job leaves her (and reports it) until the review is decided.
    let key = w.engine.find("m2").await.unwrap().key;
    let review = w
        .store
        .create_review(roster_store::access::NewReview {
            account_id: w.engine.account(),
            integration_id: w.integration,
            created_at: ts("2026-04-03T12:00:00Z"),
            payload: serde_json::json!({ "plan": { "entries": [ { "key": key } ] } }),
        })
        .await
        .unwrap();
    w.clock.set(ts("2026-04-03T22:05:00Z"));
    let dry = w.engine.retention(Trigger::Manual, true).await.unwrap();
    assert_eq!(
        (dry.due.len(), dry.skipped.len()),
        (0, 1),
        "held by the review: {dry:?}"
    );
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].status, "nothing_due", "{r:?}");
    assert_eq!(name().await, before, "a pending review holds her");
    let refused = w.engine.erase("m2", "an admin").await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains(&format!("review {}", review.id))),
        "an erasure is refused too: {:?}",
        refused.map(|a| a.import_id)
    );
    assert!(
        w.store
            .close_review(
                w.engine.account(),
                review.id,
                roster_store::access::ReviewStatus::Discarded,
                None,
                ts("2026-04-04T08:00:00Z")
            )
            .await
            .unwrap()
    );

    w.clock.set(ts("2026-04-04T22:05:00Z")); // 5 April: the review was discarded
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].status, "applied", "{r:?}");
    let import = w.import(r.jobs[0].import_id.unwrap()).await;
    assert_eq!(import.summary.kind, ImportKind::Retention);
    assert_eq!(import.summary.trigger, Trigger::Automatic);
    let details = import.details.to_string();
    assert!(details.contains("retention_days = 30"), "{details}");
    let gone = w
        .engine
        .directory()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.key == import.entries[0].key.unwrap())
        .unwrap();
    assert_eq!(gone.first_name.as_deref(), Some("Former employee"));
    assert_eq!(gone.date_of_birth, None);
    assert!(!details.contains(before.as_deref().unwrap()), "{details}");

    w.clock.set(ts("2026-04-05T22:05:00Z"));
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.jobs[0].status, "nothing_due", "anonymised once: {r:?}");
}
