//! [`EmployeeFilter`] as SQL: the selection, its count, and the members of groups by
//! demographic value.
//!
//! Each condition is on an indexed column of `employees` (`key`; `email_lower`,
//! `secondary_email_lower`, `source_id` and `employee_id_lower`, each indexed after
//! `account_id`; the partial index of active rows), so that a lookup costs an index
//! seek, not a scan; `And`/`Or` combine them (both engines merge index lookups for an
//! `OR`).
//!
//! "Changed since" (`updated_at` after a time: SCIM's `meta.lastModified gt`/`ge`) is
//! found through the history instead of an index of `updated_at` (dropped by
//! migration 0016: an update moved each row's entry to a random page of it, one more
//! page written per updated employee, issue #15): a row is written only by an import,
//! whose `finished_at` is the row's `updated_at`, and every import but an
//! anonymisation (`erasure`, `retention`) records an entry for each row it writes. So
//! the rows changed since `t` are among the employees of the entries of the imports
//! finished since `t` ([`written_since`]); after an anonymisation finished since `t`,
//! among the rows whose `updated_at` says so (a scan, in the same statement). "Not
//! changed since" (`lt`/`le`) reads the account's rows.

use roster_core::employee::{Employee, EmployeeKey};

use super::adapter::Adapter;
use super::codec::limit;
use super::dialect::Dialect;
use super::employee;
use super::query::{Arg, Columns, Executor, Query};
use crate::selection::{Dated, DemographicMember, EmployeeFilter, KeyPage};
use crate::{AccountId, ImportKind, Result};

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

/// Does `f` narrow the rows by a lookup (an equality on an indexed identifier, or a
/// time range), rather than read most of the directory?
fn selective(f: &EmployeeFilter) -> bool {
    match f {
        EmployeeFilter::All | EmployeeFilter::Served(_) => false,
        EmployeeFilter::Modified(bound, _) => bound.is_since(),
        EmployeeFilter::And(parts) => parts.iter().any(selective),
        EmployeeFilter::Or(parts) => !parts.is_empty() && parts.iter().all(selective),
        _ => true,
    }
}

/// How a condition is spelled for one statement.
///
/// SQLite has no statistics about how few rows a lookup finds among an account's, and
/// with `ORDER BY key LIMIT …` it prefers walking an index in key order (any index
/// starting with `account_id` gives that order) over an equality lookup that then
/// needs a sort: a lookup of 2 rows would read 100k. So for a selective filter
/// ([`selective`]) on SQLite ("seek"), the statement takes `account_id` and the key
/// order off the indexes (`+e.account_id`, `ORDER BY +e.key`, `+e.active`) and puts
/// `e.account_id = …` into each lookup, so that each one is an index seek and an `OR`
/// of them a multi-index union. Otherwise (a scan in key order anyway) the plain
/// spelling. PostgreSQL plans from its statistics and always gets the plain spelling.
struct Spelling {
    d: Dialect,
    /// The account's placeholder.
    acct: String,
    seek: bool,
}

impl Spelling {
    fn new(d: Dialect, f: &EmployeeFilter, b: &mut Built, account: AccountId) -> Self {
        Spelling {
            d,
            acct: b.arg(account),
            seek: d == Dialect::Sqlite && selective(f),
        }
    }

    /// `e.account_id = …` and the condition for `f`.
    fn scope(&self, f: &EmployeeFilter, b: &mut Built) -> String {
        let plus = if self.seek { "+" } else { "" };
        format!(
            "{plus}e.account_id = {} AND {}",
            self.acct,
            self.condition(f, b)
        )
    }

    fn order_by_key(&self) -> &'static str {
        if self.seek {
            "ORDER BY +e.key"
        } else {
            "ORDER BY e.key"
        }
    }

    /// A lookup: in the account, when seeking.
    fn lookup(&self, term: String) -> String {
        if self.seek {
            format!("(e.account_id = {} AND {term})", self.acct)
        } else {
            term
        }
    }

    fn served(&self) -> String {
        let active = if self.seek {
            "+e.active = 1".to_string()
        } else {
            self.d.is_true("e.active")
        };
        format!("{active} AND e.merged_into IS NULL")
    }

    /// The condition on `employees e` for `f`.
    fn condition(&self, f: &EmployeeFilter, b: &mut Built) -> String {
        match f {
            EmployeeFilter::All => "TRUE".into(),
            EmployeeFilter::Nothing => "FALSE".into(),
            EmployeeFilter::Keys(keys) if keys.is_empty() => "FALSE".into(),
            EmployeeFilter::Keys(keys) => {
                let p = b.arg(keys.as_slice());
                self.lookup(self.d.key_in("e.key", &p))
            }
            EmployeeFilter::Emails(v) => self.lookup(b.text_in("e.email_lower", v)),
            EmployeeFilter::SecondaryEmails(v) => {
                self.lookup(b.text_in("e.secondary_email_lower", v))
            }
            EmployeeFilter::SourceIds(v) => self.lookup(b.text_in("e.source_id", v)),
            EmployeeFilter::EmployeeIds(v) => self.lookup(b.text_in("e.employee_id_lower", v)),
            EmployeeFilter::Served(true) => format!("({})", self.served()),
            EmployeeFilter::Served(false) => format!("NOT ({})", self.served()),
            EmployeeFilter::Modified(bound, at) => {
                let p = b.arg(*at);
                let time = format!("e.updated_at {} {p}", bound.sql());
                if bound.is_since() {
                    // Not in the account's lookup form: by key alone each one is a
                    // rowid seek (52 ms for all of 100k, 82 through the account's
                    // index); the keys are the account's already.
                    format!("({} AND {time})", written_since(&self.acct, &p))
                } else {
                    time
                }
            }
            EmployeeFilter::And(parts) if parts.is_empty() => "TRUE".into(),
            EmployeeFilter::Or(parts) if parts.is_empty() => "FALSE".into(),
            EmployeeFilter::And(parts) => self.join(parts, " AND ", b),
            EmployeeFilter::Or(parts) => self.join(parts, " OR ", b),
        }
    }

    fn join(&self, parts: &[EmployeeFilter], op: &str, b: &mut Built) -> String {
        let parts: Vec<String> = parts.iter().map(|p| self.condition(p, b)).collect();
        format!("({})", parts.join(op))
    }
}

/// `e.key` among the employees that any write at or after `$p` may have changed (the
/// module's doc): those of the entries of the imports of account `$acct` finished
/// since, and, when an anonymisation (which records no entries) finished since, the
/// rows written since: that scan is joined after a row that exists only then (`g`),
/// so that it is skipped otherwise (SQLite evaluated an `EXISTS` among the scan's
/// conditions once per row: 6 ms for none of 100k; `CROSS JOIN` keeps the order).
fn written_since(acct: &str, p: &str) -> String {
    let anonymisations: Vec<String> = ImportKind::ANONYMISATIONS
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect();
    let anonymisations = anonymisations.join(", ");
    format!(
        "e.key IN (\
         SELECT ie.employee_key FROM import_entries ie \
         WHERE ie.import_id IN (\
             SELECT i.id FROM imports i WHERE i.account_id = {acct} AND i.finished_at >= {p}) \
         AND ie.employee_key IS NOT NULL \
         UNION ALL \
         SELECT w.key FROM (SELECT 1 AS anonymised WHERE EXISTS (\
             SELECT 1 FROM imports a WHERE a.account_id = {acct} \
             AND a.kind IN ({anonymisations}) AND a.finished_at >= {p})) AS g \
         CROSS JOIN employees w WHERE w.account_id = {acct} AND w.updated_at >= {p})"
    )
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

/// The statement [`select_employees`] runs, and its arguments.
fn select_statement(
    d: Dialect,
    account: AccountId,
    filter: &EmployeeFilter,
    page: KeyPage,
) -> (String, Built) {
    let mut b = Built { args: Vec::new() };
    let spelling = Spelling::new(d, filter, &mut b, account);
    let cond = spelling.scope(filter, &mut b);
    // `after` as its own condition: the planner seeks to the key.
    let after = match page.after {
        Some(k) => format!(" AND e.key > {}", b.arg(k)),
        None => String::new(),
    };
    let lim = b.arg(page.limit.map_or(i64::MAX, limit));
    let off = b.arg(limit(page.offset));
    let sql = format!(
        "SELECT {} FROM employees e WHERE {cond}{after} {} LIMIT {lim} OFFSET {off}",
        select_dated(d),
        spelling.order_by_key(),
    );
    (sql, b)
}

/// The SQL text of [`select_employees`], for a test of its plan (the arguments
/// unbound).
pub fn select_sql(d: Dialect, filter: &EmployeeFilter, page: KeyPage) -> String {
    select_statement(d, 1, filter, page).0
}

pub(super) async fn select_employees<A: Adapter>(
    a: &A,
    account: AccountId,
    filter: &EmployeeFilter,
    page: KeyPage,
) -> Result<Vec<Dated>> {
    let d = A::DIALECT;
    let (sql, b) = select_statement(d, account, filter, page);
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
    let cond = Spelling::new(A::DIALECT, filter, &mut b, account).scope(filter, &mut b);
    let sql = format!("SELECT COUNT(*) FROM employees e WHERE {cond}");
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

    fn spelled(d: Dialect, f: &EmployeeFilter) -> (String, usize) {
        let mut b = Built { args: Vec::new() };
        let s = Spelling::new(d, f, &mut b, 1);
        (
            format!("{} {}", s.scope(f, &mut b), s.order_by_key()),
            b.args.len(),
        )
    }

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
        let since = written_since("$1", "$4");
        assert_eq!(
            spelled(Dialect::Postgres, &f),
            (
                format!(
                    "e.account_id = $1 AND ((e.email_lower IN ($2, $3) OR FALSE) \
                     AND (e.active AND e.merged_into IS NULL) AND ({since} AND e.updated_at > $4)) \
                     ORDER BY e.key"
                ),
                4
            )
        );
        assert_eq!(
            spelled(Dialect::Sqlite, &f).0,
            format!(
                "+e.account_id = $1 AND (((e.account_id = $1 AND e.email_lower IN ($2, $3)) \
                 OR (e.account_id = $1 AND FALSE)) AND (+e.active = 1 AND e.merged_into IS NULL) \
                 AND ({since} AND e.updated_at > $4)) ORDER BY +e.key"
            ),
            "SQLite seeks each lookup"
        );
        assert!(
            since.starts_with("e.key IN (SELECT ie.employee_key FROM import_entries ie ")
                && since.contains("i.account_id = $1 AND i.finished_at >= $4")
                && since.contains("a.kind IN ('erasure', 'retention') AND a.finished_at >= $4"),
            "{since}"
        );
    }

    #[test]
    fn scans_keep_the_key_order_of_the_indexes() {
        for f in [
            EmployeeFilter::All,
            EmployeeFilter::Served(false),
            EmployeeFilter::Or(vec![
                EmployeeFilter::Served(true),
                EmployeeFilter::Keys(vec![1]),
            ]),
            // "Not changed since" reads the account's rows.
            EmployeeFilter::Modified(TimeBound::Le, jiff::Timestamp::UNIX_EPOCH),
        ] {
            let (sql, _) = spelled(Dialect::Sqlite, &f);
            assert!(sql.starts_with("e.account_id = $1 AND "), "{sql}");
            assert!(sql.ends_with(" ORDER BY e.key"), "{sql}");
        }
        assert_eq!(
            spelled(Dialect::Sqlite, &EmployeeFilter::Served(false)).0,
            "e.account_id = $1 AND NOT (e.active = 1 AND e.merged_into IS NULL) ORDER BY e.key"
        );
    }
}
