//! The indexed look-ups an incremental sync plans over (`roster_core::plan::Part`,
//! issue #15): rows by employee ID, source id, email key or birth date; active
//! reports per manager email key; the email facts of rows by source id (managers
//! outside an incremental fetch); generated employee IDs; the demographic names of
//! the first rows; and keying the manager emails the migration could not key.

use std::collections::BTreeSet;

use roster_core::employee::Employee;
use roster_core::normalise::email_key;
use roster_core::plan::Lookups;

use super::adapter::Adapter;
use super::dialect::Dialect;
use super::employee;
use super::query::{Columns, Executor, Query};
use super::reads;
use crate::{AccountId, Result, SourceEmail};

/// Full rows with any of the look-ups' employee IDs, source ids, email keys or
/// birth dates, each once, in key order: one statement, whose sub-queries find the
/// keys in the indexes of each kind of value (covering: no row read), and the rows
/// then read once each by key. (One statement per kind read a row that several
/// values name once per kind, each time decoded again, and on whichever pooled
/// connection was free: its pages read again into that connection's cache.)
pub(super) async fn employees_matching<A: Adapter>(
    a: &A,
    account: AccountId,
    lookups: &Lookups,
) -> Result<Vec<Employee>> {
    let dates: Vec<String> = lookups
        .dates_of_birth
        .iter()
        .map(ToString::to_string)
        .collect();
    let by: [(&str, &[String]); 4] = [
        ("employee_id", &lookups.employee_ids),
        ("source_id", &lookups.source_ids),
        ("email_lower", &lookups.emails),
        ("date_of_birth", &dates),
    ];
    let (mut keys, mut params) = (Vec::new(), Vec::new());
    for (column, values) in by {
        if values.is_empty() {
            continue;
        }
        params.push(values);
        let param = format!("${}", keys.len() + 2);
        keys.push(format!(
            "SELECT key FROM employees WHERE account_id = $1 AND {}",
            A::DIALECT.key_in(column, &param),
        ));
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.key IN ({}) ORDER BY e.key",
        employee::select(A::DIALECT, "e"),
        keys.join(" UNION ALL "),
    );
    let q = params
        .into_iter()
        .fold(Query::new(sql).bind(account), Query::bind);
    reads::collect(a, q).await
}

/// The statement of [`source_emails`] (binds: account, source ids): unsorted, as
/// an `ORDER BY key` has SQLite walk the account's rows in key order instead of
/// the index of source ids (a plan test pins it).
pub fn source_emails_sql(d: Dialect) -> String {
    format!(
        "SELECT key, source_id, email, email_edited, \
         CASE WHEN secondary_email IS NULL THEN 0 ELSE 1 END, \
         CASE WHEN merged_into IS NULL THEN 0 ELSE 1 END \
         FROM employees WHERE account_id = $1 AND {}",
        d.key_in("source_id", "$2"),
    )
}

/// The email facts of the rows with these source ids, in key order (the index of
/// source ids, then each row once; no full row is decoded; sorted here).
pub(super) async fn source_emails<A: Adapter>(
    a: &A,
    account: AccountId,
    source_ids: &[String],
) -> Result<Vec<SourceEmail>> {
    if source_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(source_emails_sql(A::DIALECT))
                .bind(account)
                .bind(source_ids),
        )
        .await?;
    let mut found = rows
        .iter()
        .map(|r| {
            let fact = SourceEmail {
                source_id: r.string(1, "employees.source_id")?,
                email: r.opt_string(2, "employees.email")?.unwrap_or_default(),
                email_edited: r.boolean(3, "employees.email_edited")?,
                secondary_email: r.int(4, "employees.secondary_email")? != 0,
                merged: r.int(5, "employees.merged_into")? != 0,
            };
            Ok((r.int(0, "employees.key")?, fact))
        })
        .collect::<Result<Vec<_>>>()?;
    found.sort_unstable_by_key(|(key, _)| *key);
    Ok(found.into_iter().map(|(_, fact)| fact).collect())
}

/// Per manager email key (`roster_core::normalise::email_key`), the active
/// employees naming it as manager; keys nobody names are left out.
pub(super) async fn active_report_counts<A: Adapter>(
    a: &A,
    account: AccountId,
    manager_keys: &[String],
) -> Result<Vec<(String, u64)>> {
    if manager_keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT manager_lower, COUNT(*) FROM employees WHERE account_id = $1 AND {} AND {} \
         GROUP BY manager_lower ORDER BY manager_lower",
        A::DIALECT.is_true("active"),
        A::DIALECT.key_in("manager_lower", "$2"),
    );
    let rows = a
        .pool_executor()
        .fetch_all(Query::new(sql).bind(account).bind(manager_keys))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.string(0, "employees.manager_lower")?,
                r.int(1, "a count")?.max(0) as u64,
            ))
        })
        .collect()
}

/// The employee IDs that start with `prefix` (the generated ones among them).
pub(super) async fn employee_ids_with_prefix<A: Adapter>(
    a: &A,
    account: AccountId,
    prefix: &str,
) -> Result<Vec<String>> {
    let sql = "SELECT employee_id FROM employees WHERE account_id = $1 \
               AND employee_id IS NOT NULL AND substr(employee_id, 1, CAST($2 AS INTEGER)) = $3";
    let q = Query::new(sql)
        .bind(account)
        .bind(prefix.chars().count() as i64)
        .bind(prefix);
    let mut ids = Vec::new();
    a.pool_executor()
        .for_each(q, &mut |row| {
            ids.push(row.string(0, "employees.employee_id")?);
            Ok(())
        })
        .await?;
    Ok(ids)
}

/// The demographic names of the account's first `rows` employees by key, each once:
/// the objects' keys listed by SQL (their values not read into Rust).
pub(super) async fn demographic_names<A: Adapter>(
    a: &A,
    account: AccountId,
    rows: usize,
) -> Result<BTreeSet<String>> {
    let sql = format!(
        "SELECT DISTINCT v.key FROM (SELECT demographics FROM employees WHERE account_id = $1 \
         ORDER BY key LIMIT $2) e, {} v",
        A::DIALECT.json_entries("e.demographics"),
    );
    let mut names = BTreeSet::new();
    let q = Query::new(sql)
        .bind(account)
        .bind(i64::try_from(rows).unwrap_or(i64::MAX));
    a.pool_executor()
        .for_each(q, &mut |row| {
            names.insert(row.string(0, "employees.demographics")?);
            Ok(())
        })
        .await?;
    Ok(names)
}

/// Key the manager emails written before the key column existed that SQL could not
/// key (see migration 0010); the number keyed. Cheap when there are none (an index
/// holds exactly those rows).
pub(super) async fn key_manager_emails<A: Adapter>(a: &A, account: AccountId) -> Result<u64> {
    let sql = "SELECT key, manager_email FROM employees WHERE account_id = $1 \
               AND manager_email IS NOT NULL AND manager_lower IS NULL";
    let rows = a
        .pool_executor()
        .fetch_all(Query::new(sql).bind(account))
        .await?;
    let mut keyed = 0;
    for row in &rows {
        let key = row.int(0, "employees.key")?;
        let manager = email_key(row.text(1, "employees.manager_email")?);
        let q = Query::new(
            "UPDATE employees SET manager_lower = $1 \
             WHERE key = $2 AND account_id = $3 AND manager_lower IS NULL AND manager_email = $4",
        )
        .bind(manager)
        .bind(key)
        .bind(account)
        .bind(row.text(1, "employees.manager_email")?);
        keyed += a.pool_executor().execute(q).await?;
    }
    Ok(keyed)
}
