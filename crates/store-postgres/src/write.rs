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

use std::sync::LazyLock;

use roster_core::employee::Employee;
use roster_store::sql::codec::ts;
use roster_store::sql::employee::{Kind, WRITE_COLUMNS, write_values};
use roster_store::sql::feed;
use roster_store::sql::write::{self, ENTRY_COLUMNS, EntryRow, Rows};
use roster_store::sql::{Adapter, Arg, Begin, Columns, Dialect, Executor, Query, Transaction};
use roster_store::{AccountId, Changeset, Fence, ImportId, StoreError};
use sqlx::postgres::PgArguments;
use sqlx::{AssertSqlSafe, PgConnection, Postgres};

use crate::PgStore;
use crate::copy::{CopyRows, copy_rows};
use crate::exec::{Tx, db};

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

fn names(columns: &[(&str, Kind)]) -> String {
    columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `UNNEST($1::bigint[], $2::text[], …) AS v(key, employee_id, …)`: one array
/// parameter per column.
fn unnest(columns: &[(&str, Kind)]) -> String {
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            let ty = match kind {
                Kind::Int => "bigint[]",
                Kind::Text => "text[]",
                Kind::Bool => "boolean[]",
            };
            format!("${}::{ty}", i + 1)
        })
        .collect();
    format!("UNNEST({}) AS v({})", arrays.join(", "), names(columns))
}

/// Binds the employee arrays, then account, updated_at, import id.
static UPDATE_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    let n = WRITE_COLUMNS.len();
    let set: Vec<String> = WRITE_COLUMNS[1..]
        .iter()
        .map(|(c, _)| format!("{c} = v.{c}"))
        .collect();
    format!(
        "UPDATE employees AS e SET {}, updated_at = ${}, last_import_id = ${} FROM {} \
         WHERE e.key = v.key AND e.account_id = ${}",
        set.join(", "),
        n + 2,
        n + 3,
        unnest(WRITE_COLUMNS),
        n + 1
    )
});

/// Binds the employee arrays, then account, updated_at, import id (the row's last
/// write, and the last import with an entry about it: its create).
static INSERT_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    let n = WRITE_COLUMNS.len();
    format!(
        "INSERT INTO employees ({names}, account_id, updated_at, created_at, last_import_id, \
         history_import_id) SELECT {names}, ${}, ${}, ${}, ${}, ${} FROM {}",
        n + 1,
        n + 2,
        n + 2,
        n + 3,
        n + 3,
        unnest(WRITE_COLUMNS),
        names = names(WRITE_COLUMNS),
    )
});

/// Import entries as arrays, one per column.
static INSERT_ENTRIES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO import_entries ({names}) SELECT {names} FROM {}",
        unnest(ENTRY_COLUMNS),
        names = names(ENTRY_COLUMNS),
    )
});

/// Events as arrays, one per column.
static INSERT_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO events ({names}) SELECT {names} FROM {}",
        unnest(feed::EVENT_COLUMNS),
        names = names(feed::EVENT_COLUMNS),
    )
});

/// Columns of [`feed::event_values`], in order.
static COPY_EVENTS: LazyLock<String> =
    LazyLock::new(|| format!("COPY events ({}) FROM STDIN", names(feed::EVENT_COLUMNS)));

/// The import's events: one `INSERT … FROM UNNEST` when few, COPY when many.
async fn insert_events(
    tx: &mut Tx,
    account: AccountId,
    events: Vec<roster_core::feed::Stored<'_>>,
) -> Result<(), StoreError> {
    let n = events.len();
    let written = if n > *SMALL_WRITE_ROWS {
        copy_rows(tx.conn(), &COPY_EVENTS, events, |out, event| {
            for v in feed::event_values(account, event)? {
                out.arg(&v)?;
            }
            out.end_row();
            Ok(())
        })
        .await?
    } else if n > 0 {
        let mut rows = Columnar::new(feed::EVENT_COLUMNS);
        for event in events {
            rows.push(feed::event_values(account, event)?)?;
        }
        rows.query(INSERT_EVENTS.as_str())
            .execute(tx.conn())
            .await
            .map_err(db)?
            .rows_affected()
    } else {
        0
    };
    if written != n as u64 {
        return Err(StoreError::Database("not every event was written".into()));
    }
    Ok(())
}

/// Columns of [`copy_employee`], in order.
static COPY_EMPLOYEES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "COPY employees ({}, account_id, updated_at, created_at, last_import_id, \
         history_import_id) FROM STDIN",
        names(WRITE_COLUMNS)
    )
});

/// Columns of an entry's [`EntryRow::values`], in order.
static COPY_ENTRIES: LazyLock<String> =
    LazyLock::new(|| format!("COPY import_entries ({}) FROM STDIN", names(ENTRY_COLUMNS)));

/// One created employee as a row of [`COPY_EMPLOYEES`].
fn copy_employee(
    out: &mut CopyRows,
    key: i64,
    e: Employee,
    tail: (AccountId, &str, ImportId),
) -> Result<(), StoreError> {
    for v in write_values(key, e)? {
        out.arg(&v)?;
    }
    let (account, updated_at, import_id) = tail;
    out.int(account);
    out.text(updated_at);
    out.text(updated_at);
    out.int(import_id);
    out.int(import_id);
    out.end_row();
    Ok(())
}

/// Rows as columns: one array per column, bound as the parameters of [`unnest`].
/// Strings are moved, not copied, into the arrays.
enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<bool>),
}

struct Columnar {
    columns: Vec<Column>,
    rows: usize,
}

impl Columnar {
    fn new(columns: &[(&str, Kind)]) -> Self {
        let columns = columns
            .iter()
            .map(|(_, kind)| match kind {
                Kind::Int => Column::Int(Vec::new()),
                Kind::Text => Column::Text(Vec::new()),
                Kind::Bool => Column::Bool(Vec::new()),
            })
            .collect();
        Columnar { columns, rows: 0 }
    }

    /// Append a row: its values in column order.
    fn push(&mut self, values: Vec<Arg>) -> Result<(), StoreError> {
        if values.len() != self.columns.len() {
            return Err(StoreError::Database("a row has the wrong width".into()));
        }
        for (column, value) in self.columns.iter_mut().zip(values) {
            match (column, value) {
                (Column::Int(c), Arg::Int(v)) => c.push(v),
                (Column::Text(c), Arg::Text(v)) => c.push(v),
                (Column::Bool(c), Arg::Bool(v)) => c.push(v),
                _ => return Err(StoreError::Database("a value of the wrong type".into())),
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The first column's values: the keys, of an employee chunk.
    fn keys(&self) -> Vec<i64> {
        match self.columns.first() {
            Some(Column::Int(keys)) => keys.iter().flatten().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// The statement `sql` with every column bound as an array, in order.
    fn query(self, sql: &str) -> sqlx::query::Query<'_, Postgres, PgArguments> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for column in self.columns {
            q = match column {
                Column::Int(c) => q.bind(c),
                Column::Text(c) => q.bind(c),
                Column::Bool(c) => q.bind(c),
            };
        }
        q
    }
}

/// Split `employees` into statements of [`EMPLOYEE_CHUNK`] rows.
fn employee_chunks(
    employees: impl IntoIterator<Item = (i64, Employee)>,
) -> Result<Vec<Columnar>, StoreError> {
    let mut chunks = Vec::new();
    let mut current = Columnar::new(WRITE_COLUMNS);
    for (key, e) in employees {
        current.push(write_values(key, e)?)?;
        if current.rows == EMPLOYEE_CHUNK {
            chunks.push(std::mem::replace(
                &mut current,
                Columnar::new(WRITE_COLUMNS),
            ));
        }
    }
    if current.rows > 0 {
        chunks.push(current);
    }
    Ok(chunks)
}

pub(crate) async fn write(
    store: &PgStore,
    account: AccountId,
    cs: Changeset,
    fence: Option<&Fence>,
) -> Result<ImportId, StoreError> {
    write::check(&cs)?;
    let mut tx = store.begin(Begin::Write).await?;
    let import_id = write::record_import(&mut tx, Dialect::Postgres, account, &cs, fence).await?;
    // Keys for creates, from the sequence; ascending, so in entry order.
    let wanted = write::creates(&cs.entries);
    let mut new_keys: Vec<i64> = if wanted == 0 {
        Vec::new()
    } else {
        sqlx::query_scalar(
            "SELECT array_agg(nextval('employees_key_seq')) FROM generate_series(1, $1)",
        )
        .bind(wanted as i64)
        .fetch_one(tx.conn())
        .await
        .map_err(db)?
    };
    new_keys.sort_unstable();
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
    let created = rows.active_created();
    write_rows(&mut tx, account, import_id, &ts(finished_at), rows).await?;
    if let Some(active) = created {
        write::count_created(&mut tx, Dialect::Postgres, account, active).await?;
    }
    write::queue_notifications(&mut tx, account, import_id, finished_at, notifications).await?;
    // The deferred uniqueness checks run here: a duplicate fails the commit.
    tx.commit().await?;
    tracing::debug!(account, import_id, entries = count, "changeset written");
    Ok(import_id)
}

/// Update, create, record the entries.
async fn write_rows(
    tx: &mut Tx,
    account: AccountId,
    import_id: ImportId,
    finished: &str,
    mut rows: Rows,
) -> Result<(), StoreError> {
    let links = rows.links();
    for chunk in employee_chunks(rows.take_updates())? {
        let n = chunk.rows as u64;
        let keys = chunk.keys();
        let q = chunk
            .query(UPDATE_EMPLOYEES.as_str())
            .bind(account)
            .bind(finished)
            .bind(import_id);
        if q.execute(tx.conn()).await.map_err(db)?.rows_affected() != n {
            return Err(missing_employee(tx, account, keys).await);
        }
    }
    let n = rows.creates_len();
    if n > *SMALL_WRITE_ROWS {
        let tail = (account, finished, import_id);
        let written = copy_rows(
            tx.conn(),
            &COPY_EMPLOYEES,
            rows.take_creates(),
            |out, (key, e)| copy_employee(out, key, e, tail),
        )
        .await?;
        if written != n as u64 {
            return Err(StoreError::Database(
                "not every new employee was written".into(),
            ));
        }
    } else {
        let mut written = 0;
        for chunk in employee_chunks(rows.take_creates())? {
            let q = chunk
                .query(INSERT_EMPLOYEES.as_str())
                .bind(account)
                .bind(finished)
                .bind(import_id);
            written += q.execute(tx.conn()).await.map_err(db)?.rows_affected();
        }
        if written != n as u64 {
            return Err(StoreError::Database(
                "not every new employee was written".into(),
            ));
        }
    }
    let n = rows.entries_len();
    let written = if n > *SMALL_WRITE_ROWS {
        copy_rows(tx.conn(), &COPY_ENTRIES, rows.into_entries(), |out, row| {
            for v in EntryRow::values(row?, account, import_id) {
                out.arg(&v)?;
            }
            out.end_row();
            Ok(())
        })
        .await?
    } else if n > 0 {
        let mut columns = Columnar::new(ENTRY_COLUMNS);
        for row in rows.into_entries() {
            columns.push(row?.values(account, import_id))?;
        }
        insert(tx.conn(), columns, &INSERT_ENTRIES).await?
    } else {
        0
    };
    if written != n as u64 {
        return Err(StoreError::Database(
            "not every import entry was written".into(),
        ));
    }
    if links {
        write::link_history(tx, Dialect::Postgres, account, import_id).await?;
    }
    Ok(())
}

async fn insert(conn: &mut PgConnection, columns: Columnar, sql: &str) -> Result<u64, StoreError> {
    let done = columns.query(sql).execute(conn).await.map_err(db)?;
    Ok(done.rows_affected())
}

/// The error for an update chunk that did not find all its employees (`keys`).
async fn missing_employee(tx: &mut Tx, account: AccountId, keys: Vec<i64>) -> StoreError {
    let missing = tx
        .fetch_optional(
            Query::new(
                "SELECT k FROM UNNEST($1::bigint[]) AS k \
                 WHERE NOT EXISTS (SELECT 1 FROM employees WHERE key = k AND account_id = $2) \
                 LIMIT 1",
            )
            .bind(&keys[..])
            .bind(account),
        )
        .await
        .and_then(|row| row.map(|r| r.int(0, "employees.key")).transpose());
    match missing {
        Ok(Some(key)) => StoreError::NotFound {
            what: "employee",
            id: key.to_string(),
        },
        Ok(None) => StoreError::Conflict("an employee of the changeset was not updated".into()),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_bind_every_column_once() {
        let n = WRITE_COLUMNS.len();
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
        copy_employee(&mut out, 7, e, (1, "2026-01-01T00:00:00.000000000Z", 9)).unwrap();
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
            // account, updated_at, created_at (the same time: the row is new), import
            // (its last write and the last with an entry about it)
            row.ends_with(
                "\t1\t2026-01-01T00:00:00.000000000Z\t2026-01-01T00:00:00.000000000Z\t9\t9\n"
            ),
            "{row:?}"
        );
    }

    #[test]
    fn entries_go_in_with_every_column() {
        for sql in [INSERT_ENTRIES.as_str(), COPY_ENTRIES.as_str()] {
            for (c, _) in ENTRY_COLUMNS {
                assert!(sql.contains(c), "{c} missing from {sql}");
            }
        }
        // The last column, a kept create's event cursor (0013), is an integer.
        assert!(INSERT_ENTRIES.contains(&format!("${}::bigint[]", ENTRY_COLUMNS.len())));
    }
}
