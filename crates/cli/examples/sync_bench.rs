//! Sync benchmarks for docs/benchmarks.md (`--help` lists the options).
//!
//! cargo run --release -p roster-cli --example sync_bench -- --members 100000 --runs 3
//! cargo run --release -p roster-cli --example sync_bench -- --members 100000 --runs 3 \
//!     --db postgres://postgres@127.0.0.1:55432/postgres
//! roster sandbox --port 8911 --members 100000 --seed 7 &
//! cargo run --release -p roster-cli --example sync_bench -- --url http://127.0.0.1:8911 \
//!     --sandbox-pid $! --runs 3
//!
//! For each run: a fresh SQLite directory (or, with `--db postgres://…`, a fresh
//! database `roster_bench_<pid>_<run>` created on that server and dropped after the
//! run; the URL names any database on the server, for a role that may create them),
//! a first import (fetch, plan, apply timed separately), then `--changed` members
//! (1 % by default) change their job title in the sandbox and a daily sync runs
//! full, then as many again change and an incremental sync runs. Without `--url`
//! the sandbox runs in this process (its CPU counts with Roster's); with `--url` it
//! is a separate `roster sandbox` process, changed through its control API, as
//! `roster sync` meets it (`--sandbox-pid` reports its CPU time too). Each step
//! prints wall time, CPU time (user + system) and cores busy; at the end the
//! medians and the peak RSS (VmHWM). `--plan-alone` also times planning alone with
//! the directory in memory (it holds a second copy: leave it off for memory).
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use roster_bench::{Meter, Usage, median, peak_rss_mib};
use roster_core::guard::Trigger;
use roster_core::plan::{PlanOptions, apply, plan};
use roster_engine::{Cipher, Engine, FixedClock, SyncOptions, SyncOutcome, Timings};
use roster_justworks::auth::Credentials;
use roster_justworks::{JustworksConfig, JustworksSource};
use roster_sandbox::SandboxConfig;
use roster_source::{FetchRequest, Source};
use roster_store::Store;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sync benchmarks: first import, daily full sync, incremental sync.
#[derive(Parser, Debug)]
#[command(name = "sync_bench")]
struct Args {
    /// Members of the in-process sandbox (with --url: the sandbox's own).
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// Runs; medians are printed.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Members changed before each daily sync (default: 1 % of the members).
    #[arg(long)]
    changed: Option<usize>,
    /// A PostgreSQL server URL: each run on a fresh database there (default SQLite).
    #[arg(long)]
    db: Option<String>,
    /// A separately started `roster sandbox` (base URL), instead of one in this
    /// process.
    #[arg(long)]
    url: Option<String>,
    /// The process id of that sandbox, to report its CPU time as well.
    #[arg(long, requires = "url")]
    sandbox_pid: Option<u32>,
    /// Skip the daily full sync (e.g. to time the incremental one at 1M).
    #[arg(long)]
    no_full: bool,
    /// Also time planning alone with the directory in memory.
    #[arg(long)]
    plan_alone: bool,
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

fn secs(t: &Timings) -> [f64; 3] {
    [
        t.fetch_ms as f64 / 1e3,
        t.plan_ms as f64 / 1e3 + t.load_ms as f64 / 1e3,
        t.apply_ms as f64 / 1e3,
    ]
}

/// The sandbox a run syncs from: in this process, or another one over HTTP.
enum Sandbox {
    Here(roster_sandbox::RunningSandbox),
    Apart {
        base: url::Url,
        http: reqwest::Client,
    },
}

impl Sandbox {
    async fn start(args: &Args, run: usize, today: jiff::civil::Date) -> anyhow::Result<Self> {
        Ok(match &args.url {
            Some(url) => Sandbox::Apart {
                base: url.parse()?,
                http: reqwest::Client::new(),
            },
            None => Sandbox::Here(
                roster_sandbox::start(
                    SandboxConfig {
                        seed: 7 + run as u64,
                        members: args.members,
                        today,
                        ..Default::default()
                    },
                    "127.0.0.1:0".parse()?,
                )
                .await?,
            ),
        })
    }

    fn control(base: &url::Url, path: &str) -> anyhow::Result<url::Url> {
        Ok(base.join(&format!("_sandbox/{path}"))?)
    }

    async fn source(&self) -> anyhow::Result<JustworksSource> {
        let (base, token) = match self {
            Sandbox::Here(s) => (
                url::Url::parse(&s.base_url())?,
                s.mint_token(&roster_sandbox::all_scopes()),
            ),
            Sandbox::Apart { base, http } => {
                let minted: serde_json::Value = http
                    .post(Self::control(base, "tokens")?)
                    .json(&serde_json::json!({}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let token = minted["access_token"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("the sandbox minted no token"))?;
                (base.clone(), token.to_string())
            }
        };
        let mut config = JustworksConfig::with_base_url(base);
        config.request_timeout = std::time::Duration::from_secs(120);
        Ok(JustworksSource::new(
            config,
            Credentials::Static(token.into()),
        )?)
    }

    /// Every visible member's id.
    async fn ids(&self) -> anyhow::Result<Vec<String>> {
        let id = |m: &serde_json::Value| m["id"].as_str().unwrap_or_default().to_string();
        match self {
            Sandbox::Here(s) => Ok(s
                .handle()
                .members(false)
                .iter()
                .map(|l| id(&l.member))
                .collect()),
            Sandbox::Apart { base, http } => {
                let mut ids = Vec::new();
                loop {
                    let mut url = Self::control(base, "members")?;
                    url.query_pairs_mut()
                        .append_pair("offset", &ids.len().to_string())
                        .append_pair("limit", "10000");
                    let page: serde_json::Value = http
                        .get(url)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    let items = page["items"].as_array().cloned().unwrap_or_default();
                    if items.is_empty() {
                        return Ok(ids);
                    }
                    ids.extend(items.iter().map(|l| id(&l["member"])));
                }
            }
        }
    }

    async fn patch(&self, id: &str, doc: serde_json::Value) -> anyhow::Result<()> {
        match self {
            Sandbox::Here(s) => s
                .handle()
                .patch_member(id, &doc)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}")),
            Sandbox::Apart { base, http } => {
                http.patch(Self::control(base, &format!("members/{id}"))?)
                    .json(&doc)
                    .send()
                    .await?
                    .error_for_status()?;
                Ok(())
            }
        }
    }

    async fn shutdown(self) -> anyhow::Result<()> {
        if let Sandbox::Here(s) = self {
            s.shutdown().await?;
        }
        Ok(())
    }
}

/// One step's figures.
struct Step {
    usage: Usage,
    sandbox: Option<Usage>,
    steps: [f64; 3],
}

impl Step {
    fn print(&self, run: usize, what: &str, o: &SyncOutcome) {
        let [f, p, a] = self.steps;
        eprintln!(
            "run {run}: {what}: {} [fetch {f:.2}, load+plan {p:.2}, apply {a:.2} s] \
             fetched {}, requests {}, created {}, updated {}",
            self.usage, o.members_fetched, o.requests, o.plan.counts.created, o.plan.counts.updated
        );
        if let Some(s) = &self.sandbox {
            eprintln!(
                "run {run}: {what}: sandbox process CPU {:.3} s",
                s.cpu.total().as_secs_f64()
            );
        }
    }
}

/// Run `engine.sync` and measure it.
async fn timed(
    engine: &Engine,
    id: roster_store::IntegrationId,
    source: &JustworksSource,
    opts: SyncOptions,
    sandbox_pid: Option<u32>,
) -> anyhow::Result<(SyncOutcome, Step)> {
    let meter = Meter::start_with(sandbox_pid);
    let o = engine.sync(id, source, opts).await?;
    let step = Step {
        usage: meter.stop(),
        sandbox: meter.other(),
        steps: secs(&o.timings),
    };
    Ok((o, step))
}

/// Medians of the steps of several runs, printed as one line.
fn summary(what: &str, steps: &[Step]) {
    if steps.is_empty() {
        return;
    }
    let m = |f: &dyn Fn(&Step) -> f64| median(steps.iter().map(f).collect());
    let wall = m(&|s| s.usage.wall.as_secs_f64());
    let cpu = m(&|s| s.usage.cpu.total().as_secs_f64());
    let sandbox = match steps[0].sandbox {
        Some(_) => format!(
            ", sandbox CPU {:.2} s",
            m(&|s| s.sandbox.map_or(0.0, |u| u.cpu.total().as_secs_f64()))
        ),
        None => String::new(),
    };
    println!(
        "{what} (median): {wall:.2} s wall, CPU {cpu:.2} s ({:.2} cores){sandbox}  \
         [fetch {:.2} s, load+plan {:.2} s, apply {:.2} s]",
        cpu / wall.max(1e-9),
        m(&|s| s.steps[0]),
        m(&|s| s.steps[1]),
        m(&|s| s.steps[2]),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // As `roster` runs (its `without_huge_pages`).
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let args = Args::parse();
    if let Some(url) = &args.db
        && !roster_store_postgres::is_postgres_url(url)
    {
        anyhow::bail!("--db takes a postgres://… URL (SQLite is the default)");
    }
    if args.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let today = jiff::civil::date(2026, 11, 23);
    let (mut first, mut daily, mut incr, mut planning) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut members = args.members;
    for run in 0..args.runs {
        let sandbox = Sandbox::start(&args, run, today).await?;
        let source = sandbox.source().await?;
        let dir = tempfile::tempdir()?;
        let pg_db = args
            .db
            .as_ref()
            .map(|_| format!("roster_bench_{}_{run}", std::process::id()));
        let store: Arc<dyn Store> = match (&args.db, &pg_db) {
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

        let (o, step) = timed(&engine, i.id, &source, opts(), args.sandbox_pid).await?;
        step.print(run, "first import", &o);
        eprintln!("run {run}: peak RSS so far {:.0} MiB", peak_rss_mib());
        members = o.members_fetched;
        assert_eq!(o.plan.counts.created + o.plan.counts.skipped, members);
        for i in o.plan.issues.iter().filter(|i| i.is_error()) {
            eprintln!("skipped: {i}");
        }
        first.push(step);
        drop(o);

        let ids = sandbox.ids().await?;
        let changed = args.changed.unwrap_or(ids.len() / 100).max(1);
        let every = (ids.len() / changed).max(1);
        if !args.no_full {
            for id in ids.iter().step_by(every).take(changed) {
                sandbox
                    .patch(
                        id,
                        serde_json::json!({ "job_title": format!("Changed {run}") }),
                    )
                    .await?;
            }
            let (o, step) = timed(&engine, i.id, &source, opts(), args.sandbox_pid).await?;
            step.print(run, "daily full", &o);
            daily.push(step);
        }
        for id in ids.iter().skip(1).step_by(every).take(changed) {
            sandbox
                .patch(
                    id,
                    serde_json::json!({ "job_title": format!("Again {run}") }),
                )
                .await?;
        }
        let incremental = SyncOptions {
            incremental: true,
            ..opts()
        };
        let (o, step) = timed(&engine, i.id, &source, incremental, args.sandbox_pid).await?;
        step.print(run, "incremental", &o);
        incr.push(step);

        if args.plan_alone {
            planning.push(plan_alone(&source, today, members).await?);
            eprintln!("run {run}: planning alone {:.3} s", planning[run]);
        }
        sandbox.shutdown().await?;
        drop(engine);
        if let (Some(server), Some(name)) = (&args.db, &pg_db) {
            // FORCE: ends the connections the store's pool may still hold.
            on_server(
                server,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
    }
    let backend = if args.db.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let sandbox = if args.url.is_some() {
        "separate process"
    } else {
        "in process"
    };
    println!(
        "members: {members}, runs: {}, store: {backend}, sandbox: {sandbox}",
        args.runs
    );
    summary("first import", &first);
    summary("daily sync, full", &daily);
    summary("daily sync, incremental", &incr);
    if !planning.is_empty() {
        println!(
            "planning alone, 1% changed (median): {:.3} s",
            median(planning)
        );
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
    Ok(())
}

/// Planning alone: the directory in memory, 1 % changed.
async fn plan_alone(
    source: &JustworksSource,
    today: jiff::civil::Date,
    members: usize,
) -> anyhow::Result<f64> {
    let snap = source.fetch(FetchRequest::default()).await?;
    let settings = roster_core::Settings::default();
    let full = PlanOptions {
        complete: true,
        ..Default::default()
    };
    let p = plan(&[], snap.members.clone(), &[], &settings, today, &full);
    let directory = apply(&[], &p.entries.iter().collect::<Vec<_>>());
    drop(p);
    let mut ms = snap.members;
    for m in ms.iter_mut().step_by(100) {
        m.fields.insert("job_title", "Planned");
    }
    let t = Instant::now();
    let p = plan(&directory, ms, &[], &settings, today, &full);
    let secs = t.elapsed().as_secs_f64();
    // A changed member may be one the validation skips (duplicate emails).
    assert!(p.counts.updated + p.counts.skipped >= members / 100);
    Ok(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
