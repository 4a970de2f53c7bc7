//! Updating employees in bulk without rewriting indexes whose values stay (issue
//! #15: the cost of a sync follows the change, not the company).
//!
//! SQLite rewrites an index entry of every updated row whose index holds a column
//! the `SET` list names, changed or not, and each rewrite touches a page of that
//! index: in a large directory a different page for every row, read, written to
//! the WAL and checkpointed. So one statement sets every column no index of
//! `employees` holds, for every row (with the row's time and import); then, per
//! group of indexed columns ([`INDEXED`]), one statement sets those columns only on
//! the rows where one of them differs. Every column is still written whenever its
//! value changes: the grouping decides only what is left untouched when equal, so
//! an index added later on a column of the first statement costs time, not
//! correctness.

use std::sync::{Arc, OnceLock};

use roster_core::employee::Employee;
use roster_store::sql::Arg;
use roster_store::sql::employee::{WRITE_COLUMNS, write_values};
use roster_store::{AccountId, ImportId, StoreError};
use sqlx::sqlite::SqliteArguments;

use super::{cached, run, values};
use crate::exec::{Tx, add, bind};

/// The columns of `employees` that its secondary indexes hold (keys or partial
/// index conditions), in the groups set together: an ID and its lower case; the
/// email key; the source id; the birth date; the manager's email and its key; the
/// active flag; the secondary email's key. `updated_at` is indexed too, but it
/// changes with every update.
pub(super) const INDEXED: &[&[&str]] = &[
    &["employee_id", "employee_id_lower"],
    &["email_lower"],
    &["source_id"],
    &["date_of_birth"],
    &["manager_email", "manager_lower"],
    &["active"],
    &["secondary_email_lower"],
];

/// Where a written column goes: the first statement or one of the groups.
fn group_of(column: &str) -> Option<usize> {
    INDEXED.iter().position(|g| g.contains(&column))
}

/// The columns of [`WRITE_COLUMNS`] (after the key) no index holds.
fn plain() -> Vec<&'static str> {
    WRITE_COLUMNS[1..]
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| group_of(c).is_none())
        .collect()
}

/// `(?, ?), (?, ?)` …, per row the key and `columns` values.
fn rows_of(rows: usize, columns: usize) -> String {
    values(rows, columns + 1)
}

/// Binds: updated_at, import id; per row the key and the [`plain`] columns;
/// account.
pub(super) fn update_plain_sql(rows: usize) -> String {
    let columns = plain();
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = v.column{}", i + 2))
        .collect();
    format!(
        "UPDATE employees SET {}, updated_at = ?, last_import_id = ? FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ?",
        set.join(", "),
        rows_of(rows, columns.len())
    )
}

/// Binds: per row the key and the group's columns; account. Only rows where one
/// of them differs are written.
pub(super) fn update_group_sql(group: usize, rows: usize) -> String {
    let columns = INDEXED[group];
    let (mut set, mut differs) = (Vec::new(), Vec::new());
    for (i, c) in columns.iter().enumerate() {
        set.push(format!("{c} = v.column{}", i + 2));
        differs.push(format!("employees.{c} IS NOT v.column{}", i + 2));
    }
    format!(
        "UPDATE employees SET {} FROM (VALUES {}) AS v \
         WHERE employees.key = v.column1 AND employees.account_id = ? AND ({})",
        set.join(", "),
        rows_of(rows, columns.len()),
        differs.join(" OR ")
    )
}

static UPDATE_PLAIN: OnceLock<Arc<str>> = OnceLock::new();
static UPDATE_GROUP: [OnceLock<Arc<str>>; 7] = [const { OnceLock::new() }; 7];

/// One chunk of updates: the arguments of the first statement and of each group's.
fn chunk_args(
    chunk: Vec<(i64, Employee)>,
    finished: &Arc<str>,
    account: AccountId,
    import_id: ImportId,
) -> Result<(SqliteArguments, Vec<SqliteArguments>), StoreError> {
    let mut first = SqliteArguments::default();
    add(&mut first, finished.clone())?;
    bind(&mut first, Arg::Int(Some(import_id)))?;
    let mut groups: Vec<SqliteArguments> = INDEXED.iter().map(|_| Default::default()).collect();
    let targets: Vec<Option<usize>> = WRITE_COLUMNS[1..]
        .iter()
        .map(|(c, _)| group_of(c))
        .collect();
    for (key, e) in chunk {
        bind(&mut first, Arg::Int(Some(key)))?;
        for g in &mut groups {
            bind(g, Arg::Int(Some(key)))?;
        }
        // write_values gives the key first, then the columns in WRITE_COLUMNS order,
        // the order in which INDEXED lists each group's (a test checks it).
        for (v, target) in write_values(key, e)?.into_iter().skip(1).zip(&targets) {
            match target {
                None => bind(&mut first, v)?,
                Some(g) => bind(&mut groups[*g], v)?,
            }
        }
    }
    bind(&mut first, Arg::Int(Some(account)))?;
    for g in &mut groups {
        bind(g, Arg::Int(Some(account)))?;
    }
    Ok((first, groups))
}

/// Update the employees of `chunk` (at most `full` rows); the rows the first
/// statement found (every row of the chunk unless one is missing).
pub(super) async fn update_chunk(
    tx: &mut Tx,
    chunk: Vec<(i64, Employee)>,
    full: usize,
    (account, import_id, finished): (AccountId, ImportId, &Arc<str>),
) -> Result<u64, StoreError> {
    let n = chunk.len();
    let (first, groups) = chunk_args(chunk, finished, account, import_id)?;
    let sql = cached(&UPDATE_PLAIN, n, full, update_plain_sql);
    let found = run(tx.conn(), sql, first).await?;
    for (g, args) in groups.into_iter().enumerate() {
        let sql = cached(&UPDATE_GROUP[g], n, full, |rows| update_group_sql(g, rows));
        run(tx.conn(), sql, args).await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_column_is_set_by_exactly_one_statement() {
        let mut set: Vec<&str> = plain();
        for g in INDEXED {
            set.extend(g.iter());
        }
        set.sort_unstable();
        let mut written: Vec<&str> = WRITE_COLUMNS[1..].iter().map(|(c, _)| *c).collect();
        written.sort_unstable();
        assert_eq!(set, written);
        assert_eq!(UPDATE_GROUP.len(), INDEXED.len());
        let at = |c: &str| WRITE_COLUMNS.iter().position(|(w, _)| *w == c);
        for g in INDEXED {
            let order: Vec<_> = g.iter().map(|c| at(c)).collect();
            assert!(
                order.is_sorted() && order.iter().all(Option::is_some),
                "{g:?}"
            );
        }
    }

    #[test]
    fn a_group_writes_only_rows_where_it_differs() {
        let sql = update_group_sql(0, 2);
        assert_eq!(
            sql,
            "UPDATE employees SET employee_id = v.column2, employee_id_lower = v.column3 \
             FROM (VALUES (?, ?, ?), (?, ?, ?)) AS v WHERE employees.key = v.column1 \
             AND employees.account_id = ? AND (employees.employee_id IS NOT v.column2 \
             OR employees.employee_id_lower IS NOT v.column3)"
        );
        let plain = update_plain_sql(1);
        assert!(plain.starts_with("UPDATE employees SET email = v.column2, "));
        assert!(!plain.contains("employee_id"), "{plain}");
        assert!(plain.contains("updated_at = ?, last_import_id = ?"));
    }
}
