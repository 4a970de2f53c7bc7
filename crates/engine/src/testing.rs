//! Scenarios run against every store adapter with the real engine (feature
//! `testing`): the SQLite tests in this crate and the PostgreSQL tests in
//! `roster-store-postgres` call them.

use std::sync::Arc;
use std::sync::Mutex;

use async_trait::async_trait;
use jiff::SignedDuration;
use roster_core::guard::Trigger;
use roster_core::member::{ManagerRef, SourceMember};
use roster_core::schedule::{Frequency, Schedule};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::jobs::{JobKind, JobUpsert};
use roster_store::{ImportStatus, Store, StoreError};
use tokio::sync::Notify;

use crate::{Cipher, Engine, EngineError, FixedClock, SyncOptions, SyncStatus};

/// A source whose fetch waits until [`Gated::open`] (a holder stalled mid-sync),
/// after telling [`Gated::entered`].
pub struct Gated {
    pub members: Mutex<Vec<SourceMember>>,
    pub entered: Notify,
    gate: Notify,
}

impl Gated {
    pub fn new(members: Vec<SourceMember>) -> Self {
        Self {
            members: Mutex::new(members),
            entered: Notify::new(),
            gate: Notify::new(),
        }
    }

    pub fn open(&self) {
        self.gate.notify_one();
    }
}

/// The company every in-memory test source belongs to.
pub fn acme() -> CompanyInfo {
    CompanyInfo {
        id: "c1".into(),
        name: "Acme".into(),
        custom_fields: Vec::new(),
    }
}

/// A source that hands out its members, all of them, at every fetch.
pub struct Members(pub Mutex<Vec<SourceMember>>);

#[async_trait]
impl Source for Members {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(acme())
    }
    async fn fetch(&self, _: FetchRequest) -> Result<Snapshot, SourceError> {
        let members = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        Ok(Snapshot {
            members,
            complete: true,
            ..Snapshot::default()
        })
    }
}

#[async_trait]
impl Source for Gated {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(acme())
    }
    async fn fetch(&self, _: FetchRequest) -> Result<Snapshot, SourceError> {
        self.entered.notify_one();
        self.gate.notified().await;
        let members = self.members.lock().map(|m| m.clone()).unwrap_or_default();
        Ok(Snapshot {
            members,
            complete: true,
            ..Snapshot::default()
        })
    }
}

pub fn member(id: &str, first: &str) -> SourceMember {
    let mut m = SourceMember::new(id, 0);
    m.active = Some(true);
    m.given_name = Some(first.into());
    m.family_name = Some("Example".into());
    m.work_email = Some(format!("{}@acme.example", first.to_lowercase()));
    m.start_date = Some("2020-01-01".into());
    m
}

/// An active member with a work email `email` and a date of birth.
pub fn person(id: &str, first: &str, email: &str) -> SourceMember {
    let mut m = SourceMember::new(id, 0);
    m.active = Some(true);
    m.given_name = Some(first.into());
    m.family_name = Some("Example".into());
    m.work_email = Some(email.into());
    m.start_date = Some("2020-01-01".into());
    m.date_of_birth = Some("1990-01-01".into());
    m
}

/// Ada (m1), Grace (m2, reporting to Ada) and Alan (m3).
pub fn ada_grace_alan() -> Vec<SourceMember> {
    let mut grace = person("m2", "Grace", "grace@acme.example");
    grace.manager = ManagerRef::Resolved {
        source_id: "m1".into(),
        email: "ada@acme.example".into(),
    };
    vec![
        person("m1", "Ada", "ada@acme.example"),
        grace,
        person("m3", "Alan", "alan@acme.example"),
    ]
}

/// Until the run is in its fetch; a run that ended before is a failed test.
async fn wait_entered<T: std::fmt::Debug>(source: &Gated, run: &mut tokio::task::JoinHandle<T>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        tokio::select! {
            () = source.entered.notified() => return,
            () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {
                if run.is_finished() {
                    panic!("the run ended before its fetch: {:?}", run.await);
                }
                assert!(std::time::Instant::now() < deadline, "the run never reached its fetch");
            }
        }
    }
}

/// A manual sync that applies.
pub fn apply() -> SyncOptions {
    SyncOptions {
        trigger: Some(Trigger::Manual),
        apply: true,
        ..SyncOptions::default()
    }
}

/// A sync whose holder stalls past its lease while another takes the lock over and
/// applies: when the first resumes, its apply is fenced off (nothing written), and
/// exactly one import is applied. Then the same for a CSV-style run under a job
/// lease that another worker claimed: the job fence refuses it.
pub async fn a_stalled_holder_applies_nothing(store: Arc<dyn Store>) {
    let clock = Arc::new(FixedClock::on(jiff::civil::date(2026, 12, 3)));
    let cipher = Cipher::from_base64(&Cipher::generate_base64()).expect("key");
    let engine = Arc::new(
        Engine::open(store.clone(), clock, cipher, "fencing")
            .await
            .expect("engine")
            .with_lease(SignedDuration::from_secs(30)),
    );
    let account = engine.account();
    let i = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            "fenced",
            serde_json::json!({}),
            Some(b"secret"),
        )
        .await
        .expect("connect");
    let members = vec![member("m1", "Ada"), member("m2", "Grace")];
    let stalled = Arc::new(Gated::new(members.clone()));

    // A takes the lock and stalls in its fetch.
    let mut a = {
        let (engine, stalled) = (engine.clone(), stalled.clone());
        tokio::spawn(async move { engine.sync(i.id, &*stalled, apply()).await })
    };
    wait_entered(&stalled, &mut a).await;
    let held = store
        .sync_lock(account, i.id)
        .await
        .expect("sync_lock")
        .expect("A holds the lock");

    // Its lease runs out while it is stopped, and B takes the lock over: the state a
    // lease that expired leaves, without waiting for it.
    assert!(
        store
            .break_sync_lock(account, i.id, &held.holder, held.generation)
            .await
            .expect("break"),
        "the lock as read is released"
    );
    let b_source = Gated::new(members.clone());
    b_source.open();
    let b = engine
        .sync(i.id, &b_source, apply())
        .await
        .expect("B syncs");
    assert_eq!(b.status, SyncStatus::Applied);
    let after_b = store.sync_lock(account, i.id).await.expect("sync_lock");
    assert_eq!(after_b, None, "B released the lock");

    // A resumes: fenced off.
    stalled.open();
    let err = a.await.expect("A's task").expect_err("A must not apply");
    assert!(
        matches!(err, EngineError::Store(StoreError::Fenced(_))),
        "A's apply was refused by the fence, not {err}"
    );
    let imports = store.imports(account, 10).await.expect("imports");
    let applied: Vec<_> = imports
        .iter()
        .filter(|s| s.status == ImportStatus::Applied)
        .collect();
    assert_eq!(applied.len(), 1, "exactly one import applied: {imports:?}");
    assert_eq!(Some(applied[0].id), b.import_id, "B's import is the one");
    assert_eq!(imports.len(), 1, "A recorded nothing at all: {imports:?}");
    assert_eq!(
        store.count_employees(account, false).await.expect("count"),
        2,
        "each member created once"
    );

    // A lock taken after a release has a higher generation than any before it.
    let g = store
        .lock_sync(account, i.id, "later", jiff::Timestamp::MAX)
        .await
        .expect("lock");
    assert!(
        g > held.generation + 1,
        "generation {g} after {}",
        held.generation
    );
    store
        .unlock_sync(account, i.id, "later")
        .await
        .expect("unlock");

    a_worker_whose_job_was_taken_applies_nothing(&store, &engine, i.id, &members).await;
}

/// The job fence: a worker's sync whose job was claimed by another worker meanwhile
/// applies nothing, even though its sync lock still holds.
async fn a_worker_whose_job_was_taken_applies_nothing(
    store: &Arc<dyn Store>,
    engine: &Arc<Engine>,
    integration: roster_store::IntegrationId,
    members: &[SourceMember],
) {
    let account = engine.account();
    let now = engine.clock().now();
    let job = store
        .upsert_job(JobUpsert {
            account_id: account,
            integration_id: Some(integration),
            kind: JobKind::Sync,
            schedule: Schedule {
                frequency: Frequency::Daily,
                at: jiff::civil::time(2, 0, 0, 0),
                timezone: "UTC".into(),
            },
            enabled: true,
            paused: false,
            next_run_at: Some(now),
            at: now,
        })
        .await
        .expect("job");
    let claimed = store
        .claim_jobs("worker-a", now, now + SignedDuration::from_secs(1), 10)
        .await
        .expect("claim");
    assert!(
        claimed.iter().any(|j| j.id == job.id),
        "worker-a claims the job"
    );
    let mut members2 = members.to_vec();
    members2.push(member("m3", "Alan"));
    let stalled = Arc::new(Gated::new(members2));
    let mut a = {
        let (engine, stalled) = (engine.clone(), stalled.clone());
        let opts = SyncOptions {
            trigger: Some(Trigger::Automatic),
            job: Some((job.id, "worker-a".into())),
            ..apply()
        };
        tokio::spawn(async move { engine.sync(integration, &*stalled, opts).await })
    };
    wait_entered(&stalled, &mut a).await;
    // worker-a's job lease runs out; worker-b claims the job.
    let later = now + SignedDuration::from_secs(5);
    let b_claims = store
        .claim_jobs("worker-b", later, later + SignedDuration::from_secs(60), 10)
        .await
        .expect("claim");
    assert!(
        b_claims.iter().any(|j| j.id == job.id),
        "worker-b claims the job"
    );
    stalled.open();
    let err = a.await.expect("task").expect_err("worker-a must not apply");
    assert!(
        matches!(err, EngineError::Store(StoreError::Fenced(_))),
        "{err}"
    );
    assert_eq!(
        store.count_employees(account, false).await.expect("count"),
        2,
        "worker-a's new member was not applied"
    );
}
