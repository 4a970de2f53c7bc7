//! A worker (or server, or command) started with another `ROSTER_SECRET_KEY` than the
//! database's (issue #18.2) refuses to start: non-zero exit, a message naming the key,
//! and nothing recorded — the due auto-sync keeps its schedule, no failed import, no
//! `sync.failed` notification. On SQLite (the key file; the variable overrides it)
//! and on PostgreSQL (ROSTER_TEST_POSTGRES_URL, required: the test fails without it).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::process::Command;

use common::company::synced;
use common::{DAY1, ok, run};
use roster_store_postgres::testing::TestDb;
use serde_json::Value;

/// Not the key of any test database.
const WRONG_KEY: &str = "d3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmcgd3I=";

fn roster(db: &str, args: &[&str]) -> common::Run {
    let mut c = common::command(db);
    c.arg("--today").arg(DAY1.to_string()).args(args);
    c.env_remove("ROSTER_SMTP_URL");
    run(c)
}

fn wrong(db: &str, args: &[&str]) -> common::Run {
    let mut c: Command = common::command(db);
    c.env("ROSTER_SECRET_KEY", WRONG_KEY)
        .env_remove("ROSTER_SMTP_URL")
        .arg("--today")
        .arg(DAY1.to_string())
        .args(args);
    run(c)
}

fn json(r: common::Run) -> Value {
    serde_json::from_str(&ok(r).stdout).expect("JSON output")
}

/// What a wrong worker must not change.
#[derive(Debug, PartialEq)]
struct Seen {
    job: Value,
    imports: usize,
    events: Vec<String>,
}

fn seen(db: &str) -> Seen {
    let jobs = json(roster(db, &["--json", "autosync", "status"]));
    let job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "sync")
        .expect("the sync job")
        .clone();
    let imports = json(roster(db, &["--json", "imports"]));
    let log = json(roster(db, &["--json", "notify", "log"]));
    Seen {
        job: serde_json::json!({
            "next_run_at": job["next_run_at"], "runs": job["runs"],
            "last_status": job["last_status"], "lease_holder": job["lease_holder"],
        }),
        imports: imports.as_array().unwrap().len(),
        events: log
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["message"]["event"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
    }
}

async fn wrong_key_refuses_to_start(db: String) {
    let _sandbox = synced(5, 8, &db).await;
    common::blocking(move || {
        let db = db.as_str();
        ok(roster(
            db,
            &["autosync", "on", "--frequency", "daily", "--at", "02:00"],
        ));
        ok(roster(db, &["autosync", "now"]));
        let before = seen(db);
        assert_eq!(before.job["runs"], 0, "{before:?}");
        assert!(before.job["next_run_at"].is_string(), "{before:?}");

        for args in [
            &["worker", "--once"][..],
            &["worker", "--poll-secs", "1"][..],
            &["users"][..],
            &["serve", "--listen", "127.0.0.1:0"][..],
        ] {
            let r = wrong(db, args);
            assert_ne!(r.code, 0, "{args:?} started: {}", r.stderr);
            assert!(
                r.stderr.contains("refusing to start")
                    && r.stderr.contains("ROSTER_SECRET_KEY")
                    && r.stderr.contains("does not fit"),
                "{args:?}: {}",
                r.stderr
            );
            assert!(!r.stderr.contains(WRONG_KEY), "the key is never printed");
        }
        assert_eq!(seen(db), before, "the wrong key changed something");

        // The right key runs the job.
        let pass = json(roster(db, &["--json", "worker", "--once"]));
        let sync = pass["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "sync")
            .expect("the sync job ran")
            .clone();
        assert_eq!(sync["status"], "applied", "{pass}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_refuses_to_start_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    wrong_key_refuses_to_start(db.to_str().unwrap().to_owned()).await;
    // SQLite's key lives in a file beside the database; the variable overrode it.
    assert!(dir.path().join("roster.db.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_refuses_to_start_on_postgres() {
    let pg = TestDb::create().await;
    wrong_key_refuses_to_start(pg.url().to_owned()).await;
}
