//! What the CLI integration tests share: running the real `roster` binary and
//! reading its JSON. Each test file uses part of it.
#![allow(dead_code)]

pub mod company;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use jiff::civil::{Date, date};
use roster_store_postgres::testing::TestDb;
use serde_json::Value;

pub const DAY1: Date = date(2026, 11, 23);

/// The key a PostgreSQL directory's credentials are encrypted with (SQLite keeps a
/// key file next to the database instead).
pub const PG_SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `roster --db DB`, with the secret key a PostgreSQL URL needs and none otherwise
/// (SQLite then uses its key file).
pub fn command(db: impl AsRef<OsStr>) -> Command {
    let db = db.as_ref();
    let mut c = Command::new(env!("CARGO_BIN_EXE_roster"));
    c.arg("--db").arg(db);
    if db.to_string_lossy().starts_with("postgres") {
        c.env("ROSTER_SECRET_KEY", PG_SECRET_KEY);
        // A shared (PostgreSQL) directory refuses loopback sources unless allowed;
        // the tests' sandboxes live on 127.0.0.1.
        c.env("ROSTER_ALLOW_PRIVATE_SOURCE_URLS", "1");
    } else {
        c.env_remove("ROSTER_SECRET_KEY");
        c.env_remove("ROSTER_ALLOW_PRIVATE_SOURCE_URLS");
    }
    c
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().expect("run roster");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `roster --db DB --today TODAY ARGS…`
pub fn roster(db: impl AsRef<OsStr>, today: Date, args: &[&str]) -> Run {
    let mut c = command(db);
    c.arg("--today").arg(today.to_string()).args(args);
    run(c)
}

pub fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r
}

/// The whole directory, as `roster --json users --all` prints it.
pub fn users(db: impl AsRef<OsStr>, today: Date) -> Vec<Value> {
    let r = ok(roster(db, today, &["--json", "users", "--all"]));
    serde_json::from_str::<Vec<Value>>(&r.stdout).expect("users --json is a JSON array")
}

pub fn user<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter()
        .find(|u| u["employee_id"] == id)
        .unwrap_or_else(|| panic!("no user {id}"))
}

/// Run blocking work (the binary) off the runtime that serves the sandbox.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// The directory backend a test runs on: an SQLite file, or a PostgreSQL database
/// of its own on the server named by `ROSTER_TEST_POSTGRES_URL` (`.ci/run` starts one).
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A directory database for one test, removed when dropped.
pub enum Place {
    File(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] Box<TestDb>),
}

/// A fresh, empty directory database on `backend`, and its `--db` argument.
pub async fn fresh_db(backend: Backend) -> (Place, String) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let db = dir.path().join("roster.db").to_string_lossy().into_owned();
            (Place::File(dir), db)
        }
        Backend::Postgres => {
            let db = TestDb::create().await;
            let url = db.url().to_string();
            (Place::Postgres(Box::new(db)), url)
        }
    }
}

/// Every column of every row of every table of the directory database `db` (an
/// SQLite file or a PostgreSQL URL), as text in lower case: `table.column=value`
/// lines.
pub async fn every_cell(db: &str) -> String {
    use sqlx::{AssertSqlSafe, Connection, Row};
    let mut out = String::new();
    if db.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(db).await.expect("connect");
        let cols = sqlx::query(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_name = c.table_name \
             AND t.table_schema = c.table_schema \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut c)
        .await
        .expect("columns");
        assert!(cols.len() > 50, "{} columns", cols.len());
        for col in cols {
            let (t, name): (String, String) = (col.get(0), col.get(1));
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT \"{name}\"::text FROM \"{t}\""
            )))
            .fetch_all(&mut c)
            .await
            .expect("cells");
            for r in rows {
                if let Some(v) = r.get::<Option<String>, _>(0) {
                    out.push_str(&format!("{t}.{name}={}\n", v.to_lowercase()));
                }
            }
        }
        return out;
    }
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{db}"))
        .await
        .expect("connect");
    let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut c)
        .await
        .expect("tables")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert!(tables.len() > 15, "{tables:?}");
    for t in tables {
        let cols: Vec<String> = sqlx::query(AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}')"
        )))
        .fetch_all(&mut c)
        .await
        .expect("columns")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        for col in cols {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT CAST(\"{col}\" AS BLOB) FROM \"{t}\""
            )))
            .fetch_all(&mut c)
            .await
            .expect("cells");
            for r in rows {
                if let Some(v) = r.get::<Option<Vec<u8>>, _>(0) {
                    let v = String::from_utf8_lossy(&v).to_lowercase();
                    out.push_str(&format!("{t}.{col}={v}\n"));
                }
            }
        }
    }
    out
}

/// The personal fields of `users --json` an erasure must leave nowhere.
pub const PERSONAL: &[&str] = &[
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "secondary_email",
    "phone",
    "date_of_birth",
];

/// An employee `pick` chooses whose personal values ([`PERSONAL`]) appear nowhere
/// in anybody else's row (so that finding one after an erasure can only be theirs),
/// with a phone and a birth date; and those values.
pub fn distinct(list: &[Value], pick: impl Fn(&Value) -> bool) -> (Value, Vec<String>) {
    for u in list {
        let values: Vec<String> = PERSONAL
            .iter()
            .filter_map(|f| u[*f].as_str().map(str::to_string))
            .filter(|v| !v.is_empty())
            .collect();
        if u["phone"].is_null() || u["date_of_birth"].is_null() || !pick(u) {
            continue;
        }
        let others: String = list
            .iter()
            .filter(|o| o["key"] != u["key"])
            .map(|o| {
                // Reports name their manager's email: that is the reference the
                // erasure re-points, not somebody else's value.
                let mut o = o.clone();
                o["manager_email"] = Value::Null;
                o.to_string().to_lowercase()
            })
            .collect();
        if values.iter().all(|v| !others.contains(&v.to_lowercase())) {
            return (u.clone(), values);
        }
    }
    panic!("no employee with distinct personal values in {list:#?}");
}

/// Every event, as `roster --json events` prints them (one JSON object a line).
pub fn events(db: &str, today: Date, extra: &[&str]) -> Vec<roster_core::feed::Event> {
    let mut args = vec!["--json", "events"];
    args.extend_from_slice(extra);
    ok(roster(db, today, &args))
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub fn by_key(list: &[Value]) -> std::collections::BTreeMap<i64, roster_core::employee::Employee> {
    list.iter()
        .map(|v| {
            let e: roster_core::employee::Employee = serde_json::from_value(v.clone()).unwrap();
            (e.key, e)
        })
        .collect()
}

/// A sandbox company of `members` (seed `seed`, on [`DAY1`]) and a fresh directory
/// on `backend` connected to it, set up and synced (applied): the sandbox, the
/// database's place and its `--db` argument.
pub async fn company(
    backend: Backend,
    seed: u64,
    members: usize,
) -> (roster_sandbox::RunningSandbox, Place, String) {
    let (place, db) = fresh_db(backend).await;
    let sandbox = company::synced(seed, members, &db).await;
    (sandbox, place, db)
}

/// Starts `c` in the background and waits for the first line on its standard error
/// that `wanted` accepts; stderr is drained afterwards so that the process never
/// blocks on a full pipe.
pub fn spawn_until(mut c: Command, wanted: impl Fn(&str) -> bool) -> (Child, String) {
    let mut child = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roster");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let line = lines
        .find_map(|l| l.ok().filter(|l| wanted(l)))
        .expect("roster prints the line the test waits for");
    std::thread::spawn(move || for _ in lines {});
    (child, line)
}
