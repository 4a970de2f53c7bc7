//! [`Store::write`](roster_store::Store::write) on SQLite: the shared steps of
//! [`roster_store::sql::write`] around multi-row statements.
//!
//! Speed comes from multi-row statements (hundreds of rows each, below SQLite's
//! 32 766 parameters), the same SQL text for every full chunk (so sqlx's statement
//! cache prepares it once), and strings moved, not copied, into the arguments.
//! Parameters are positional (`?`), never numbered (`?NNN`): SQLite looks numbered
//! parameters up by a linear scan, which makes binding a large statement quadratic.
//! So these statements do not go through the query entry point's rewrite.

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

/// Per row: the write columns (key first), account, updated_at, created_at, import id.
fn insert_employees_sql(rows: usize) -> String {
    format!(
        "INSERT INTO employees ({}, account_id, updated_at, created_at, last_import_id) \
         VALUES {}",
        names(WRITE_COLUMNS),
        values(rows, WRITE_COLUMNS.len() + 4)
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
    tx.commit().await?;
    tracing::debug!(account, import_id, entries = count, "changeset written");
    Ok(import_id)
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
    let tail = |args: &mut SqliteArguments| -> Result<(), StoreError> {
        bind(args, Arg::Int(Some(account)))?;
        add(args, finished.clone())?;
        add(args, finished.clone())?;
        bind(args, Arg::Int(Some(import_id)))
    };
    // Each iterator borrows the rows: dropped before the next one takes them.
    let mut moving = rows.updates().peekable();
    while moving.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for (key, e) in moving.by_ref().take(CLEAR_CHUNK) {
            let lower = email_key(&e.email);
            bind(&mut args, Arg::Int(Some(key)))?;
            bind(&mut args, Arg::Text(Some(e.employee_id.clone())))?;
            bind(&mut args, Arg::Text((!lower.is_empty()).then_some(lower)))?;
            n += 1;
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
        if update::update_chunk(tx, chunk, EMPLOYEE_CHUNK, at).await? != keys.len() as u64 {
            return Err(missing_employee(tx, account, &keys).await);
        }
    }
    drop(updates);
    // A large first import: the indexes of `employees` built once, after its rows.
    let rebuild = if indexes::worth_rebuilding(tx, rows.creates_len(), rebuild_from).await? {
        Some(indexes::drop_all(tx).await?)
    } else {
        None
    };
    let mut creates = rows.take_creates().peekable();
    while creates.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for (key, e) in creates.by_ref().take(EMPLOYEE_CHUNK) {
            for v in write_values(key, e)? {
                bind(&mut args, v)?;
            }
            tail(&mut args)?;
            n += 1;
        }
        let sql = cached(&INSERT_EMPLOYEES, n, EMPLOYEE_CHUNK, insert_employees_sql);
        run(tx.conn(), sql, args).await?;
    }
    drop(creates);
    if let Some(dropped) = rebuild {
        indexes::recreate(tx, dropped).await?;
    }
    let mut entries = rows.into_entries().peekable();
    while entries.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for r in entries.by_ref().take(ENTRY_CHUNK) {
            for v in EntryRow::values(r?, account, import_id) {
                bind(&mut args, v)?;
            }
            n += 1;
        }
        let sql = cached(&INSERT_ENTRIES, n, ENTRY_CHUNK, insert_entries_sql);
        run(tx.conn(), sql, args).await?;
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
