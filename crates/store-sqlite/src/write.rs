//! [`Store::write`](roster_store::Store::write) on SQLite: the shared steps of
//! [`roster_store::sql::write`] around multi-row statements.
//!
//! Speed comes from multi-row statements (hundreds of rows each, below SQLite's
//! 32 766 parameters), the same SQL text for every full chunk (so sqlx's statement
//! cache prepares it once), and strings moved, not copied, into the arguments.
//! Parameters are positional (`?`), never numbered (`?NNN`): SQLite looks numbered
//! parameters up by a linear scan, which makes binding a large statement quadratic.
//! So these statements do not go through the query entry point's rewrite.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use roster_core::employee::Employee;
use roster_core::normalise::email_key;
use roster_store::sql::employee::{WRITE_COLUMNS, write_values};
use roster_store::sql::write::{ENTRY_COLUMNS, EntryRow, Rows};
use roster_store::sql::{Adapter, Arg, Begin, Columns, Dialect, Executor, Query, Transaction};
use roster_store::sql::{codec::ts, feed, write};
use roster_store::{AccountId, Changeset, Fence, ImportId, StoreError};
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, SqliteConnection};

use crate::SqliteStore;
use crate::exec::{Tx, add, bind, db};

mod indexes;
mod update;

/// Employees per INSERT or UPDATE statement (31 or 27 parameters each).
const EMPLOYEE_CHUNK: usize = 500;
/// Identifier-clearing rows per statement (3 parameters each).
const CLEAR_CHUNK: usize = 2000;
/// Import entries per INSERT (13 parameters each).
const ENTRY_CHUNK: usize = 1000;
/// Events per INSERT (7 parameters each).
const EVENT_CHUNK: usize = 2000;

/// `(?, ?), (?, ?)` …: `rows` rows of `per_row` positional parameters.
fn values(rows: usize, per_row: usize) -> String {
    let row = format!("({})", vec!["?"; per_row].join(", "));
    vec![row; rows].join(", ")
}

/// The SQL for `rows` rows: cached for full chunks, built for the last one.
fn cached(
    cache: &OnceLock<Arc<str>>,
    rows: usize,
    full: usize,
    build: impl Fn(usize) -> String,
) -> Arc<str> {
    if rows == full {
        cache.get_or_init(|| build(full).into()).clone()
    } else {
        build(rows).into()
    }
}

fn names(columns: &[(&str, roster_store::sql::employee::Kind)]) -> String {
    columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Per row: the write columns (key first), account, updated_at, created_at, import id
/// (the row's last write, and the last import with an entry about it: its create).
fn insert_employees_sql(rows: usize) -> String {
    format!(
        "INSERT INTO employees ({}, account_id, updated_at, created_at, last_import_id, \
         history_import_id) VALUES {}",
        names(WRITE_COLUMNS),
        values(rows, WRITE_COLUMNS.len() + 5)
    )
}

/// Binds: per row key, new employee ID, new lower-cased email; account. Clears the
/// unique identifiers of rows whose identifiers change, so that the updates after it
/// may move an ID or email from one employee to another in any order.
fn clear_identifiers_sql(rows: usize) -> String {
    format!(
        "UPDATE employees SET employee_id = NULL, email_lower = NULL FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ? \
         AND (employees.employee_id IS NOT v.column2 OR employees.email_lower IS NOT v.column3)",
        values(rows, 3)
    )
}

/// Per row every column of [`ENTRY_COLUMNS`].
fn insert_entries_sql(rows: usize) -> String {
    format!(
        "INSERT INTO import_entries ({}) VALUES {}",
        names(ENTRY_COLUMNS),
        values(rows, ENTRY_COLUMNS.len())
    )
}

/// Per row every column of [`feed::EVENT_COLUMNS`].
fn insert_events_sql(rows: usize) -> String {
    format!(
        "INSERT INTO events ({}) VALUES {}",
        names(feed::EVENT_COLUMNS),
        values(rows, feed::EVENT_COLUMNS.len())
    )
}

static INSERT_EMPLOYEES: OnceLock<Arc<str>> = OnceLock::new();
static CLEAR_IDENTIFIERS: OnceLock<Arc<str>> = OnceLock::new();
static INSERT_ENTRIES: OnceLock<Arc<str>> = OnceLock::new();
static INSERT_EVENTS: OnceLock<Arc<str>> = OnceLock::new();

/// Run a positional statement.
async fn run(
    conn: &mut SqliteConnection,
    sql: Arc<str>,
    args: SqliteArguments,
) -> Result<u64, StoreError> {
    let done = sqlx::query_with(AssertSqlSafe(sql), args)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected())
}

/// Run the statements `next` builds until it has none, building each while the one
/// before it runs: sqlx runs SQLite on a thread of its own, so the encoding and
/// binding of the next rows here take the other core instead of waiting (issue #15:
/// of a 1M first import's employee inserts, a third of the CPU is encoding and
/// binding here, two thirds sqlx's thread; docs/benchmarks.md, session 10). A failure
/// of either ends the run; the statements already run are the caller's
/// transaction's, as before.
///
/// The bound values are freed here too, not on sqlx's thread, the one the statements
/// wait on: a handle on each statement's values (reference-counted strings) is kept
/// here until the statement after it has ended (sqlx's thread runs one statement at a
/// time and drops a statement's values before it reports its end), so sqlx's drop is
/// a count going down, not a string given back to the thread that made it (the 100k
/// first import: sqlx's thread's CPU −10 %, its rows 553 → 507 ms; docs/benchmarks.md,
/// session 21).
async fn run_overlapped(
    conn: &mut SqliteConnection,
    mut next: impl FnMut() -> Result<Option<(Arc<str>, SqliteArguments)>, StoreError>,
) -> Result<(), StoreError> {
    let mut pending = next()?;
    let mut kept: VecDeque<SqliteArguments> = VecDeque::with_capacity(3);
    while let Some((sql, args)) = pending {
        kept.push_back(args.clone());
        // `join!` polls in order: the statement is sent to the worker by its first
        // poll, then the next one is built, then the statement's end is awaited.
        let (done, built) = futures::join!(run(&mut *conn, sql, args), async {
            // The values of the statement two before this one, freed while it runs.
            if kept.len() > 2 {
                drop(kept.pop_front());
            }
            next()
        });
        done?;
        pending = built?;
    }
    Ok(())
}

/// A multi-row statement's size, its SQL when full (built once) and its SQL builder.
type Chunk<'a> = (usize, &'a OnceLock<Arc<str>>, fn(usize) -> String);

/// The next multi-row statement of `items` (up to the chunk's size, each item bound
/// by `row`), or `None` once `items` is empty: the builder [`run_overlapped`] takes.
fn next_chunk<I: Iterator>(
    items: &mut std::iter::Peekable<I>,
    (size, cache, sql): Chunk<'_>,
    mut row: impl FnMut(&mut SqliteArguments, I::Item) -> Result<(), StoreError>,
) -> Result<Option<(Arc<str>, SqliteArguments)>, StoreError> {
    if items.peek().is_none() {
        return Ok(None);
    }
    let mut args = SqliteArguments::default();
    let mut n = 0;
    for item in items.by_ref().take(size) {
        row(&mut args, item)?;
        n += 1;
    }
    Ok(Some((cached(cache, n, size, sql), args)))
}

pub(crate) async fn write(
    store: &SqliteStore,
    account: AccountId,
    cs: Changeset,
    fence: Option<&Fence>,
) -> Result<ImportId, StoreError> {
    write_rebuilding_from(store, account, cs, fence, indexes::REBUILD_FROM).await
}

/// [`write`], rebuilding the indexes of `employees` from `rebuild_from` creates
/// ([`indexes`]; tests pass a small number).
async fn write_rebuilding_from(
    store: &SqliteStore,
    account: AccountId,
    cs: Changeset,
    fence: Option<&Fence>,
    rebuild_from: usize,
) -> Result<ImportId, StoreError> {
    write::check(&cs)?;
    // IMMEDIATE: the write lock from the start, so nobody else assigns keys either.
    let mut tx = store.begin(Begin::Write).await?;
    tx.execute(Query::new(crate::cache_size(crate::WRITE_CACHE_KIB)))
        .await?;
    let import_id = write::record_import(&mut tx, Dialect::Sqlite, account, &cs, fence).await?;
    let max = tx
        .fetch_one(Query::new("SELECT COALESCE(MAX(key), 0) FROM employees"))
        .await?
        .int(0, "employees.key")?;
    let new_keys: Vec<i64> = ((max + 1)..).take(write::creates(&cs.entries)).collect();
    // The events first: an event may borrow its employee from the changeset, which
    // the rows below take. The creates kept on their entries go in with the entries.
    let feed::ImportEvents { events, kept } =
        feed::changeset_events(&mut tx, account, import_id, &cs, &new_keys).await?;
    insert_events(&mut tx, account, events).await?;
    let Changeset {
        entries,
        notifications,
        finished_at,
        ..
    } = cs;
    let count = entries.len();
    let rows = write::split(entries, new_keys.into_iter(), &kept)?;
    let finished: Arc<str> = ts(finished_at).into();
    let created = rows.active_created();
    let at = (account, import_id, finished);
    write_rows(&mut tx, at, rows, rebuild_from).await?;
    if let Some(active) = created {
        write::count_created(&mut tx, Dialect::Sqlite, account, active).await?;
    }
    write::queue_notifications(&mut tx, account, import_id, finished_at, notifications).await?;
    // Back to the pool's size: the dirty pages stay until the commit writes them, and
    // the cache then lets go of the pages above it. (A write that fails keeps the
    // larger cache on its connection: more memory, nothing else.)
    tx.execute(Query::new(crate::cache_size(crate::READ_CACHE_KIB)))
        .await?;
    let t = std::time::Instant::now();
    tx.commit().await?;
    let commit_ms = t.elapsed().as_millis();
    tracing::debug!(
        account,
        import_id,
        entries = count,
        commit_ms,
        "changeset written"
    );
    Ok(import_id)
}

/// An updated employee's key, ID and email key, as the clear of moving identifiers
/// binds them.
fn identifiers((key, e): (i64, &Employee)) -> (i64, String, Option<String>) {
    let lower = email_key(&e.email);
    (
        key,
        e.employee_id.clone(),
        (!lower.is_empty()).then_some(lower),
    )
}

/// Clear identifiers that move, update, create, then record the entries: unique
/// constraints are checked per statement, and this order satisfies them whenever
/// the final state does.
async fn write_rows(
    tx: &mut Tx,
    (account, import_id, finished): (AccountId, ImportId, Arc<str>),
    mut rows: Rows,
    rebuild_from: usize,
) -> Result<(), StoreError> {
    let links = rows.links();
    let tail = |args: &mut SqliteArguments| -> Result<(), StoreError> {
        bind(args, Arg::Int(Some(account)))?;
        add(args, finished.clone())?;
        add(args, finished.clone())?;
        bind(args, Arg::Int(Some(import_id)))?;
        bind(args, Arg::Int(Some(import_id)))
    };
    // What the updated rows hold in indexed columns: only rows whose identifiers
    // move are cleared, only rows where a group's values differ are bound to it.
    let keys: Vec<i64> = rows.updates().map(|(key, _)| key).collect();
    let mut held = update::Held::read(tx, account, keys).await?;
    // Each iterator borrows the rows: dropped before the next one takes them.
    let mut moving = rows
        .updates()
        .map(identifiers)
        .filter(|(key, id, lower)| held.moves(*key, id, lower.as_deref()));
    loop {
        let chunk: Vec<_> = moving.by_ref().take(CLEAR_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let mut args = SqliteArguments::default();
        let n = chunk.len();
        for (key, employee_id, lower) in chunk {
            bind(&mut args, Arg::Int(Some(key)))?;
            bind(&mut args, Arg::Text(Some(employee_id)))?;
            bind(&mut args, Arg::Text(lower))?;
        }
        bind(&mut args, Arg::Int(Some(account)))?;
        let sql = cached(&CLEAR_IDENTIFIERS, n, CLEAR_CHUNK, clear_identifiers_sql);
        run(tx.conn(), sql, args).await?;
    }
    drop(moving);
    let mut updates = rows.take_updates().peekable();
    while updates.peek().is_some() {
        let chunk: Vec<(i64, Employee)> = updates.by_ref().take(EMPLOYEE_CHUNK).collect();
        let keys: Vec<i64> = chunk.iter().map(|(k, _)| *k).collect();
        let at = (account, import_id, &finished);
        if update::update_chunk(tx, chunk, EMPLOYEE_CHUNK, at, &held).await? != keys.len() as u64 {
            return Err(missing_employee(tx, account, &keys).await);
        }
    }
    drop(updates);
    let t = std::time::Instant::now();
    // A large first import: the indexes of `employees` built once, after its rows.
    let rebuild = if indexes::worth_rebuilding(tx, rows.creates_len(), rebuild_from).await? {
        Some(indexes::prepare(tx, rows.creates_len()).await?)
    } else {
        None
    };
    let mut creates = rows.take_creates().peekable();
    run_overlapped(tx.conn(), || {
        let chunk: Chunk<'_> = (EMPLOYEE_CHUNK, &INSERT_EMPLOYEES, insert_employees_sql);
        next_chunk(&mut creates, chunk, |args, (key, e)| {
            for v in write_values(key, e)? {
                bind(args, v)?;
            }
            tail(args)
        })
    })
    .await?;
    drop(creates);
    tracing::debug!(ms = t.elapsed().as_millis(), "employees inserted");
    if let Some(dropped) = rebuild {
        let t = std::time::Instant::now();
        indexes::recreate(tx, dropped).await?;
        tracing::debug!(ms = t.elapsed().as_millis(), "indexes re-created");
    }
    let t = std::time::Instant::now();
    let mut entries = rows.into_entries().peekable();
    run_overlapped(tx.conn(), || {
        let chunk: Chunk<'_> = (ENTRY_CHUNK, &INSERT_ENTRIES, insert_entries_sql);
        next_chunk(&mut entries, chunk, |args, r| {
            for v in EntryRow::values(r?, account, import_id) {
                bind(args, v)?;
            }
            Ok(())
        })
    })
    .await?;
    tracing::debug!(ms = t.elapsed().as_millis(), "import entries inserted");
    if links {
        write::link_history(tx, Dialect::Sqlite, account, import_id).await?;
    }
    Ok(())
}

/// The import's events ([`feed::EVENT_COLUMNS`]), in multi-row statements.
async fn insert_events(
    tx: &mut Tx,
    account: AccountId,
    events: Vec<roster_core::feed::Stored<'_>>,
) -> Result<(), StoreError> {
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for event in events.by_ref().take(EVENT_CHUNK) {
            for v in feed::event_values(account, event)? {
                bind(&mut args, v)?;
            }
            n += 1;
        }
        let sql = cached(&INSERT_EVENTS, n, EVENT_CHUNK, insert_events_sql);
        run(tx.conn(), sql, args).await?;
    }
    Ok(())
}

/// The error for an update chunk that did not find all its employees.
async fn missing_employee(tx: &mut Tx, account: AccountId, keys: &[i64]) -> StoreError {
    for &key in keys {
        let found = tx
            .fetch_optional(
                Query::new("SELECT key FROM employees WHERE key = $1 AND account_id = $2")
                    .bind(key)
                    .bind(account),
            )
            .await;
        match found {
            Ok(Some(_)) => continue,
            Ok(None) => {
                return StoreError::NotFound {
                    what: "employee",
                    id: key.to_string(),
                };
            }
            Err(e) => return e,
        }
    }
    StoreError::Conflict("an employee of the changeset was not updated".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `INSERT INTO t` of `i` and the rows `t` held when it ran.
    fn numbered(i: i64) -> (Arc<str>, SqliteArguments) {
        let mut args = SqliteArguments::default();
        bind(&mut args, Arg::Int(Some(i))).unwrap();
        let sql = "INSERT INTO t (i, seen) VALUES (?, (SELECT COUNT(*) FROM t))";
        (sql.into(), args)
    }

    async fn table() -> (crate::SqliteStore, sqlx::pool::PoolConnection<sqlx::Sqlite>) {
        let store = crate::SqliteStore::open("sqlite::memory:").await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (i INTEGER PRIMARY KEY, seen INTEGER)")
            .execute(&mut *conn)
            .await
            .unwrap();
        (store, conn)
    }

    async fn rows(conn: &mut SqliteConnection) -> Vec<(i64, i64)> {
        sqlx::query_as("SELECT i, seen FROM t ORDER BY i")
            .fetch_all(conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn overlapped_statements_run_in_order_each_after_the_one_before() {
        let (_store, mut conn) = table().await;
        let mut built = 0;
        run_overlapped(&mut conn, || {
            built += 1;
            Ok((built <= 5).then(|| numbered(built)))
        })
        .await
        .unwrap();
        assert_eq!(built, 6, "five statements, then none");
        let want: Vec<(i64, i64)> = (1..=5).map(|i| (i, i - 1)).collect();
        assert_eq!(rows(&mut conn).await, want, "each saw every row before it");
    }

    /// sqlx's thread never holds the last handle on a statement's values: while a
    /// statement runs, the values of the one before it (which sqlx's thread is done
    /// with) are still held here, and those of the one before that are let go of.
    #[tokio::test]
    async fn bound_values_are_let_go_of_here_two_statements_later() {
        let (_store, mut conn) = table().await;
        let values: Vec<Arc<str>> = (1..=6).map(|i| Arc::from(format!("v{i}"))).collect();
        let value = |statement: usize| &values[statement - 1];
        let mut counts = Vec::new();
        let mut built = 0;
        run_overlapped(&mut conn, || {
            // Called while statement `built` runs: the handles on the values of the
            // statements two before it, one before it, and its own.
            if built >= 3 {
                counts.push([built - 2, built - 1, built].map(|s| Arc::strong_count(value(s))));
            }
            built += 1;
            if built > values.len() {
                return Ok(None);
            }
            let mut args = SqliteArguments::default();
            bind(&mut args, Arg::Int(Some(built as i64))).unwrap();
            add(&mut args, value(built).clone()).unwrap();
            let sql = "INSERT INTO t (i, seen) VALUES (?, length(?))";
            Ok(Some((sql.into(), args)))
        })
        .await
        .unwrap();
        assert_eq!(counts.len(), 4, "statements 3 to 6");
        for [two_before, before, running] in &counts {
            assert_eq!(*two_before, 1, "let go of: {counts:?}");
            assert_eq!(*before, 2, "still held here: {counts:?}");
            // Its own, the one kept here, and sqlx's while it has not ended.
            assert!((2..=3).contains(running), "{counts:?}");
        }
        assert!(
            values.iter().all(|v| Arc::strong_count(v) == 1),
            "none kept"
        );
        assert_eq!(rows(&mut conn).await.len(), 6);
    }

    #[tokio::test]
    async fn a_failing_statement_ends_the_overlapped_run() {
        let (_store, mut conn) = table().await;
        let mut built = 0;
        // The second statement repeats the first key.
        let err = run_overlapped(&mut conn, || {
            built += 1;
            Ok(Some(numbered(if built == 2 { 1 } else { built })))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(
            built, 3,
            "the third was built while the second ran, never run"
        );
        assert_eq!(rows(&mut conn).await, vec![(1, 0)]);
    }

    #[tokio::test]
    async fn a_failure_to_build_ends_the_run_after_the_running_statement() {
        let (_store, mut conn) = table().await;
        let mut built = 0;
        let err = run_overlapped(&mut conn, || {
            built += 1;
            match built {
                3 => Err(StoreError::Database("cannot build".into())),
                _ => Ok(Some(numbered(built))),
            }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Database(m) if m == "cannot build"));
        assert_eq!(
            rows(&mut conn).await,
            vec![(1, 0), (2, 1)],
            "the second ran"
        );
    }

    #[test]
    fn values_are_positional() {
        assert_eq!(values(2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn full_chunks_stay_under_sqlites_parameter_limit() {
        for sql in [
            insert_employees_sql(EMPLOYEE_CHUNK),
            update::update_plain_sql(EMPLOYEE_CHUNK),
            update::update_group_sql(0, EMPLOYEE_CHUNK),
            clear_identifiers_sql(CLEAR_CHUNK),
            insert_entries_sql(ENTRY_CHUNK),
        ] {
            let params = sql.matches('?').count();
            assert!(params < 32_766, "{params} parameters");
        }
    }
}
