//! CSV in and out through the real `roster` binary (issue #5): export → edit →
//! re-import round trips, partial and full import rules, bad files, the user file
//! preview.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::path::{Path, PathBuf};

mod common;

use common::company::sandbox;
use common::{DAY1, blocking, ok, roster, user, users};
use roster_sandbox::RunningSandbox;
use serde_json::Value;

fn last_import(db: &Path) -> Value {
    let r = ok(roster(db, DAY1, &["--json", "imports", "--limit", "1"]));
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let id = list[0]["id"].as_i64().unwrap().to_string();
    let r = ok(roster(db, DAY1, &["--json", "imports", "show", &id]));
    serde_json::from_str(&r.stdout).unwrap()
}

/// Set one cell (row by `Employee ID`, column by header) of a CSV file, RFC 4180.
fn set_cell(path: &Path, id: &str, header: &str, value: &str) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == header).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_path(path)
        .unwrap();
    w.write_record(&headers).unwrap();
    let mut found = false;
    for r in rows {
        let mut cells: Vec<String> = r.iter().map(str::to_string).collect();
        if cells[0] == id {
            cells[col] = value.to_string();
            found = true;
        }
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();
    assert!(found, "no row {id}");
}

async fn company(members: usize) -> (RunningSandbox, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let (sandbox, _) = sandbox(5, members, &db).await;
    (sandbox, dir, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_edit_reimport_excludes_and_re_includes() {
    let (_sandbox, dir, db) = company(30).await;
    let csv_path = dir.path().join("users.csv");
    let preview = dir.path().join("preview.csv");
    let (db2, csv2, preview2) = (db.clone(), csv_path.clone(), preview.clone());
    blocking(move || {
        let (db, csv_path) = (db2, csv2);
        let p = csv_path.to_str().unwrap();
        ok(roster(&db, DAY1, &["setup-sync"]));
        // The user file preview of the first sync: everyone as the sync leaves them.
        let review = ok(roster(
            &db,
            DAY1,
            &["sync", "--preview", preview2.to_str().unwrap()],
        ));
        assert!(review.stdout.contains("User file preview written"));
        ok(roster(&db, DAY1, &["sync", "--apply", "--yes"]));
        let before = users(&db, DAY1);
        let preview_text = std::fs::read_to_string(&preview2).unwrap();
        assert_eq!(
            preview_text.lines().count(),
            before.len() + 1,
            "one row per employee, deactivated included"
        );

        // Export; re-importing it unchanged changes nothing.
        let e = ok(roster(
            &db,
            DAY1,
            &["users", "export", "--include-deactivated", "--out", p],
        ));
        assert!(e.stderr.contains("Exported"), "{}", e.stderr);
        let text = std::fs::read_to_string(&csv_path).unwrap();
        assert!(text.starts_with("Employee ID,Email,First Name"));
        assert!(text.contains("Employee Deactivated"));
        let r = ok(roster(
            &db,
            DAY1,
            &["--json", "import", p, "--mode", "partial"],
        ));
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["plan"]["entries"].as_array().unwrap().len(), 0, "{v:#}");
        assert_eq!(v["rows"], before.len());
        let r = ok(roster(
            &db,
            DAY1,
            &["--json", "import", p, "--mode", "full"],
        ));
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["plan"]["entries"].as_array().unwrap().len(), 0, "{v:#}");

        // Mark one active employee deactivated and import the file back, partial.
        let target = before
            .iter()
            .find(|u| u["active"] == true && u["is_manager"] == false)
            .unwrap()["employee_id"]
            .as_str()
            .unwrap()
            .to_string();
        set_cell(&csv_path, &target, "Employee Deactivated", "TRUE");
        let r = ok(import(&db, p, "partial", &["--apply", "--yes"]));
        assert!(r.stdout.contains("Applied as import"), "{}", r.stdout);
        let after = users(&db, DAY1);
        let u = user(&after, &target);
        assert_eq!(u["active"], false);
        assert_eq!(u["excluded"], true);
        assert_eq!(u["deactivation_reason"], "excluded");
        let imp = last_import(&db);
        assert_eq!(imp["summary"]["kind"], "csv_import");
        assert_eq!(imp["summary"]["status"], "applied");
        assert_eq!(imp["details"]["file"], "users.csv");
        assert_eq!(imp["details"]["rows"], before.len());
        assert_eq!(imp["details"]["mode"], "partial");
        assert_eq!(imp["entries"].as_array().unwrap().len(), 1);

        // It stays excluded through the next sync (sticky, DESIGN §6).
        ok(roster(&db, DAY1, &["sync", "--apply", "--yes"]));
        let u = users(&db, DAY1);
        assert_eq!(user(&u, &target)["active"], false);
        assert_eq!(user(&u, &target)["excluded"], true);

        // FALSE re-includes.
        set_cell(&csv_path, &target, "Employee Deactivated", "FALSE");
        ok(import(&db, p, "partial", &["--apply", "--yes"]));
        let u = users(&db, DAY1);
        assert_eq!(user(&u, &target)["active"], true);
        assert_eq!(user(&u, &target)["excluded"], false);
        // … and the next sync has nothing to say about it.
        let s = ok(roster(&db, DAY1, &["--json", "sync"]));
        let v: Value = serde_json::from_str(&s.stdout).unwrap();
        assert!(
            v["plan"]["entries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["employee_id"] != target.as_str()),
            "{v:#}"
        );
    })
    .await;
}

/// `roster import FILE --mode MODE EXTRA…` on `db`.
fn import(db: &Path, file: &str, mode: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["import", file, "--mode", mode];
    args.extend_from_slice(extra);
    roster(db, DAY1, &args)
}

/// The file was refused as a whole (exit 8), saying `message`.
fn refused(r: &common::Run, message: &str) {
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains(message), "{}", r.stderr);
}

/// A temporary directory with a `roster.db` path and the file `name` holding `text`:
/// (the directory, the database, the file).
fn scratch(name: &str, text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let f = dir.path().join(name);
    write(&f, text);
    (dir, db, f)
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn csv_only_directory_full_and_partial_rules() {
    let (_dir, db, f) = scratch(
        "people.csv",
        "Employee ID,Email,First Name,Last Name,Start Date,Manager Email,Job Title\n\
         E1,ada@acme.example,Ada,Lovelace,2019-01-07,,CEO\n\
         E2,grace@acme.example,Grace,Hopper,2020-02-03,ada@acme.example,Admiral\n\
         E3,alan@acme.example,Alan,Turing,2021-03-01,ada@acme.example,Cryptanalyst\n\
         E4,kay@acme.example,Kay,McNulty,2021-04-01,ada@acme.example,Programmer\n",
    );
    let p = f.to_str().unwrap();
    // The first import creates a csv integration, reviewed then applied.
    let review = ok(import(&db, p, "full", &[]));
    assert!(
        review
            .stdout
            .contains("File people.csv: 4 row(s), 0 in error")
    );
    assert!(review.stdout.contains("Reviewed only"), "{}", review.stdout);
    assert!(users(&db, DAY1).is_empty());
    ok(import(&db, p, "full", &["--apply", "--yes"]));
    let list = ok(roster(&db, DAY1, &["integrations"]));
    assert!(list.stdout.contains("csv"), "{}", list.stdout);
    assert!(list.stdout.contains("active"), "{}", list.stdout);
    let u = users(&db, DAY1);
    assert_eq!(u.len(), 4);
    assert_eq!(user(&u, "E1")["is_manager"], true);
    assert_eq!(user(&u, "E2")["demographics"]["Job Title"], "Admiral");

    // Partial: a row with an end date deactivates; missing employees are untouched;
    // only the columns present are updated.
    write(
        &f,
        "Employee ID;End Date;Last Name\n\
         E2;11/01/2026;Murray\n",
    );
    let r = ok(import(
        &db,
        p,
        "partial",
        &["--date-format", "mdy", "--apply", "--yes"],
    ));
    assert!(r.stdout.contains("separated by ';'"), "{}", r.stdout);
    let u2 = users(&db, DAY1);
    let grace = user(&u2, "E2");
    assert_eq!(grace["active"], false);
    assert_eq!(grace["deactivation_reason"], "end_date");
    assert_eq!(grace["end_date"], "2026-11-01");
    assert_eq!(grace["last_name"], "Murray");
    assert_eq!(grace["demographics"]["Job Title"], "Admiral");
    assert_eq!(grace["email"], "grace@acme.example");
    for id in ["E1", "E3", "E4"] {
        assert_eq!(user(&u2, id), user(&u, id), "{id} is untouched");
    }

    // Full: employees missing from the file follow on_missing.
    write(
        &f,
        "Employee ID,Email\n\
         E1,ada@acme.example\n\
         E3,alan@acme.example\n",
    );
    let kept = ok(roster(
        &db,
        DAY1,
        &["--json", "import", p, "--mode", "full"],
    ));
    let v: Value = serde_json::from_str(&kept.stdout).unwrap();
    assert_eq!(v["plan"]["counts"]["deactivated"], 0, "on_missing = keep");
    ok(roster(
        &db,
        DAY1,
        &["settings", "set", "on_missing", "deactivate"],
    ));
    ok(import(&db, p, "full", &["--apply", "--yes"]));
    let u3 = users(&db, DAY1);
    assert_eq!(user(&u3, "E4")["active"], false);
    assert_eq!(user(&u3, "E4")["deactivation_reason"], "missing");
    assert_eq!(user(&u3, "E1")["active"], true);
    // … never a partial one.
    write(&f, "Employee ID,Email\nE1,ada@acme.example\n");
    let v: Value = serde_json::from_str(
        &ok(roster(
            &db,
            DAY1,
            &["--json", "import", p, "--mode", "partial"],
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(v["plan"]["counts"]["deactivated"], 0);
}

#[test]
fn bad_rows_are_reviewed_refused_or_skipped() {
    let (_dir, db, f) = scratch(
        "bad.csv",
        "Employee ID,Email,Start Date,Notes\n\
         E1,ada@acme.example,2019-01-07,x\n\
         E2,not-an-email,2020-02-03,y\n\
         E3,alan@acme.example,2021-02-30,z\n\
         E4,kay@acme.example,2021-04-01\n",
    );
    let p = f.to_str().unwrap();
    let review = ok(import(&db, p, "partial", &[]));
    let out = &review.stdout;
    for expected in [
        "File bad.csv: 4 row(s), 3 in error",
        "Note: column \"Notes\" is no directory field or mapped demographic: ignored (map it with --map \"Notes=FIELD\")",
        "- error: line 3, column \"Email\": work_email is not a valid email address",
        "- error: line 4: column \"Start Date\" is not a date in YYYY-MM-DD form",
        "- error: line 5: 3 fields, but the header has 4 columns",
        "3 row(s) in error: --apply refuses the file until they are fixed, or skips them with --skip-bad-rows.",
    ] {
        assert!(out.contains(expected), "{expected:?} not in:\n{out}");
    }

    // Apply refuses: nothing written, the refusal is in the history.
    let refused = import(&db, p, "partial", &["--apply", "--yes"]);
    assert_eq!(refused.code, 8, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("NOT APPLIED"), "{}", refused.stdout);
    assert!(users(&db, DAY1).is_empty());
    let imp = last_import(&db);
    assert_eq!(imp["summary"]["kind"], "csv_import");
    assert_eq!(imp["summary"]["status"], "failed");
    assert_eq!(imp["details"]["bad_rows"], serde_json::json!([3, 4, 5]));
    let show = ok(roster(
        &db,
        DAY1,
        &["imports", "show", &imp["summary"]["id"].to_string()],
    ));
    assert!(
        show.stdout
            .contains("File bad.csv: 4 row(s), partial import")
    );
    assert!(
        show.stdout
            .contains("error: line 3, column \"Email\": work_email is not a valid email address"),
        "{}",
        show.stdout
    );

    // Skipping the bad rows explicitly imports the rest.
    let r = ok(import(
        &db,
        p,
        "partial",
        &["--skip-bad-rows", "--apply", "--yes"],
    ));
    assert!(
        r.stdout.contains("3 row(s) in error were skipped"),
        "{}",
        r.stdout
    );
    let u = users(&db, DAY1);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0]["employee_id"], "E1");
}

#[test]
fn files_that_fail_as_a_whole_write_nothing() {
    let (dir, db, f) = scratch("names.csv", "First Name,Last Name\nAda,Lovelace\n");
    let p = f.to_str().unwrap();
    let r = import(&db, p, "full", &[]);
    refused(
        &r,
        "names.csv: line 1: the header has neither an \"Employee ID\" nor an \"Email\" column, so no row could be matched. Nothing was applied.",
    );
    let r = import(&db, p, "full", &["--apply", "--yes"]);
    refused(&r, "recorded as failed import");
    assert!(users(&db, DAY1).is_empty());

    let missing = dir.path().join("nope.csv");
    let r = import(&db, missing.to_str().unwrap(), "full", &[]);
    refused(&r, "could not open the file");

    let r = import(&db, p, "full", &["--map", "nonsense"]);
    refused(&r, "must look like \"Header=field\"");
}

#[test]
fn export_goes_to_stdout_and_skips_deactivated_by_default() {
    let (_dir, db, f) = scratch(
        "people.csv",
        "\u{FEFF}Email,First Name,Employee Deactivated\r\n\
         ada@acme.example,Ada,FALSE\r\n\
         zoë@acme.example,\"Zoë \"\"Z\"\"\",TRUE\r\n",
    );
    let p = f.to_str().unwrap();
    ok(import(&db, p, "full", &["--apply", "--yes"]));
    let active = ok(roster(&db, DAY1, &["users", "export"]));
    assert_eq!(active.stdout.lines().count(), 2, "{}", active.stdout);
    assert!(active.stdout.contains("\r\n"));
    let all = ok(roster(
        &db,
        DAY1,
        &["users", "export", "--include-deactivated"],
    ));
    assert_eq!(all.stdout.lines().count(), 3);
    assert!(all.stdout.contains("\"Zoë \"\"Z\"\"\""), "{}", all.stdout);
    let zoe = all.stdout.lines().find(|l| l.contains("Zoë")).unwrap();
    assert!(zoe.contains(",TRUE,excluded,TRUE,"), "{zoe}");
}
