//! End-to-end: the real `roster` binary against a real sandbox over HTTP, playing
//! several days of a company and asserting the directory after each. The sync
//! scenarios run twice: on an SQLite file and on a PostgreSQL database of their own
//! (the server named by `ROSTER_TEST_POSTGRES_URL`; `.ci/run` starts one).
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::company::{connect_to, plain_members, sandbox, start_sandbox, token};
use common::{Backend, DAY1, Place, blocking, command, fresh_db, ok, roster, user, users};
use jiff::civil::date;
use roster_sandbox::{Faults, NameChange, RunningSandbox};
use serde_json::Value;

async fn company(members: usize, backend: Backend) -> (RunningSandbox, Place, String) {
    let (place, db) = fresh_db(backend).await;
    let (sandbox, _) = sandbox(11, members, &db).await;
    (sandbox, place, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_days_of_a_company_on_sqlite() {
    several_days_of_a_company(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_days_of_a_company_on_postgres() {
    several_days_of_a_company(Backend::Postgres).await;
}

async fn several_days_of_a_company(backend: Backend) {
    let (sandbox, _db, db) = company(80, backend).await;
    let h = sandbox.handle();
    let members = plain_members(&sandbox);
    let out_dir = tempfile::tempdir().unwrap();
    let plan_csv = out_dir.path().join("plan.csv");
    let plan_csv2 = plan_csv.to_string_lossy().into_owned();
    let db2 = db.clone();

    // Day 1: setup sync imports nothing; the first sync imports everyone.
    let (setup, before, review, applied, after) = blocking(move || {
        let setup = ok(roster(&db2, DAY1, &["setup-sync"]));
        let before = users(&db2, DAY1);
        let review = ok(roster(&db2, DAY1, &["sync"]));
        let applied = ok(roster(
            &db2,
            DAY1,
            &["sync", "--apply", "--yes", "--out", &plan_csv2],
        ));
        (setup, before, review, applied, users(&db2, DAY1))
    })
    .await;
    assert!(setup.stdout.contains("Members: 80"), "{}", setup.stdout);
    assert!(before.is_empty(), "setup sync imports no employee data");
    assert!(review.stdout.contains("Reviewed only"), "{}", review.stdout);
    assert!(
        applied.stdout.contains("Applied as import 1"),
        "{}",
        applied.stdout
    );
    assert_eq!(after.len(), 80);
    let csv = std::fs::read_to_string(&plan_csv).unwrap();
    assert!(csv.starts_with("action,employee_id,source_id,field,old,new,rule"));
    assert!(csv.lines().count() > 80);
    let terminated = after.iter().filter(|u| u["active"] == false).count();
    assert!(terminated > 0, "past leavers are imported deactivated");

    // Day 2: a leaver and a hire.
    let day2 = date(2026, 11, 24);
    h.set_today(day2);
    h.terminate(&members[0], day2).unwrap();
    let hired = h.hire_random().unwrap();
    let hired_id = hired["id"].as_str().unwrap().to_string();
    let db2 = db.clone();
    let sqlite = matches!(backend, Backend::Sqlite);
    let (dir2, alone) = blocking(move || {
        ok(roster(&db2, day2, &["sync", "--apply", "--yes"]));
        // The sync closed the directory while it printed its review (#15), and
        // returned after the close: the file alone holds the day's change (#18.7).
        let alone = sqlite.then(|| {
            let wal = std::fs::metadata(format!("{db2}-wal")).map(|m| m.len());
            assert!(matches!(wal, Err(_) | Ok(0)), "WAL left behind: {wal:?}");
            let copy = format!("{db2}.alone");
            std::fs::copy(&db2, &copy).unwrap();
            std::fs::copy(format!("{db2}.key"), format!("{copy}.key")).unwrap();
            users(&copy, day2)
        });
        (users(&db2, day2), alone)
    })
    .await;
    if let Some(alone) = alone {
        assert_eq!(alone, dir2, "a copy of the file alone");
    }
    assert_eq!(user(&dir2, &members[0])["active"], false);
    assert_eq!(user(&dir2, &members[0])["deactivation_reason"], "end_date");
    assert_eq!(user(&dir2, &hired_id)["active"], true);
    assert_eq!(dir2.len(), 81);

    // Day 3: a name and date-of-birth change together is privacy-guarded.
    let day3 = date(2026, 11, 25);
    h.set_today(day3);
    let change = NameChange {
        family_name: Some("Newname".into()),
        date_of_birth: Some(date(1980, 1, 1)),
        ..NameChange::default()
    };
    h.set_name_and_dob(&members[1], &change).unwrap();
    h.set_work_email(&members[2], Some("moved.person@elsewhere.example"))
        .unwrap();
    let db2 = db.clone();
    let (auto, auto_dir, held, held_dir, confirmed, confirmed_dir) = blocking(move || {
        let auto = roster(&db2, day3, &["sync", "--apply", "--yes", "--automatic"]);
        let auto_dir = users(&db2, day3);
        let held = roster(&db2, day3, &["sync", "--apply", "--yes"]);
        let held_dir = users(&db2, day3);
        let confirmed = roster(
            &db2,
            day3,
            &["sync", "--apply", "--yes", "--confirm-privacy"],
        );
        (auto, auto_dir, held, held_dir, confirmed, users(&db2, day3))
    })
    .await;
    assert_eq!(
        auto.code, 3,
        "an automatic sync is blocked by the guard: {}",
        auto.stdout
    );
    assert!(auto.stdout.contains("BLOCKED"));
    assert_eq!(auto_dir, dir2, "a blocked sync applies nothing");
    assert_eq!(
        held.code, 4,
        "manual without confirmation holds: {}",
        held.stdout
    );
    assert_ne!(user(&held_dir, &members[1])["last_name"], "Newname");
    assert_eq!(
        user(&held_dir, &members[2])["email"],
        "moved.person@elsewhere.example",
        "the rest is applied"
    );
    assert_eq!(confirmed.code, 0, "{}", confirmed.stderr);
    assert_eq!(user(&confirmed_dir, &members[1])["last_name"], "Newname");
    assert_eq!(
        user(&confirmed_dir, &members[1])["date_of_birth"],
        "1980-01-01"
    );

    // Day 4: removed without an end date stays active (on_missing = keep) until the
    // setting says otherwise; an incremental sync never deactivates anyone unread.
    let day4 = date(2026, 11, 26);
    h.set_today(day4);
    h.hide(&members[3]).unwrap();
    let patch = serde_json::json!({ "job_title": "Chief Cheese Officer" });
    h.patch_member(&members[4], &patch).unwrap();
    let db2 = db.clone();
    let m6 = members[6].clone();
    let h2 = h.clone();
    let (kept, incr, deactivated) = blocking(move || {
        ok(roster(&db2, day4, &["sync", "--apply", "--yes"]));
        let kept = users(&db2, day4);
        ok(roster(
            &db2,
            day4,
            &["settings", "set", "on_missing", "deactivate"],
        ));
        h2.patch_member(&m6, &serde_json::json!({ "job_title": "Night Owl" }))
            .unwrap();
        let incr = ok(roster(&db2, day4, &["--json", "sync", "--incremental"]));
        ok(roster(&db2, day4, &["sync", "--apply", "--yes"]));
        (kept, incr, users(&db2, day4))
    })
    .await;
    assert_eq!(user(&kept, &members[3])["active"], true);
    assert_eq!(
        user(&kept, &members[4])["demographics"]["Job Title"],
        "Chief Cheese Officer"
    );
    let incr: Value = serde_json::from_str(&incr.stdout).unwrap();
    assert_eq!(
        incr["plan"]["counts"]["deactivated"], 0,
        "incremental never deactivates the unread"
    );
    let fetched = incr["members_fetched"].as_u64().unwrap();
    assert!(
        (1..10).contains(&fetched),
        "incremental reads only changed members: {fetched}"
    );
    assert_eq!(incr["plan"]["counts"]["updated"], 1, "the change is seen");
    assert_eq!(user(&deactivated, &members[3])["active"], false);
    assert_eq!(
        user(&deactivated, &members[3])["deactivation_reason"],
        "missing"
    );

    // History, rollback, exclusion.
    let db2 = db.clone();
    let m4 = members[4].clone();
    let m5 = members[5].clone();
    let (show, imports, rolled, excluded) = blocking(move || {
        let show = ok(roster(&db2, day4, &["--json", "users", "show", &m4]));
        let imports: Vec<Value> =
            serde_json::from_str(&ok(roster(&db2, day4, &["--json", "imports"])).stdout).unwrap();
        let last = imports[0]["id"].as_i64().unwrap();
        ok(roster(
            &db2,
            day4,
            &["rollback", &last.to_string(), "--yes"],
        ));
        let rolled = users(&db2, day4);
        ok(roster(&db2, day4, &["users", "exclude", &m5]));
        ok(roster(&db2, day4, &["sync", "--apply", "--yes"]));
        (show, imports, rolled, users(&db2, day4))
    })
    .await;
    let show: Value = serde_json::from_str(&show.stdout).unwrap();
    let history = show["history"].as_array().unwrap();
    assert!(history.iter().any(|h| {
        h["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "demographic:Job Title")
    }));
    let statuses: Vec<&str> = imports
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    for s in ["applied", "blocked", "partially_applied"] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    assert_eq!(
        user(&rolled, &members[3])["active"],
        true,
        "rollback restores the deactivated"
    );
    assert_eq!(
        user(&excluded, &members[5])["active"],
        false,
        "exclusion is sticky across syncs"
    );
    assert_eq!(user(&excluded, &members[5])["excluded"], true);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_changes_nothing_and_is_recorded_on_sqlite() {
    a_failed_fetch_changes_nothing_and_is_recorded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_changes_nothing_and_is_recorded_on_postgres() {
    a_failed_fetch_changes_nothing_and_is_recorded(Backend::Postgres).await;
}

async fn a_failed_fetch_changes_nothing_and_is_recorded(backend: Backend) {
    let (sandbox, _db, db) = company(30, backend).await;
    let db2 = db.clone();
    let before = blocking(move || {
        ok(roster(&db2, DAY1, &["sync", "--apply", "--yes"]));
        users(&db2, DAY1)
    })
    .await;
    sandbox
        .handle()
        .terminate(&plain_members(&sandbox)[0], DAY1)
        .unwrap();
    sandbox
        .handle()
        .set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let db2 = db.clone();
    let (run, after, imports) = blocking(move || {
        let run = roster(&db2, DAY1, &["sync", "--apply", "--yes"]);
        let imports: Vec<Value> =
            serde_json::from_str(&ok(roster(&db2, DAY1, &["--json", "imports"])).stdout).unwrap();
        (run, users(&db2, DAY1), imports)
    })
    .await;
    assert_eq!(run.code, 6, "fetch failure exit code: {}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert_eq!(
        error.matches("attempt(s)").count(),
        1,
        "the cause is said once: {error}"
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal: {:?}",
        run.stderr
    );
    assert_eq!(before, after);
    assert_eq!(imports[0]["status"], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_are_clear() {
    let (_sandbox, _db, db) = company(10, Backend::Sqlite).await;
    let db2 = db.clone();
    let (no_yes, bad_setting, unknown_user) = blocking(move || {
        (
            roster(&db2, DAY1, &["sync", "--apply"]),
            roster(&db2, DAY1, &["settings", "set", "on_missing", "archive"]),
            roster(&db2, DAY1, &["users", "show", "nobody@nowhere.example"]),
        )
    })
    .await;
    assert_eq!(no_yes.code, 2);
    assert!(no_yes.stderr.contains("--yes"));
    assert_eq!(bad_setting.code, 1);
    assert!(
        bad_setting.stderr.contains("on_missing"),
        "{}",
        bad_setting.stderr
    );
    assert_eq!(unknown_user.code, 1);
}

#[test]
fn the_demo_runs_and_leaves_a_directory_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db").to_string_lossy().into_owned();
    let r = ok(roster(&db, DAY1, &["demo", "--members", "60"]));
    assert!(r.stdout.contains("BLOCKED"), "the demo shows the guard");
    assert!(r.stdout.contains("held by the privacy guard"));
    let imports: Vec<Value> =
        serde_json::from_str(&ok(roster(&db, DAY1, &["--json", "imports"])).stdout).unwrap();
    let statuses: Vec<&str> = imports
        .iter()
        .rev()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["applied", "blocked", "partially_applied", "applied"]
    );
    assert_eq!(users(&db, DAY1).len(), 61);
    // Running it again replaces the demo directory.
    ok(roster(&db, DAY1, &["demo", "--members", "60"]));
    assert_eq!(users(&db, DAY1).len(), 61);
    // The token is not stored in the clear.
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !raw.windows(12).any(|w| w == b"static_token"),
        "credentials are encrypted"
    );
}

/// Kill `roster sync --apply` at several points of a 20k-member first import: the
/// directory is always either untouched or fully imported, never half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_during_a_sync_leaves_the_directory_whole_on_sqlite() {
    killing_the_process_during_a_sync_leaves_the_directory_whole(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_during_a_sync_leaves_the_directory_whole_on_postgres() {
    killing_the_process_during_a_sync_leaves_the_directory_whole(Backend::Postgres).await;
}

async fn killing_the_process_during_a_sync_leaves_the_directory_whole(backend: Backend) {
    let sandbox = start_sandbox(5, 20_000).await;
    let token = token(&sandbox);
    let url = sandbox.base_url();
    let delays = [300u64, 900, 1600, 2400, 3500, 5000];
    let mut dbs = Vec::new();
    for _ in delays {
        dbs.push(fresh_db(backend).await);
    }
    let outcomes = blocking(move || {
        let mut outcomes = Vec::new();
        for (delay_ms, (_place, db)) in delays.into_iter().zip(dbs) {
            connect_to(&db, &url, &token);
            let mut child = command(&db)
                .args(["--today", &DAY1.to_string(), "sync", "--apply", "--yes"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let finished = child.try_wait().unwrap().is_some();
            child.kill().ok(); // SIGKILL: no cleanup runs
            child.wait().unwrap();
            let count = users(&db, DAY1).len();
            let imports: Vec<Value> =
                serde_json::from_str(&ok(roster(&db, DAY1, &["--json", "imports"])).stdout)
                    .unwrap();
            // A review needs no lock and still sees a consistent directory.
            let review: Value =
                serde_json::from_str(&ok(roster(&db, DAY1, &["--json", "sync"])).stdout).unwrap();
            outcomes.push((
                delay_ms,
                finished,
                count,
                imports.len(),
                review["plan"]["counts"]["created"].as_u64().unwrap(),
            ));
        }
        outcomes
    })
    .await;
    // (delay ms, process had finished by itself, employees, imports, creates planned next)
    eprintln!("kill outcomes: {outcomes:?}");
    for (delay, _finished, count, imports, to_create) in &outcomes {
        match count {
            0 => {
                assert_eq!(
                    *imports, 0,
                    "killed at {delay} ms: no import recorded without its rows"
                );
                assert!(
                    *to_create > 19_000,
                    "killed at {delay} ms: the next review plans the whole import again"
                );
            }
            n => {
                assert!(
                    *n > 19_000,
                    "killed at {delay} ms: {n} employees is a half-written directory"
                );
                assert_eq!(*imports, 1);
                assert_eq!(*to_create, 0);
            }
        }
    }
    assert!(
        outcomes.iter().any(|o| o.2 == 0),
        "at least one kill landed before the commit: {outcomes:?}"
    );
    sandbox.shutdown().await.unwrap();
}
