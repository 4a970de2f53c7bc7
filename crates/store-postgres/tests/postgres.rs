//! PostgreSQL-specific behaviour: connecting, schema versions, several handles on one
//! database (as several processes would have), big changesets, account scoping.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use roster_core::plan::{Action, Rule};
use roster_store::contract::{
    at, change_entry, changeset, create_entry, full_employee, minimal, new_integration,
};
use roster_store::{ImportKind, Store, StoreError};
use roster_store_postgres::testing::TestDb;
use roster_store_postgres::{PgStore, known_versions, supported_version};

async fn one_employee(store: &PgStore, id: &str) {
    let a = store.ensure_account("acme").await.unwrap();
    store
        .write(
            a,
            changeset(ImportKind::Sync, at(0), vec![create_entry(minimal(id))]),
        )
        .await
        .unwrap();
}

async fn count(store: &PgStore) -> u64 {
    let a = store.ensure_account("acme").await.unwrap();
    store.count_employees(a, false).await.unwrap()
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let db = TestDb::create().await;
    let store = db.store().await;
    one_employee(&store, "E1").await;
    let newer = supported_version() + 1;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from the future', true, '\\x00', 0)",
    )
    .bind(newer)
    .execute(store.pool())
    .await
    .expect("fake a newer migration");
    store.close().await;
    match PgStore::connect(db.url()).await {
        Err(StoreError::TooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, supported_version()));
        }
        Err(other) => panic!("a newer schema gave {other}, not TooNew"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[tokio::test]
async fn reconnecting_keeps_data_and_does_not_migrate_again() {
    let db = TestDb::create().await;
    let store = db.store().await;
    one_employee(&store, "E1").await;
    store.close().await;
    let store = db.store().await;
    assert_eq!(count(&store).await, 1);
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(versions, migration_files());
    assert_eq!(
        known_versions(),
        migration_files(),
        "every file is embedded"
    );
    assert_eq!(versions.last().copied(), Some(supported_version()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rosters_starting_at_once_migrate_once() {
    let db = TestDb::create().await;
    let stores = futures::future::join_all((0..4).map(|_| PgStore::connect(db.url()))).await;
    for store in stores {
        let store = store.expect("a concurrent first start failed");
        assert_eq!(count(&store).await, 0);
    }
}

#[tokio::test]
async fn urls_that_are_not_postgres_or_unreachable_are_errors_without_secrets() {
    assert!(PgStore::connect("sqlite:roster.db").await.is_err());
    assert!(PgStore::connect("postgres://[not a url").await.is_err());
    // Port 1 on loopback: nothing listens there.
    let err = PgStore::connect("postgres://roster:s3cret-pw@127.0.0.1:1/roster")
        .await
        .expect_err("connected to nothing");
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

#[tokio::test]
async fn the_sync_lock_holds_across_handles() {
    let db = TestDb::create().await;
    let first = db.store().await;
    let second = db.store().await;
    let a = first.ensure_account("acme").await.unwrap();
    let int = first
        .create_integration(new_integration(a, roster_store::IntegrationKind::Justworks))
        .await
        .unwrap();
    let later = Timestamp::now() + SignedDuration::from_secs(600);
    first
        .lock_sync(a, int.id, "process-1", later)
        .await
        .expect("lock");
    assert!(matches!(
        second.lock_sync(a, int.id, "process-2", later).await,
        Err(StoreError::SyncRunning(_))
    ));
    first.unlock_sync(a, int.id, "process-1").await.unwrap();
    second
        .lock_sync(a, int.id, "process-2", later)
        .await
        .expect("lock after unlock");
    assert!(matches!(
        first.lock_sync(a, int.id, "process-1", later).await,
        Err(StoreError::SyncRunning(_))
    ));
}

/// Many holders on two handles race for one lock, free and then expired: exactly
/// one wins each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_holders_get_the_lock_exactly_once() {
    let db = TestDb::create().await;
    let first = db.store().await;
    let second = db.store().await;
    let a = first.ensure_account("acme").await.unwrap();
    let int = first
        .create_integration(new_integration(a, roster_store::IntegrationKind::Justworks))
        .await
        .unwrap();
    for round in 0..5 {
        // Rounds after the first race for the lock of last round's winner, expired.
        if round > 0 {
            sqlx::query("UPDATE sync_locks SET until = '2000-01-01T00:00:00.000000000Z'")
                .execute(first.pool())
                .await
                .unwrap();
        }
        let until = Timestamp::now() + SignedDuration::from_secs(600);
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                let holder = format!("holder-{round}-{i}");
                tokio::spawn(async move {
                    store
                        .lock_sync(a, int.id, &holder, until)
                        .await
                        .map(|_generation| holder)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(holder) => winners.push(holder),
                Err(StoreError::SyncRunning(_)) => {}
                Err(other) => panic!("lock_sync failed: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let holder: String = sqlx::query_scalar("SELECT holder FROM sync_locks")
            .fetch_one(first.pool())
            .await
            .unwrap();
        assert_eq!(holder, winners[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_from_two_handles_both_land() {
    let db = TestDb::create().await;
    let first = db.store().await;
    let second = db.store().await;
    let a = first.ensure_account("acme").await.unwrap();
    let write = |store: PgStore, prefix: &'static str| async move {
        for i in 0..20 {
            let entries = (0..50)
                .map(|j| create_entry(minimal(&format!("{prefix}-{i}-{j}"))))
                .collect();
            store
                .write(a, changeset(ImportKind::Sync, at(i), entries))
                .await
                .expect("write");
        }
    };
    let (x, y) = tokio::join!(
        tokio::spawn(write(first.clone(), "A")),
        tokio::spawn(write(second, "B"))
    );
    x.unwrap();
    y.unwrap();
    assert_eq!(first.count_employees(a, false).await.unwrap(), 2 * 20 * 50);
    let dir = first.directory(a).await.unwrap();
    let keys: BTreeSet<i64> = dir.iter().map(|e| e.key).collect();
    assert_eq!(keys.len(), 2000, "two writers assigned the same key");
    // Within one changeset, keys follow entry order.
    for prefix in ["A", "B"] {
        for i in 0..20 {
            let of_import: Vec<i64> = (0..50)
                .map(|j| {
                    let id = format!("{prefix}-{i}-{j}");
                    dir.iter().find(|e| e.employee_id == id).unwrap().key
                })
                .collect();
            assert!(of_import.windows(2).all(|w| w[0] < w[1]), "{prefix}-{i}");
        }
    }
}

/// Two writers update the same employees in opposite orders, many times: the
/// account lock keeps them from deadlocking, and both land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossing_writers_do_not_deadlock() {
    let db = TestDb::create().await;
    let first = db.store().await;
    let second = db.store().await;
    let a = first.ensure_account("acme").await.unwrap();
    first
        .write(
            a,
            changeset(
                ImportKind::Sync,
                at(0),
                (0..20)
                    .map(|i| create_entry(minimal(&format!("E{i:02}"))))
                    .collect(),
            ),
        )
        .await
        .unwrap();
    let run = |store: PgStore, reverse: bool, name: &'static str| async move {
        for round in 0..15 {
            let mut dir = store.directory(a).await.unwrap();
            if reverse {
                dir.reverse();
            }
            let entries = dir
                .iter()
                .map(|e| {
                    let mut after = e.clone();
                    after.first_name = Some(format!("{name}-{round}"));
                    change_entry(Action::Update, e, after, Rule::Source)
                })
                .collect();
            store
                .write(a, changeset(ImportKind::AdminEdit, at(round), entries))
                .await
                .unwrap_or_else(|e| panic!("{name} round {round}: {e}"));
        }
    };
    let (x, y) = tokio::join!(
        tokio::spawn(run(first.clone(), false, "forward")),
        tokio::spawn(run(second, true, "backward"))
    );
    x.unwrap();
    y.unwrap();
    assert_eq!(first.imports(a, 100).await.unwrap().len(), 31);
}

#[tokio::test]
async fn large_changesets_span_many_statements() {
    let db = TestDb::create().await;
    let store = db.store().await;
    // Two full chunks of 5 000 employees plus a partial one.
    roster_store::contract::writes::large_changeset_round_trip(&store, 12_345).await;
}

/// A duplicate left at the end of a changeset is a conflict, found at commit.
#[tokio::test]
async fn a_duplicate_is_a_conflict_and_nothing_is_written() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = store.ensure_account("acme").await.unwrap();
    one_employee(&store, "E1").await;
    let err = store
        .write(
            a,
            changeset(ImportKind::Sync, at(1), vec![create_entry(minimal("E1"))]),
        )
        .await
        .expect_err("a duplicate ID was written");
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(
        !err.to_string().contains("E1"),
        "the error quotes a value: {err}"
    );
    assert_eq!(count(&store).await, 1);
    assert_eq!(store.imports(a, 10).await.unwrap().len(), 1);
}

/// Every table but `accounts` and the fleet-wide `key_check` carries a NOT NULL
/// account_id.
#[tokio::test]
async fn every_table_is_scoped_by_account() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name NOT IN ('accounts', 'key_check', '_sqlx_migrations') ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "active_counts",
            "api_tokens",
            "deliveries",
            "employees",
            "erasures",
            "events",
            "feed_subscriptions",
            "import_entries",
            "imports",
            "integrations",
            "jobs",
            "notification_channels",
            "oauth_states",
            "outbox",
            "retention_holds",
            "sessions",
            "sync_locks",
            "sync_reviews",
            "users"
        ]
    );
    for table in &tables {
        let nullable: Option<String> = sqlx::query_scalar(
            "SELECT is_nullable::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'account_id'",
        )
        .bind(table)
        .fetch_optional(store.pool())
        .await
        .unwrap();
        assert_eq!(
            nullable.as_deref(),
            Some("NO"),
            "{table} has no NOT NULL account_id"
        );
    }
}

/// Two accounts write at the same time, each on its own handle: neither waits for
/// the other's lock, both directories are whole, keys never collide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_write_side_by_side() {
    let db = TestDb::create().await;
    let first = db.store().await;
    let second = db.store().await;
    let a = first.ensure_account("acme").await.unwrap();
    let b = second.ensure_account("globex").await.unwrap();
    let fill = |store: PgStore, account: i64| async move {
        for i in 0..10 {
            let entries = (0..30)
                .map(|j| {
                    create_entry(full_employee(
                        &format!("E{i}-{j}"),
                        &format!("e{i}.{j}@x.example"),
                    ))
                })
                .collect();
            store
                .write(account, changeset(ImportKind::Sync, at(i), entries))
                .await
                .expect("write");
        }
        store.directory(account).await.unwrap()
    };
    let (da, db_) = tokio::join!(
        tokio::spawn(fill(first.clone(), a)),
        tokio::spawn(fill(second.clone(), b))
    );
    let (da, db_) = (da.unwrap(), db_.unwrap());
    assert_eq!((da.len(), db_.len()), (300, 300));
    let ka: BTreeSet<i64> = da.iter().map(|e| e.key).collect();
    let kb: BTreeSet<i64> = db_.iter().map(|e| e.key).collect();
    assert!(ka.is_disjoint(&kb), "keys shared between accounts");
    // The same IDs and emails live in both accounts.
    assert_eq!(
        da.iter().map(|e| &e.employee_id).collect::<Vec<_>>(),
        db_.iter().map(|e| &e.employee_id).collect::<Vec<_>>()
    );
    assert!(
        first.employee(b, da[0].key).await.unwrap().is_none()
            && second.employee(a, db_[0].key).await.unwrap().is_none(),
        "employee() crosses accounts"
    );
}

/// A few new rows go in with `INSERT … FROM UNNEST`, many with COPY (issue #18.3:
/// COPY's split writes wait for a delayed ACK over TCP). Both store the same.
#[tokio::test]
async fn small_and_large_writes_store_the_same_rows() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let mut stored = Vec::new();
    for (name, filler) in [("small", 2), ("large", 1_200)] {
        let a = store.ensure_account(name).await.unwrap();
        let mut entries = vec![create_entry(full_employee("E1", "zoe@x.example"))];
        let mut held = create_entry(full_employee("E2", "held@x.example"));
        held.applied = false;
        held.held = true;
        held.privacy = true;
        entries.push(held);
        entries.extend((0..filler).map(|i| create_entry(minimal(&format!("F{i:05}")))));
        let id = store
            .write(a, changeset(ImportKind::Sync, at(0), entries))
            .await
            .expect("write");
        let mut e1 = store
            .find_employee(a, "E1")
            .await
            .unwrap()
            .expect("E1 stored");
        e1.key = 0;
        let mut record = store.import(a, id).await.unwrap().expect("import");
        assert_eq!(record.entries.len(), filler + 2, "{name}: every entry");
        assert_eq!(
            store.count_employees(a, false).await.unwrap(),
            filler as u64 + 1
        );
        let mut first_two: Vec<_> = record.entries.drain(..2).collect();
        for e in &mut first_two {
            e.key = None;
            e.after.key = 0;
        }
        // The change feed: E1's created event (the held E2 has none), written by
        // UNNEST (small) or COPY (large, more than SMALL_WRITE events).
        let q = roster_store::EventQuery {
            limit: usize::MAX,
            ..Default::default()
        };
        let events = store.events(a, &q).await.unwrap();
        assert_eq!(
            events.len(),
            filler + 3,
            "{name}: created ×{} + scheduled + import.applied",
            filler + 1
        );
        let count = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(a)
                .fetch_one(store.pool())
        };
        let rows = count("SELECT COUNT(*) FROM events WHERE account_id = $1").await;
        assert_eq!(
            rows.unwrap(),
            2,
            "{name}: creates are kept on their entries"
        );
        let kept = count("SELECT COUNT(event_cursor) FROM import_entries WHERE account_id = $1");
        assert_eq!(kept.await.unwrap(), filler as i64 + 1, "{name}");
        let mut e1_created = events[0].clone();
        e1_created.employee_key = None;
        e1_created.import_id = 0;
        stored.push((e1, first_two, e1_created));
    }
    assert_eq!(stored[0], stored[1], "the INSERT and COPY paths differ");
}

/// The versions of the files in `migrations/` (numbers may skip: each engineer's
/// migration has its own), ascending.
fn migration_files() -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut versions: Vec<i64> = std::fs::read_dir(&dir)
        .expect("migrations/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.split('_').next().and_then(|n| n.parse().ok()))
        .collect();
    versions.sort_unstable();
    versions
}
