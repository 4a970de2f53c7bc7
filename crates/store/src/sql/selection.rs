//! [`EmployeeFilter`] as SQL: the selection, its count, and the members of groups by
//! demographic value.
//!
//! Each condition is on an indexed column of `employees` (`key`; `email_lower`,
//! `secondary_email_lower`, `source_id`, `employee_id_lower` and `updated_at`, each
//! indexed after `account_id`; the partial index of active rows), so that a lookup
//! costs an index seek, not a scan; `And`/`Or` combine them (both engines merge
//! index lookups for an `OR`).

use roster_core::employee::{Employee, EmployeeKey};

use super::adapter::Adapter;
use super::codec::limit;
use super::dialect::Dialect;
use super::employee;
use super::query::{Arg, Columns, Executor, Query};
use crate::selection::{Dated, DemographicMember, EmployeeFilter, KeyPage};
use crate::{AccountId, Result};

/// A statement under construction: the SQL text and its arguments, `$N` numbered in
/// order.
struct Built {
    args: Vec<Arg>,
}

impl Built {
    /// Add an argument; its placeholder.
    fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }

    /// `column IN ($a, $b, …)` over text values; `FALSE` for none.
    fn text_in(&mut self, column: &str, values: &[String]) -> String {
        if values.is_empty() {
            return "FALSE".into();
        }
        let list: Vec<String> = values.iter().map(|v| self.arg(v.as_str())).collect();
        format!("{column} IN ({})", list.join(", "))
    }

    fn query(self, sql: String) -> Query {
        self.args
            .into_iter()
            .fold(Query::new(sql), |q, a| q.bind(a))
    }
}

/// The condition on `employees e` for `f`.
fn condition(d: Dialect, f: &EmployeeFilter, b: &mut Built) -> String {
    match f {
        EmployeeFilter::All => "TRUE".into(),
        EmployeeFilter::Nothing => "FALSE".into(),
        EmployeeFilter::Keys(keys) if keys.is_empty() => "FALSE".into(),
        EmployeeFilter::Keys(keys) => {
            let p = b.arg(keys.as_slice());
            d.key_in("e.key", &p)
        }
        EmployeeFilter::Emails(v) => b.text_in("e.email_lower", v),
        EmployeeFilter::SecondaryEmails(v) => b.text_in("e.secondary_email_lower", v),
        EmployeeFilter::SourceIds(v) => b.text_in("e.source_id", v),
        EmployeeFilter::EmployeeIds(v) => b.text_in("e.employee_id_lower", v),
        EmployeeFilter::Served(true) => {
            format!("({} AND e.merged_into IS NULL)", d.is_true("e.active"))
        }
        EmployeeFilter::Served(false) => {
            format!("NOT ({} AND e.merged_into IS NULL)", d.is_true("e.active"))
        }
        EmployeeFilter::Modified(bound, at) => {
            let p = b.arg(*at);
            format!("e.updated_at {} {p}", bound.sql())
        }
        EmployeeFilter::And(parts) | EmployeeFilter::Or(parts) if parts.is_empty() => {
            if matches!(f, EmployeeFilter::And(_)) {
                "TRUE".into()
            } else {
                "FALSE".into()
            }
        }
        EmployeeFilter::And(parts) => join(d, parts, " AND ", b),
        EmployeeFilter::Or(parts) => join(d, parts, " OR ", b),
    }
}

fn join(d: Dialect, parts: &[EmployeeFilter], op: &str, b: &mut Built) -> String {
    let parts: Vec<String> = parts.iter().map(|p| condition(d, p, b)).collect();
    format!("({})", parts.join(op))
}

/// The select list of an employee with its times: [`read_dated`] decodes it.
fn select_dated(d: Dialect) -> String {
    format!(
        "{}, COALESCE(e.created_at, e.updated_at), e.updated_at",
        employee::select(d, "e")
    )
}

fn read_dated(d: Dialect, row: &impl Columns) -> Result<Dated> {
    let at = employee::width(d);
    Ok(Dated {
        employee: employee::read(d, row, 0)?,
        created: row.ts(at, "employees.created_at")?,
        modified: row.ts(at + 1, "employees.updated_at")?,
    })
}

pub(super) async fn select_employees<A: Adapter>(
    a: &A,
    account: AccountId,
    filter: &EmployeeFilter,
    page: KeyPage,
) -> Result<Vec<Dated>> {
    let d = A::DIALECT;
    let mut b = Built { args: Vec::new() };
    let acct = b.arg(account);
    let cond = condition(d, filter, &mut b);
    // `after` as its own condition: the planner seeks to the key.
    let after = match page.after {
        Some(k) => format!(" AND e.key > {}", b.arg(k)),
        None => String::new(),
    };
    let lim = b.arg(page.limit.map_or(i64::MAX, limit));
    let off = b.arg(limit(page.offset));
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = {acct} AND {cond}{after} \
         ORDER BY e.key LIMIT {lim} OFFSET {off}",
        select_dated(d)
    );
    let mut out = Vec::new();
    a.pool_executor()
        .for_each(b.query(sql), &mut |row| {
            out.push(read_dated(d, row)?);
            Ok(())
        })
        .await?;
    Ok(out)
}

pub(super) async fn count_selected<A: Adapter>(
    a: &A,
    account: AccountId,
    filter: &EmployeeFilter,
) -> Result<u64> {
    let mut b = Built { args: Vec::new() };
    let acct = b.arg(account);
    let cond = condition(A::DIALECT, filter, &mut b);
    let sql = format!("SELECT COUNT(*) FROM employees e WHERE e.account_id = {acct} AND {cond}");
    let row = a.pool_executor().fetch_one(b.query(sql)).await?;
    Ok(row.int(0, "a count")?.max(0) as u64)
}

pub(super) async fn demographic_members<A: Adapter>(
    a: &A,
    account: AccountId,
    demographics: &[String],
) -> Result<Vec<DemographicMember>> {
    if demographics.is_empty() {
        return Ok(Vec::new());
    }
    let d = A::DIALECT;
    let mut b = Built { args: Vec::new() };
    let acct = b.arg(account);
    let names = b.text_in("v.key", demographics);
    let sql = format!(
        "SELECT e.key, v.key, v.value, e.email, e.first_name, e.last_name, e.preferred_name, \
         COALESCE(e.created_at, e.updated_at), e.updated_at \
         FROM employees e, {} v WHERE e.account_id = {acct} AND {} \
         AND e.merged_into IS NULL AND {names} AND v.value <> '' ORDER BY e.key",
        d.json_entries("e.demographics"),
        d.is_true("e.active"),
    );
    let mut out = Vec::new();
    a.pool_executor()
        .for_each(b.query(sql), &mut |row| {
            let key: EmployeeKey = row.int(0, "employees.key")?;
            let demographic = row.string(1, "employees.demographics")?;
            let value = row.string(2, "employees.demographics")?;
            let employee = Employee {
                key,
                email: row.opt_string(3, "employees.email")?.unwrap_or_default(),
                first_name: row.opt_string(4, "employees.first_name")?,
                last_name: row.opt_string(5, "employees.last_name")?,
                preferred_name: row.opt_string(6, "employees.preferred_name")?,
                active: true,
                demographics: [(demographic.clone(), value.clone())].into(),
                ..Employee::default()
            };
            out.push(DemographicMember {
                demographic,
                value,
                employee,
                created: row.ts(7, "employees.created_at")?,
                modified: row.ts(8, "employees.updated_at")?,
            });
            Ok(())
        })
        .await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::TimeBound;

    #[test]
    fn conditions_number_their_arguments_in_order() {
        let f = EmployeeFilter::And(vec![
            EmployeeFilter::Or(vec![
                EmployeeFilter::Emails(vec!["a@x".into(), "b@x".into()]),
                EmployeeFilter::SourceIds(vec![]),
            ]),
            EmployeeFilter::Served(true),
            EmployeeFilter::Modified(TimeBound::Gt, jiff::Timestamp::UNIX_EPOCH),
        ]);
        let mut b = Built { args: Vec::new() };
        let sql = condition(Dialect::Postgres, &f, &mut b);
        assert_eq!(
            sql,
            "((e.email_lower IN ($1, $2) OR FALSE) AND (e.active AND e.merged_into IS NULL) \
             AND e.updated_at > $3)"
        );
        assert_eq!(b.args.len(), 3);
        let mut b = Built { args: Vec::new() };
        assert_eq!(
            condition(Dialect::Sqlite, &EmployeeFilter::Served(false), &mut b),
            "NOT (e.active = 1 AND e.merged_into IS NULL)"
        );
    }
}
