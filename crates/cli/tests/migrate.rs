//! `roster migrate-store`: a directory with its history moves from SQLite to
//! PostgreSQL and reads the same there; the moved integration still syncs; a
//! non-empty target or a wrong key is refused with nothing written.
//! Needs ROSTER_TEST_POSTGRES_URL (`.ci/run` starts a server).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::company::{connect_to, start_sandbox, token};
use common::{DAY1, PG_SECRET_KEY, Run, blocking, command, ok, run};
use roster_store_postgres::testing::TestDb;
use serde_json::Value;

/// `roster --db DB ARGS…`; `migrate-store` gets the target's key from the
/// environment, as an operator would set it.
fn roster(db: &str, args: &[&str]) -> Run {
    let mut c = command(db);
    c.arg("--today").arg(DAY1.to_string()).args(args);
    if args.contains(&"migrate-store") {
        c.env("ROSTER_SECRET_KEY", PG_SECRET_KEY);
    }
    run(c)
}

fn json(db: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(roster(db, &all)).stdout).expect("JSON output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_moves_to_postgres_with_its_history() {
    let sandbox = start_sandbox(21, 40).await;
    let token = token(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("roster.db").to_string_lossy().into_owned();
    let target = TestDb::create().await;
    let second = TestDb::create().await;
    let pg = target.url().to_string();
    let pg2 = second.url().to_string();
    let h = sandbox.handle();
    let base = sandbox.base_url();

    // A directory with some history: two syncs, an email edit, an exclusion.
    let (sq, first) = {
        let sqlite = sqlite.clone();
        blocking(move || {
            connect_to(&sqlite, &base, &token);
            ok(roster(&sqlite, &["setup-sync"]));
            ok(roster(&sqlite, &["sync", "--apply", "--yes"]));
            let users = json(&sqlite, &["users", "--all"]);
            (sqlite, users)
        })
        .await
    };
    let people: Vec<String> = first
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] == true)
        .map(|u| u["employee_id"].as_str().unwrap().to_string())
        .collect();
    let leaver = h
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .find(|m| m["active"] == true && m.get("employment_termination_date").is_none())
        .map(|m| m["id"].as_str().unwrap().to_string())
        .unwrap();
    h.terminate(&leaver, DAY1).unwrap();
    let (edited, excluded) = (people[1].clone(), people[2].clone());
    let (moved, before) = {
        let (sq, pg, edited, excluded) = (sq.clone(), pg.clone(), edited.clone(), excluded.clone());
        blocking(move || {
            ok(roster(&sq, &["sync", "--apply", "--yes"]));
            ok(roster(
                &sq,
                &["users", "set-email", &edited, "edited@elsewhere.example"],
            ));
            ok(roster(&sq, &["users", "exclude", &excluded]));
            ok(roster(
                &sq,
                &["notify", "add-webhook", "https://hooks.example/roster"],
            ));
            let before = (
                json(&sq, &["users", "--all"]),
                json(&sq, &["imports"]),
                json(&sq, &["imports", "show", "2"]),
                json(&sq, &["users", "show", &edited]),
                json(&sq, &["integrations"]),
                json(&sq, &["notify", "list"]),
            );
            let moved = json(&sq, &["migrate-store", "--from", &sq, "--to", &pg]);
            (moved, before)
        })
        .await
    };

    assert_eq!(moved["verified"], true);
    let tables = moved["tables"].as_array().unwrap();
    let rows = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("no table {name} in {moved}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("employees"), 40);
    // The kept active count moves with the rest (migration 0015).
    assert_eq!(rows("active_counts"), 1, "one account: {moved}");
    assert!(rows("imports") >= 4, "setup, two syncs, the edits: {moved}");
    assert!(rows("import_entries") > 40);

    // The copy reads exactly as the original.
    let pg_ = pg.clone();
    let edited_ = edited.clone();
    let after = blocking(move || {
        (
            json(&pg_, &["users", "--all"]),
            json(&pg_, &["imports"]),
            json(&pg_, &["imports", "show", "2"]),
            json(&pg_, &["users", "show", &edited_]),
            json(&pg_, &["integrations"]),
            json(&pg_, &["notify", "list"]),
        )
    })
    .await;
    assert_eq!(before.0, after.0, "the directory");
    assert_eq!(before.1, after.1, "the import history");
    assert_eq!(before.2, after.2, "an import's plan");
    assert_eq!(before.3, after.3, "a profile with its change history");
    assert_eq!(before.4, after.4, "the integrations");
    assert_eq!(before.5, after.5, "the notification channels");
    assert_eq!(rows("notification_channels"), 1);

    // The moved integration still syncs: its credentials were re-encrypted with the
    // target's key, and new employees get keys after the copied ones.
    h.hire_random().unwrap();
    let (review, original, applied, users) = {
        let (pg, sq) = (pg.clone(), sq.clone());
        blocking(move || {
            let review = json(&pg, &["sync"]);
            let original = json(&sq, &["sync"]);
            let applied = ok(roster(&pg, &["sync", "--apply", "--yes"]));
            (review, original, applied, json(&pg, &["users", "--all"]))
        })
        .await
    };
    assert_eq!(review["plan"]["counts"]["created"], 1, "{review}");
    assert_eq!(
        review["plan"]["counts"], original["plan"]["counts"],
        "the copy plans the next sync as the original does"
    );
    assert_eq!(review["plan"]["entries"], original["plan"]["entries"]);
    assert!(applied.stdout.contains("Applied"), "{}", applied.stdout);
    assert_eq!(users.as_array().unwrap().len(), 41);
    let excluded_row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["employee_id"] == excluded.as_str())
        .unwrap();
    assert_eq!(
        excluded_row["excluded"], true,
        "exclusion survives the move"
    );

    // A target that holds data is refused, and keeps what it has.
    let (again, still) = {
        let (sq, pg) = (sq.clone(), pg.clone());
        blocking(move || {
            let again = roster(&sq, &["migrate-store", "--from", &sq, "--to", &pg]);
            (again, json(&pg, &["users", "--all"]))
        })
        .await
    };
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("already holds data"),
        "{}",
        again.stderr
    );
    assert_eq!(still, users);

    // Without the key file beside it, the source's credentials cannot be read: the
    // move is refused before anything is committed.
    let lost = dir.path().join("lost");
    std::fs::create_dir(&lost).unwrap();
    let copy = lost.join("roster.db").to_string_lossy().into_owned();
    std::fs::copy(&sq, &copy).unwrap();
    let (nokey, empty) = blocking(move || {
        let nokey = roster(&copy, &["migrate-store", "--from", &copy, "--to", &pg2]);
        (nokey, json(&pg2, &["users", "--all"]))
    })
    .await;
    assert_eq!(nokey.code, 1, "{}", nokey.stderr);
    assert!(
        nokey
            .stderr
            .contains("integrations 1: the credentials do not decrypt"),
        "{}",
        nokey.stderr
    );
    assert_eq!(empty, serde_json::json!([]), "nothing was committed");
    drop((target, second));
    sandbox.shutdown().await.unwrap();
}

#[test]
fn the_directions_and_targets_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.db").to_string_lossy().into_owned();
    let r = roster(
        &missing,
        &[
            "migrate-store",
            "--from",
            &missing,
            "--to",
            "postgres://127.0.0.1:1/x",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no such database file"), "{}", r.stderr);
    let r = roster(
        &missing,
        &[
            "migrate-store",
            "--from",
            "postgres://127.0.0.1:1/x",
            "--to",
            "postgres://127.0.0.1:1/y",
        ],
    );
    assert!(
        r.stderr.contains("--from must be an SQLite database"),
        "{}",
        r.stderr
    );
    let r = roster(
        &missing,
        &["migrate-store", "--from", &missing, "--to", "other.db"],
    );
    assert!(
        r.stderr.contains("--to must be a PostgreSQL URL"),
        "{}",
        r.stderr
    );
}
