//! A large first import builds the out-of-order indexes of `employees` once,
//! sorted, instead of inserting into them row by row (issue #15; docs/benchmarks.md,
//! session 9).
//!
//! Row by row, each index on a value the rows do not arrive in (employee ID and its
//! lower case, email, secondary email, source id, manager, birth date) takes its
//! entries in the table's order: a page anywhere in the index for every row. At 1M
//! employees those indexes outgrow the page cache, so the inserts spill dirty pages
//! and split pages all over them; `CREATE INDEX` sorts the keys first and writes
//! each page once, for one scan of the table per index. Measured on the rows of a
//! real 1M first import (`scripts/apply_cost.py rebuild`): the copy's CPU 30.8 s →
//! 21.5 s, and the real import's write 64 s → 31 s. At 100k the SQL copy (one
//! `INSERT … SELECT`) showed no gain, but the store binds 500 rows a statement, and
//! each statement copies every page it touches into its statement journal (the
//! account's foreign key and the unique indexes need one) and splits pages of all
//! seven indexes: the real 100k first import's employee rows took 2.2 s row by row,
//! 0.5–0.8 s appended plus 0.5–0.7 s for the re-creates; at 20k 0.21–0.30 s against
//! 0.17–0.27 s (session 21). So below [`REBUILD_FROM`] creates (where neither way
//! costs much), or when the table already holds as many rows as the changeset
//! creates, the row-by-row inserts stay. Indexes whose entries the creates append (the
//! account, the key, the write's one time) are kept: a rebuild would cost a scan and
//! save nothing.
//!
//! The definitions are read from `sqlite_master` (the schema keeps the one copy),
//! dropped and re-created from their stored SQL inside the write's transaction: a
//! failure or a kill rolls the drop back with the rows, and readers (WAL) see the
//! old schema and data until the commit. A unique index re-created over duplicates
//! fails with the constraint error the insert would have raised.

use roster_store::StoreError;
use roster_store::sql::{Columns, Executor, Query, ident};
use sqlx::AssertSqlSafe;

use crate::exec::{Tx, db};

/// Creates from which a write into a table holding fewer rows rebuilds the
/// indexes (measured: docs/benchmarks.md, sessions 9 and 21).
pub(super) const REBUILD_FROM: usize = 10_000;

/// Below this many creates, a rebuilding write holds its new rows in a page cache of
/// [`crate::REBUILD_CACHE_KIB`] (≈ 1.2 KiB an employee with its entries: 121 MB at 100k):
/// the rows are not spilled to the log while they go in, and each re-create scans
/// them in memory instead of reading them back from the log (the 100k first
/// import's re-creates 0.54–0.84 s → 0.50–0.64 s, its rows 0.53–1.36 s → 0.49–0.92 s,
/// +40 MiB resident; docs/benchmarks.md, session 21). Above it the rows outgrow any
/// cache worth holding, and a 1M first import's memory (≤ 1.5 GiB, issue #15) has no
/// room for one: the write's own cache stays.
const CACHED_BELOW: usize = 200_000;

/// The page cache a rebuilding write creating `creates` employees raises its own to
/// (KiB), if any.
fn rebuild_cache_kib(creates: usize) -> Option<u32> {
    (creates < CACHED_BELOW).then_some(crate::REBUILD_CACHE_KIB)
}

/// Make ready for a write creating `creates` employees that rebuilds the indexes:
/// the page cache for them ([`CACHED_BELOW`]), then the indexes dropped
/// ([`drop_all`]), handing back what re-creates them. The write's transaction sets
/// the cache back before its commit.
pub(super) async fn prepare(tx: &mut Tx, creates: usize) -> Result<Vec<Index>, StoreError> {
    if let Some(kib) = rebuild_cache_kib(creates) {
        tx.execute(Query::new(crate::cache_size(kib))).await?;
    }
    drop_all(tx).await
}

/// An index of `employees`: its name and the SQL that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Index {
    name: String,
    sql: String,
}

/// Whether a write creating `creates` employees rebuilds the indexes (from `from`
/// creates, [`REBUILD_FROM`] but in tests): a count of the table only when the
/// changeset is large.
pub(super) async fn worth_rebuilding(
    tx: &mut Tx,
    creates: usize,
    from: usize,
) -> Result<bool, StoreError> {
    if creates < from {
        return Ok(false);
    }
    let held = tx
        .fetch_one(Query::new("SELECT COUNT(*) FROM employees"))
        .await?
        .int(0, "employees count")?;
    Ok(usize::try_from(held).is_ok_and(|held| held < creates))
}

/// The explicit indexes of `employees` (not the ones a constraint makes, which
/// have no SQL) that the creates would fill out of order, in name order: those
/// with a column (or an expression) besides the account, the key and the time of
/// the write, which every created row has alike, and `merged_into`, which no
/// created row has (migration 0017's `employees_merged` holds merged rows only).
/// The others get their entries appended, row by row (or none), at no cost a
/// rebuild (a scan of the table each) could save.
pub(super) async fn definitions(tx: &mut Tx) -> Result<Vec<Index>, StoreError> {
    let rows = tx
        .fetch_all(Query::new(
            "SELECT m.name, m.sql FROM sqlite_master AS m \
             WHERE m.type = 'index' AND m.tbl_name = 'employees' AND m.sql IS NOT NULL \
             AND EXISTS (SELECT 1 FROM pragma_index_info(m.name) AS i \
                 WHERE i.name IS NULL \
                 OR i.name NOT IN ('account_id', 'key', 'updated_at', 'merged_into')) \
             ORDER BY m.name",
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Index {
                name: r.text(0, "sqlite_master.name")?.to_string(),
                sql: r.text(1, "sqlite_master.sql")?.to_string(),
            })
        })
        .collect()
}

/// Drop the indexes of `employees`, handing back what re-creates them.
async fn drop_all(tx: &mut Tx) -> Result<Vec<Index>, StoreError> {
    let indexes = definitions(tx).await?;
    for index in &indexes {
        let sql = format!("DROP INDEX {}", ident(&index.name));
        raw(tx, sql).await?;
    }
    Ok(indexes)
}

/// Re-create dropped indexes from their stored SQL.
pub(super) async fn recreate(tx: &mut Tx, indexes: Vec<Index>) -> Result<(), StoreError> {
    for index in indexes {
        let t = std::time::Instant::now();
        raw(tx, index.sql).await?;
        tracing::debug!(
            index = index.name,
            ms = t.elapsed().as_millis(),
            "index re-created"
        );
    }
    Ok(())
}

/// A statement of the schema's own text (no parameters, so no rewrite).
async fn raw(tx: &mut Tx, sql: String) -> Result<(), StoreError> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(tx.conn())
        .await
        .map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use roster_store::contract::{at, changeset, create_entry, full_employee};
    use roster_store::{Changeset, ImportKind, Store, StoreError};
    use sqlx::Row as _;

    use roster_store::sql::{Adapter, Begin, Columns as _, Executor, Query};

    use super::super::write_rebuilding_from;
    use super::{CACHED_BELOW, definitions, drop_all, rebuild_cache_kib, recreate};
    use crate::SqliteStore;

    /// The indexes of `employees` (name, SQL) and the schema's version, which every
    /// `DROP INDEX` and `CREATE INDEX` raises.
    async fn schema(store: &SqliteStore) -> (Vec<(String, String)>, i64) {
        let rows = sqlx::query(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'employees' AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let indexes = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let version = sqlx::query("PRAGMA schema_version")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        (indexes, version)
    }

    async fn integrity(store: &SqliteStore) -> String {
        sqlx::query("PRAGMA integrity_check")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0)
    }

    /// `n` new employees, numbered from `first`.
    fn creates(first: usize, n: usize) -> Changeset {
        let entries = (first..first + n)
            .map(|i| {
                create_entry(full_employee(
                    &format!("E{i:04}"),
                    &format!("e{i}@x.example"),
                ))
            })
            .collect();
        changeset(ImportKind::Sync, at(0), entries)
    }

    async fn memory() -> SqliteStore {
        SqliteStore::open("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn a_large_first_import_rebuilds_the_indexes_with_their_own_sql() {
        let store = memory().await;
        let a = store.ensure_account("acme").await.unwrap();
        let (before, version) = schema(&store).await;
        assert!(before.len() >= 11, "{before:?}");
        write_rebuilding_from(&store, a, creates(0, 60), None, 50)
            .await
            .unwrap();
        let (after, rebuilt) = schema(&store).await;
        assert_eq!(after, before, "the same indexes, from the same SQL");
        // Each DROP and each CREATE raises the version by one.
        let mut tx = store.begin(Begin::Snapshot).await.unwrap();
        let names: Vec<String> = definitions(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
        drop(tx);
        assert_eq!(rebuilt - version, 2 * names.len() as i64, "{names:?}");
        for scattered in [
            "employees_email",
            "employees_employee_id",
            "employees_reports",
        ] {
            assert!(names.iter().any(|n| n == scattered), "{names:?}");
        }
        for appended in ["employees_account", "employees_active", "employees_merged"] {
            assert!(!names.iter().any(|n| n == appended), "{names:?}");
        }
        assert_eq!(integrity(&store).await, "ok", "every index holds every row");
        assert_eq!(store.directory(a).await.unwrap().len(), 60);
        assert_eq!(store.count_employees(a, true).await.unwrap(), 60);
    }

    /// The page cache a rebuilding write's transaction runs with after [`prepare`].
    async fn cache_after_prepare(store: &SqliteStore, creates: usize) -> i64 {
        let mut tx = store.begin(Begin::Write).await.unwrap();
        tx.execute(Query::new(crate::cache_size(crate::WRITE_CACHE_KIB)))
            .await
            .unwrap();
        let dropped = super::prepare(&mut tx, creates).await.unwrap();
        assert!(!dropped.is_empty());
        let kib = tx
            .fetch_one(Query::new("PRAGMA cache_size"))
            .await
            .unwrap()
            .int(0, "cache_size")
            .unwrap();
        drop(tx); // rolled back: the indexes stay
        -kib
    }

    /// A rebuild below [`CACHED_BELOW`] creates holds its rows in a larger cache; a
    /// larger one (a 1M first import, whose memory is bounded) keeps the write's.
    #[tokio::test]
    async fn a_rebuild_below_the_bound_holds_its_rows_in_a_larger_cache() {
        let store = memory().await;
        let write = i64::from(crate::WRITE_CACHE_KIB);
        let larger = i64::from(rebuild_cache_kib(100_000).unwrap());
        assert!(larger > write);
        assert_eq!(cache_after_prepare(&store, 100_000).await, larger);
        assert_eq!(cache_after_prepare(&store, CACHED_BELOW - 1).await, larger);
        assert_eq!(cache_after_prepare(&store, CACHED_BELOW).await, write);
        assert_eq!(cache_after_prepare(&store, 1_000_000).await, write);
        assert_eq!(rebuild_cache_kib(1_000_000), None);
    }

    #[tokio::test]
    async fn small_writes_and_writes_into_a_larger_table_keep_the_indexes() {
        let store = memory().await;
        let a = store.ensure_account("acme").await.unwrap();
        let (before, version) = schema(&store).await;
        // Fewer creates than the threshold.
        write_rebuilding_from(&store, a, creates(0, 49), None, 50)
            .await
            .unwrap();
        assert_eq!(schema(&store).await, (before.clone(), version));
        // As many creates as the threshold, into a table holding more rows already.
        write_rebuilding_from(&store, a, creates(49, 45), None, 45)
            .await
            .unwrap();
        assert_eq!(schema(&store).await, (before, version));
        assert_eq!(store.directory(a).await.unwrap().len(), 94);
    }

    /// While a write has dropped the indexes (WAL), another connection reads the
    /// schema and the rows as they were: the drop, like the rows, shows at the commit.
    #[tokio::test]
    async fn readers_see_the_indexes_while_a_write_has_dropped_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        let path = path.to_str().unwrap();
        let writer = SqliteStore::open(path).await.unwrap();
        let a = writer.ensure_account("acme").await.unwrap();
        write_rebuilding_from(&writer, a, creates(0, 3), None, usize::MAX)
            .await
            .unwrap();
        let reader = SqliteStore::open(path).await.unwrap();
        let before = schema(&reader).await;
        let mut tx = writer.begin(Begin::Write).await.unwrap();
        let dropped = drop_all(&mut tx).await.unwrap();
        assert!(!dropped.is_empty());
        tx.execute(Query::new("DELETE FROM employees"))
            .await
            .unwrap();
        assert_eq!(schema(&reader).await, before);
        assert_eq!(integrity(&reader).await, "ok");
        assert_eq!(reader.directory(a).await.unwrap().len(), 3);
        recreate(&mut tx, dropped).await.unwrap();
        drop(tx); // rolled back
        assert_eq!(schema(&writer).await, before);
        assert_eq!(writer.directory(a).await.unwrap().len(), 3);
    }

    /// Two new employees with one employee ID: the re-created unique index refuses
    /// them as the row-by-row insert does, and the rollback brings back the indexes
    /// as they were, with no row.
    #[tokio::test]
    async fn a_failing_large_changeset_leaves_the_indexes_in_place() {
        let mut refusals = Vec::new();
        for from in [50, usize::MAX] {
            let store = memory().await;
            let a = store.ensure_account("acme").await.unwrap();
            let before = schema(&store).await;
            let mut cs = creates(0, 60);
            cs.entries[59].after.employee_id = "E0003".into();
            cs.entries[59].employee_id = "E0003".into();
            let err = write_rebuilding_from(&store, a, cs, None, from)
                .await
                .unwrap_err();
            refusals.push(match err {
                StoreError::Conflict(m) => m,
                other => panic!("not a conflict: {other:?}"),
            });
            assert_eq!(schema(&store).await, before, "the schema as it was");
            assert_eq!(integrity(&store).await, "ok");
            assert!(store.directory(a).await.unwrap().is_empty());
            assert!(store.imports(a, 10).await.unwrap().is_empty());
        }
        assert_eq!(refusals[0], refusals[1], "the same refusal either way");
    }
}
