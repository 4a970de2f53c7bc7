//! Erasure on request through the real `roster` binary (issue #17): after
//! `roster users erase`, none of the person's names, emails, phone or birth date is
//! anywhere in the database — every column of every row of every table, read as
//! text (bytes, lossily), and the SQLite file's bytes after `wal_checkpoint(TRUNCATE)` and `VACUUM` —
//! nor in the change feed (`roster events`).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::path::{Path, PathBuf};

mod common;

use common::{DAY1, blocking, distinct, every_cell, ok, roster, users};
use roster_sandbox::RunningSandbox;
use serde_json::Value;
use sqlx::{Connection, SqliteConnection};

/// A company of `members` synced into an SQLite file.
async fn company(members: usize) -> (RunningSandbox, common::Place, PathBuf) {
    let (sandbox, place, db) = common::company(common::Backend::Sqlite, 17, members).await;
    (sandbox, place, PathBuf::from(db))
}

/// An employee whose personal values appear nowhere in anybody else's row (so that
/// finding one after the erasure can only be theirs), with a phone and a birth date,
/// a manager.
fn distinct_person(list: &[Value]) -> (Value, Vec<String>) {
    distinct(list, |u| u["is_manager"] == true)
}

/// The database file's bytes after a checkpoint and `VACUUM` (and the log's, if any).
async fn file_bytes(db: &Path) -> Vec<u8> {
    let mut c = SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("VACUUM").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    let mut bytes = std::fs::read(db).unwrap();
    let wal = db.with_extension("db-wal");
    if wal.exists() {
        bytes.extend(std::fs::read(wal).unwrap());
    }
    bytes
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_leaves_no_personal_value_anywhere_in_the_database() {
    let (_sandbox, _dir, db) = company(30).await;
    let db2 = db.clone();
    let (person, values) = blocking(move || distinct_person(&users(&db2, DAY1))).await;
    let before = every_cell(&db.to_string_lossy()).await;
    for v in &values {
        assert!(before.contains(&v.to_lowercase()), "the database holds {v}");
    }
    let email = person["email"].as_str().unwrap().to_string();
    let db2 = db.clone();
    let (erased, events, shown) = blocking(move || {
        // Without a terminal, erase needs --yes.
        let refused = roster(&db2, DAY1, &["users", "erase", &email]);
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
        let r = ok(roster(
            &db2,
            DAY1,
            &["--json", "users", "erase", &email, "--yes"],
        ));
        let erased: Value = serde_json::from_str(&r.stdout).unwrap();
        let events = ok(roster(
            &db2,
            DAY1,
            &["--json", "events", "--limit", "100000"],
        ))
        .stdout;
        let id = erased["employees"][0]["employee_id"]
            .as_str()
            .unwrap()
            .to_string();
        let shown = ok(roster(&db2, DAY1, &["--json", "users", "show", &id])).stdout;
        (erased, events, shown)
    })
    .await;
    assert_eq!(erased["employees"][0]["key"], person["key"]);
    let after = every_cell(&db.to_string_lossy()).await;
    let bytes = file_bytes(&db).await;
    for v in &values {
        let v = v.to_lowercase();
        let found: Vec<&str> = after.lines().filter(|l| l.contains(&v)).collect();
        assert!(found.is_empty(), "{v} is still stored: {found:#?}");
        assert!(!contains(&bytes, &v), "{v} is still in the file's bytes");
        assert!(
            !events.to_lowercase().contains(&v),
            "{v} is in the change feed"
        );
        assert!(!shown.to_lowercase().contains(&v), "{v} is shown: {shown}");
    }
    // The anonymous record stays, its reports still point at it.
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert!(shown.to_string().contains("Former employee"), "{shown:#}");
    let neutral = format!("erased-{}@erased.invalid", person["key"]);
    assert!(
        after.contains(&format!("employees.manager_email={neutral}")),
        "reports re-pointed"
    );
    assert!(after.contains("imports.kind=erasure"));

    // Rolling back the (older) first sync brings no erased value back: it reports
    // the fields as erased.
    let db2 = db.clone();
    let rolled = blocking(move || {
        let r = ok(roster(&db2, DAY1, &["--json", "imports", "--limit", "10"]));
        let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        let first = list.iter().rev().find(|i| i["kind"] == "sync").unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string();
        ok(roster(&db2, DAY1, &["rollback", &first, "--yes"])).stdout
    })
    .await;
    assert!(rolled.contains("erased since"), "{rolled}");
    let after_rollback = every_cell(&db.to_string_lossy()).await;
    for v in &values {
        let v = v.to_lowercase();
        let found: Vec<&str> = after_rollback.lines().filter(|l| l.contains(&v)).collect();
        assert!(
            found.is_empty(),
            "{v} came back with the rollback: {found:#?}"
        );
    }
}

/// A person erased and still (or again) in the source is recognised by the keyed
/// digest of their source id: the next sync matches the anonymous record (no
/// duplicate) and fills it from the source's values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_erased_and_back_in_the_source_is_no_duplicate() {
    let (_sandbox, _dir, db) = company(20).await;
    let db2 = db.clone();
    blocking(move || {
        let before = users(&db2, DAY1);
        let (person, _) = distinct_person(&before);
        let source_id = person["source_id"].as_str().unwrap().to_string();
        let email = person["email"].as_str().unwrap().to_string();
        let r = ok(roster(&db2, DAY1, &["users", "erase", &email, "--yes"]));
        // Active in the source: the admin is warned that the data comes back.
        assert!(r.stderr.contains("warning:"), "{}", r.stderr);
        assert!(r.stderr.contains("is active"), "{}", r.stderr);
        let erased = users(&db2, DAY1);
        let anon = erased.iter().find(|u| u["key"] == person["key"]).unwrap();
        assert!(anon["source_id"].is_null(), "{anon:#}");
        assert_ne!(anon["email"], person["email"]);
        // The member is in the source: the sync recognises them (an update of the
        // anonymous record, which the privacy guard holds: names and email at once).
        let held = roster(&db2, DAY1, &["sync", "--apply", "--yes"]);
        assert!(held.stdout.contains("RST-E"), "{}", held.stdout);
        assert!(!held.stdout.contains("CREATE"), "{}", held.stdout);
        ok(roster(
            &db2,
            DAY1,
            &["sync", "--apply", "--yes", "--confirm-privacy"],
        ));
        let after = users(&db2, DAY1);
        assert_eq!(after.len(), before.len(), "no duplicate was created");
        let back = after.iter().find(|u| u["key"] == person["key"]).unwrap();
        assert_eq!(back["source_id"], source_id.as_str(), "{back:#}");
        assert_eq!(back["email"], person["email"]);
        assert_eq!(back["first_name"], person["first_name"]);
        assert_eq!(
            after
                .iter()
                .filter(|u| u["source_id"] == source_id.as_str())
                .count(),
            1
        );
    })
    .await;
}

/// A leaver the source still lists (inactive there), erased: the next syncs leave
/// the anonymous record alone — no erased value comes back anywhere in the database,
/// nothing is created — and the review says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_leaver_still_in_the_source_stays_erased() {
    let (_sandbox, _dir, db) = company(30).await;
    let db2 = db.clone();
    let (values, before, person) = blocking(move || {
        let before = users(&db2, DAY1);
        let (person, values) = distinct(&before, |u| u["active"] == false);
        let email = person["email"].as_str().unwrap().to_string();
        let r = ok(roster(&db2, DAY1, &["users", "erase", &email, "--yes"]));
        assert!(
            !r.stderr.contains("warning:"),
            "a leaver: no warning: {}",
            r.stderr
        );
        (values, before, person)
    })
    .await;
    let db2 = db.clone();
    let (review, applied, after) = blocking(move || {
        let review = ok(roster(&db2, DAY1, &["sync"])).stdout;
        let applied = ok(roster(&db2, DAY1, &["--json", "sync", "--apply", "--yes"])).stdout;
        (review, applied, users(&db2, DAY1))
    })
    .await;
    assert!(
        review.contains("1 erased people still in the source, left erased"),
        "{review}"
    );
    let applied: Value = serde_json::from_str(&applied).unwrap();
    assert_eq!(applied["plan"]["counts"]["erased_left"], 1, "{applied:#}");
    assert_eq!(applied["plan"]["counts"]["created"], 0, "{applied:#}");
    assert_eq!(after.len(), before.len(), "nobody was created");
    let anon = after.iter().find(|u| u["key"] == person["key"]).unwrap();
    assert!(anon["source_id"].is_null(), "{anon:#}");
    assert_eq!(anon["active"], false);
    let cells = every_cell(&db.to_string_lossy()).await;
    for v in &values {
        let v = v.to_lowercase();
        let found: Vec<&str> = cells.lines().filter(|l| l.contains(&v)).collect();
        assert!(found.is_empty(), "{v} came back with the sync: {found:#?}");
    }
}
