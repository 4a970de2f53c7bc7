//! The change feed and the directory as of a date, through the real `roster` binary
//! against a real sandbox, on SQLite and on PostgreSQL: a multi-day story of syncs, a
//! CSV import, admin edits, a tick, a merge and a rollback. Reading the feed from the
//! first event and applying every event gives exactly `roster users --all --json`;
//! `roster users --as-of DAY` gives the directory captured right after that day's
//! last import (also after a later rollback). And `roster events` itself: JSON
//! lines, --after, --limit, --type, and --follow stopped by Ctrl-C.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::company::plain_members;
use common::{Backend, DAY1, Place, blocking, by_key, command, events, ok, roster, user, users};
use jiff::civil::{Date, date};
use roster_core::feed::{self, Event};
use roster_sandbox::RunningSandbox;
use serde_json::Value;

async fn company(members: usize, postgres: bool) -> (RunningSandbox, Place, String) {
    let backend = if postgres {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    common::company(backend, 5, members).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_replays_and_as_of_holds_on_sqlite() {
    story(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_replays_and_as_of_holds_on_postgres() {
    story(true).await;
}

async fn story(postgres: bool) {
    let (sandbox, _place, db) = company(40, postgres).await;
    let h = sandbox.handle();
    let m = plain_members(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("names.csv");
    let mut captured: Vec<(Date, Vec<Value>, String)> = Vec::new();
    let export = |db: &str, day: Date| {
        ok(roster(
            db,
            day,
            &["users", "export", "--include-deactivated"],
        ))
        .stdout
    };
    let db2 = db.clone();
    captured.push(blocking(move || (DAY1, users(&db2, DAY1), export(&db2, DAY1))).await);

    // Day 2: a leaver with an end date tomorrow (scheduled), a hire, a sync; a CSV
    // import renames someone; an admin sets an email.
    let day2 = date(2026, 11, 24);
    let day3 = date(2026, 11, 25);
    h.set_today(day2);
    h.terminate(&m[0], day3).unwrap();
    let hired = h.hire_random().unwrap();
    let hired_id = hired["id"].as_str().unwrap().to_string();
    std::fs::write(
        &csv_path,
        format!("Employee ID,Last Name\n{},Csvname\n", m[1]),
    )
    .unwrap();
    let (db2, m2, csv) = (db.clone(), m.clone(), csv_path.clone());
    let (day2_capture, set_email_import) = blocking(move || {
        ok(roster(&db2, day2, &["sync", "--apply", "--yes"]));
        let p = csv.to_string_lossy().into_owned();
        ok(roster(
            &db2,
            day2,
            &["import", &p, "--mode", "partial", "--apply", "--yes"],
        ));
        let set = ok(roster(
            &db2,
            day2,
            &[
                "--json",
                "users",
                "set-email",
                &m2[2],
                "edited.person@acme.example",
            ],
        ));
        let set: Value = serde_json::from_str(&set.stdout).unwrap();
        (
            (day2, users(&db2, day2), export(&db2, day2)),
            set["import_id"].as_i64().unwrap(),
        )
    })
    .await;
    assert_eq!(user(&day2_capture.1, &m[1])["last_name"], "Csvname");
    assert_eq!(user(&day2_capture.1, &m[2])["email_edited"], true);
    captured.push(day2_capture);

    // Day 3: the end date comes due (tick); an admin excludes someone.
    h.set_today(day3);
    let (db2, m2) = (db.clone(), m.clone());
    captured.push(
        blocking(move || {
            ok(roster(&db2, day3, &["tick"]));
            ok(roster(&db2, day3, &["users", "exclude", &m2[3]]));
            (day3, users(&db2, day3), export(&db2, day3))
        })
        .await,
    );
    assert_eq!(user(&captured[2].1, &m[0])["active"], false);

    // Day 5 (day 4 has no import): the rollback of day 2's set-email (which must not
    // change the answer for day 2), a sync, and a merge of the hire into another.
    let day4 = date(2026, 11, 26);
    let day5 = date(2026, 11, 27);
    h.set_today(day5);
    h.set_work_email(&m[5], Some("moved.five@acme.example"))
        .unwrap();
    let (db2, m2) = (db.clone(), m.clone());
    captured.push(
        blocking(move || {
            let id = set_email_import.to_string();
            ok(roster(&db2, day5, &["rollback", &id, "--yes"]));
            ok(roster(&db2, day5, &["sync", "--apply", "--yes"]));
            ok(roster(
                &db2,
                day5,
                &["users", "merge", &hired_id, "--into", &m2[4]],
            ));
            (day5, users(&db2, day5), export(&db2, day5))
        })
        .await,
    );
    let now = &captured[3].1;
    assert_eq!(user(now, &m[2])["email_edited"], false, "rolled back");

    let db2 = db.clone();
    let email = now[0]["email"].as_str().unwrap().to_uppercase();
    let needle = email[..email.find('@').unwrap()].to_string();
    let (all, as_of, shown, exports, before, day4_list, found) = blocking(move || {
        let all = events(&db2, day5, &[]);
        let as_of: Vec<Vec<Value>> = [DAY1, day2, day3, day5]
            .iter()
            .map(|d| {
                let r = ok(roster(
                    &db2,
                    day5,
                    &["--json", "users", "--all", "--as-of", &d.to_string()],
                ));
                serde_json::from_str(&r.stdout).unwrap()
            })
            .collect();
        let shown = ok(roster(
            &db2,
            day5,
            &[
                "--json",
                "users",
                "show",
                "edited.person@acme.example",
                "--as-of",
                &day2.to_string(),
            ],
        ));
        let exports: Vec<String> = [DAY1, day2, day3, day5]
            .iter()
            .map(|d| {
                let day = d.to_string();
                ok(roster(
                    &db2,
                    day5,
                    &["users", "export", "--include-deactivated", "--as-of", &day],
                ))
                .stdout
            })
            .collect();
        let before = ok(roster(
            &db2,
            day5,
            &["--json", "users", "--all", "--as-of", "2026-11-22"],
        ));
        let day4_list = ok(roster(
            &db2,
            day5,
            &["--json", "users", "--all", "--as-of", &day4.to_string()],
        ));
        let search = |as_of: &[&str]| {
            let mut args = vec!["--json", "users", "--all", "--search", &needle];
            args.extend(as_of);
            let r = ok(roster(&db2, day5, &args));
            serde_json::from_str::<Vec<Value>>(&r.stdout).unwrap()
        };
        let found = (search(&["--as-of", &day5.to_string()]), search(&[]));
        (all, as_of, shown, exports, before, day4_list, found)
    })
    .await;
    // Searching the directory as of a day finds what the live search finds.
    assert_eq!(found.0.len(), 1, "users --search --as-of");
    assert_eq!(by_key(&found.0), by_key(&found.1), "users --search --as-of");

    // Replay: the feed from the first event rebuilds `users --all --json`.
    let replayed = feed::replay(&all).expect("the feed replays in order");
    assert_eq!(
        replayed,
        by_key(now),
        "replaying the feed gives the directory"
    );
    let cursors: Vec<i64> = all.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, (1..=all.len() as i64).collect::<Vec<_>>());
    use feed::EventType::*;
    for t in [
        Created,
        Updated,
        Deactivated,
        Merged,
        DeactivationScheduled,
        ImportApplied,
    ] {
        assert!(all.iter().any(|e| e.event_type == t), "no {t} in the story");
    }

    // As of each import day: the directory captured right after its last import.
    for ((day, list, _), past) in captured.iter().zip(&as_of) {
        assert_eq!(by_key(past), by_key(list), "users --as-of {day}");
    }
    for ((day, _, csv), past) in captured.iter().zip(&exports) {
        assert_eq!(past, csv, "users export --as-of {day}");
    }
    let day4_list: Vec<Value> = serde_json::from_str(&day4_list.stdout).unwrap();
    assert_eq!(
        by_key(&day4_list),
        by_key(&captured[2].1),
        "day 4 had no import: day 3's"
    );
    let before: Vec<Value> = serde_json::from_str(&before.stdout).unwrap();
    assert!(before.is_empty(), "nobody before the first import");
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(
        shown["employee"],
        *user(&captured[1].1, &m[2]),
        "show --as-of"
    );
}

/// `roster events`: JSON lines, --after, --limit, --type, the human listing, and
/// --follow, which prints what comes later and stops cleanly on Ctrl-C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_lists_filters_and_follows() {
    let (sandbox, _place, db) = company(12, false).await;
    let m = plain_members(&sandbox);
    let db2 = db.clone();
    blocking(move || {
        let all = events(&db2, DAY1, &[]);
        let created = all
            .iter()
            .filter(|e| e.event_type == feed::EventType::Created)
            .count();
        assert_eq!(created, users(&db2, DAY1).len());
        let first3 = events(&db2, DAY1, &["--limit", "3"]);
        assert_eq!(first3, all[..3]);
        let after = events(&db2, DAY1, &["--after", "3", "--limit", "2"]);
        assert_eq!(after, all[3..5]);
        let closing = events(&db2, DAY1, &["--type", "import.applied"]);
        assert_eq!(closing.len(), 1);
        let two = events(
            &db2,
            DAY1,
            &["--type", "import.applied", "--type", "employee.created"],
        );
        assert_eq!(two.len(), created + 1);
        let human = ok(roster(&db2, DAY1, &["events", "--type", "import.applied"]));
        assert!(human.stdout.contains("import.applied"), "{}", human.stdout);
        let bad = roster(&db2, DAY1, &["events", "--type", "employee.nope"]);
        assert_ne!(bad.code, 0);
        assert!(bad.stderr.contains("employee.nope"), "{}", bad.stderr);

        // --follow from the last event: waits, prints the edit, stops on Ctrl-C.
        let last = all.last().unwrap().cursor.to_string();
        let mut child = command(&db2)
            .args(["--today", &DAY1.to_string(), "--json", "events", "--follow"])
            .args(["--after", &last, "--interval", "0.2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        ok(roster(
            &db2,
            DAY1,
            &["users", "set-email", &m[0], "followed@acme.example"],
        ));
        let mut seen = Vec::new();
        while !seen
            .iter()
            .any(|e: &Event| e.event_type == feed::EventType::ImportApplied)
        {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("--follow prints the new events");
            seen.push(serde_json::from_str(&line).unwrap());
        }
        assert_eq!(seen[0].event_type, feed::EventType::Updated);
        assert_eq!(seen[0].employee_id.as_deref(), Some(m[0].as_str()));
        assert_eq!(seen[0].cursor, all.last().unwrap().cursor + 1);
        let pid = child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "Ctrl-C stops --follow cleanly");
    })
    .await;
}
