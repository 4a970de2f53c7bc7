//! Many workers on one PostgreSQL: 50 accounts, each with its own Justworks sandbox
//! (a real HTTP server) and a due auto-sync; one worker is killed mid-sync (its task
//! aborted while it fetches); three more run the rest. Every due sync runs exactly
//! once, the killed worker's job is completed by another after its lease, and no
//! account sees another's data.
//!
//! Needs ROSTER_TEST_POSTGRES_URL (see `roster_store_postgres::testing`); without it
//! the test fails, saying how to start a server.
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::SignedDuration;
use jiff::civil::date;
use roster_core::guard::Trigger;
use roster_core::schedule::{Frequency, Schedule, parse_time};
use roster_engine::notify::NoNotifier;
use roster_engine::worker::{SourceFactory, Worker, WorkerConfig};
use roster_engine::{Cipher, Engine, SyncOptions, SystemClock};
use roster_justworks::JustworksSource;
use roster_justworks::auth::Credentials;
use roster_justworks::config::JustworksConfig;
use roster_sandbox::{RunningSandbox, SandboxConfig};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::jobs::JobKind;
use roster_store::{ImportKind, Integration, Store};
use roster_store_postgres::testing::TestDb;
use secrecy::SecretString;
use tokio::sync::Notify;

const ACCOUNTS: usize = 50;

/// The Justworks source of an integration: its base URL in the config, its token
/// in the (encrypted) credentials.
fn justworks(engine: &Engine, i: &Integration) -> Result<JustworksSource, String> {
    let base = i.config["base_url"].as_str().ok_or("no base URL")?;
    let url = url::Url::parse(base).map_err(|e| e.to_string())?;
    let token = engine
        .credentials(i)
        .map_err(|e| e.to_string())?
        .ok_or("no credentials")?;
    let token = String::from_utf8(token).map_err(|e| e.to_string())?;
    JustworksSource::new(
        JustworksConfig::with_base_url(url),
        Credentials::Static(SecretString::from(token)),
    )
    .map_err(|e| e.to_string())
}

struct Sources;

#[async_trait]
impl SourceFactory for Sources {
    async fn source(
        &self,
        engine: &Arc<Engine>,
        i: &Integration,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(justworks(engine, i)?))
    }
}

/// A source that says it started fetching, then never finishes (the worker is
/// killed while it waits).
struct Hang(Arc<Notify>);

#[async_trait]
impl Source for Hang {
    fn kind(&self) -> &'static str {
        "hang"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Err(SourceError::Other("unused".into()))
    }
    async fn fetch(&self, _: FetchRequest) -> Result<Snapshot, SourceError> {
        self.0.notify_one();
        std::future::pending().await
    }
}

struct Hanging(Arc<Notify>);

#[async_trait]
impl SourceFactory for Hanging {
    async fn source(&self, _: &Arc<Engine>, _: &Integration) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(Hang(self.0.clone())))
    }
}

fn config(id: &str) -> WorkerConfig {
    WorkerConfig {
        id: id.into(),
        poll: Duration::from_millis(100),
        job_lease: SignedDuration::from_secs(2),
        sync_lease: SignedDuration::from_secs(2),
        retry_running: SignedDuration::from_millis(500),
        ..WorkerConfig::default()
    }
}

/// Member ids and work-email domain of a sandbox's company.
fn company_of(s: &RunningSandbox) -> (BTreeSet<String>, String) {
    let members = s.handle().members(false);
    let ids = members
        .iter()
        .filter_map(|l| l.member["id"].as_str().map(str::to_string))
        .collect();
    let domain = members
        .iter()
        .flat_map(|l| l.member["emails"].as_array().cloned().unwrap_or_default())
        .find(|e| e["type"] == "work")
        .and_then(|e| e["address"].as_str().map(str::to_string))
        .and_then(|a| a.split_once('@').map(|(_, d)| d.to_string()))
        .expect("a work email");
    (ids, domain)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_fifty_accounts_each_due_sync_runs_once() {
    let db = TestDb::create().await;
    let store: Arc<dyn Store> = Arc::new(db.store().await);
    let cipher = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
    let clock = Arc::new(SystemClock);
    let daily = Schedule {
        frequency: Frequency::Daily,
        at: parse_time("02:00").unwrap(),
        timezone: "UTC".into(),
    };

    // 50 accounts, each with its company in a sandbox of its own, finalised by a
    // manual first sync, auto-sync on and due now.
    let mut sandboxes = Vec::new();
    let mut engines = Vec::new();
    for n in 0..ACCOUNTS {
        let sandbox = roster_sandbox::start(
            SandboxConfig {
                seed: 100 + n as u64,
                members: 4,
                today: date(2026, 3, 2),
                company_name: Some(format!("Company {n}")),
                ..SandboxConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let engine = Arc::new(
            Engine::open(
                store.clone(),
                clock.clone(),
                cipher.clone(),
                &format!("acct-{n}"),
            )
            .await
            .unwrap(),
        );
        let token = sandbox.mint_token(&roster_sandbox::all_scopes());
        let i = engine
            .connect(
                roster_store::IntegrationKind::Justworks,
                "Justworks",
                serde_json::json!({ "base_url": sandbox.base_url() }),
                Some(token.as_bytes()),
            )
            .await
            .unwrap();
        let source = justworks(&engine, &i).unwrap();
        engine.setup_sync(i.id, &source, None).await.unwrap();
        let manual = SyncOptions {
            trigger: Some(Trigger::Manual),
            apply: true,
            ..SyncOptions::default()
        };
        engine.sync(i.id, &source, manual).await.unwrap();
        engine.enable_autosync(i.id, daily.clone()).await.unwrap();
        engine.autosync_now(i.id).await.unwrap();
        engines.push((engine, i.id));
        sandboxes.push(sandbox);
    }
    // The companies differ (else isolation would prove nothing).
    let companies: Vec<_> = sandboxes.iter().map(company_of).collect();
    let domains: BTreeSet<_> = companies.iter().map(|c| c.1.clone()).collect();
    assert_eq!(domains.len(), ACCOUNTS, "every company has its own domain");

    // A worker claims a job, starts syncing, and is killed.
    let started = Arc::new(Notify::new());
    let victim = Worker::new(
        store.clone(),
        clock.clone(),
        cipher.clone(),
        Arc::new(Hanging(started.clone())),
        Arc::new(NoNotifier),
        config("victim"),
    );
    let killed = tokio::spawn(async move { victim.run_once().await });
    tokio::time::timeout(Duration::from_secs(30), started.notified())
        .await
        .expect("the victim starts a sync");
    killed.abort();
    let _ = killed.await;
    let mut victims = Vec::new();
    for (n, (engine, id)) in engines.iter().enumerate() {
        let job = engine.autosync(*id).await.unwrap().unwrap();
        if job.lease_holder.as_deref() == Some("victim") {
            victims.push(n);
        }
    }
    assert_eq!(victims.len(), 1, "the killed worker held one job");
    let t0 = Instant::now();

    // Three workers share the rest.
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    for w in 0..3 {
        let worker = Worker::new(
            store.clone(),
            clock.clone(),
            cipher.clone(),
            Arc::new(Sources),
            Arc::new(NoNotifier),
            config(&format!("worker-{w}")),
        );
        let mut rx = stop.subscribe();
        tasks.push(tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = rx.recv().await;
                })
                .await
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut done = 0;
        for (engine, id) in &engines {
            if engine
                .autosync(*id)
                .await
                .unwrap()
                .is_some_and(|j| j.runs >= 1)
            {
                done += 1;
            }
        }
        if done == ACCOUNTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {ACCOUNTS} auto-syncs ran within a minute"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = t0.elapsed();
    // Leave time for a duplicate to show, if there were one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(());
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("workers stop")
            .unwrap();
    }

    for (n, (engine, id)) in engines.iter().enumerate() {
        let account = engine.account();
        let job = engine.autosync(*id).await.unwrap().unwrap();
        assert_eq!(job.runs, 1, "account {n}: the due sync ran exactly once");
        assert_eq!(job.last_status.as_deref(), Some("applied"), "account {n}");
        assert_eq!(job.lease_holder, None, "account {n}: no lease left");
        let automatic: Vec<_> = store
            .imports(account, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| {
                i.kind == ImportKind::Sync && i.trigger == roster_core::guard::Trigger::Automatic
            })
            .collect();
        assert_eq!(automatic.len(), 1, "account {n}: one automatic import");
        assert_eq!(Some(automatic[0].id), job.last_import_id);
        // Tick jobs ran too, once per account.
        let tick = store
            .job(account, JobKind::Tick, None)
            .await
            .unwrap()
            .expect("tick job");
        assert!(tick.runs <= 1, "account {n}: tick ran {} times", tick.runs);

        // Isolation: the directory is this account's company and nobody else's.
        let (ids, domain) = &companies[n];
        let dir = store.directory(account).await.unwrap();
        let got: BTreeSet<String> = dir.iter().map(|e| e.employee_id.clone()).collect();
        assert_eq!(&got, ids, "account {n}: exactly its own members");
        for e in &dir {
            for other in domains.iter().filter(|d| *d != domain) {
                assert!(
                    !e.email.ends_with(&format!("@{other}")),
                    "account {n}: an email of another company"
                );
            }
        }
    }
    // The killed worker's job: its lease ran out and another worker completed it.
    let (engine, id) = &engines[victims[0]];
    let job = engine.autosync(*id).await.unwrap().unwrap();
    assert_eq!(job.runs, 1);
    assert_eq!(job.last_status.as_deref(), Some("applied"));
    eprintln!(
        "50 accounts synced by 3 workers in {:.1} s",
        elapsed.as_secs_f64()
    );
    drop(sandboxes);
}
