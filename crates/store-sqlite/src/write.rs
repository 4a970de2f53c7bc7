//! [`Store::write`](roster_store::Store::write): one changeset, one transaction.
//!
//! Speed comes from multi-row statements (hundreds of rows each, below SQLite's
//! 32 766 parameters), the same SQL text for every full chunk (so sqlx's statement
//! cache prepares it once), and strings moved, not copied, into the arguments.
//! Parameters are positional (`?`), never numbered (`?NNN`): SQLite looks numbered
//! parameters up by a linear scan, which makes binding a large statement quadratic.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use roster_core::employee::Employee;
use roster_core::normalise::email_key;
use roster_store::{AccountId, Changeset, EntryRecord, Fence, ImportId, StoreError};
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

use crate::codec::{EMPLOYEE_VALUE_COLUMNS, add, bind_employee, db, to_json, ts};

/// Employees per INSERT or UPDATE statement (27 or 24 parameters each).
const EMPLOYEE_CHUNK: usize = 500;
/// Identifier-clearing rows per statement (3 parameters each).
const CLEAR_CHUNK: usize = 2000;
/// Import entries per INSERT (12 parameters each).
const ENTRY_CHUNK: usize = 1000;

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

/// Per row: the key, the value columns, account, updated_at, import id.
fn insert_employees_sql(rows: usize) -> String {
    format!(
        "INSERT INTO employees (key, {}, account_id, updated_at, last_import_id) VALUES {}",
        EMPLOYEE_VALUE_COLUMNS.join(", "),
        values(rows, EMPLOYEE_VALUE_COLUMNS.len() + 4)
    )
}

/// Binds: updated_at, import id; per row the key and the value columns; account.
fn update_employees_sql(rows: usize) -> String {
    let set: Vec<String> = EMPLOYEE_VALUE_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = v.column{}", i + 2))
        .collect();
    format!(
        "UPDATE employees SET {}, updated_at = ?, last_import_id = ? FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ?",
        set.join(", "),
        values(rows, EMPLOYEE_VALUE_COLUMNS.len() + 1)
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

/// Per row all twelve columns.
fn insert_entries_sql(rows: usize) -> String {
    format!(
        "INSERT INTO import_entries (account_id, import_id, seq, employee_key, employee_id, action, applied, \
         held, privacy, created, changes, after) VALUES {}",
        values(rows, 12)
    )
}

static INSERT_EMPLOYEES: OnceLock<Arc<str>> = OnceLock::new();
static UPDATE_EMPLOYEES: OnceLock<Arc<str>> = OnceLock::new();
static CLEAR_IDENTIFIERS: OnceLock<Arc<str>> = OnceLock::new();
static INSERT_ENTRIES: OnceLock<Arc<str>> = OnceLock::new();

/// One import entry as stored.
struct EntryRow {
    seq: i64,
    key: Option<i64>,
    employee_id: String,
    action: &'static str,
    applied: bool,
    held: bool,
    privacy: bool,
    created: bool,
    changes: Option<String>,
    after: Option<String>,
}

pub(crate) async fn write(
    pool: &SqlitePool,
    account: AccountId,
    cs: Changeset,
    fence: Option<&Fence>,
) -> Result<ImportId, StoreError> {
    let mut seen = HashSet::new();
    for key in cs
        .entries
        .iter()
        .filter(|e| e.applied)
        .filter_map(|e| e.key)
    {
        if !seen.insert(key) {
            return Err(StoreError::Conflict(format!(
                "employee {key} is changed twice in one changeset"
            )));
        }
    }
    if cs.integration_update.is_some() && cs.integration_id.is_none() {
        return Err(StoreError::Conflict(
            "an integration update without an integration".into(),
        ));
    }

    // IMMEDIATE: take the write lock now, so the transaction never fails to upgrade
    // from reading to writing (the busy timeout waits for it instead).
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
    let conn: &mut SqliteConnection = &mut tx;

    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
        .bind(account)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if exists.is_none() {
        return Err(StoreError::NotFound {
            what: "account",
            id: account.to_string(),
        });
    }
    if let Some(fence) = fence {
        check_fence(conn, account, fence).await?;
    }
    if let Some(old) = cs.rolls_back {
        let done = sqlx::query(
            "UPDATE imports SET status = 'rolled_back' WHERE id = ?1 AND account_id = ?2",
        )
        .bind(old)
        .bind(account)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "import",
                id: old.to_string(),
            });
        }
    }
    if let (Some(u), Some(integration)) = (&cs.integration_update, cs.integration_id) {
        let done = sqlx::query(
            "UPDATE integrations SET state = COALESCE(?3, state), last_fetch_at = COALESCE(?4, last_fetch_at), \
             last_sync_at = COALESCE(?5, last_sync_at) WHERE id = ?1 AND account_id = ?2",
        )
        .bind(integration)
        .bind(account)
        .bind(u.state.map(|s| s.as_str()))
        .bind(u.last_fetch_at.map(ts))
        .bind(u.last_sync_at.map(ts))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "integration",
                id: integration.to_string(),
            });
        }
    }

    let finished: Arc<str> = ts(cs.finished_at).into();
    let import_id: i64 = sqlx::query_scalar(
        "INSERT INTO imports (account_id, integration_id, kind, trigger_kind, status, started_at, finished_at, \
         counts, details, rolls_back) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    )
    .bind(account)
    .bind(cs.integration_id)
    .bind(cs.kind.as_str())
    .bind(cs.trigger.as_str())
    .bind(cs.status.as_str())
    .bind(ts(cs.started_at))
    .bind(finished.clone())
    .bind(to_json(&cs.counts)?)
    .bind(to_json(&cs.details)?)
    .bind(cs.rolls_back)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;

    // Keys for creates: the table's write lock is held, so nobody else assigns any.
    let mut next_key: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(key), 0) FROM employees")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let mut creates: Vec<(i64, Employee)> = Vec::new();
    let mut updates: Vec<(i64, Employee)> = Vec::new();
    let entries = cs.entries.len();
    let mut rows: Vec<EntryRow> = Vec::with_capacity(entries);
    for (seq, entry) in cs.entries.into_iter().enumerate() {
        let EntryRecord {
            action,
            key,
            employee_id,
            changes,
            after,
            applied,
            held,
            privacy,
        } = entry;
        // An applied create keeps no changes (the employee row holds its values)
        // unless the caller recorded some.
        let changes = if applied && key.is_none() && changes.is_empty() {
            None
        } else {
            Some(to_json(&changes)?)
        };
        let (key, created, after) = match (applied, key) {
            (true, None) => {
                next_key += 1;
                creates.push((next_key, after));
                (Some(next_key), true, None)
            }
            (true, Some(k)) => {
                updates.push((k, after));
                (Some(k), false, None)
            }
            (false, key) => (key, false, Some(to_json(&after)?)),
        };
        rows.push(EntryRow {
            seq: seq as i64,
            key,
            employee_id,
            action: action.as_str(),
            applied,
            held,
            privacy,
            created,
            changes,
            after,
        });
    }

    // 1. Clear identifiers that move, 2. update, 3. create: unique constraints are
    //    checked per statement, and this order satisfies them whenever the final
    //    state does.
    for chunk in updates.chunks(CLEAR_CHUNK) {
        let mut args = SqliteArguments::default();
        for (key, e) in chunk {
            add(&mut args, *key)?;
            add(&mut args, e.employee_id.as_str())?;
            let lower = email_key(&e.email);
            add(&mut args, (!lower.is_empty()).then_some(lower))?;
        }
        add(&mut args, account)?;
        let sql = cached(
            &CLEAR_IDENTIFIERS,
            chunk.len(),
            CLEAR_CHUNK,
            clear_identifiers_sql,
        );
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    let mut updates = updates.into_iter().peekable();
    while updates.peek().is_some() {
        let chunk: Vec<(i64, Employee)> = updates.by_ref().take(EMPLOYEE_CHUNK).collect();
        let keys: Vec<i64> = chunk.iter().map(|(k, _)| *k).collect();
        let mut args = SqliteArguments::default();
        add(&mut args, finished.clone())?;
        add(&mut args, import_id)?;
        for (key, e) in chunk {
            bind_employee(&mut args, key, e)?;
        }
        add(&mut args, account)?;
        let sql = cached(
            &UPDATE_EMPLOYEES,
            keys.len(),
            EMPLOYEE_CHUNK,
            update_employees_sql,
        );
        let done = sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if done.rows_affected() != keys.len() as u64 {
            return Err(missing_employee(conn, account, &keys).await);
        }
    }
    let mut creates = creates.into_iter().peekable();
    while creates.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for (key, e) in creates.by_ref().take(EMPLOYEE_CHUNK) {
            bind_employee(&mut args, key, e)?;
            add(&mut args, account)?;
            add(&mut args, finished.clone())?;
            add(&mut args, import_id)?;
            n += 1;
        }
        let sql = cached(&INSERT_EMPLOYEES, n, EMPLOYEE_CHUNK, insert_employees_sql);
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }

    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut args = SqliteArguments::default();
        let mut n = 0;
        for r in rows.by_ref().take(ENTRY_CHUNK) {
            add(&mut args, account)?;
            add(&mut args, import_id)?;
            add(&mut args, r.seq)?;
            add(&mut args, r.key)?;
            add(&mut args, r.employee_id)?;
            add(&mut args, r.action)?;
            add(&mut args, r.applied)?;
            add(&mut args, r.held)?;
            add(&mut args, r.privacy)?;
            add(&mut args, r.created)?;
            add(&mut args, r.changes)?;
            add(&mut args, r.after)?;
            n += 1;
        }
        let sql = cached(&INSERT_ENTRIES, n, ENTRY_CHUNK, insert_entries_sql);
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }

    for note in cs.notifications {
        sqlx::query(
            "INSERT INTO outbox (account_id, import_id, event, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(account)
        .bind(import_id)
        .bind(note.event)
        .bind(to_json(&note.payload)?)
        .bind(finished.clone())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }

    tx.commit().await.map_err(db)?;
    tracing::debug!(account, import_id, entries, "changeset written");
    Ok(import_id)
}

/// The error for an update chunk that did not find all its employees.
async fn missing_employee(
    conn: &mut SqliteConnection,
    account: AccountId,
    keys: &[i64],
) -> StoreError {
    for &key in keys {
        let found: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT key FROM employees WHERE key = ?1 AND account_id = ?2")
                .bind(key)
                .bind(account)
                .fetch_optional(&mut *conn)
                .await;
        match found {
            Ok(Some(_)) => continue,
            Ok(None) => {
                return StoreError::NotFound {
                    what: "employee",
                    id: key.to_string(),
                };
            }
            Err(e) => return db(e),
        }
    }
    StoreError::Conflict("an employee of the changeset was not updated".into())
}

/// The fence still holds: the sync lock is the writer's, at its generation, and the
/// job (if any) is still leased to its worker. Inside the write's IMMEDIATE
/// transaction, so no one takes either over before the commit.
async fn check_fence(
    conn: &mut SqliteConnection,
    account: AccountId,
    fence: &Fence,
) -> Result<(), StoreError> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sync_locks \
         WHERE integration_id = ?1 AND account_id = ?2 AND holder = ?3 AND generation = ?4",
    )
    .bind(fence.integration)
    .bind(account)
    .bind(&fence.holder)
    .bind(fence.generation)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if held.is_none() {
        return Err(StoreError::Fenced(format!(
            "the sync lock of integration {} was taken over",
            fence.integration
        )));
    }
    if let Some((job, worker)) = &fence.job {
        let leased: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM jobs WHERE id = ?1 AND account_id = ?2 AND lease_holder = ?3",
        )
        .bind(job)
        .bind(account)
        .bind(worker)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        if leased.is_none() {
            return Err(StoreError::Fenced(format!(
                "the lease of job {job} was taken over"
            )));
        }
    }
    Ok(())
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
            update_employees_sql(EMPLOYEE_CHUNK),
            clear_identifiers_sql(CLEAR_CHUNK),
            insert_entries_sql(ENTRY_CHUNK),
        ] {
            let params = sql.matches('?').count();
            assert!(params < 32_766, "{params} parameters");
        }
    }
}
