//! [`Store::write`](roster_store::Store::write): one changeset, one transaction.
//!
//! New rows (created employees, import entries) go in with `COPY … FROM STDIN`
//! (see [`crate::copy`]) when there are many, and as `INSERT … SELECT FROM UNNEST`
//! when there are few ([`SMALL_WRITE`]): a COPY sends its data and its end as two
//! small writes, and over TCP (sqlx sets no `TCP_NODELAY`) the second waits for the
//! server's delayed ACK of the first, about 40 ms per COPY, which dominated a sync
//! that changes a few employees. Updated employees go in as columns: one statement per
//! chunk binds one array per column and joins them back with `UNNEST`, so it has a
//! fixed, small number of parameters (far below PostgreSQL's 65 535) whatever its
//! row count, and the same SQL text serves every chunk (prepared once per
//! connection). Strings are moved, not copied, into the arrays.
//!
//! Employee IDs and emails are unique per account at commit (the constraints are
//! `DEFERRABLE INITIALLY DEFERRED`), so a changeset may swap them between employees
//! in any order; a changeset that leaves a duplicate fails at commit and changes
//! nothing.

use std::collections::HashSet;
use std::sync::LazyLock;

use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::normalise::{email_key, email_key_ref};
use roster_store::{AccountId, Changeset, EntryRecord, Fence, ImportId, StoreError};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres};

use crate::codec::{date_text, db, search_text, to_json, ts};
use crate::copy::{CopyRows, copy_rows};

/// Employees per UPDATE statement.
const EMPLOYEE_CHUNK: usize = 5_000;

/// Up to this many new rows go in with one `INSERT … FROM UNNEST` instead of COPY
/// (no split writes, no delayed-ACK stall); more go in with COPY, where the stall is
/// small beside the data and COPY is faster per row.
pub(crate) const SMALL_WRITE: usize = 1_000;

/// [`SMALL_WRITE`], or `ROSTER_PG_SMALL_WRITE` when set (`0`: always COPY, as before
/// issue #18.3; for benchmarks comparing the two).
static SMALL_WRITE_ROWS: LazyLock<usize> = LazyLock::new(|| {
    std::env::var("ROSTER_PG_SMALL_WRITE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SMALL_WRITE)
});

/// The employee columns a write sets, with their array types, in bind order.
const EMPLOYEE_ARRAYS: &[(&str, &str)] = &[
    ("key", "bigint[]"),
    ("employee_id", "text[]"),
    ("source_id", "text[]"),
    ("email", "text[]"),
    ("email_lower", "text[]"),
    ("search_text", "text[]"),
    ("secondary_email", "text[]"),
    ("first_name", "text[]"),
    ("last_name", "text[]"),
    ("preferred_name", "text[]"),
    ("date_of_birth", "text[]"),
    ("start_date", "text[]"),
    ("latest_rehire_date", "text[]"),
    ("hire_date", "text[]"),
    ("end_date", "text[]"),
    ("manager_email", "text[]"),
    ("phone", "text[]"),
    ("demographics", "text[]"),
    ("active", "boolean[]"),
    ("deactivation_reason", "text[]"),
    ("is_manager", "boolean[]"),
    ("excluded", "boolean[]"),
    ("email_edited", "boolean[]"),
    ("merged_into", "bigint[]"),
];

/// `UNNEST($1::bigint[], $2::text[], …) AS v(key, employee_id, …)`.
fn unnest_employees() -> String {
    let arrays: Vec<String> = EMPLOYEE_ARRAYS
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| format!("${}::{ty}", i + 1))
        .collect();
    let names: Vec<&str> = EMPLOYEE_ARRAYS.iter().map(|(c, _)| *c).collect();
    format!("UNNEST({}) AS v({})", arrays.join(", "), names.join(", "))
}

/// Binds the employee arrays, then account, updated_at, import id.
static UPDATE_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    let n = EMPLOYEE_ARRAYS.len();
    let set: Vec<String> = EMPLOYEE_ARRAYS[1..]
        .iter()
        .map(|(c, _)| format!("{c} = v.{c}"))
        .collect();
    format!(
        "UPDATE employees AS e SET {}, updated_at = ${}, last_import_id = ${} FROM {} \
         WHERE e.key = v.key AND e.account_id = ${}",
        set.join(", "),
        n + 2,
        n + 3,
        unnest_employees(),
        n + 1
    )
});

/// Binds the employee arrays, then account, updated_at, import id.
static INSERT_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    let n = EMPLOYEE_ARRAYS.len();
    let names: Vec<&str> = EMPLOYEE_ARRAYS.iter().map(|(c, _)| *c).collect();
    format!(
        "INSERT INTO employees ({names}, account_id, updated_at, last_import_id) \
         SELECT {names}, ${}, ${}, ${} FROM {}",
        n + 1,
        n + 2,
        n + 3,
        unnest_employees(),
        names = names.join(", "),
    )
});

/// Import entries as arrays: account and import id, then one array per column.
const INSERT_ENTRIES: &str = "INSERT INTO import_entries (account_id, import_id, seq, employee_key, employee_id, \
     action, applied, held, privacy, created, changes, after) \
     SELECT $1, $2, v.* FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], \
     $8::boolean[], $9::boolean[], $10::boolean[], $11::text[], $12::text[]) \
     AS v(seq, employee_key, employee_id, action, applied, held, privacy, created, changes, after)";

/// Columns of [`copy_employee`], in order.
static COPY_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = EMPLOYEE_ARRAYS.iter().map(|(c, _)| *c).collect();
    format!(
        "COPY employees ({}, account_id, updated_at, last_import_id) FROM STDIN",
        names.join(", ")
    )
});

/// Columns of [`EntryRow::copy`], in order.
const COPY_ENTRIES: &str = "COPY import_entries (account_id, import_id, seq, employee_key, employee_id, action, \
     applied, held, privacy, created, changes, after) FROM STDIN";

/// One created employee as a row of [`COPY_EMPLOYEES`].
fn copy_employee(
    out: &mut CopyRows,
    key: i64,
    e: &Employee,
    tail: (AccountId, &str, ImportId),
) -> Result<(), StoreError> {
    let lower = email_key_ref(&e.email);
    let date = |out: &mut CopyRows, d: Option<Date>| match d {
        Some(d) => out.text(&d.to_string()),
        None => out.opt_text(None),
    };
    out.int(key);
    out.text(&e.employee_id);
    out.opt_text(e.source_id.as_deref());
    out.opt_text((!e.email.is_empty()).then_some(e.email.as_str()));
    out.opt_text((!lower.is_empty()).then_some(&*lower));
    out.text(&search_text(e));
    out.opt_text(e.secondary_email.as_deref());
    out.opt_text(e.first_name.as_deref());
    out.opt_text(e.last_name.as_deref());
    out.opt_text(e.preferred_name.as_deref());
    date(out, e.date_of_birth);
    date(out, e.start_date);
    date(out, e.latest_rehire_date);
    date(out, e.hire_date);
    date(out, e.end_date);
    out.opt_text(e.manager_email.as_deref());
    out.opt_text(e.phone.as_deref());
    if e.demographics.is_empty() {
        out.text("{}");
    } else {
        out.text(&to_json(&e.demographics)?);
    }
    out.boolean(e.active);
    out.opt_text(e.deactivation_reason.map(|r| r.as_str()));
    out.boolean(e.is_manager);
    out.boolean(e.excluded);
    out.boolean(e.email_edited);
    out.opt_int(e.merged_into);
    let (account, updated_at, import_id) = tail;
    out.int(account);
    out.text(updated_at);
    out.int(import_id);
    out.end_row();
    Ok(())
}

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

impl EntryRow {
    /// This entry as a row of [`COPY_ENTRIES`].
    fn copy(&self, out: &mut CopyRows, account: AccountId, import_id: ImportId) {
        out.int(account);
        out.int(import_id);
        out.int(self.seq);
        out.opt_int(self.key);
        out.text(&self.employee_id);
        out.text(self.action);
        out.boolean(self.applied);
        out.boolean(self.held);
        out.boolean(self.privacy);
        out.boolean(self.created);
        out.opt_text(self.changes.as_deref());
        out.opt_text(self.after.as_deref());
        out.end_row();
    }
}

/// Employees as columns, in the order of [`EMPLOYEE_ARRAYS`].
#[derive(Default)]
struct EmployeeColumns {
    key: Vec<i64>,
    employee_id: Vec<String>,
    source_id: Vec<Option<String>>,
    email: Vec<Option<String>>,
    email_lower: Vec<Option<String>>,
    search_text: Vec<String>,
    secondary_email: Vec<Option<String>>,
    first_name: Vec<Option<String>>,
    last_name: Vec<Option<String>>,
    preferred_name: Vec<Option<String>>,
    date_of_birth: Vec<Option<String>>,
    start_date: Vec<Option<String>>,
    latest_rehire_date: Vec<Option<String>>,
    hire_date: Vec<Option<String>>,
    end_date: Vec<Option<String>>,
    manager_email: Vec<Option<String>>,
    phone: Vec<Option<String>>,
    demographics: Vec<String>,
    active: Vec<bool>,
    deactivation_reason: Vec<Option<&'static str>>,
    is_manager: Vec<bool>,
    excluded: Vec<bool>,
    email_edited: Vec<bool>,
    merged_into: Vec<Option<i64>>,
}

impl EmployeeColumns {
    fn len(&self) -> usize {
        self.key.len()
    }

    /// Append one employee under `key`, moving its strings.
    fn push(&mut self, key: i64, e: Employee) -> Result<(), StoreError> {
        let lower = email_key(&e.email);
        self.search_text.push(search_text(&e));
        self.demographics.push(if e.demographics.is_empty() {
            "{}".to_string()
        } else {
            to_json(&e.demographics)?
        });
        self.key.push(key);
        self.employee_id.push(e.employee_id);
        self.source_id.push(e.source_id);
        self.email.push((!e.email.is_empty()).then_some(e.email));
        self.email_lower.push((!lower.is_empty()).then_some(lower));
        self.secondary_email.push(e.secondary_email);
        self.first_name.push(e.first_name);
        self.last_name.push(e.last_name);
        self.preferred_name.push(e.preferred_name);
        self.date_of_birth.push(date_text(e.date_of_birth));
        self.start_date.push(date_text(e.start_date));
        self.latest_rehire_date
            .push(date_text(e.latest_rehire_date));
        self.hire_date.push(date_text(e.hire_date));
        self.end_date.push(date_text(e.end_date));
        self.manager_email.push(e.manager_email);
        self.phone.push(e.phone);
        self.active.push(e.active);
        self.deactivation_reason
            .push(e.deactivation_reason.map(|r| r.as_str()));
        self.is_manager.push(e.is_manager);
        self.excluded.push(e.excluded);
        self.email_edited.push(e.email_edited);
        self.merged_into.push(e.merged_into);
        Ok(())
    }

    /// Bind every column as an array, in the order of [`EMPLOYEE_ARRAYS`].
    fn bind(self, q: Query<'_, Postgres, PgArguments>) -> Query<'_, Postgres, PgArguments> {
        q.bind(self.key)
            .bind(self.employee_id)
            .bind(self.source_id)
            .bind(self.email)
            .bind(self.email_lower)
            .bind(self.search_text)
            .bind(self.secondary_email)
            .bind(self.first_name)
            .bind(self.last_name)
            .bind(self.preferred_name)
            .bind(self.date_of_birth)
            .bind(self.start_date)
            .bind(self.latest_rehire_date)
            .bind(self.hire_date)
            .bind(self.end_date)
            .bind(self.manager_email)
            .bind(self.phone)
            .bind(self.demographics)
            .bind(self.active)
            .bind(self.deactivation_reason)
            .bind(self.is_manager)
            .bind(self.excluded)
            .bind(self.email_edited)
            .bind(self.merged_into)
    }
}

/// Split `employees` into statements of [`EMPLOYEE_CHUNK`] rows.
fn employee_chunks(employees: Vec<(i64, Employee)>) -> Result<Vec<EmployeeColumns>, StoreError> {
    let mut chunks = Vec::new();
    let mut current = EmployeeColumns::default();
    for (key, e) in employees {
        current.push(key, e)?;
        if current.len() == EMPLOYEE_CHUNK {
            chunks.push(std::mem::take(&mut current));
        }
    }
    if current.len() > 0 {
        chunks.push(current);
    }
    Ok(chunks)
}

pub(crate) async fn write(
    pool: &PgPool,
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

    let mut tx = pool.begin().await.map_err(db)?;
    let conn: &mut PgConnection = &mut tx;

    // The account exists, and this write is its only one until commit. FOR NO KEY
    // UPDATE leaves the account free for inserts that merely refer to it.
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
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
            "UPDATE imports SET status = 'rolled_back' WHERE id = $1 AND account_id = $2",
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
            "UPDATE integrations SET state = COALESCE($3, state), last_fetch_at = COALESCE($4, last_fetch_at), \
             last_sync_at = COALESCE($5, last_sync_at) WHERE id = $1 AND account_id = $2",
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

    let finished = ts(cs.finished_at);
    let import_id: i64 = sqlx::query_scalar(
        "INSERT INTO imports (account_id, integration_id, kind, trigger_kind, status, started_at, finished_at, \
         counts, details, rolls_back) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(account)
    .bind(cs.integration_id)
    .bind(cs.kind.as_str())
    .bind(cs.trigger.as_str())
    .bind(cs.status.as_str())
    .bind(ts(cs.started_at))
    .bind(&finished)
    .bind(to_json(&cs.counts)?)
    .bind(to_json(&cs.details)?)
    .bind(cs.rolls_back)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;

    // Keys for creates, from the sequence; ascending, so in entry order.
    let wanted = cs
        .entries
        .iter()
        .filter(|e| e.applied && e.key.is_none())
        .count();
    let mut new_keys: Vec<i64> = if wanted == 0 {
        Vec::new()
    } else {
        sqlx::query_scalar(
            "SELECT array_agg(nextval('employees_key_seq')) FROM generate_series(1, $1)",
        )
        .bind(wanted as i64)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?
    };
    new_keys.sort_unstable();
    let mut new_keys = new_keys.into_iter();

    let entries = cs.entries.len();
    let mut creates: Vec<(i64, Employee)> = Vec::new();
    let mut updates: Vec<(i64, Employee)> = Vec::new();
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
                let k = new_keys.next().ok_or_else(|| {
                    StoreError::Database("the key sequence gave too few keys".into())
                })?;
                creates.push((k, after));
                (Some(k), true, None)
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

    for chunk in employee_chunks(updates)? {
        let keys = chunk.key.clone();
        let q = chunk
            .bind(sqlx::query(AssertSqlSafe(UPDATE_EMPLOYEES.as_str())))
            .bind(account)
            .bind(&finished)
            .bind(import_id);
        let done = q.execute(&mut *conn).await.map_err(db)?;
        if done.rows_affected() != keys.len() as u64 {
            return Err(missing_employee(conn, account, keys).await);
        }
    }
    if !creates.is_empty() {
        let n = creates.len();
        let written = if n <= *SMALL_WRITE_ROWS {
            let mut written = 0;
            for chunk in employee_chunks(std::mem::take(&mut creates))? {
                let q = chunk
                    .bind(sqlx::query(AssertSqlSafe(INSERT_EMPLOYEES.as_str())))
                    .bind(account)
                    .bind(&finished)
                    .bind(import_id);
                written += q.execute(&mut *conn).await.map_err(db)?.rows_affected();
            }
            written
        } else {
            let tail = (account, finished.as_str(), import_id);
            copy_rows(conn, &COPY_EMPLOYEES, &creates, |out, (key, e)| {
                copy_employee(out, *key, e, tail)
            })
            .await?
        };
        if written != n as u64 {
            return Err(StoreError::Database(
                "not every new employee was written".into(),
            ));
        }
    }
    drop(creates);
    if rows.len() > *SMALL_WRITE_ROWS {
        copy_rows(conn, COPY_ENTRIES, &rows, |out, row| {
            row.copy(out, account, import_id);
            Ok(())
        })
        .await?;
    } else if !rows.is_empty() {
        insert_entries(conn, account, import_id, rows).await?;
    }

    // One by one, so that outbox ids follow the notifications' order.
    for note in cs.notifications {
        sqlx::query(
            "INSERT INTO outbox (account_id, import_id, event, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account)
        .bind(import_id)
        .bind(note.event)
        .bind(to_json(&note.payload)?)
        .bind(&finished)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }

    // The deferred uniqueness checks run here: a duplicate fails the commit.
    tx.commit().await.map_err(db)?;
    tracing::debug!(account, import_id, entries, "changeset written");
    Ok(import_id)
}

/// A few import entries in one statement (see [`SMALL_WRITE`]).
async fn insert_entries(
    conn: &mut PgConnection,
    account: AccountId,
    import_id: ImportId,
    rows: Vec<EntryRow>,
) -> Result<(), StoreError> {
    let n = rows.len();
    let mut seq = Vec::with_capacity(n);
    let mut key = Vec::with_capacity(n);
    let mut employee_id = Vec::with_capacity(n);
    let mut action = Vec::with_capacity(n);
    let mut applied = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    let mut privacy = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    let mut changes = Vec::with_capacity(n);
    let mut after = Vec::with_capacity(n);
    for r in rows {
        seq.push(r.seq);
        key.push(r.key);
        employee_id.push(r.employee_id);
        action.push(r.action);
        applied.push(r.applied);
        held.push(r.held);
        privacy.push(r.privacy);
        created.push(r.created);
        changes.push(r.changes);
        after.push(r.after);
    }
    let done = sqlx::query(INSERT_ENTRIES)
        .bind(account)
        .bind(import_id)
        .bind(seq)
        .bind(key)
        .bind(employee_id)
        .bind(action)
        .bind(applied)
        .bind(held)
        .bind(privacy)
        .bind(created)
        .bind(changes)
        .bind(after)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if done.rows_affected() != n as u64 {
        return Err(StoreError::Database(
            "not every import entry was written".into(),
        ));
    }
    Ok(())
}

/// The error for an update chunk that did not find all its employees.
async fn missing_employee(
    conn: &mut PgConnection,
    account: AccountId,
    keys: Vec<i64>,
) -> StoreError {
    let missing: Result<Option<i64>, _> = sqlx::query_scalar(
        "SELECT k FROM UNNEST($1::bigint[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM employees WHERE key = k AND account_id = $2) LIMIT 1",
    )
    .bind(keys)
    .bind(account)
    .fetch_optional(&mut *conn)
    .await;
    match missing {
        Ok(Some(key)) => StoreError::NotFound {
            what: "employee",
            id: key.to_string(),
        },
        Ok(None) => StoreError::Conflict("an employee of the changeset was not updated".into()),
        Err(e) => db(e),
    }
}

/// The fence still holds: the sync lock is the writer's, at its generation, and the
/// job (if any) is still leased to its worker. Inside the write's transaction; the
/// rows are locked (FOR UPDATE) so that no one takes either over before the commit.
async fn check_fence(
    conn: &mut PgConnection,
    account: AccountId,
    fence: &Fence,
) -> Result<(), StoreError> {
    let held: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM sync_locks \
         WHERE integration_id = $1 AND account_id = $2 AND holder = $3 AND generation = $4 FOR UPDATE",
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
        let leased: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM jobs WHERE id = $1 AND account_id = $2 AND lease_holder = $3 FOR UPDATE",
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
    fn statements_bind_every_column_once() {
        let n = EMPLOYEE_ARRAYS.len();
        let sql = UPDATE_EMPLOYEES.as_str();
        for i in 1..=n + 3 {
            assert!(sql.contains(&format!("${i}")), "${i} missing from {sql}");
        }
        assert!(!sql.contains(&format!("${}", n + 4)), "{sql}");
        assert!(sql.contains("employee_id = v.employee_id"));
        assert!(!sql.contains("key = v.key,"));
    }

    #[test]
    fn a_copied_employee_has_a_field_per_column() {
        let e = roster_store::contract::full_employee("E\t1", "a@b.example");
        let mut out = CopyRows::default();
        copy_employee(&mut out, 7, &e, (1, "2026-01-01T00:00:00.000000000Z", 9)).unwrap();
        let row = out.into_string();
        assert!(
            row.ends_with('\n') && row.matches('\n').count() == 1,
            "{row:?}"
        );
        let columns = COPY_EMPLOYEES.matches(',').count() + 1;
        assert_eq!(row.matches('\t').count() + 1, columns, "{row:?}");
        assert!(
            row.starts_with("7\tE\\t1\tmbr_E\\t1\ta@b.example\ta@b.example\t"),
            "{row:?}"
        );
        assert!(
            row.ends_with("\t1\t2026-01-01T00:00:00.000000000Z\t9\n"),
            "{row:?}"
        );
    }
}
