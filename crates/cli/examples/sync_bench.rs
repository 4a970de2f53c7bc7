//! Sync benchmarks for docs/benchmarks.md.
//!
//! cargo run --release -p roster-cli --example sync_bench -- --members 100000 --runs 3
//! cargo run --release -p roster-cli --example sync_bench -- --members 100000 --runs 3 \
//!     --db postgres://postgres@127.0.0.1:55432/postgres
//!
//! For each run: a fresh SQLite directory (or, with `--db postgres://…`, a fresh
//! database `roster_bench_<pid>_<run>` created on that server and dropped after the
//! run; the URL names any database on the server, for a role that may create them),
//! a first import from the in-process sandbox (fetch, plan, apply timed
//! separately), then 1 % of members changed in the sandbox
//! and a daily sync, full and `--incremental`. Also planning alone with 1 % changed.
//! Prints medians and peak RSS (VmHWM).
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::sync::Arc;
use std::time::Instant;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use roster_core::guard::Trigger;
use roster_core::plan::{PlanOptions, apply, plan};
use roster_engine::{Cipher, Engine, FixedClock, SyncOptions, Timings};
use roster_justworks::auth::Credentials;
use roster_justworks::{JustworksConfig, JustworksSource};
use roster_sandbox::SandboxConfig;
use roster_source::{FetchRequest, Source};
use roster_store::Store;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `url` with its database (the path) replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_at..].find('/') {
        Some(slash) => &base[..authority_at + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Run one statement on the server of `server_url` (CREATE / DROP DATABASE).
async fn on_server(server_url: &str, sql: String) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(server_url).await?;
    sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn secs(t: &Timings) -> [f64; 3] {
    [
        t.fetch_ms as f64 / 1e3,
        t.plan_ms as f64 / 1e3 + t.load_ms as f64 / 1e3,
        t.apply_ms as f64 / 1e3,
    ]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let members = arg("--members", 100_000);
    let runs = arg("--runs", 3);
    let pg_server = arg_str("--db");
    if let Some(url) = &pg_server
        && !roster_store_postgres::is_postgres_url(url)
    {
        anyhow::bail!("--db takes a postgres://… URL (SQLite is the default)");
    }
    let today = jiff::civil::date(2026, 11, 23);
    let (mut first, mut daily, mut incr, mut planning) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut steps: Vec<[f64; 3]> = Vec::new();
    for run in 0..runs {
        let sandbox = roster_sandbox::start(
            SandboxConfig {
                seed: 7 + run as u64,
                members,
                today,
                ..Default::default()
            },
            "127.0.0.1:0".parse()?,
        )
        .await?;
        let token = sandbox.mint_token(&roster_sandbox::all_scopes());
        let config = JustworksConfig::with_base_url(url::Url::parse(&sandbox.base_url())?);
        let source = JustworksSource::new(config, Credentials::Static(token.into()))?;
        let dir = tempfile::tempdir()?;
        let pg_db = pg_server
            .as_ref()
            .map(|_| format!("roster_bench_{}_{run}", std::process::id()));
        let store: Arc<dyn Store> = match (&pg_server, &pg_db) {
            (Some(server), Some(name)) => {
                on_server(server, format!("CREATE DATABASE {name}")).await?;
                Arc::new(
                    roster_store_postgres::PgStore::connect(&with_database(server, name)).await?,
                )
            }
            _ => Arc::new(
                roster_store_sqlite::SqliteStore::open(
                    dir.path().join("bench.db").to_str().unwrap(),
                )
                .await?,
            ),
        };
        let cipher = Cipher::from_base64(&Cipher::generate_base64())?;
        let engine = Engine::open(store, Arc::new(FixedClock::on(today)), cipher, "bench").await?;
        let i = engine
            .connect(
                roster_store::IntegrationKind::Justworks,
                "bench",
                serde_json::json!({}),
                None,
            )
            .await?;
        let opts = || SyncOptions {
            trigger: Some(Trigger::Manual),
            apply: true,
            ..SyncOptions::default()
        };

        let t = Instant::now();
        let o = engine.sync(i.id, &source, opts()).await?;
        first.push(t.elapsed().as_secs_f64());
        steps.push(secs(&o.timings));
        eprintln!(
            "run {run}: first import {:.2} s [fetch, load+plan, apply] = {:?}, RSS so far {:.0} MiB",
            first[run],
            steps[run],
            peak_rss_mib()
        );
        assert_eq!(o.plan.counts.created + o.plan.counts.skipped, members);
        for i in o.plan.issues.iter().filter(|i| i.is_error()) {
            eprintln!("skipped: {i}");
        }

        // 1 % of members change their job title.
        let h = sandbox.handle();
        let ids: Vec<String> = h
            .members(false)
            .into_iter()
            .map(|l| l.member["id"].as_str().unwrap_or_default().to_string())
            .collect();
        for id in ids.iter().step_by(100) {
            h.patch_member(
                id,
                &serde_json::json!({ "job_title": format!("Changed {run}") }),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let t = Instant::now();
        let o = engine.sync(i.id, &source, opts()).await?;
        daily.push(t.elapsed().as_secs_f64());
        eprintln!(
            "run {run}: daily full {:.2} s [fetch, load+plan, apply] = {:?}",
            daily[run],
            secs(&o.timings)
        );
        let changed_full = o.plan.counts.updated;
        for id in ids.iter().skip(1).step_by(100) {
            h.patch_member(
                id,
                &serde_json::json!({ "job_title": format!("Again {run}") }),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let t = Instant::now();
        let o = engine
            .sync(
                i.id,
                &source,
                SyncOptions {
                    incremental: true,
                    ..opts()
                },
            )
            .await?;
        incr.push(t.elapsed().as_secs_f64());
        eprintln!(
            "run {run}: incremental {:.2} s [fetch, load+plan, apply] = {:?}",
            incr[run],
            secs(&o.timings)
        );
        eprintln!(
            "run {run}: daily full updated {changed_full}, incremental fetched {} updated {}",
            o.members_fetched, o.plan.counts.updated
        );

        // Planning alone: the directory in memory, 1 % changed.
        let snap = source.fetch(FetchRequest::default()).await?;
        let settings = roster_core::Settings::default();
        let p = plan(
            &[],
            snap.members.clone(),
            &[],
            &settings,
            today,
            &PlanOptions {
                complete: true,
                ..Default::default()
            },
        );
        let directory = apply(&[], &p.entries.iter().collect::<Vec<_>>());
        drop(p);
        let mut ms = snap.members;
        for m in ms.iter_mut().step_by(100) {
            m.fields.insert("job_title".into(), "Planned".into());
        }
        let t = Instant::now();
        let p = plan(
            &directory,
            ms,
            &[],
            &settings,
            today,
            &PlanOptions {
                complete: true,
                ..Default::default()
            },
        );
        planning.push(t.elapsed().as_secs_f64());
        // A changed member may be one the validation skips (duplicate emails).
        assert!(p.counts.updated + p.counts.skipped >= members / 100);
        eprintln!("run {run}: planning alone {:.3} s", planning[run]);
        sandbox.shutdown().await?;
        drop(engine);
        if let (Some(server), Some(name)) = (&pg_server, &pg_db) {
            // FORCE: ends the connections the store's pool may still hold.
            on_server(
                server,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
    }
    let step = |k: usize| median(steps.iter().map(|s| s[k]).collect());
    let backend = if pg_server.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    println!("members: {members}, runs: {runs}, store: {backend}");
    println!(
        "first import total (median): {:.2} s  [fetch {:.2} s, load+plan {:.2} s, apply {:.2} s]",
        median(first),
        step(0),
        step(1),
        step(2)
    );
    println!(
        "daily sync, 1% changed, full (median): {:.2} s",
        median(daily)
    );
    println!(
        "daily sync, 1% changed, incremental (median): {:.2} s",
        median(incr)
    );
    println!(
        "planning alone, 1% changed (median): {:.3} s",
        median(planning)
    );
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
    Ok(())
}
