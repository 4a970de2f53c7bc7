//! SQLite-specific behaviour: opening, schema versions, pragmas, several handles on
//! one file (as several processes would have).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use jiff::{SignedDuration, Timestamp};
use roster_store::contract::{at, changeset, create_entry, minimal, new_integration};
use roster_store::{AccountId, ImportKind, Store, StoreError};
use roster_store_sqlite::{Checkpoints, SqliteStore, known_versions, supported_version};

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir
        .path()
        .join("roster.db")
        .to_str()
        .expect("utf-8 path")
        .to_string();
    (dir, path)
}

async fn one_employee(store: &SqliteStore, id: &str) {
    let a = store.ensure_account("acme").await.unwrap();
    store
        .write(
            a,
            changeset(ImportKind::Sync, at(0), vec![create_entry(minimal(id))]),
        )
        .await
        .unwrap();
}

async fn count(store: &SqliteStore) -> u64 {
    let a = store.ensure_account("acme").await.unwrap();
    store.count_employees(a, false).await.unwrap()
}

#[tokio::test]
async fn every_spelling_of_a_path_opens_the_same_file() {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.expect("plain path");
    one_employee(&store, "E1").await;
    store.close().await;
    for url in [
        format!("sqlite:{path}"),
        format!("sqlite://{path}"),
        path.clone(),
    ] {
        let store = SqliteStore::open(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(count(&store).await, 1, "{url} opened another database");
        store.close().await;
    }
    assert!(dir.path().join("roster.db").exists());
}

#[tokio::test]
async fn a_missing_file_is_created_in_wal_mode_with_foreign_keys_and_a_mapping() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&format!("sqlite://{path}"))
        .await
        .expect("open");
    assert!(
        std::path::Path::new(&path).exists(),
        "the file was not created"
    );
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 1, "synchronous = NORMAL");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(busy, 5000);
    // Pages read through a mapping of up to 2 GiB (issue #15; `MMAP_SIZE` says why):
    // SQLite keeps the smaller of that and its own ceiling (2 GiB less 64 KiB on Linux).
    let mmap: i64 = sqlx::query_scalar("PRAGMA mmap_size")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        (2 * 1024 * 1024 * 1024 - 64 * 1024..=2 * 1024 * 1024 * 1024).contains(&mmap),
        "mmap_size {mmap}"
    );
}

#[tokio::test]
async fn memory_url_is_one_database_for_every_call() {
    let store = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open memory");
    one_employee(&store, "E1").await;
    one_employee(&store, "E2").await;
    assert_eq!(
        count(&store).await,
        2,
        "calls saw different in-memory databases"
    );
    let other = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open memory");
    assert_eq!(
        count(&other).await,
        0,
        "two in-memory stores share a database"
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.expect("open");
    one_employee(&store, "E1").await;
    let newer = supported_version() + 1;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?1, 'from the future', 1, x'00', 0)",
    )
    .bind(newer)
    .execute(store.pool())
    .await
    .expect("fake a newer migration");
    store.close().await;
    match SqliteStore::open(&path).await {
        Err(StoreError::TooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, supported_version()));
        }
        Err(other) => panic!("a newer schema gave {other}, not TooNew"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_migrate_again() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    one_employee(&store, "E1").await;
    store.close().await;
    let store = SqliteStore::open(&path).await.expect("reopen");
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

#[tokio::test]
async fn the_sync_lock_holds_across_handles_on_one_file() {
    let (_dir, path) = temp_db();
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_from_two_handles_both_land() {
    let (_dir, path) = temp_db();
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    let a = first.ensure_account("acme").await.unwrap();
    let write = |store: SqliteStore, prefix: &'static str| async move {
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
    let keys: std::collections::BTreeSet<i64> = first
        .directory(a)
        .await
        .unwrap()
        .iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys.len(), 2000, "two writers assigned the same key");
}

#[tokio::test]
async fn large_changesets_span_many_statements() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    // Several full chunks plus a partial one.
    roster_store::contract::writes::large_changeset_round_trip(&store, 2_345).await;
}

/// A create's event is no `events` row: its import entry keeps the cursor (migration
/// 0013); `import.applied` is the import's one row. Read back, the feed is whole.
#[tokio::test]
async fn a_first_import_stores_one_event_row() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let a = store.ensure_account("acme").await.unwrap();
    let entries = (0..5).map(|i| create_entry(minimal(&format!("E{i}"))));
    store
        .write(a, changeset(ImportKind::Sync, at(0), entries.collect()))
        .await
        .unwrap();
    let rows = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let kept: Vec<Option<i64>> =
        sqlx::query_scalar("SELECT event_cursor FROM import_entries ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(kept, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    let q = roster_store::EventQuery {
        limit: 100,
        ..Default::default()
    };
    let cursors: Vec<i64> = store
        .events(a, &q)
        .await
        .unwrap()
        .iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(cursors, [1, 2, 3, 4, 5, 6]);
}

/// The same contract, on the in-memory database (one connection for everything).
mod memory {
    use roster_store_sqlite::SqliteStore;

    roster_store::store_contract_tests!(|| async {
        (
            SqliteStore::open("sqlite::memory:").await.expect("open"),
            (),
        )
    });
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

#[cfg(unix)]
fn mode(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .permissions()
        .mode()
        & 0o777
}

/// #11.8: the database, its WAL and its shared-memory file are created 0600.
#[cfg(unix)]
#[tokio::test]
async fn a_new_database_and_its_wal_and_shm_are_private() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    one_employee(&store, "E1").await;
    for p in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        assert_eq!(mode(&p), 0o600, "{p}");
    }
    store.close().await;
}

/// #18.7: after `close`, the database file alone holds everything written (the WAL
/// was checkpointed into it): a copy of just that file opens with the data.
#[tokio::test]
async fn after_close_the_file_alone_holds_the_data() {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    one_employee(&store, "E1").await;
    one_employee(&store, "E2").await;
    Store::close(&store).await.unwrap();
    let wal = std::fs::metadata(format!("{path}-wal")).map(|m| m.len());
    assert!(
        matches!(wal, Err(_) | Ok(0)),
        "the WAL is gone or empty: {wal:?}"
    );
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let copied = SqliteStore::open(copy.to_str().unwrap()).await.unwrap();
    assert_eq!(count(&copied).await, 2);
    copied.close().await;
}

/// Employees in the database file alone (a plain copy of it, without the WAL).
async fn count_in_a_copy_of_the_file(dir: &std::path::Path, path: &str, name: &str) -> u64 {
    let copy = dir.join(name);
    std::fs::copy(path, &copy).unwrap();
    let copied = SqliteStore::open(copy.to_str().unwrap()).await.unwrap();
    let n = count(&copied).await;
    copied.close().await;
    n
}

/// A write large enough for SQLite's automatic checkpoint (its log passes 1,000 pages).
async fn many_employees(store: &SqliteStore, n: usize) {
    let a = store.ensure_account("acme").await.unwrap();
    let entries = (0..n)
        .map(|i| create_entry(minimal(&format!("M{i}"))))
        .collect();
    store
        .write(a, changeset(ImportKind::Sync, at(1), entries))
        .await
        .unwrap();
}

/// Issue #15: a store opened for one command (`Checkpoints::AtClose`) leaves even a
/// large commit in the WAL, where SQLite's default copies it into the file at the
/// commit (the control below); its close copies everything, so the file alone then
/// holds it, as with the default.
#[tokio::test]
async fn a_store_for_one_command_checkpoints_at_its_close_only() {
    for (checkpoints, in_file_before_close) in
        [(Checkpoints::AtClose, 1), (Checkpoints::Automatic, 20_001)]
    {
        let (dir, path) = temp_db();
        let store = SqliteStore::open(&path).await.unwrap();
        one_employee(&store, "E1").await;
        store.close().await;
        let store = SqliteStore::open_with(&path, checkpoints).await.unwrap();
        many_employees(&store, 20_000).await;
        assert_eq!(count(&store).await, 20_001);
        assert_eq!(
            count_in_a_copy_of_the_file(dir.path(), &path, "before.db").await,
            in_file_before_close,
            "{checkpoints:?}: the file alone before the close"
        );
        Store::close(&store).await.unwrap();
        assert_eq!(
            count_in_a_copy_of_the_file(dir.path(), &path, "after.db").await,
            20_001,
            "{checkpoints:?}: the file alone after the close"
        );
    }
}

/// #18.7: `backup` is a consistent copy in a new 0600 file, taken while the store is
/// in use, written whole or not at all.
#[tokio::test]
async fn backup_copies_the_directory_into_a_private_file() {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    one_employee(&store, "E1").await;
    let to = dir.path().join("backup.db");
    store.backup(&to).await.unwrap();
    one_employee(&store, "E2").await;
    #[cfg(unix)]
    assert_eq!(mode(to.to_str().unwrap()), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let copy = SqliteStore::open(to.to_str().unwrap()).await.unwrap();
    assert_eq!(count(&copy).await, 1, "the copy is the directory as it was");
    copy.close().await;
    // A path in a directory that does not exist fails and leaves nothing behind.
    let bad = dir.path().join("missing").join("b.db");
    assert!(store.backup(&bad).await.is_err());
    store.close().await;
}

/// #11.12: rows written before admin edits had their own kind say `manual`; they
/// read as `admin_edit`, and new ones are stored as `admin_edit`.
#[tokio::test]
async fn the_old_word_for_admin_edits_still_reads() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    let a = store.ensure_account("acme").await.unwrap();
    for (i, id) in ["E1", "E2"].into_iter().enumerate() {
        store
            .write(
                a,
                changeset(
                    ImportKind::AdminEdit,
                    at(i as i64),
                    vec![create_entry(minimal(id))],
                ),
            )
            .await
            .unwrap();
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT kind FROM imports ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, ["admin_edit", "admin_edit"]);
    sqlx::query("UPDATE imports SET kind = 'manual' WHERE id = (SELECT min(id) FROM imports)")
        .execute(store.pool())
        .await
        .unwrap();
    let kinds: Vec<ImportKind> = store
        .imports(a, 10)
        .await
        .unwrap()
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, [ImportKind::AdminEdit, ImportKind::AdminEdit]);
    store.close().await;
}

/// A store, another process's handle on the same file, and an account in it.
async fn with_another_process() -> (tempfile::TempDir, SqliteStore, SqliteStore, AccountId) {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.expect("open");
    let other = SqliteStore::open(&path)
        .await
        .expect("another process's handle");
    let a = store.ensure_account("acme").await.expect("account");
    (dir, store, other, a)
}

/// An API token (digest `d1`) created through `other`, another process's handle.
async fn token_from(other: &SqliteStore, account: AccountId) {
    use roster_store::access::{AccessStore, NewApiToken, Role};
    other
        .create_api_token(NewApiToken {
            account_id: account,
            name: "ci".into(),
            role: Role::Viewer,
            digest: "d1".into(),
            created_at: at(0),
        })
        .await
        .expect("token");
}

/// Every connection of `store`'s pool, out at once (the pool opens all four).
async fn every_connection(store: &SqliteStore) -> Vec<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(store.pool().acquire().await.expect("acquire"));
    }
    held
}

/// A pooled connection left inside a transaction (a raw `BEGIN` and a read: its WAL
/// snapshot is fixed from then on) must never serve another caller: on the old
/// pool, every lookup it served missed a token created since by another process
/// (#11.5). Now it is rolled back and closed when it comes back to the pool.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_left_in_a_transaction_serves_no_old_snapshot() {
    use roster_store::access::AccessStore;
    let (_dir, store, other, a) = with_another_process().await;
    // Every connection of the pool out at once; one is left in a transaction.
    let mut held = every_connection(&store).await;
    sqlx::query("BEGIN")
        .execute(&mut *held[0])
        .await
        .expect("begin");
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&mut *held[0])
        .await
        .expect("read");
    assert_eq!(before, 0);
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    token_from(&other, a).await;
    for round in 0..4 {
        let lookups = (0..8).map(|_| store.api_token_by_digest("d1"));
        let found = futures::future::join_all(lookups).await;
        let stale = found.iter().filter(|f| matches!(f, Ok(None))).count();
        assert_eq!(
            stale, 0,
            "round {round}: {stale} of 8 lookups read an old snapshot"
        );
        assert!(found.iter().all(Result::is_ok), "{found:?}");
    }
}

/// A read transaction dropped unfinished (a snapshot read whose caller went away: a
/// client hanging up on an export) ends with its rollback: the connection serves on,
/// not closed, and reads the present (the rollback sqlx queues on drop is flushed
/// before the pool's check; it was closed, with an error in the log, before).
#[tokio::test(flavor = "multi_thread")]
async fn a_read_transaction_dropped_unfinished_leaves_its_connection_serving() {
    use roster_store::access::AccessStore;
    let (_dir, store, other, a) = with_another_process().await;
    drop(every_connection(&store).await);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(store.pool().size(), 4);
    // As `Begin::Snapshot` begins: the pool's transaction, then a long read left
    // after its first row (the connection's worker still reading) and dropped.
    for _ in 0..4 {
        let mut tx = store.pool().begin().await.expect("begin");
        {
            use futures::TryStreamExt as _;
            let mut rows = sqlx::query_scalar::<_, i64>(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000) \
                 SELECT x + (SELECT count(*) FROM api_tokens) FROM c",
            )
            .fetch(&mut *tx);
            assert_eq!(rows.try_next().await.expect("read"), Some(1));
        }
        drop(tx);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(store.pool().size(), 4, "no connection was closed");
    token_from(&other, a).await;
    let lookups = (0..8).map(|_| store.api_token_by_digest("d1"));
    let found = futures::future::join_all(lookups).await;
    assert!(
        found.iter().all(|f| matches!(f, Ok(Some(_)))),
        "every connection reads the present: {found:?}"
    );
}

/// SQLite's plan of `sql` (its arguments unbound): the `detail` of each step.
async fn query_plan(store: &SqliteStore, sql: &str) -> Vec<String> {
    sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
        .collect()
}

/// The known managers of an incremental fetch (`Store::source_emails`) are found
/// through the index of source ids, not by walking the account's rows (which an
/// `ORDER BY key` made SQLite do: 40–50 ms at 100k employees against 2 ms).
#[tokio::test]
async fn source_emails_read_the_source_id_index() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    let sql = roster_store::sql::part::source_emails_sql(roster_store::sql::Dialect::Sqlite);
    let plan = query_plan(&store, &sql).await;
    assert!(
        plan.iter().any(|d| d.starts_with("SEARCH employees USING ")
            && d.contains("employees_source_id")
            && d.contains("source_id=?")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|d| d.starts_with("SCAN employees")),
        "{plan:?}"
    );
}

/// Opening a store looks for rows to fold (migration 0008's leftovers) in the
/// partial indexes of migration 0014, not by reading every employee (issue #15).
#[tokio::test]
async fn opening_reads_no_employee_to_find_rows_to_fold() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    let plan = query_plan(&store, roster_store::sql::employee::UNFOLDED).await;
    let scans: Vec<&String> = plan.iter().filter(|d| d.contains("employees")).collect();
    assert_eq!(scans.len(), 2, "{plan:?}");
    assert!(
        scans
            .iter()
            .all(|d| d.contains("USING INDEX employees_id_unfolded")
                || d.contains("USING INDEX employees_secondary_unfolded")),
        "{plan:?}"
    );
    store.close().await;
}

/// "Changed since" (SCIM's `meta.lastModified gt`) finds its rows through the history
/// since migration 0016 dropped the index on `updated_at` (issue #15): the employees
/// by key from the entries of the imports since, never a walk of the directory; the
/// rows read by their time (after an anonymisation) only as the join after the row
/// `g` that exists then, so that without one nothing is read (0.01 ms against 35 ms
/// at 100k employees). The contract suite checks the rows it finds.
#[tokio::test]
async fn changed_since_reads_employees_by_key() {
    use roster_store::selection::{EmployeeFilter, KeyPage, TimeBound};
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    for filter in [
        EmployeeFilter::Modified(TimeBound::Gt, at(0)),
        EmployeeFilter::And(vec![
            EmployeeFilter::Served(true),
            EmployeeFilter::Modified(TimeBound::Ge, at(0)),
        ]),
    ] {
        let page = KeyPage {
            after: Some(7),
            offset: 0,
            limit: Some(100),
        };
        let sql = roster_store::sql::selection::select_sql(
            roster_store::sql::Dialect::Sqlite,
            &filter,
            page,
        );
        let plan = query_plan(&store, &sql).await;
        let line = |prefix: &str| plan.iter().position(|d| d.starts_with(prefix));
        assert!(
            plan.iter()
                .any(|d| d == "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"),
            "the employees by key: {plan:?}"
        );
        assert!(line("SCAN e").is_none(), "{plan:?}");
        assert!(
            plan.iter()
                .any(|d| d.starts_with("SEARCH ie ") && d.contains("import_id=?")),
            "the entries by import: {plan:?}"
        );
        let (Some(g), Some(w)) = (line("SCAN g"), line("SEARCH w ").or(line("SCAN w"))) else {
            panic!("{plan:?}");
        };
        assert!(
            g < w,
            "the rows by time only after the anonymisation's row: {plan:?}"
        );
    }
    store.close().await;
}

/// An employee's history is read through its chain (migration 0017): the records
/// merged into it by the partial index of merged rows, each import's entries about
/// it by (import, employee), never a walk of the directory or of the entries (at a
/// million employees 0.44 ms against 0.5 s before).
#[tokio::test]
async fn an_employee_history_reads_no_other_employee_or_entry() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    let plan = query_plan(&store, &roster_store::sql::employee_history_sql()).await;
    for table in ["e", "ie", "i"] {
        let reads: Vec<&String> = plan
            .iter()
            .filter(|d| d.contains(&format!(" {table} ")))
            .collect();
        assert!(!reads.is_empty(), "{table}: {plan:?}");
        assert!(
            reads.iter().all(|d| d.starts_with("SEARCH ")),
            "{table} is only searched: {plan:?}"
        );
    }
    assert!(
        plan.iter()
            .any(|d| d.contains("import_entries_import_employee (import_id=? AND employee_key=?)")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|d| d.contains("employees_merged (account_id=? AND merged_into=?)")),
        "{plan:?}"
    );
    store.close().await;
}

/// Pooled connections keep a small page cache (issue #15: a cache page is allocated
/// for every page read until the cache is full); a changeset's write raises its
/// connection's for the transaction and gives it back to the pool at the small size.
#[tokio::test]
async fn pooled_connections_keep_a_small_page_cache_after_a_write() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    one_employee(&store, "E1").await;
    one_employee(&store, "E2").await;
    let mut held = Vec::new();
    for _ in 0..store.pool().size() {
        held.push(store.pool().acquire().await.unwrap());
    }
    assert!(!held.is_empty());
    for conn in &mut held {
        let kib: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(kib, -8 * 1024, "every pooled connection, the writer's too");
    }
}
