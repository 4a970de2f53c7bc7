//! The change feed's figures for docs/benchmarks.md (issue #14), on SQLite:
//!
//! ```text
//! cargo run --release -p roster-cli --example feed_bench -- --employees 100000 --runs 3
//! ```
//!
//! 1. **Events of a first import.** One changeset of N creates written to a fresh
//!    store (the events derived and stored in its transaction: since migration 0013
//!    a create's event is the cursor on its import entry, indexed, and only
//!    `import.applied` is an `events` row), against the same write to a fresh store
//!    with event storage off: its `events` table ignores inserts (a `RAISE(IGNORE)`
//!    trigger) and the index of the kept creates' cursors is dropped (the cursor
//!    column, 8 bytes of an entry row, stays). Plus the derivation alone
//!    (`derive_stored` and the encoding of the rows it stores). The feed's extra time
//!    is the derivation plus the write difference. One warm-up pair first, then
//!    `--runs` pairs alternating with / without; medians of wall and CPU time.
//!
//!    `--instructions with|without|none|derive` instead writes one first import of
//!    `--employees` (with events, with event storage off, or not at all; `derive`:
//!    none, then the derivation alone) and exits: run it under `valgrind
//!    --tool=cachegrind --cache-sim=no` for instruction counts that a loaded machine
//!    does not sway (with − none and without − none are the two writes, derive −
//!    none the derivation).
//! 2. **Reading the Events API**: every event of that import through `GET
//!    /api/v1/events?limit=1000` of a real server on a loopback port, page by page.
//! 3. **Delivering to a webhook**: a webhook subscribed (`employee.*`,
//!    `import.applied`) before the import, a local receiver answering 204, the
//!    worker's `deliver_feed` until nothing is left; `--batch` events per request.
//! 4. **As of a date**: then 30 days of 1 % daily changes (job title and last name
//!    of N/100 employees a day, one import a day), and `Engine::directory_as_of`
//!    for the first day (every change undone) and the middle one.
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does
#![allow(clippy::unwrap_used)] // a benchmark panics on what must not fail

use roster_core::fields::FieldMap;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use roster_bench::Meter;
use roster_core::employee::Employee;
use roster_core::feed::{ImportMeta, Written, derive_stored};
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Change, Counts, Rule};
use roster_engine::notify::{FeedOptions, Notifier};
use roster_engine::worker::{SourceFactory, Worker, WorkerConfig};
use roster_engine::{Cipher, Engine, FixedClock};
use roster_notify::{Notifiers, WebhookSender};
use roster_source::Source;
use roster_store::{Changeset, EntryRecord, ImportKind, ImportStatus, Integration, Store};
use roster_store_sqlite::SqliteStore;
use secrecy::SecretString;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The change feed's figures (issue #14) on SQLite; see the top of this file.
#[derive(clap::Parser, Debug)]
#[command(name = "feed_bench")]
struct Args {
    /// Employees of the first import.
    #[arg(long, default_value_t = 100_000)]
    employees: usize,
    /// Runs of the first import's write (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Events per webhook request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Only one write, for an instruction count: `with` (events), `without` (event
    /// storage off), `none` (no write: the rest of the process) or `derive` (no
    /// write, the events derived and encoded).
    #[arg(long)]
    instructions: Option<String>,
}

fn employee(i: usize) -> Employee {
    let day = (i % 28) as i8 + 1;
    let month = (i % 12) as i8 + 1;
    Employee {
        employee_id: format!("E{i:07}"),
        source_id: Some(format!("mbr_{i:010x}")),
        email: format!("first.last{i}@acme.example"),
        first_name: Some(format!("First{}", i % 977)),
        last_name: Some(format!("Last{}", i % 4099)),
        date_of_birth: Some(date(1960 + (i % 40) as i16, month, day)),
        start_date: Some(date(2000 + (i % 25) as i16, month, day)),
        hire_date: Some(date(2000 + (i % 25) as i16, month, day)),
        manager_email: (i > 0).then(|| format!("first.last{}@acme.example", i / 8)),
        phone: Some(format!("+1 212 555 {:04}", i % 10_000)),
        demographics: FieldMap::from([
            ("Department".to_string(), format!("Department {}", i % 40)),
            ("Job Title".to_string(), format!("Title {}", i % 300)),
        ]),
        active: true,
        ..Employee::default()
    }
}

fn noon(d: Date) -> Timestamp {
    d.at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
}

fn changeset(at: Timestamp, entries: Vec<EntryRecord>) -> Changeset {
    Changeset {
        integration_id: None,
        kind: ImportKind::Sync,
        trigger: Trigger::Manual,
        status: ImportStatus::Applied,
        started_at: at,
        finished_at: at,
        counts: Counts::default(),
        details: serde_json::json!({}),
        entries,
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    }
}

fn creates(n: usize) -> Vec<EntryRecord> {
    (0..n)
        .map(|i| {
            let after = employee(i);
            EntryRecord {
                action: Action::Create,
                key: None,
                employee_id: after.employee_id.clone(),
                changes: Vec::new(),
                after,
                applied: true,
                held: false,
                privacy: false,
            }
        })
        .collect()
}

async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db").to_str().unwrap())
        .await
        .unwrap();
    (store, dir)
}

/// A fresh store whose writes store no events: `events` ignores inserts and the
/// kept creates' cursors are not indexed.
async fn fresh_without_events() -> (SqliteStore, tempfile::TempDir) {
    let (store, dir) = fresh().await;
    for sql in [
        "CREATE TRIGGER feed_off BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END",
        "DROP INDEX import_entries_event",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    (store, dir)
}

/// One timed first import of `n` creates; wall and CPU seconds.
async fn timed_write(store: &SqliteStore, n: usize, day0: Date) -> (f64, f64) {
    let a = store.ensure_account("bench").await.unwrap();
    let cs = changeset(noon(day0), creates(n));
    let t = Meter::start();
    store.write(a, cs).await.unwrap();
    let u = t.stop();
    (u.wall.as_secs_f64(), u.cpu.total().as_secs_f64())
}

/// `--instructions`: one write (or none) and out.
async fn one_write(mode: &str, n: usize, day0: Date) {
    let (store, _d) = match mode {
        "without" => fresh_without_events().await,
        "with" | "none" | "derive" => fresh().await,
        other => panic!("--instructions: with, without or none, not {other}"),
    };
    let a = store.ensure_account("bench").await.unwrap();
    let cs = changeset(noon(day0), creates(n));
    if mode == "derive" {
        std::hint::black_box(derive_and_encode(&cs.entries, day0));
    }
    if mode == "with" || mode == "without" {
        store.write(a, cs).await.unwrap();
    } else {
        std::hint::black_box(cs);
    }
}

/// Deriving a first import's events and encoding the rows the write stores.
fn derive_and_encode(entries: &[EntryRecord], day0: Date) -> f64 {
    let t = Instant::now();
    let written: Vec<Written<'_>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| Written::new(i as i64 + 1, e.action, &e.changes, &e.after))
        .collect();
    let meta = ImportMeta {
        id: 1,
        kind: ImportKind::Sync,
        at: noon(day0),
        day: day0,
    };
    let events = derive_stored(&meta, &written, 1);
    let mut bytes = 0usize;
    let mut kept = Vec::new();
    for e in events {
        // As `changeset_events`: a create that recorded no changes is kept on
        // its entry (key and cursor), the rest are rows.
        if e.created.is_some() {
            kept.push((e.event.employee_key, e.event.cursor));
            continue;
        }
        for v in roster_store::sql::feed::event_values(1, e).unwrap() {
            if let roster_store::sql::Arg::Text(Some(s)) = v {
                bytes += s.len();
            }
        }
    }
    let d = t.elapsed().as_secs_f64();
    std::hint::black_box((bytes, kept));
    d
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct NoSources;

#[async_trait]
impl SourceFactory for NoSources {
    async fn source(&self, _: &Arc<Engine>, _: &Integration) -> Result<Box<dyn Source>, String> {
        Err("no sources".into())
    }
}

/// A webhook receiver counting events; its address.
async fn receiver(count: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/feed",
        axum::routing::post(move |body: axum::body::Bytes| {
            let count = count.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                count.fetch_add(v["events"].as_array().unwrap().len(), Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::main]
async fn main() {
    let Args {
        employees: n,
        runs,
        batch,
        instructions,
    } = <Args as clap::Parser>::parse();
    let day0 = date(2026, 9, 1);

    if let Some(mode) = instructions {
        one_write(&mode, n, day0).await;
        return;
    }

    // 1. The events' share of a first import: a warm-up pair, then `runs` pairs.
    let (mut with, mut without, mut derive) = (Vec::new(), Vec::new(), Vec::new());
    let (mut with_cpu, mut without_cpu) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let (store, _d) = fresh().await;
        let (wall, cpu) = timed_write(&store, n, day0).await;
        let (store, _d2) = fresh_without_events().await;
        let (wall_off, cpu_off) = timed_write(&store, n, day0).await;
        let d = derive_and_encode(&creates(n), day0);
        if run == 0 {
            continue;
        }
        with.push(wall);
        with_cpu.push(cpu);
        without.push(wall_off);
        without_cpu.push(cpu_off);
        derive.push(d);
    }
    let (w, wo, d) = (median(with), median(without), median(derive));
    let feed = d + (w - wo).max(0.0);
    println!("employees                  {n}");
    println!("first import write          {w:>8.3} s (median of {runs})");
    println!("  with event storage off     {wo:>8.3} s");
    println!("  derive + encode events     {d:>8.3} s");
    println!(
        "  feed's extra time          {feed:>8.3} s = {:.1} % of the import without it",
        100.0 * feed / (w - feed)
    );
    // CPU time (user + system) of the same writes: less swayed by other processes
    // on a loaded machine than wall time.
    let (wc, woc) = (median(with_cpu), median(without_cpu));
    let feed_cpu = d + (wc - woc).max(0.0);
    println!("  CPU: write {wc:.3} s, with event storage off {woc:.3} s");
    println!(
        "  feed's extra CPU time      {feed_cpu:>8.3} s = {:.1} % of the import's CPU without it",
        100.0 * feed_cpu / (wc - feed_cpu)
    );

    // 2–4 on one store: the webhook subscribed first, then the import.
    let (store, _dir) = fresh().await;
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = Arc::new(FixedClock::new(noon(day0)));
    let cipher = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
    let engine = Engine::open(store.clone(), clock.clone(), cipher.clone(), "bench")
        .await
        .unwrap();
    let a = engine.account();
    let received = Arc::new(AtomicUsize::new(0));
    let hook = receiver(received.clone()).await;
    engine
        .add_webhook_with(
            &format!("http://{hook}/feed"),
            Some(SecretString::from("whsec_bench")),
            vec!["employee.*".into(), "import.applied".into()],
            FeedOptions {
                fields: Vec::new(),
                batch_size: Some(batch),
            },
        )
        .await
        .unwrap();
    store
        .write(a, changeset(noon(day0), creates(n)))
        .await
        .unwrap();

    // 2. The Events API.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = roster_server::AppState::new(
        store.clone(),
        clock.clone(),
        cipher.clone(),
        roster_server::ServerConfig::default(),
    );
    tokio::spawn(roster_server::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    let token = roster_server::auth::new_api_token();
    store
        .create_api_token(roster_store::access::NewApiToken {
            account_id: a,
            name: "bench".into(),
            role: roster_store::access::Role::Viewer,
            digest: roster_server::auth::digest(&token),
            created_at: Timestamp::now(),
        })
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let t = Instant::now();
    let (mut after, mut read) = (0i64, 0usize);
    loop {
        let page: serde_json::Value = http
            .get(format!("{base}/api/v1/events?after={after}&limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap().len();
        if items == 0 {
            break;
        }
        read += items;
        after = page["next_after"].as_i64().unwrap();
    }
    let api = t.elapsed().as_secs_f64();
    assert_eq!(read, n + 1, "every create's event and import.applied");
    println!(
        "Events API read             {read} events in {api:.3} s = {:.0} events/s",
        read as f64 / api
    );

    // 3. Webhook delivery.
    let worker = Worker::new(
        store.clone(),
        clock.clone(),
        cipher.clone(),
        Arc::new(NoSources),
        Arc::new(Notifiers {
            webhook: WebhookSender::new(Duration::from_secs(30), 0).unwrap(),
            smtp: None,
        }) as Arc<dyn Notifier>,
        WorkerConfig::default(),
    );
    let t = Instant::now();
    loop {
        let r = worker.deliver_feed().await.unwrap();
        if r.batches == 0 {
            break;
        }
    }
    let hooked = t.elapsed().as_secs_f64();
    let got = received.load(Ordering::SeqCst);
    println!(
        "webhook delivery            {got} events in {hooked:.3} s = {:.0} events/s ({batch} a request)",
        got as f64 / hooked
    );

    // 4. As of a date after 30 days of 1 % daily changes.
    let mut current: BTreeMap<i64, Employee> = store
        .directory(a)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e))
        .collect();
    let keys: Vec<i64> = current.keys().copied().collect();
    let per_day = (n / 100).max(1);
    let t = Instant::now();
    for day in 1..=30usize {
        let at = noon(day0) + SignedDuration::from_hours(24 * day as i64);
        let mut picked = std::collections::BTreeSet::new();
        for j in 0..per_day {
            picked.insert(keys[(day * 7919 + j * 101) % keys.len()]);
        }
        let entries = picked
            .into_iter()
            .map(|key| {
                let before = current[&key].clone();
                let mut after = before.clone();
                after.last_name = Some(format!("Last d{day}"));
                after
                    .demographics
                    .insert("Job Title", format!("Title d{day}"));
                let changes = roster_core::employee::diff(&before, &after)
                    .into_iter()
                    .map(|(field, old, new)| Change {
                        field,
                        old,
                        new,
                        rule: Rule::Source,
                    })
                    .collect();
                current.insert(key, after.clone());
                EntryRecord {
                    action: Action::Update,
                    key: Some(key),
                    employee_id: before.employee_id.clone(),
                    changes,
                    after,
                    applied: true,
                    held: false,
                    privacy: false,
                }
            })
            .collect();
        store.write(a, changeset(at, entries)).await.unwrap();
    }
    println!(
        "30 days of 1 % changes      written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for days in [0i64, 15] {
        let d = day0.checked_add(jiff::Span::new().days(days)).unwrap();
        let t = Instant::now();
        let past = engine.directory_as_of(d).await.unwrap();
        println!(
            "--as-of {d} (day {days:>2})     {} employees in {:.3} s",
            past.len(),
            t.elapsed().as_secs_f64()
        );
        if days == 0 {
            assert!(
                past.iter()
                    .all(|e| !e.last_name.as_deref().unwrap_or("").starts_with("Last d"))
            );
        }
    }
    let t = Instant::now();
    let _ = engine.directory().await.unwrap();
    println!(
        "(today's directory alone     {:.3} s)",
        t.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
