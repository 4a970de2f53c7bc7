//! `--account`: the CLI acts on one account of a shared directory; a name that is not
//! an account is refused (not created), and `roster admin` creates one.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{DAY1, ok, roster};
use serde_json::Value;

fn count(db: &std::path::Path, account: &str) -> usize {
    let r = ok(roster(
        db,
        DAY1,
        &["--account", account, "--json", "users", "--all"],
    ));
    serde_json::from_str::<Vec<Value>>(&r.stdout)
        .expect("users --json is a JSON array")
        .len()
}

#[test]
fn commands_act_on_the_account_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("roster.db");

    // An account nobody created: refused, named, and not created by asking.
    let r = roster(&db, DAY1, &["--account", "acme", "users"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no account named \"acme\""),
        "{}",
        r.stderr
    );
    let r = roster(&db, DAY1, &["--account", "acme", "users"]);
    assert!(r.stderr.contains("no account named"), "{}", r.stderr);

    // `roster admin --create-account` creates it; the default account is there as
    // always.
    ok(roster(
        &db,
        DAY1,
        &[
            "admin",
            "create-token",
            "--account",
            "acme",
            "--create-account",
            "--role",
            "viewer",
        ],
    ));
    assert_eq!(count(&db, "acme"), 0);
    assert_eq!(count(&db, "default"), 0);

    // A users file imported into acme lands in acme only.
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "Employee ID,Email,First Name,Last Name\r\nA1,ada@acme.example,Ada,Lovelace\r\n",
    )
    .expect("write");
    let p = file.to_str().expect("utf-8");
    ok(roster(
        &db,
        DAY1,
        &[
            "--account",
            "acme",
            "import",
            p,
            "--mode",
            "full",
            "--apply",
            "--yes",
        ],
    ));
    assert_eq!(count(&db, "acme"), 1);
    assert_eq!(count(&db, "default"), 0);
    // ROSTER_ACCOUNT says the same as the flag.
    let mut c = common::command(&db);
    c.env("ROSTER_ACCOUNT", "acme").args([
        "--today",
        &DAY1.to_string(),
        "--json",
        "users",
        "--all",
    ]);
    let r = common::run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["employee_id"], "A1");
}

/// Operator trip-ups (issue #18.6) on a directory holding several accounts.
#[test]
fn several_accounts_need_an_explicit_and_existing_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("roster.db");
    ok(roster(&db, DAY1, &["users"]));
    let create = |account: &str, extra: &[&str]| {
        let mut args = vec![
            "admin",
            "create-token",
            "--account",
            account,
            "--role",
            "viewer",
        ];
        args.extend_from_slice(extra);
        roster(&db, DAY1, &args)
    };
    // A typo in `roster admin --account` does not create an account.
    let r = create("globex", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no account named \"globex\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--create-account"), "{}", r.stderr);
    ok(create("globex", &["--create-account"]));
    ok(create("initech", &["--create-account"]));
    let r = create("initekh", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Unknown names are refused with a count, not the other customers' names.
    assert!(r.stderr.contains("3 account(s)"), "{}", r.stderr);
    for other in ["globex", "initech", "default"] {
        assert!(!r.stderr.contains(&format!("{other},")), "{}", r.stderr);
        assert!(
            !r.stderr.contains(&format!(": {other}")),
            "a name is listed: {}",
            r.stderr
        );
    }
    let r = roster(&db, DAY1, &["--account", "initekh", "users"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("globex"), "{}", r.stderr);

    // Forgetting --account on a shared directory: refused, not `default`.
    let r = roster(&db, DAY1, &["users"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("holds 3 accounts"), "{}", r.stderr);
    assert!(r.stderr.contains("--account"), "{}", r.stderr);
    let r = roster(&db, DAY1, &["admin", "create-token", "--role", "viewer"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Naming it, even the default one, works.
    ok(roster(&db, DAY1, &["--account", "default", "users"]));
    ok(roster(&db, DAY1, &["--account", "globex", "users"]));
}
