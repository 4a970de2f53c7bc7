//! SCIM on a large directory: lookups by `userName`, pages of 100 users, and a whole
//! enumeration by cursor.
//!
//! `cargo run --release -p roster-server --example scim_bench -- --employees 100000`
//!
//! Seeds a fresh SQLite file with N employees (one changeset through the store's bulk
//! write; 40 departments, one manager per 8 employees), creates a viewer token, and
//! serves it on 127.0.0.1:0 in this process (no request log). Then, for `--seconds`
//! each, `--concurrency` clients send requests back to back over keep-alive
//! connections: `GET /scim/v2/Users?filter=userName eq "…"` (a random employee each
//! time), the first page of 100 users, and a page of 100 at a random `startIndex`.
//! Prints requests/s, p50 and p99 of each; then the time to enumerate every user by
//! cursor (pages of 1,000, one client), the time of `GET /Groups` with and without
//! members, and of `meta.lastModified gt` (what changed since: nothing here).
//! Client and server share the machine's cores.

use roster_core::fields::FieldMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use roster_bench::{Meter, Usage};
use roster_core::employee::Employee;
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Counts};
use roster_engine::{Cipher, SystemClock};
use roster_server::auth::{digest, new_api_token};
use roster_server::{AppState, ServerConfig};
use roster_store::access::{NewApiToken, Role};
use roster_store::{Changeset, EntryRecord, ImportKind, ImportStatus, Store};
use roster_store_sqlite::SqliteStore;
use serde_json::Value;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// SCIM on a large directory: lookups by userName, pages, a whole enumeration by cursor.
#[derive(clap::Parser)]
struct Args {
    /// Where the database goes (a new file); a temporary directory without it.
    #[arg(long)]
    db: Option<String>,
    /// Employees seeded.
    #[arg(long, default_value_t = 100_000)]
    employees: usize,
    /// Clients sending requests back to back.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seconds per figure.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

fn employee(i: usize) -> Employee {
    Employee {
        employee_id: format!("E{i:07}"),
        source_id: Some(format!("mbr_{i:010x}")),
        email: format!("first.last{i}@acme.example"),
        secondary_email: i.is_multiple_of(3).then(|| format!("me{i}@home.example")),
        first_name: Some(format!("First{}", i % 977)),
        last_name: Some(format!("Last{}", i % 4099)),
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

async fn seed(store: &dyn Store, account: i64, n: usize) -> Result<(), Error> {
    let entries: Vec<EntryRecord> = (0..n)
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
        .collect();
    let now = Timestamp::now();
    store
        .write(
            account,
            Changeset {
                integration_id: None,
                kind: ImportKind::CsvImport,
                trigger: Trigger::Manual,
                status: ImportStatus::Applied,
                started_at: now,
                finished_at: now,
                counts: Counts {
                    created: n,
                    ..Counts::default()
                },
                details: serde_json::json!({}),
                entries,
                notifications: Vec::new(),
                rolls_back: None,
                integration_update: None,
            },
        )
        .await?;
    Ok(())
}

/// A small, seedable random source (xorshift): no dependency for picking employees.
struct Pick(u64);

impl Pick {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn get(&self, path: &str) -> Result<Value, Error> {
        let res = self
            .http
            .get(format!("{}/scim/v2{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if !status.is_success() {
            return Err(format!("GET {path}: {status} {body}").into());
        }
        Ok(body)
    }
}

/// `concurrency` clients sending `path(random)` back to back for `seconds`; the
/// latencies of every request and the elapsed time.
async fn load(
    client: &Arc<Client>,
    a: &Args,
    path: impl Fn(&mut Pick) -> String + Send + Sync + Clone + 'static,
) -> Result<(Vec<Duration>, Usage), Error> {
    let meter = Meter::start();
    let until = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for t in 0..a.concurrency {
        let client = client.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut pick = Pick(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
            let mut lat = Vec::new();
            while Instant::now() < until {
                let p = path(&mut pick);
                let t0 = Instant::now();
                client.get(&p).await?;
                lat.push(t0.elapsed());
            }
            Ok::<_, Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, meter.stop()))
}

/// Requests/s, p50 and p99, then the process's CPU over the figure (clients and
/// server share this process and the machine's cores).
fn report(name: &str, (mut lat, usage): (Vec<Duration>, Usage)) {
    if lat.is_empty() {
        println!("{name:<44} no request finished");
        return;
    }
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{name:<44} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests; {usage})",
        lat.len() as f64 / usage.wall.as_secs_f64(),
        q(0.50).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        lat.len()
    );
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn timed(client: &Client, name: &str, path: &str) -> Result<Value, Error> {
    let meter = Meter::start();
    let v = client.get(path).await?;
    let usage = meter.stop();
    println!(
        "{name:<44} {:>8.1} ms  (CPU {:.1} ms)",
        usage.wall.as_secs_f64() * 1e3,
        usage.cpu.total().as_secs_f64() * 1e3
    );
    Ok(v)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let a = <Args as clap::Parser>::parse();
    let n = a.employees;
    let dir = tempfile::tempdir()?;
    let path =
        a.db.clone()
            .map_or_else(|| dir.path().join("roster.db"), std::path::PathBuf::from);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path.to_str().ok_or("path")?).await?);
    let account = store.ensure_account("default").await?;
    let meter = Meter::start();
    seed(store.as_ref(), account, n).await?;
    println!("seeded {n} employees: {}", meter.stop());
    let token = new_api_token();
    store
        .create_api_token(NewApiToken {
            account_id: account,
            name: "scim-bench".into(),
            role: Role::Viewer,
            digest: digest(&token),
            created_at: Timestamp::now(),
        })
        .await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = ServerConfig {
        listen: addr,
        public_url: format!("http://{addr}"),
        ..ServerConfig::default()
    };
    let cipher = Cipher::from_base64(&Cipher::generate_base64())?;
    let state = AppState::new(store.clone(), Arc::new(SystemClock), cipher, config);
    tokio::spawn(roster_server::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: format!("http://{addr}"),
        token,
    });

    // Check the answers once before measuring.
    let one = client
        .get(&format!(
            "/Users?filter={}",
            enc("userName eq \"FIRST.LAST77@acme.example\"")
        ))
        .await?;
    if one["totalResults"] != 1 || one["Resources"][0]["userName"] != "first.last77@acme.example" {
        return Err(format!("lookup by userName: {one}").into());
    }
    println!("{} clients, {} s per figure", a.concurrency, a.seconds);
    let lookups = load(&client, &a, move |p| {
        let f = format!("userName eq \"first.last{}@acme.example\"", p.below(n));
        format!("/Users?filter={}", enc(&f))
    })
    .await?;
    report("GET /Users?filter=userName eq \"…\"", lookups);
    report(
        "GET /Users?count=100 (first page)",
        load(&client, &a, |_| "/Users?count=100".to_string()).await?,
    );
    report(
        "GET /Users?count=100&startIndex=<random>",
        load(&client, &a, move |p| {
            format!("/Users?count=100&startIndex={}", p.below(n) + 1)
        })
        .await?,
    );

    let meter = Meter::start();
    let mut seen = HashSet::with_capacity(n);
    let mut next = Some(String::new());
    let mut pages = 0;
    while let Some(cursor) = next {
        let page = client
            .get(&format!("/Users?count=1000&cursor={}", enc(&cursor)))
            .await?;
        for r in page["Resources"].as_array().into_iter().flatten() {
            seen.insert(r["id"].as_str().unwrap_or_default().to_string());
        }
        next = page["nextCursor"].as_str().map(str::to_string);
        pages += 1;
    }
    println!(
        "enumerate every user by cursor (pages of 1,000)  {} ({} users, {pages} pages)",
        meter.stop(),
        seen.len()
    );
    if seen.len() != n {
        return Err(format!("the enumeration saw {} of {n} users", seen.len()).into());
    }
    timed(
        &client,
        "GET /Groups?excludedAttributes=members",
        "/Groups?excludedAttributes=members",
    )
    .await?;
    timed(&client, "GET /Groups (40 groups with members)", "/Groups").await?;
    let since = enc(&format!("meta.lastModified gt \"{}\"", Timestamp::now()));
    timed(
        &client,
        "GET /Users?filter=meta.lastModified gt \"now\"",
        &format!("/Users?filter={since}"),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
