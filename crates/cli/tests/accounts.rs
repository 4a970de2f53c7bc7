//! `--account`: the CLI acts on one account of a shared directory; a name that is not
//! an account is refused (not created), and `roster admin` creates one.

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
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("there is no account \"acme\""),
        "{}",
        r.stderr
    );
    let r = roster(&db, DAY1, &["--account", "acme", "users"]);
    assert!(r.stderr.contains("there is no account"), "{}", r.stderr);

    // `roster admin` creates it; the default account is there as always.
    ok(roster(
        &db,
        DAY1,
        &[
            "admin",
            "create-token",
            "--account",
            "acme",
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
