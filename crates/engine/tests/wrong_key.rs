//! A process with another credentials key than the database's (issue #18.2): the
//! key check refuses it before it runs anything, and a worker that meets credentials
//! its key cannot open anyway puts the job back untouched and stops claiming. Over
//! the real SQLite store.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::guard::Trigger;
use roster_core::member::SourceMember;
use roster_core::schedule::{Frequency, Schedule, parse_time};
use roster_engine::notify::NoNotifier;
use roster_engine::testing::acme;
use roster_engine::worker::{SourceFactory, Worker, WorkerConfig};
use roster_engine::{Cipher, Engine, FixedClock, KeyCheck, KeyCheckError, SyncOptions, verify_key};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::jobs::JobKind;
use roster_store::{Integration, Store};

struct Members;

#[async_trait]
impl Source for Members {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(acme())
    }
    async fn fetch(&self, _: FetchRequest) -> Result<Snapshot, SourceError> {
        let mut m = SourceMember::new("m1", 0);
        m.active = Some(true);
        m.given_name = Some("Ada".into());
        m.family_name = Some("Example".into());
        m.work_email = Some("ada@acme.example".into());
        m.start_date = Some("2020-01-01".into());
        Ok(Snapshot {
            members: vec![m],
            complete: true,
            ..Snapshot::default()
        })
    }
}

/// Builds the source from the decrypted credentials, as the real factory does.
struct Factory;

#[async_trait]
impl SourceFactory for Factory {
    async fn source(&self, e: &Arc<Engine>, i: &Integration) -> Result<Box<dyn Source>, String> {
        e.credentials(i).map_err(|e| e.to_string())?;
        Ok(Box::new(Members))
    }
}

fn key() -> Cipher {
    Cipher::from_base64(&Cipher::generate_base64()).unwrap()
}

async fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    Arc::new(
        roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap(),
    )
}

const NOW: &str = "2026-03-02T10:00:00Z";

/// An account with an active integration whose credentials `right` encrypted, and
/// its auto-sync due now.
async fn due_sync(store: &Arc<dyn Store>, right: &Cipher) -> (Arc<Engine>, i64) {
    let clock = Arc::new(FixedClock::new(NOW.parse().unwrap()));
    let engine = Arc::new(
        Engine::open(store.clone(), clock, right.clone(), "acme")
            .await
            .unwrap(),
    );
    let i = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            "test",
            serde_json::json!({}),
            Some(b"token"),
        )
        .await
        .unwrap();
    engine.setup_sync(i.id, &Members, None).await.unwrap();
    engine
        .sync(
            i.id,
            &Members,
            SyncOptions {
                trigger: Some(Trigger::Manual),
                apply: true,
                ..SyncOptions::default()
            },
        )
        .await
        .unwrap();
    let schedule = Schedule {
        frequency: Frequency::Daily,
        at: parse_time("02:00").unwrap(),
        timezone: "UTC".into(),
    };
    engine.enable_autosync(i.id, schedule).await.unwrap();
    engine.autosync_now(i.id).await.unwrap();
    (engine, i.id)
}

#[tokio::test]
async fn the_key_check_is_written_by_the_first_fitting_key_and_refuses_others() {
    let now: Timestamp = NOW.parse().unwrap();
    // An empty database: any key writes the check value, then only it fits.
    let dir = tempfile::tempdir().unwrap();
    let empty = store(&dir).await;
    let first = key();
    assert_eq!(
        verify_key(empty.as_ref(), &first, now).await.unwrap(),
        KeyCheck::Written
    );
    assert_eq!(
        verify_key(empty.as_ref(), &first, now).await.unwrap(),
        KeyCheck::Fits
    );
    assert!(matches!(
        verify_key(empty.as_ref(), &key(), now).await,
        Err(KeyCheckError::WrongKey)
    ));

    // A database written before the check existed: credentials but no check value.
    let dir = tempfile::tempdir().unwrap();
    let old = store(&dir).await;
    let right = key();
    due_sync(&old, &right).await;
    assert_eq!(old.key_check().await.unwrap(), None);
    // Another key does not open the stored credentials: refused, nothing written.
    let err = verify_key(old.as_ref(), &key(), now).await.unwrap_err();
    assert!(matches!(err, KeyCheckError::WrongKey));
    assert!(err.to_string().contains("ROSTER_SECRET_KEY"), "{err}");
    assert_eq!(old.key_check().await.unwrap(), None);
    // The right key writes it.
    assert_eq!(
        verify_key(old.as_ref(), &right, now).await.unwrap(),
        KeyCheck::Written
    );
    let value = old.key_check().await.unwrap().expect("written");
    assert!(right.fits_key_check(&value));
}

#[tokio::test]
async fn a_worker_that_cannot_decrypt_puts_the_job_back_and_stops_claiming() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let right = key();
    let (engine, integration) = due_sync(&store, &right).await;
    let before = engine.autosync(integration).await.unwrap().expect("job");
    let imports_before = store.imports(engine.account(), 100).await.unwrap().len();
    let messages_before = store.notifications(engine.account(), 100).await.unwrap();

    // The start-up check is bypassed: this worker meets the credentials mid-run.
    let worker = Worker::new(
        store.clone(),
        Arc::new(FixedClock::new(NOW.parse().unwrap())),
        key(),
        Arc::new(Factory),
        Arc::new(NoNotifier),
        WorkerConfig {
            id: "wrong".into(),
            ..WorkerConfig::default()
        },
    );
    assert!(worker.health().is_healthy());
    let pass = worker.run_once().await.unwrap();
    let sync = pass
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::Sync)
        .expect("the sync job was claimed");
    assert_eq!(sync.status, "put_back");
    assert_eq!(sync.import_id, None);
    assert!(sync.recorded, "the lease was released");
    let health = worker.health();
    assert!(!health.is_healthy());
    assert!(
        health.reason().unwrap().contains("could not be decrypted"),
        "{:?}",
        health.reason()
    );

    // The job is as it was: due at the same time, no run counted, no lease.
    let after = engine.autosync(integration).await.unwrap().expect("job");
    assert_eq!(after.next_run_at, before.next_run_at);
    assert_eq!(after.runs, before.runs);
    assert_eq!(after.last_status, before.last_status);
    assert_eq!(after.last_error, before.last_error);
    assert_eq!(after.lease_holder, None);
    // No import, no notification.
    assert_eq!(
        store.imports(engine.account(), 100).await.unwrap().len(),
        imports_before
    );
    assert_eq!(
        store.notifications(engine.account(), 100).await.unwrap(),
        messages_before
    );

    // It claims nothing more, though the job is still due.
    let again = worker.run_once().await.unwrap();
    assert!(again.jobs.is_empty(), "{again:?}");

    // A worker with the right key runs it.
    let good = Worker::new(
        store.clone(),
        Arc::new(FixedClock::new(NOW.parse().unwrap())),
        right,
        Arc::new(Factory),
        Arc::new(NoNotifier),
        WorkerConfig {
            id: "right".into(),
            ..WorkerConfig::default()
        },
    );
    let pass = good.run_once().await.unwrap();
    let sync = pass
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::Sync)
        .expect("the sync job");
    assert_ne!(sync.status, "put_back");
    assert!(good.health().is_healthy());
}
