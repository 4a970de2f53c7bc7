//! Issue #11 hardening of the `roster` binary: exit codes of the commands that ask,
//! a closed standard output, formulas in CSV files, file modes, the audit trail and
//! backups. Each test drives the real binary on a demo directory (SQLite).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::path::{Path, PathBuf};

use common::company::{connect_to, start_sandbox, token};
use common::{DAY1, command, ok, roster, run, users};
use serde_json::Value;

/// A demo directory (a Justworks integration, imports, employees) in a temp dir.
fn demo(members: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    ok(roster(&db, DAY1, &["demo", "--members", members]));
    (dir, db)
}

fn imports(db: &Path) -> Vec<Value> {
    serde_json::from_str(&ok(roster(db, DAY1, &["--json", "imports"])).stdout).unwrap()
}

/// #11.10: every command that asks exits 2 (usage) without a terminal and without
/// `--yes` (the test's standard input is not a terminal), with or without `--json`,
/// and changes nothing; 7 is kept for a person who answered no.
#[test]
fn asking_commands_without_a_terminal_or_yes_exit_2() {
    let (dir, db) = demo("20");
    let file = dir.path().join("users.csv");
    ok(roster(
        &db,
        DAY1,
        &["users", "export", "--out", file.to_str().unwrap()],
    ));
    let before = imports(&db);
    let last = before[0]["id"].as_i64().unwrap().to_string();
    let asking: [&[&str]; 4] = [
        &["sync", "--apply"],
        &[
            "import",
            file.to_str().unwrap(),
            "--mode",
            "partial",
            "--apply",
        ],
        &["rollback", &last],
        &["integrations", "delete", "1"],
    ];
    for args in asking {
        for json in [false, true] {
            let mut c = command(&db);
            c.arg("--today").arg(DAY1.to_string());
            if json {
                c.arg("--json");
            }
            let r = run({
                c.args(args);
                c
            });
            assert_eq!(r.code, 2, "{args:?} json={json}: {}", r.stderr);
            assert!(r.stderr.contains("--yes"), "{args:?}: {}", r.stderr);
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        }
    }
    assert_eq!(imports(&db), before, "nothing was recorded or rolled back");
    let integrations = ok(roster(&db, DAY1, &["--json", "integrations"]));
    let integrations: Vec<Value> = serde_json::from_str(&integrations.stdout).unwrap();
    assert_eq!(integrations.len(), 1, "the integration was not deleted");
    // With --yes they run.
    ok(roster(&db, DAY1, &["rollback", &last, "--yes"]));
    ok(roster(&db, DAY1, &["integrations", "delete", "1", "--yes"]));
    assert_eq!(users(&db, DAY1).len(), 21);
}

/// Run `roster ARGS` with standard output a pipe whose reader is already gone.
fn with_stdout_closed(db: &Path, args: &[&str]) -> common::Run {
    let mut c = command(db);
    c.arg("--today").arg(DAY1.to_string()).args(args);
    let mut child = c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// #11.11: a closed standard output (`roster … | head -1`) stops every command
/// quietly with the documented exit code 141, never a panic.
#[test]
fn a_closed_stdout_exits_141_without_a_panic() {
    let (_dir, db) = demo("20");
    let someone = users(&db, DAY1)[0]["employee_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases: [&[&str]; 10] = [
        &["imports", "show", "1"],
        &["imports"],
        &["users", "show", &someone],
        &["users"],
        &["--json", "users", "--all"],
        &["users", "export"],
        &["upcoming"],
        &["settings"],
        &["default-config"],
        &["openapi"],
    ];
    for args in cases {
        let r = with_stdout_closed(&db, args);
        assert!(
            !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.code, 141, "{args:?}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{args:?} stops quietly: {}", r.stderr);
    }
    // A command that fails keeps its own code and message.
    let r = with_stdout_closed(&db, &["imports", "show", "999"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no import 999"), "{}", r.stderr);
}

/// Values a spreadsheet would run as formulas, as a source sends them.
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://x.example\",\"y\")",
    "@SUM(A1)",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
];

fn cells(path: &Path) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    r.records()
        .flat_map(|rec| rec.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// Every cell of a CSV file Roster wrote, with a formula start found unguarded.
fn raw_formulas(path: &Path) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    let mut found = Vec::new();
    for rec in r.records() {
        for cell in rec.unwrap().iter() {
            if cell.starts_with(['=', '@', '\t', '\r'])
                || cell.starts_with("+1+cmd")
                || cell.starts_with("-2+3+cmd")
            {
                found.push(cell.to_string());
            }
        }
    }
    found
}

/// #11.6: a source value that starts a formula (= + - @, tab, CR) is written with a
/// leading `'` in every CSV file: `sync --out plan.csv`, `sync --preview`, `import
/// --out`, `users export`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formulas_from_the_source_are_neutralised_in_every_csv_file() {
    let sandbox = start_sandbox(3, 12).await;
    let token = token(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let url = sandbox.base_url();
    let h = sandbox.handle();
    let ids: Vec<String> = h
        .members(false)
        .into_iter()
        .filter(|l| l.member["active"] == true)
        .map(|l| l.member["id"].as_str().unwrap().to_string())
        .take(FORMULAS.len())
        .collect();
    let d = dir.path().to_path_buf();
    common::blocking(move || {
        connect_to(&db, &url, &token);
        ok(roster(&db, DAY1, &["sync", "--apply", "--yes"]));
        for (id, f) in ids.iter().zip(FORMULAS) {
            h.patch_member(id, &serde_json::json!({ "job_title": f }))
                .unwrap();
        }
        let plan = d.join("plan.csv");
        let preview = d.join("preview.csv");
        ok(roster(
            &db,
            DAY1,
            &[
                "sync",
                "--out",
                plan.to_str().unwrap(),
                "--preview",
                preview.to_str().unwrap(),
            ],
        ));
        ok(roster(&db, DAY1, &["sync", "--apply", "--yes"]));
        let export = d.join("users.csv");
        ok(roster(
            &db,
            DAY1,
            &["users", "export", "--out", export.to_str().unwrap()],
        ));
        let import_plan = d.join("import-plan.csv");
        ok(roster(
            &db,
            DAY1,
            &[
                "import",
                export.to_str().unwrap(),
                "--mode",
                "partial",
                "--out",
                import_plan.to_str().unwrap(),
            ],
        ));
        for file in [&plan, &preview, &export] {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(raw_formulas(file).is_empty(), "{}:\n{text}", file.display());
            let cells = cells(file);
            for f in FORMULAS {
                assert!(
                    cells.contains(&format!("'{}", f.trim_start_matches(['\t', '\r'])))
                        || cells.contains(&format!("'{f}")),
                    "{} holds {f:?} neutralised:\n{text}",
                    file.display()
                );
            }
        }
        // The export reads back as it was: nothing to change.
        assert!(raw_formulas(&import_plan).is_empty());
        let users = users(&db, DAY1);
        let titles: Vec<&str> = users
            .iter()
            .filter_map(|u| u["demographics"]["Job Title"].as_str())
            .collect();
        for f in FORMULAS {
            assert!(
                titles.contains(&f) || titles.contains(&f.trim()),
                "{f:?} stored as sent: {titles:?}"
            );
        }
    })
    .await;
    sandbox.shutdown().await.unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// #11.8 and #18.7: after `roster demo` (and a command after it) the database is
/// private (0600, like its key file), and the file alone holds the directory: the
/// WAL was checkpointed into it when the command finished.
#[test]
fn after_a_command_the_private_db_file_alone_holds_the_directory() {
    let (dir, db) = demo("20");
    #[cfg(unix)]
    {
        assert_eq!(mode(&db), 0o600, "the database");
        assert_eq!(mode(&with_suffix(&db, ".key")), 0o600, "the key file");
        for suffix in ["-wal", "-shm"] {
            let p = with_suffix(&db, suffix);
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }
    let wal = std::fs::metadata(with_suffix(&db, "-wal")).map(|m| m.len());
    assert!(matches!(wal, Err(_) | Ok(0)), "WAL left behind: {wal:?}");
    let alone = dir.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    let copy = alone.join("roster.db");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::copy(with_suffix(&db, ".key"), with_suffix(&copy, ".key")).unwrap();
    assert_eq!(users(&copy, DAY1), users(&db, DAY1));
    assert_eq!(imports(&copy).len(), 4);
}

/// #18.7: `roster backup --to FILE` copies the directory into a new 0600 file; an
/// existing file is refused (exit 2) unless --force; PostgreSQL is pointed at pg_dump.
#[test]
fn backup_copies_the_directory_and_refuses_to_overwrite() {
    let (dir, db) = demo("20");
    let to = dir.path().join("backup.db");
    let r = ok(roster(&db, DAY1, &["backup", "--to", to.to_str().unwrap()]));
    assert!(
        r.stdout.contains(".key"),
        "names the key file: {}",
        r.stdout
    );
    #[cfg(unix)]
    assert_eq!(mode(&to), 0o600);
    std::fs::copy(with_suffix(&db, ".key"), with_suffix(&to, ".key")).unwrap();
    let original = users(&db, DAY1);
    assert_eq!(original.len(), 21);
    assert_eq!(users(&to, DAY1), original);
    ok(roster(
        &db,
        DAY1,
        &[
            "users",
            "exclude",
            original[0]["employee_id"].as_str().unwrap(),
        ],
    ));
    let again = roster(&db, DAY1, &["backup", "--to", to.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(users(&to, DAY1), original, "the old backup is untouched");
    ok(roster(
        &db,
        DAY1,
        &["backup", "--to", to.to_str().unwrap(), "--force"],
    ));
    assert_eq!(users(&to, DAY1), users(&db, DAY1));
    let pg = roster(
        "postgres://roster@127.0.0.1:1/roster",
        DAY1,
        &["backup", "--to", dir.path().join("pg.db").to_str().unwrap()],
    );
    assert_eq!(pg.code, 2, "{}", pg.stderr);
    assert!(pg.stderr.contains("pg_dump"), "{}", pg.stderr);
}

/// #18.7: `migrate-store` from a source with no integrations and no employees (a
/// copy of roster.db taken without its WAL) is refused with exit 2 unless
/// --allow-empty, before the target is touched.
#[test]
fn migrate_store_refuses_an_empty_source() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    ok(roster(&empty, DAY1, &["users"]));
    let mut c = command(&empty);
    c.env("ROSTER_SECRET_KEY", common::PG_SECRET_KEY).args([
        "migrate-store",
        "--from",
        empty.to_str().unwrap(),
        "--to",
        "postgres://roster@127.0.0.1:1/roster",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--allow-empty"), "{}", r.stderr);
    assert!(
        r.stderr.contains("no integrations and no employees"),
        "{}",
        r.stderr
    );
    // With --allow-empty it goes on to the target (here: nothing listens there).
    let mut c = command(&empty);
    c.env("ROSTER_SECRET_KEY", common::PG_SECRET_KEY).args([
        "migrate-store",
        "--from",
        empty.to_str().unwrap(),
        "--to",
        "postgres://roster@127.0.0.1:1/roster",
        "--allow-empty",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("--allow-empty"), "{}", r.stderr);
}

/// The rules of every change of `who`'s history, per import kind, newest first.
fn history_rules(db: &Path, today: jiff::civil::Date, who: &str) -> Vec<(String, Vec<String>)> {
    let r = ok(roster(db, today, &["--json", "users", "show", who]));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let mut rules: Vec<String> = h["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["field"] != "is_manager")
                .map(|c| c["rule"].as_str().unwrap().to_string())
                .collect();
            rules.dedup();
            (h["kind"].as_str().unwrap().to_string(), rules)
        })
        .collect()
}

/// #11.12: each admin action is recorded with its own rule, and the kind of an admin
/// edit is `admin_edit`, not the trigger's word `manual`.
#[test]
fn the_history_names_the_rule_of_each_admin_action() {
    let (_dir, db) = demo("20");
    let all = users(&db, DAY1);
    let active: Vec<&str> = all
        .iter()
        .filter(|u| u["active"] == true && u["end_date"].is_null())
        .map(|u| u["employee_id"].as_str().unwrap())
        .collect();
    let (a, b, c) = (active[1], active[2], active[3]);
    ok(roster(
        &db,
        DAY1,
        &["users", "set-email", a, "renamed@roster.example"],
    ));
    let out = ok(roster(&db, DAY1, &["users", "exclude", b]));
    assert!(out.stdout.contains("(exclusion)"), "{}", out.stdout);
    ok(roster(&db, DAY1, &["users", "include", b]));
    ok(roster(&db, DAY1, &["users", "merge", c, "--into", a]));
    let merged_into = ok(roster(&db, DAY1, &["--json", "imports"]));
    let last: Vec<Value> = serde_json::from_str(&merged_into.stdout).unwrap();
    assert_eq!(last[0]["kind"], "merge");
    assert_eq!(last[3]["kind"], "admin_edit", "{:?}", last[3]);
    let merge_id = last[0]["id"].as_i64().unwrap().to_string();
    ok(roster(&db, DAY1, &["rollback", &merge_id, "--yes"]));

    // Rolling the merge back undoes the link too: the duplicate is itself again.
    let back = users(&db, DAY1);
    let dup = back
        .iter()
        .find(|u| u["employee_id"] == c)
        .expect("the duplicate");
    assert!(dup["merged_into"].is_null(), "{dup}");
    assert_eq!(dup["active"], true);

    let rules_a = history_rules(&db, DAY1, a);
    assert_eq!(
        rules_a[0],
        ("rollback".into(), vec!["rollback".into()]),
        "{rules_a:?}"
    );
    assert_eq!(rules_a[1], ("merge".into(), vec!["merge".into()]));
    assert!(
        rules_a.contains(&("admin_edit".into(), vec!["admin_edit".into()])),
        "{rules_a:?}"
    );
    let rules_b = history_rules(&db, DAY1, b);
    assert_eq!(rules_b[0], ("admin_edit".into(), vec!["exclusion".into()]));
    assert_eq!(rules_b[1], ("admin_edit".into(), vec!["exclusion".into()]));

    // A due end date applied by `tick` says end_date.
    let leaver = all
        .iter()
        .find(|u| u["active"] == true && !u["end_date"].is_null())
        .expect("the demo has a future leaver");
    let later = leaver["end_date"].as_str().unwrap().parse().unwrap();
    let id = leaver["employee_id"].as_str().unwrap();
    let out = ok(roster(&db, later, &["tick"]));
    assert!(out.stdout.contains("(end_date)"), "{}", out.stdout);
    assert_eq!(
        history_rules(&db, later, id)[0],
        ("tick".into(), vec!["end_date".into()])
    );
}

/// #11.13: after a merge, `users show` of the original lists the duplicate's history
/// too, marked as coming from the merged record; the merged record's email is null.
#[test]
fn merging_brings_the_duplicates_history_to_the_original() {
    let (_dir, db) = demo("20");
    let all = users(&db, DAY1);
    let active: Vec<&str> = all
        .iter()
        .filter(|u| u["active"] == true)
        .map(|u| u["employee_id"].as_str().unwrap())
        .collect();
    let (dup, orig) = (active[4], active[5]);
    ok(roster(&db, DAY1, &["users", "merge", dup, "--into", orig]));
    // The original now carries the duplicate's ID.
    let shown = ok(roster(&db, DAY1, &["--json", "users", "show", dup]));
    let v: Value = serde_json::from_str(&shown.stdout).unwrap();
    let marked: Vec<&Value> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["merged_from"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("{dup}~merged")))
        })
        .collect();
    assert!(
        marked
            .iter()
            .any(|h| h["kind"] == "sync" && h["action"] == "create"),
        "the duplicate's first import: {v}"
    );
    assert!(
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["merged_from"].is_null() && h["action"] == "create"),
        "the original's own first import, unmarked: {v}"
    );
    let text = ok(roster(&db, DAY1, &["users", "show", dup]));
    assert!(
        text.stdout
            .contains(&format!("[merged record {dup}~merged")),
        "{}",
        text.stdout
    );
    let merged: Vec<Value> = users(&db, DAY1)
        .into_iter()
        .filter(|u| !u["merged_into"].is_null())
        .collect();
    assert_eq!(merged.len(), 1);
    assert!(merged[0]["email"].is_null(), "{}", merged[0]);
}
