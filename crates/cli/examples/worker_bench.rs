//! Syncs per minute with several workers on one PostgreSQL, for docs/benchmarks.md.
//!
//! ```text
//! bash .ci/postgres.sh start
//! cargo run --release -p roster-cli --example worker_bench -- \
//!     --accounts 1000 --members 200 --workers 1,2,4 --db "$(bash .ci/postgres.sh url)"
//! ```
//!
//! `--help` lists the options. `--fresh-clients` builds a new HTTP client for every sync (the connector's default
//! outside a worker) instead of one shared client per worker.
//!
//! Setup (timed apart, not counted): a fresh database `roster_wbench_<pid>` on the
//! server of `--db` (dropped at the end); N accounts, each with a Justworks sandbox
//! of its own (a real HTTP server on a loopback port, its own generated company of M
//! members), a Justworks integration pointing at it (token stored encrypted, as the
//! CLI stores it), finalised by `setup_sync` and a manual first sync that applies,
//! auto-sync switched on (daily). As worker_pg.rs does.
//!
//! Each round (one per entry of `--workers`): `--change` members of every company
//! get a new job title (a daily sync with something to apply), every auto-sync is
//! made due now (`autosync_now`), the outbox is empty; then K workers start at once
//! (`roster_engine::worker::Worker`, each with a `PgStore` handle of its own, as
//! separate processes would have, tasks of this process) and each runs passes
//! (`Worker::run_once`, the pass `Worker::run` makes, without the idle sleep) until
//! a pass finds nothing due. Measured: wall time until the last sync job completed
//! (the jobs' `last_run_at`), and until every worker finished (outbox delivered too).
//! The rounds reuse the accounts and their sandboxes.
//!
//! The sandboxes run on a tokio runtime of their own (threads named `sandbox`), so
//! their CPU time can be told apart from the workers' (the rest of this process); the
//! PostgreSQL server's CPU time is summed over its processes from /proc, and the
//! machine's from /proc/stat (the difference is other programs, e.g. builds).
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::guard::Trigger;
use roster_core::schedule::{Frequency, Schedule, parse_time};
use roster_engine::notify::NoNotifier;
use roster_engine::worker::{SourceFactory, Worker, WorkerConfig};
use roster_engine::{Cipher, Engine, SyncOptions, SystemClock};
use roster_justworks::auth::Credentials;
use roster_justworks::config::JustworksConfig;
use roster_justworks::{HttpClients, JustworksSource};
use roster_sandbox::{RunningSandbox, SandboxConfig};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::{Integration, IntegrationId, Store};
use roster_store_postgres::PgStore;
use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Syncs per minute with several workers on one PostgreSQL.
#[derive(clap::Parser, Debug)]
#[command(name = "worker_bench")]
struct Args {
    /// Accounts, each with a sandbox and an integration of its own.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Members of each account's company.
    #[arg(long, default_value_t = 200)]
    members: usize,
    /// Members of every company changed before each round.
    #[arg(long, default_value_t = 2)]
    change: usize,
    /// Accounts set up at a time.
    #[arg(long, default_value_t = 8)]
    setup_parallel: usize,
    /// Worker counts, one round each, e.g. 1,2,4.
    #[arg(long, default_value = "1,2,4", value_delimiter = ',')]
    workers: Vec<usize>,
    /// The PostgreSQL server (a database is created there and dropped afterwards),
    /// e.g. "$(bash .ci/postgres.sh url)".
    #[arg(long)]
    db: String,
    /// A new HTTP client for every sync instead of one shared client per worker.
    #[arg(long)]
    fresh_clients: bool,
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

/// The Justworks source of an integration: its base URL in the config, its token in
/// the (encrypted) credentials. As the CLI's wiring builds it.
fn justworks(
    engine: &Engine,
    i: &Integration,
    http: Option<&HttpClients>,
) -> Result<JustworksSource, String> {
    let base = i.config["base_url"].as_str().ok_or("no base URL")?;
    let url = url::Url::parse(base).map_err(|e| e.to_string())?;
    let token = engine
        .credentials(i)
        .map_err(|e| e.to_string())?
        .ok_or("no credentials")?;
    let token = String::from_utf8(token).map_err(|e| e.to_string())?;
    let config = JustworksConfig::with_base_url(url);
    let credentials = Credentials::Static(SecretString::from(token));
    match http {
        Some(http) => JustworksSource::new_shared(config, credentials, None, http),
        None => JustworksSource::new(config, credentials),
    }
    .map_err(|e| e.to_string())
}

/// Time spent building sources and in `fetch` (summed over concurrent syncs).
#[derive(Default)]
struct FetchTime {
    micros: AtomicU64,
    fetches: AtomicU64,
    build_micros: AtomicU64,
}

struct Timed {
    inner: JustworksSource,
    time: Arc<FetchTime>,
}

#[async_trait]
impl Source for Timed {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        self.inner.company().await
    }
    async fn fetch(&self, request: FetchRequest) -> Result<Snapshot, SourceError> {
        let t = Instant::now();
        let r = self.inner.fetch(request).await;
        self.time
            .micros
            .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.time.fetches.fetch_add(1, Ordering::Relaxed);
        r
    }
}

/// Each worker's source factory: with `--fresh-clients`, a new HTTP client per sync
/// (as before the shared clients); otherwise one shared client per worker, as
/// `roster_wiring::JustworksSources` does.
struct Sources(Arc<FetchTime>, Option<HttpClients>);

impl Sources {
    fn new(time: Arc<FetchTime>, fresh: bool) -> Self {
        Self(time, (!fresh).then(HttpClients::default))
    }
}

#[async_trait]
impl SourceFactory for Sources {
    async fn source(
        &self,
        engine: &Arc<Engine>,
        i: &Integration,
    ) -> Result<Box<dyn Source>, String> {
        let t = Instant::now();
        let inner = justworks(engine, i, self.1.as_ref())?;
        self.0
            .build_micros
            .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(Box::new(Timed {
            inner,
            time: self.0.clone(),
        }))
    }
}

/// CPU seconds (user + system) of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat.
fn cpu_ticks(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // Fields 14 and 15 (utime, stime); `rest` starts at field 3.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// A snapshot of CPU use, in clock ticks (USER_HZ = 100 on Linux).
#[derive(Clone, Debug, Default)]
struct Cpu {
    /// This process: sandbox threads, and the rest (workers, runtime, store client).
    sandbox: u64,
    process: u64,
    /// Every `postgres` process, by pid (backends come and go).
    postgres: HashMap<u32, u64>,
    /// The machine: busy and total (all cores).
    busy: u64,
    total: u64,
}

impl Cpu {
    fn now() -> Cpu {
        let mut cpu = Cpu::default();
        if let Ok(s) = std::fs::read_to_string("/proc/self/stat") {
            cpu.process = cpu_ticks(&s).map_or(0, |c| c.1);
        }
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for t in tasks.flatten() {
                if let Ok(s) = std::fs::read_to_string(t.path().join("stat"))
                    && let Some((comm, ticks)) = cpu_ticks(&s)
                    && comm.starts_with("sandbox")
                {
                    cpu.sandbox += ticks;
                }
            }
        }
        if let Ok(procs) = std::fs::read_dir("/proc") {
            for p in procs.flatten() {
                let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                if let Ok(s) = std::fs::read_to_string(p.path().join("stat"))
                    && let Some((comm, ticks)) = cpu_ticks(&s)
                    && comm == "postgres"
                {
                    cpu.postgres.insert(pid, ticks);
                }
            }
        }
        if let Ok(s) = std::fs::read_to_string("/proc/stat")
            && let Some(line) = s.lines().next()
        {
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal
            cpu.total = v.iter().take(8).sum();
            cpu.busy = cpu.total - v.get(3).copied().unwrap_or(0) - v.get(4).copied().unwrap_or(0);
        }
        cpu
    }

    /// CPU seconds since `before`: (sandboxes, workers, postgres, others, machine total).
    fn since(&self, before: &Cpu) -> [f64; 5] {
        let s = |t: u64| t as f64 / 100.0;
        let sandbox = self.sandbox.saturating_sub(before.sandbox);
        let workers = self
            .process
            .saturating_sub(before.process)
            .saturating_sub(sandbox);
        let postgres: u64 = self
            .postgres
            .iter()
            .map(|(pid, t)| t.saturating_sub(before.postgres.get(pid).copied().unwrap_or(0)))
            .sum();
        let busy = self.busy.saturating_sub(before.busy);
        let others = busy.saturating_sub(sandbox + workers + postgres);
        [
            s(sandbox),
            s(workers),
            s(postgres),
            s(others),
            s(self.total.saturating_sub(before.total)),
        ]
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Account {
    engine: Arc<Engine>,
    integration: IntegrationId,
    sandbox: RunningSandbox,
}

fn main() -> anyhow::Result<()> {
    // The sandboxes (stand-ins for the Justworks API) on threads of their own.
    let sandboxes = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sandbox")
        .enable_all()
        .build()?;
    let roster = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = roster.block_on(bench(sandboxes.handle().clone()));
    sandboxes.shutdown_background();
    result
}

async fn bench(sandbox_rt: tokio::runtime::Handle) -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let server = args.db.clone();
    anyhow::ensure!(
        roster_store_postgres::is_postgres_url(&server),
        "--db takes a postgres://… URL"
    );
    let name = format!("roster_wbench_{}", std::process::id());
    on_server(&server, format!("CREATE DATABASE {name}")).await?;
    let url = with_database(&server, &name);
    let result = run(&url, sandbox_rt, &args).await;
    on_server(
        &server,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await?;
    result
}

async fn run(url: &str, sandbox_rt: tokio::runtime::Handle, args: &Args) -> anyhow::Result<()> {
    let (n, members, change) = (args.accounts, args.members, args.change);
    let (parallel, workers, fresh_clients) = (
        args.setup_parallel.max(1),
        args.workers.as_slice(),
        args.fresh_clients,
    );
    eprintln!("load average before setup: {}", load_average());
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(url).await?);
    let cipher = Cipher::from_base64(&Cipher::generate_base64())?;
    let clock = Arc::new(SystemClock);
    let daily = Schedule {
        frequency: Frequency::Daily,
        at: parse_time("02:00").map_err(|e| anyhow::anyhow!("{e}"))?,
        timezone: "UTC".into(),
    };

    // Setup: N accounts, each with its own sandbox, finalised, auto-sync on.
    let t = Instant::now();
    let mut setup = tokio::task::JoinSet::new();
    let mut all: Vec<Option<Account>> = (0..n).map(|_| None).collect();
    let today = jiff::Zoned::now().date();
    for a in 0..n {
        if setup.len() >= parallel
            && let Some(done) = setup.join_next().await
        {
            let (a, account) = done??;
            all[a] = Some(account);
        }
        let (store, clock, cipher, daily, rt) = (
            store.clone(),
            clock.clone(),
            cipher.clone(),
            daily.clone(),
            sandbox_rt.clone(),
        );
        setup.spawn(async move {
            let config = SandboxConfig {
                seed: 1000 + a as u64,
                members,
                today,
                company_name: Some(format!("Company {a}")),
                ..SandboxConfig::default()
            };
            let addr: std::net::SocketAddr = "127.0.0.1:0".parse()?;
            let sandbox = rt
                .spawn(async move { roster_sandbox::start(config, addr).await })
                .await?
                .map_err(|e| anyhow::anyhow!("sandbox {a}: {e}"))?;
            let engine = Arc::new(Engine::open(store, clock, cipher, &format!("acct-{a}")).await?);
            let token = sandbox.mint_token(&roster_sandbox::all_scopes());
            let i = engine
                .connect(
                    roster_store::IntegrationKind::Justworks,
                    "Justworks",
                    serde_json::json!({ "base_url": sandbox.base_url() }),
                    Some(token.as_bytes()),
                )
                .await?;
            let source = justworks(&engine, &i, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            engine.setup_sync(i.id, &source, None).await?;
            let manual = SyncOptions {
                trigger: Some(Trigger::Manual),
                apply: true,
                ..SyncOptions::default()
            };
            engine.sync(i.id, &source, manual).await?;
            engine.enable_autosync(i.id, daily).await?;
            anyhow::Ok((
                a,
                Account {
                    engine,
                    integration: i.id,
                    sandbox,
                },
            ))
        });
    }
    while let Some(done) = setup.join_next().await {
        let (a, account) = done??;
        all[a] = Some(account);
    }
    let all: Vec<Account> = all.into_iter().map(|a| a.expect("set up")).collect();
    // The first syncs queued notifications: deliver them before any round.
    let drain = Worker::new(
        store.clone(),
        clock.clone(),
        cipher.clone(),
        Arc::new(Sources::new(Arc::default(), fresh_clients)),
        Arc::new(NoNotifier),
        WorkerConfig::default(),
    );
    drain.deliver().await?;
    eprintln!(
        "setup: {n} accounts × {members} members (a sandbox each), finalised, auto-sync on: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut by_k: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (round, &k) in workers.iter().enumerate() {
        // Arm: a few members change in every company; every auto-sync due now.
        let t = Instant::now();
        for a in &all {
            let h = a.sandbox.handle();
            for l in h.members(false).into_iter().take(change) {
                let id = l.member["id"].as_str().unwrap_or_default().to_string();
                h.patch_member(
                    &id,
                    &serde_json::json!({ "job_title": format!("Round {round}") }),
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            a.engine.autosync_now(a.integration).await?;
        }
        let before: Vec<i64> = runs(&all).await?.iter().map(|j| j.0).collect();
        eprintln!(
            "round {round}: armed {n} due syncs in {:.1} s; load average {}",
            t.elapsed().as_secs_f64(),
            load_average()
        );

        // K workers, a store handle each, started at once.
        let fetch = Arc::new(FetchTime::default());
        let mut pool = Vec::new();
        for w in 0..k {
            let own: Arc<dyn Store> = Arc::new(PgStore::connect(url).await?);
            pool.push(Worker::new(
                own,
                clock.clone(),
                cipher.clone(),
                Arc::new(Sources::new(fetch.clone(), fresh_clients)),
                Arc::new(NoNotifier),
                WorkerConfig {
                    id: format!("r{round}-w{w}"),
                    poll: Duration::from_millis(100),
                    ..WorkerConfig::default()
                },
            ));
        }
        let cpu0 = Cpu::now();
        let start = Timestamp::now();
        let t0 = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for worker in pool {
            tasks.spawn(async move {
                let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
                let mut delivered = 0;
                loop {
                    let r = worker.run_once().await?;
                    delivered += r.delivery.delivered;
                    if r.jobs.is_empty() {
                        break;
                    }
                    for j in r.jobs {
                        *statuses.entry(j.status).or_default() += 1;
                    }
                }
                anyhow::Ok((worker.config().id.clone(), statuses, delivered))
            });
        }
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let mut per_worker = Vec::new();
        let mut delivered = 0;
        while let Some(done) = tasks.join_next().await {
            let (id, s, d) = done??;
            per_worker.push(format!("{id}: {}", s.values().sum::<usize>()));
            delivered += d;
            for (k, v) in s {
                *statuses.entry(k).or_default() += v;
            }
        }
        let all_done = t0.elapsed().as_secs_f64();
        let cpu = Cpu::now().since(&cpu0);

        // Check: every due sync ran exactly once, and when the last one completed.
        let after = runs(&all).await?;
        let mut last = start;
        let mut ran_once = 0;
        for (b, (r, at, status)) in before.iter().zip(&after) {
            if *r == b + 1 && status.as_deref() == Some("applied") {
                ran_once += 1;
            }
            if let Some(at) = at {
                last = last.max(*at);
            }
        }
        let syncs_done = last.duration_since(start).as_secs_f64();
        let mut engine_ms = Vec::new();
        for a in &all {
            if let Some(i) = a
                .engine
                .store()
                .imports(a.engine.account(), 1)
                .await?
                .first()
            {
                engine_ms.push(i.finished_at.duration_since(i.started_at).as_secs_f64() * 1e3);
            }
        }
        engine_ms.sort_by(|a, b| a.total_cmp(b));
        let fetches = fetch.fetches.load(Ordering::Relaxed).max(1);
        let fetch_ms = fetch.micros.load(Ordering::Relaxed) as f64 / 1e3 / fetches as f64;
        let build_ms = fetch.build_micros.load(Ordering::Relaxed) as f64 / 1e3 / fetches as f64;
        let per_min = n as f64 / syncs_done * 60.0;
        by_k.entry(k).or_default().push(per_min);
        println!(
            "round {round}: {k} worker(s): {n} syncs in {syncs_done:.1} s = {per_min:.0} syncs/min \
             (workers done, outbox delivered: {all_done:.1} s); statuses {statuses:?}; \
             ran exactly once and applied: {ran_once}/{n}; per worker [{}]; delivered {delivered}",
            per_worker.join(", ")
        );
        println!(
            "  per sync: engine (import started → finished) median {:.0} ms, p90 {:.0} ms; \
             fetch mean {fetch_ms:.1} ms; building the source (decrypt token, HTTP client) mean \
             {build_ms:.1} ms; wall time per sync per worker {:.0} ms",
            engine_ms.get(engine_ms.len() / 2).copied().unwrap_or(0.0),
            engine_ms
                .get(engine_ms.len() * 9 / 10)
                .copied()
                .unwrap_or(0.0),
            syncs_done * 1e3 * k as f64 / n as f64,
        );
        println!(
            "  CPU s during the round: sandboxes {:.1}, roster workers {:.1}, postgres {:.1}, \
             other programs {:.1}; machine capacity {:.1} (all cores); load average {}",
            cpu[0],
            cpu[1],
            cpu[2],
            cpu[3],
            cpu[4],
            load_average()
        );
    }
    println!("accounts: {n}, members each: {members}, changed per round: {change}");
    for (k, v) in &by_k {
        let mut v = v.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{k} worker(s): {:.0} syncs/min (median of {}; {:?})",
            v[v.len() / 2],
            v.len(),
            v.iter().map(|x| x.round() as i64).collect::<Vec<_>>()
        );
    }
    drop(all);
    Ok(())
}

/// Each account's auto-sync job: runs, last run, last status.
async fn runs(all: &[Account]) -> anyhow::Result<Vec<(i64, Option<Timestamp>, Option<String>)>> {
    let mut out = Vec::with_capacity(all.len());
    for a in all {
        let j = a
            .engine
            .autosync(a.integration)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no auto-sync job"))?;
        out.push((j.runs, j.last_run_at, j.last_status));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
