//! `roster users erase WHO --remove` through the real binary, on SQLite and on
//! PostgreSQL (issue #17): the record is anonymised and then removed — its reports
//! follow its manager, none of its personal values is anywhere in the database, the
//! change feed still replays to `roster users --all --json` (an `employee.removed`
//! tombstone), `--as-of` a day before the removal shows the anonymised person,
//! rolling back an older import reports the removal, and a removed leaver the source
//! still lists is not created again by the next sync.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{
    Backend, DAY1, blocking, by_key, company, distinct, events, every_cell, ok, roster, users,
};
use roster_core::feed::{self, Event, EventType};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_on_sqlite() {
    story(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_on_postgres() {
    story(Backend::Postgres).await;
}

async fn story(backend: Backend) {
    let (_sandbox, _place, db) = company(backend, 17, 30).await;
    let day2 = DAY1.tomorrow().unwrap();
    let db2 = db.clone();
    let (before, manager, values, done, leaver, leaver_done) = blocking(move || {
        let db = &db2;
        let before = users(db, DAY1);
        let (manager, values) = distinct(&before, |u| {
            u["is_manager"] == true && u["active"] == true && !u["manager_email"].is_null()
        });
        let values: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
        let email = manager["email"].as_str().unwrap().to_string();
        // Without --yes and a terminal: refused, nothing removed.
        let refused = roster(db, day2, &["users", "erase", &email, "--remove"]);
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        let r = ok(roster(
            db,
            day2,
            &["--json", "users", "erase", &email, "--remove", "--yes"],
        ));
        assert!(r.stderr.contains("is active"), "warned: {}", r.stderr);
        let done: Value = serde_json::from_str(&r.stdout).unwrap();
        // A leaver, removed too (on the same day).
        let (leaver, _) = distinct(&users(db, day2), |u| u["active"] == false);
        let email = leaver["email"].as_str().unwrap().to_string();
        let r = ok(roster(
            db,
            day2,
            &["users", "erase", &email, "--remove", "--yes"],
        ));
        (before, manager, values, done, leaver, r.stdout)
    })
    .await;
    assert!(leaver_done.contains("Removed: the record"), "{leaver_done}");
    let key = manager["key"].as_i64().unwrap();
    assert_eq!(done["removed"][0]["key"], key, "{done:#}");
    let moved = done["removed"][0]["reports_moved"].as_array().unwrap();
    let reports: Vec<&Value> = before
        .iter()
        .filter(|u| {
            u["manager_email"]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(manager["email"].as_str().unwrap()))
        })
        .collect();
    assert!(!reports.is_empty());
    assert_eq!(moved.len(), reports.len(), "{done:#}");

    let db2 = db.clone();
    let (now, all, as_of_day1, shown_gone) = blocking(move || {
        let now = users(&db2, day2);
        let all = events(&db2, day2, &["--limit", "100000"]);
        let past = ok(roster(
            &db2,
            day2,
            &["--json", "users", "--all", "--as-of", &DAY1.to_string()],
        ))
        .stdout;
        let shown = roster(&db2, day2, &["users", "show", &format!("RST-E{key}")]);
        (now, all, past, shown)
    })
    .await;
    // The row is gone; the reports follow the removed manager's manager.
    assert!(now.iter().all(|u| u["key"] != key), "the row is gone");
    assert_ne!(shown_gone.code, 0, "no such employee now");
    assert_eq!(now.len(), before.len() - 2);
    for r in &reports {
        let now = now.iter().find(|u| u["key"] == r["key"]).unwrap();
        assert_eq!(
            now["manager_email"].as_str().map(str::to_lowercase),
            manager["manager_email"].as_str().map(str::to_lowercase),
            "{now:#}"
        );
    }
    // The feed replays to the directory; the removal is a tombstone.
    let replayed = feed::replay(&all).expect("the feed replays");
    assert_eq!(
        replayed,
        by_key(&now),
        "replaying the feed gives the directory"
    );
    let tomb: Vec<&Event> = all
        .iter()
        .filter(|e| e.event_type == EventType::Removed)
        .collect();
    assert_eq!(tomb.len(), 2, "two records removed");
    assert_eq!(tomb[0].employee_key, Some(key));
    let feed_text = serde_json::to_string(&all).unwrap().to_lowercase();
    // As of the day before: the person, anonymised (the neutral email; the history
    // holds no personal value to rewind to).
    let past: Vec<Value> = serde_json::from_str(&as_of_day1).unwrap();
    let then = past.iter().find(|u| u["key"] == key).expect("there then");
    assert_eq!(
        then["email"],
        format!("erased-{key}@erased.invalid"),
        "{then:#}"
    );
    assert_eq!(past.len(), before.len());
    // No erased value anywhere: the database, the feed, the past directory.
    let cells = every_cell(&db).await;
    for v in &values {
        let found: Vec<&str> = cells.lines().filter(|l| l.contains(v.as_str())).collect();
        assert!(found.is_empty(), "{v} is still stored: {found:#?}");
        assert!(!feed_text.contains(v.as_str()), "{v} is in the feed");
        assert!(!as_of_day1.to_lowercase().contains(v.as_str()), "{v} as of");
    }

    // Rolling back the first sync: the removed records are not brought back.
    let db2 = db.clone();
    let leaver_key = leaver["key"].as_i64().unwrap();
    let (rolled, review, after_sync) = blocking(move || {
        let list: Vec<Value> = serde_json::from_str(
            &ok(roster(&db2, day2, &["--json", "imports", "--limit", "20"])).stdout,
        )
        .unwrap();
        let first = list.iter().rev().find(|i| i["kind"] == "sync").unwrap()["id"].to_string();
        // The erasure itself cannot be rolled back.
        let erasure = list.iter().find(|i| i["kind"] == "erasure").unwrap()["id"].to_string();
        let refused = roster(&db2, day2, &["rollback", &erasure, "--yes"]);
        assert_ne!(refused.code, 0);
        assert!(
            refused.stderr.contains("cannot be rolled back"),
            "{}",
            refused.stderr
        );
        let rolled = ok(roster(&db2, day2, &["rollback", &first, "--yes"])).stdout;
        // The next sync: the removed leaver, still listed as inactive, is left out
        // (the removed manager, active there, would come back as a new record).
        let review = ok(roster(&db2, day2, &["sync"])).stdout;
        (rolled, review, users(&db2, day2))
    })
    .await;
    assert!(
        rolled.contains(&format!("NOT RESTORED employee key {key}: removed since")),
        "{rolled}"
    );
    assert!(
        rolled.contains(&format!(
            "NOT RESTORED employee key {leaver_key}: removed since"
        )),
        "{rolled}"
    );
    assert!(
        after_sync
            .iter()
            .all(|u| u["key"] != key && u["key"] != leaver_key)
    );
    assert!(
        review.contains("erased people still in the source, left erased"),
        "{review}"
    );
}
