//! Render times of the admin UI's overview (`/`) and org chart (`/org`) for a big
//! company, over HTTP from a signed-in browser session.
//!
//! `cargo run --release -p roster-server --example ui_bench -- --employees 10000 --runs 5`
//!
//! Writes N active employees (a reporting tree eight wide, a few broken lines) as one
//! applied sync into a fresh SQLite file, starts the server on a loopback port,
//! signs in, and times each page (after one warm-up request): the median and the
//! slowest of `--runs`, and the page's size. Above 20,000 employees the org chart
//! shows three levels, each deeper team one link away; `/org?root=ID` (a manager's
//! subtree) is timed too.
#![allow(clippy::unwrap_used)] // a benchmark: a failure is a panic

use roster_core::fields::FieldMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::date;
use roster_bench::Meter;
use roster_core::employee::Employee;
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Counts};
use roster_engine::{Cipher, SystemClock};
use roster_server::auth::{digest, new_api_token};
use roster_server::{AppState, ServerConfig};
use roster_store::access::{NewApiToken, Role};
use roster_store::{Changeset, EntryRecord, ImportKind, ImportStatus, Store};
use roster_store_sqlite::SqliteStore;
use serde_json::json;

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
        // Every 997th employee's manager left: a broken line.
        manager_email: (i > 0).then(|| {
            if i.is_multiple_of(997) {
                format!("gone{i}@acme.example")
            } else {
                format!("first.last{}@acme.example", (i - 1) / 8)
            }
        }),
        demographics: FieldMap::from([("Job Title".to_string(), format!("Title {}", i % 300))]),
        active: true,
        is_manager: i < 1 + i.max(1) / 8,
        ..Employee::default()
    }
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

/// Render times of the admin UI's overview and org chart for a big company.
#[derive(clap::Parser)]
struct Args {
    /// Active employees written before the pages are timed.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    employees: usize,
    /// Timed requests per page (after one warm-up).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { employees: n, runs } = <Args as clap::Parser>::parse();
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path.to_str().ok_or("path")?).await?);
    let account = store.ensure_account("default").await?;
    let now = Timestamp::now();
    let written = Meter::start();
    let entries: Vec<EntryRecord> = (0..n)
        .map(|i| EntryRecord {
            action: Action::Create,
            key: None,
            employee_id: format!("E{i:07}"),
            changes: Vec::new(),
            after: employee(i),
            applied: true,
            held: false,
            privacy: false,
        })
        .collect();
    // Cycles the sync dropped, as the planner reports them.
    let issues: Vec<_> = (0..n)
        .step_by(1009)
        .skip(1)
        .map(|i| {
            json!({ "severity": "warning", "code": "manager_cycle", "employee_id": format!("E{i:07}"),
                    "field": "manager_email",
                    "message": "this reporting line closes a manager cycle; the link is dropped" })
        })
        .collect();
    store
        .write(
            account,
            Changeset {
                integration_id: None,
                kind: ImportKind::Sync,
                trigger: Trigger::Manual,
                status: ImportStatus::Applied,
                started_at: now,
                finished_at: now,
                counts: Counts {
                    created: n,
                    ..Counts::default()
                },
                details: json!({ "issues": issues, "members_fetched": n }),
                entries,
                notifications: Vec::new(),
                rolls_back: None,
                integration_update: None,
            },
        )
        .await?;
    println!("{n} employees written: {}", written.stop());

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
    let base = format!("http://{addr}");
    let token = new_api_token();
    store
        .create_api_token(NewApiToken {
            account_id: account,
            name: "bench".into(),
            role: Role::AccountAdmin,
            digest: digest(&token),
            created_at: now,
        })
        .await?;
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let password = "a long enough password";
    http.post(format!("{base}/api/v1/web-users"))
        .bearer_auth(&token)
        .json(&json!({ "email": "bench@acme.example", "role": "viewer", "password": password }))
        .send()
        .await?
        .error_for_status()?;
    http.post(format!("{base}/login"))
        .form(&[("email", "bench@acme.example"), ("password", password)])
        .send()
        .await?
        .error_for_status()?;

    let manager = format!("E{:07}", 1);
    for page in ["/", "/org", &format!("/org?root={manager}")] {
        let get = async || -> Result<(Duration, usize), Box<dyn std::error::Error>> {
            let t = Instant::now();
            let res = http.get(format!("{base}{page}")).send().await?;
            let status = res.status();
            let body = res.bytes().await?;
            if !status.is_success() {
                return Err(format!("{page}: {status}").into());
            }
            Ok((t.elapsed(), body.len()))
        };
        get().await?;
        let mut times = Vec::new();
        let mut size = 0;
        let meter = Meter::start();
        for _ in 0..runs {
            let (t, s) = get().await?;
            times.push(t);
            size = s;
        }
        // Server and client share this process: its CPU per request.
        let cpu = meter.stop().cpu.total().as_secs_f64() / runs as f64;
        let (med, max) = median(times);
        println!(
            "{page:<22} median {:>8.1} ms   slowest {:>8.1} ms   CPU {:>8.1} ms a request   {:>7} KiB",
            med.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            cpu * 1000.0,
            size / 1024
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
