//! Reading the directory: every employee, some by key, one, a page of a search.

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::normalise::email_key;

use super::adapter::Adapter;
use super::codec::{limit, search_needle};
use super::dialect::Dialect;
use super::employee;
use super::query::{Columns, Executor, Query};
use crate::{AccountId, EmployeeQuery, Result};

/// Run a query selecting one employee per row (at column 0) and decode each as it
/// arrives.
pub(super) async fn collect<A: Adapter>(a: &A, q: Query) -> Result<Vec<Employee>> {
    let mut out = Vec::new();
    a.pool_executor()
        .for_each(q, &mut |row| {
            out.push(employee::read(A::DIALECT, row, 0)?);
            Ok(())
        })
        .await?;
    Ok(out)
}

pub(super) async fn directory<A: Adapter>(a: &A, account: AccountId) -> Result<Vec<Employee>> {
    if A::DIALECT == Dialect::Sqlite {
        return directory_in_groups(a, account).await;
    }
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
        employee::select(A::DIALECT, "e")
    );
    collect(a, Query::new(sql).bind(account)).await
}

/// SQLite's whole directory, a range of keys a row
/// ([`employee::select_groups_sqlite`]), in key order.
async fn directory_in_groups<A: Adapter>(a: &A, account: AccountId) -> Result<Vec<Employee>> {
    let mut out: Vec<Employee> = Vec::new();
    a.pool_executor()
        .for_each(
            Query::new(employee::select_groups_sqlite()).bind(account),
            &mut |row| {
                let from = out.len().saturating_sub(1);
                out.append(&mut employee::read_group(row, 0)?);
                // In key order within the range and after the one before.
                if !out[from..].windows(2).all(|w| w[0].key < w[1].key) {
                    return Err(crate::StoreError::Corrupt(
                        "the directory's rows came out of key order".into(),
                    ));
                }
                Ok(())
            },
        )
        .await?;
    Ok(out)
}

pub(super) async fn directory_outline<A: Adapter>(
    a: &A,
    account: AccountId,
) -> Result<Vec<Employee>> {
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
        employee::select_outline(A::DIALECT, "e")
    );
    collect(a, Query::new(sql).bind(account)).await
}

pub(super) async fn employees_by_key<A: Adapter>(
    a: &A,
    account: AccountId,
    keys: &[EmployeeKey],
) -> Result<Vec<Employee>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // SQLite would find each key in `employees_account` (the account's index), then
    // the row, and sort: `+` keeps it on the primary key, in key order.
    let account_is = match A::DIALECT {
        Dialect::Sqlite => "+e.account_id = $1",
        Dialect::Postgres => "e.account_id = $1",
    };
    let sql = format!(
        "SELECT {} FROM employees e WHERE {} AND {account_is} ORDER BY e.key",
        employee::select(A::DIALECT, "e"),
        A::DIALECT.key_in("e.key", "$2"),
    );
    collect(a, Query::new(sql).bind(account).bind(keys)).await
}

pub(super) async fn employee<A: Adapter>(
    a: &A,
    account: AccountId,
    key: EmployeeKey,
) -> Result<Option<Employee>> {
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.key = $1 AND e.account_id = $2",
        employee::select(A::DIALECT, "e")
    );
    a.pool_executor()
        .fetch_optional(Query::new(sql).bind(key).bind(account))
        .await?
        .map(|row| employee::read(A::DIALECT, &row, 0))
        .transpose()
}

pub(super) async fn find_employee<A: Adapter>(
    a: &A,
    account: AccountId,
    id_or_email: &str,
) -> Result<Option<Employee>> {
    let email = email_key(id_or_email);
    if id_or_email.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 \
         AND (e.employee_id = $2 OR e.email_lower = $3) \
         ORDER BY e.employee_id = $2 DESC, e.key LIMIT 1",
        employee::select(A::DIALECT, "e")
    );
    let q = Query::new(sql)
        .bind(account)
        .bind(id_or_email)
        .bind((!email.is_empty()).then_some(email));
    a.pool_executor()
        .fetch_optional(q)
        .await?
        .map(|row| employee::read(A::DIALECT, &row, 0))
        .transpose()
}

pub(super) async fn employees<A: Adapter>(
    a: &A,
    account: AccountId,
    query: &EmployeeQuery,
) -> Result<Vec<Employee>> {
    let needle = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(search_needle);
    // No limit: as many as there can be.
    let page = query.limit.map_or(i64::MAX, limit);
    // `after` as its own condition, not `($6 IS NULL OR …)`: a parameter in an OR
    // would keep the planner from seeking to the key.
    let after = if query.after.is_some() {
        "AND e.key > $6"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 AND ($2 OR e.active) \
         AND (CAST($3 AS TEXT) IS NULL OR {}) {after} ORDER BY e.key LIMIT $4 OFFSET $5",
        employee::select(A::DIALECT, "e"),
        A::DIALECT.contains("e.search_text", "$3"),
    );
    let mut q = Query::new(sql)
        .bind(account)
        .bind(query.include_inactive)
        .bind(needle)
        .bind(page)
        .bind(limit(query.offset));
    if let Some(key) = query.after {
        q = q.bind(key);
    }
    collect(a, q).await
}

pub(super) async fn count_employees<A: Adapter>(
    a: &A,
    account: AccountId,
    active_only: bool,
) -> Result<u64> {
    let sql = if active_only {
        // Kept as the rows change (migration 0015; `write::count_created`): not
        // linear in the company (issue #15). An account without its row has no
        // employee: its first write makes it.
        "SELECT COALESCE((SELECT active FROM active_counts WHERE account_id = $1), 0)".to_string()
    } else {
        "SELECT COUNT(*) FROM employees WHERE account_id = $1".to_string()
    };
    let row = a
        .pool_executor()
        .fetch_one(Query::new(sql).bind(account))
        .await?;
    Ok(row.int(0, "a count")?.max(0) as u64)
}
