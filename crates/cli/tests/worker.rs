//! `roster autosync` and `roster worker --once` end to end: the real binary against a
//! sandbox over HTTP, on SQLite.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::company::{start_sandbox_on, token};
use common::{Run, ok, spawn_until};
use jiff::civil::{Date, date};
use roster_sandbox::RunningSandbox;
use serde_json::Value;

const DAY1: Date = date(2026, 3, 2);

/// `roster --db DB --today DAY1 ARGS…`, with no secret key or SMTP server from the
/// environment.
fn command(db: &Path, args: &[&str]) -> Command {
    let mut c = common::command(db);
    c.arg("--today")
        .arg(DAY1.to_string())
        .args(args)
        .env_remove("ROSTER_SMTP_URL");
    c
}

fn roster(db: &Path, args: &[&str]) -> Run {
    common::run(command(db, args))
}

/// A sandbox company (`seed`, `members`) on DAY1, a token of every scope and a
/// temporary directory whose `roster.db` the test uses.
async fn company(
    seed: u64,
    members: usize,
) -> (RunningSandbox, String, tempfile::TempDir, PathBuf) {
    let sandbox = start_sandbox_on(seed, members, DAY1).await;
    let token = token(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    (sandbox, token, dir, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosync_and_worker_once() {
    let (sandbox, token, _dir, db) = company(3, 12).await;
    let base = sandbox.base_url();
    tokio::task::spawn_blocking(move || {
        ok(roster(
            &db,
            &[
                "connect",
                "justworks",
                "--base-url",
                &base,
                "--token",
                &token,
            ],
        ));
        let on = [
            "autosync",
            "on",
            "--frequency",
            "weekly",
            "--weekday",
            "mon",
            "--at",
            "02:00",
            "--tz",
            "Europe/Paris",
        ];
        let refused = roster(&db, &on);
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("needs finalising"),
            "{}",
            refused.stderr
        );
        ok(roster(&db, &["setup-sync"]));
        ok(roster(&db, &["sync", "--apply", "--yes"]));
        let on = ok(roster(&db, &on));
        assert!(
            on.stdout.contains("weekly on mon at 02:00 Europe/Paris"),
            "{}",
            on.stdout
        );
        // 2026-03-02 is a Monday, at noon (--today): next Monday 02:00 CET.
        let status = ok(roster(&db, &["--json", "autosync", "status"]));
        let jobs: Vec<Value> = serde_json::from_str(&status.stdout).unwrap();
        let sync = jobs.iter().find(|j| j["kind"] == "sync").expect("sync job");
        assert_eq!(sync["next_run_at"], "2026-03-09T01:00:00Z");
        assert!(jobs.iter().any(|j| j["kind"] == "tick"), "the end-date job");

        let idle = ok(roster(&db, &["worker", "--once"]));
        assert!(idle.stdout.contains("Nothing due"), "{}", idle.stdout);
        ok(roster(&db, &["autosync", "now"]));
        let pass = ok(roster(&db, &["--json", "worker", "--once"]));
        let report: Value = serde_json::from_str(&pass.stdout).unwrap();
        let ran = &report["jobs"][0];
        assert_eq!(ran["kind"], "sync");
        assert_eq!(ran["status"], "applied", "{report}");
        let imports = ok(roster(&db, &["--json", "imports"]));
        let imports: Vec<Value> = serde_json::from_str(&imports.stdout).unwrap();
        assert!(
            imports
                .iter()
                .any(|i| i["trigger"] == "automatic" && i["status"] == "applied"),
            "{imports:?}"
        );

        ok(roster(&db, &["autosync", "pause"]));
        let paused = ok(roster(&db, &["autosync", "status"]));
        assert!(paused.stdout.contains("paused"), "{}", paused.stdout);
        ok(roster(&db, &["autosync", "resume"]));
        let off = ok(roster(&db, &["autosync", "off"]));
        assert!(off.stdout.contains("off"), "{}", off.stdout);

        // Channels and the delivery log.
        let hook = ok(roster(
            &db,
            &["notify", "add-webhook", "http://127.0.0.1:9/hook"],
        ));
        assert!(hook.stdout.contains("Signing secret"), "{}", hook.stdout);
        ok(roster(&db, &["notify", "add-email", "admin@acme.example"]));
        let list = ok(roster(&db, &["notify"]));
        assert!(
            list.stdout.contains("webhook") && list.stdout.contains("email"),
            "{}",
            list.stdout
        );
        let log = ok(roster(&db, &["notify", "log"]));
        assert!(log.stdout.contains("sync.applied"), "{}", log.stdout);
    })
    .await
    .unwrap();
}

/// Start `roster serve` on a free port; its banner line says where it listens.
/// Connect the sandbox at `base`, run the setup sync and the first manual sync, and
/// switch auto-sync on (daily at 02:00): an integration a worker can run.
fn finalised_with_daily_autosync(db: &Path, base: &str, token: &str) {
    ok(roster(
        db,
        &["connect", "justworks", "--base-url", base, "--token", token],
    ));
    ok(roster(db, &["setup-sync"]));
    ok(roster(db, &["sync", "--apply", "--yes"]));
    ok(roster(
        db,
        &["autosync", "on", "--frequency", "daily", "--at", "02:00"],
    ));
}

fn serve(db: &Path, extra: &[&str]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    spawn_until(command(db, &args), |l| l.starts_with("roster serve: "))
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    child.wait().unwrap()
}

fn automatic_imports(db: &Path) -> usize {
    let out = ok(roster(db, &["--json", "imports"]));
    let imports: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    imports
        .iter()
        .filter(|i| i["trigger"] == "automatic")
        .count()
}

/// `roster serve` runs due auto-syncs with its embedded worker; `--no-worker` leaves
/// them to `roster worker` processes. SIGTERM stops it cleanly either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_due_autosyncs_unless_told_not_to() {
    let (sandbox, token, _dir, db) = company(4, 10).await;
    let base = sandbox.base_url();
    tokio::task::spawn_blocking(move || {
        finalised_with_daily_autosync(&db, &base, &token);

        // Without a worker, a due auto-sync waits.
        ok(roster(&db, &["autosync", "now"]));
        let (server, banner) = serve(&db, &["--no-worker"]);
        assert!(!banner.contains("with a worker"), "{banner}");
        std::thread::sleep(std::time::Duration::from_secs(3));
        assert_eq!(automatic_imports(&db), 0, "no worker ran the due sync");
        assert!(stop(server).success(), "SIGTERM stops the server cleanly");

        // With its embedded worker (the default), the server runs it.
        let (server, banner) = serve(&db, &[]);
        assert!(banner.contains("with a worker"), "{banner}");
        let started = std::time::Instant::now();
        while automatic_imports(&db) == 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the embedded worker did not run the due auto-sync"
            );
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        assert_eq!(automatic_imports(&db), 1, "the due sync ran once");
        assert!(
            stop(server).success(),
            "SIGTERM stops server and worker cleanly"
        );
    })
    .await
    .unwrap();
    sandbox.shutdown().await.unwrap();
}

/// GET `url` over plain HTTP/1.1 on loopback: (status, body).
fn http_get(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut s = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// `roster worker --metrics-listen`: the worker of a split deployment serves its own
/// /metrics (the syncs it ran, claims, lag) and /healthz (issue #18.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_serves_metrics_of_the_syncs_it_runs() {
    let (sandbox, token, _dir, db) = company(6, 9).await;
    let base = sandbox.base_url();
    tokio::task::spawn_blocking(move || {
        finalised_with_daily_autosync(&db, &base, &token);
        ok(roster(&db, &["autosync", "now"]));
        let args = [
            "worker",
            "--poll-secs",
            "1",
            "--metrics-listen",
            "127.0.0.1:0",
        ];
        let (child, line) = spawn_until(command(&db, &args), |l| l.contains("metrics at http://"));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .trim_end_matches(',')
            .to_string();
        let health = url.replace("/metrics", "/healthz");
        assert_eq!(http_get(&health).0, 200);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let body = loop {
            let (status, body) = http_get(&url);
            assert_eq!(status, 200);
            if body.contains("roster_syncs_total{outcome=\"applied\"} 1") {
                break body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sync was not counted:\n{body}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        for metric in [
            "roster_worker_claims_total",
            "roster_worker_job_lag_seconds",
            "roster_worker_jobs_total{kind=\"sync\",outcome=\"applied\"}",
            "roster_worker_job_duration_seconds",
            "roster_worker_healthy 1",
        ] {
            assert!(body.contains(metric), "{metric} missing:\n{body}");
        }
        stop(child);
    })
    .await
    .unwrap();
}
