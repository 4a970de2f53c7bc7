//! The `employees` table: which columns hold an [`Employee`], how a query selects
//! one (per [`Dialect`]), how a row decodes, and the values a write stores.
//!
//! SQLite selects an employee as one JSON array (`json_array(…)`): sqlx copies every
//! column value of every row from its worker thread to the caller, and one value
//! per row instead of 22 loads a directory about three times faster. PostgreSQL
//! selects the columns.

use roster_core::fields::FieldMap;

use jiff::civil::Date;
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::normalise::email_key;

use super::codec::{corrupt, date_text, from_json, parse_date, search_text, to_json};
use super::dialect::Dialect;
use super::query::{Arg, Columns, Executor, Query};
use crate::Result;

/// The columns an employee is read from, in order.
const READ_COLUMNS: &[&str] = &[
    "key",
    "employee_id",
    "source_id",
    "email",
    "secondary_email",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "start_date",
    "latest_rehire_date",
    "hire_date",
    "end_date",
    "manager_email",
    "phone",
    "demographics",
    "active",
    "deactivation_reason",
    "is_manager",
    "excluded",
    "email_edited",
    "merged_into",
];

/// The columns of [`Employee::outline`]; an outline select gives the others as
/// empty, so that the same decoder reads it.
const OUTLINE_COLUMNS: &[&str] = &[
    "key",
    "employee_id",
    "source_id",
    "email",
    "first_name",
    "last_name",
    "date_of_birth",
    "manager_email",
    "active",
    "deactivation_reason",
    "is_manager",
    "excluded",
    "email_edited",
    "merged_into",
];

/// The type of a column a write sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
}

/// The columns a write sets, in the order of [`write_values`]: the key first.
pub const WRITE_COLUMNS: &[(&str, Kind)] = &[
    ("key", Kind::Int),
    ("employee_id", Kind::Text),
    ("source_id", Kind::Text),
    ("email", Kind::Text),
    ("email_lower", Kind::Text),
    ("search_text", Kind::Text),
    ("secondary_email", Kind::Text),
    ("first_name", Kind::Text),
    ("last_name", Kind::Text),
    ("preferred_name", Kind::Text),
    ("date_of_birth", Kind::Text),
    ("start_date", Kind::Text),
    ("latest_rehire_date", Kind::Text),
    ("hire_date", Kind::Text),
    ("end_date", Kind::Text),
    ("manager_email", Kind::Text),
    ("manager_lower", Kind::Text),
    ("phone", Kind::Text),
    ("demographics", Kind::Text),
    ("active", Kind::Bool),
    ("deactivation_reason", Kind::Text),
    ("is_manager", Kind::Bool),
    ("excluded", Kind::Bool),
    ("email_edited", Kind::Bool),
    ("merged_into", Kind::Int),
    ("employee_id_lower", Kind::Text),
    ("secondary_email_lower", Kind::Text),
];

/// The values of [`WRITE_COLUMNS`] for `e` under `key`, its strings moved.
pub fn write_values(key: i64, e: Employee) -> Result<Vec<Arg>> {
    let lower = email_key(&e.email);
    let id_lower = e.employee_id.to_lowercase();
    let secondary_lower = secondary_email_key(e.secondary_email.as_deref());
    let search = search_text(&e);
    let manager_lower = e.manager_email.as_deref().map(email_key);
    let demographics = if e.demographics.is_empty() {
        "{}".to_string()
    } else {
        to_json(&e.demographics)?
    };
    Ok(vec![
        Arg::Int(Some(key)),
        Arg::Text(Some(e.employee_id)),
        Arg::Text(e.source_id),
        Arg::Text((!e.email.is_empty()).then_some(e.email)),
        Arg::Text((!lower.is_empty()).then_some(lower)),
        Arg::Text(Some(search)),
        Arg::Text(e.secondary_email),
        Arg::Text(e.first_name),
        Arg::Text(e.last_name),
        Arg::Text(e.preferred_name),
        Arg::Text(date_text(e.date_of_birth)),
        Arg::Text(date_text(e.start_date)),
        Arg::Text(date_text(e.latest_rehire_date)),
        Arg::Text(date_text(e.hire_date)),
        Arg::Text(date_text(e.end_date)),
        Arg::Text(e.manager_email),
        Arg::Text(manager_lower),
        Arg::Text(e.phone),
        Arg::Text(Some(demographics)),
        Arg::Bool(e.active),
        Arg::Text(e.deactivation_reason.map(|r| r.as_str().to_string())),
        Arg::Bool(e.is_manager),
        Arg::Bool(e.excluded),
        Arg::Bool(e.email_edited),
        Arg::Int(e.merged_into),
        Arg::Text(Some(id_lower)),
        Arg::Text(secondary_lower),
    ])
}

/// `secondary_email_lower`: core's `email_key` of the secondary email, `None` when
/// there is none (or it is blank).
pub fn secondary_email_key(secondary: Option<&str>) -> Option<String> {
    secondary.map(email_key).filter(|k| !k.is_empty())
}

/// The rows [`backfill_folds`] folds: each half is what one partial index of
/// migration 0014 holds.
pub const UNFOLDED: &str = "SELECT key, employee_id, secondary_email, account_id FROM employees \
     WHERE employee_id IS NOT NULL AND employee_id_lower IS NULL \
     UNION SELECT key, employee_id, secondary_email, account_id FROM employees \
     WHERE secondary_email_lower IS NULL AND secondary_email IS NOT NULL \
     AND TRIM(secondary_email) <> ''";

/// Fill in the lower-cased columns migration 0008 left empty (values with letters
/// beyond ASCII, which SQL's `lower()` does not fold as Rust does). Run when a
/// store opens; on a database without such rows it finds nothing, by the partial
/// indexes of migration 0014, without reading the employees.
pub async fn backfill_folds(exec: &mut impl Executor) -> Result<u64> {
    let rows = exec.fetch_all(Query::new(UNFOLDED)).await?;
    let mut done = 0;
    for row in rows {
        let key = row.int(0, "employees.key")?;
        let id = row
            .opt_text(1, "employees.employee_id")?
            .map(str::to_lowercase);
        let secondary = secondary_email_key(row.opt_text(2, "employees.secondary_email")?);
        let account = row.int(3, "employees.account_id")?;
        done += exec
            .execute(
                Query::new(
                    "UPDATE employees SET employee_id_lower = $2, secondary_email_lower = $3 \
                     WHERE key = $1 AND account_id = $4",
                )
                .bind(key)
                .bind(id)
                .bind(secondary)
                .bind(account),
            )
            .await?;
    }
    Ok(done)
}

/// The select list of one employee of table alias `t`: [`read`] decodes it.
pub fn select(d: Dialect, t: &str) -> String {
    let cols = READ_COLUMNS.iter().map(|c| match (d, *c) {
        (Dialect::Sqlite, "demographics") => format!("json({t}.{c})"),
        _ => format!("{t}.{c}"),
    });
    wrap(d, cols)
}

/// How many columns [`select`] takes: what follows it starts at this index.
pub fn width(d: Dialect) -> usize {
    match d {
        Dialect::Sqlite => 1,
        Dialect::Postgres => READ_COLUMNS.len(),
    }
}

/// [`select`] with only the columns of [`Employee::outline`].
pub fn select_outline(d: Dialect, t: &str) -> String {
    let cols = READ_COLUMNS.iter().map(|c| {
        if OUTLINE_COLUMNS.contains(c) {
            format!("{t}.{c}")
        } else {
            match (d, *c) {
                (Dialect::Sqlite, "demographics") => "json('{}')".to_string(),
                (Dialect::Sqlite, _) => "NULL".to_string(),
                (Dialect::Postgres, "demographics") => "'{}'::text".to_string(),
                (Dialect::Postgres, _) => "NULL::text".to_string(),
            }
        }
    });
    wrap(d, cols)
}

/// [`select`] of a left-joined `t` that may be missing: [`read_opt`] decodes it.
pub fn select_opt(d: Dialect, t: &str) -> String {
    match d {
        Dialect::Sqlite => format!(
            "CASE WHEN {t}.key IS NULL THEN NULL ELSE {} END",
            select(d, t)
        ),
        Dialect::Postgres => select(d, t),
    }
}

fn wrap(d: Dialect, cols: impl Iterator<Item = String>) -> String {
    let cols: Vec<String> = cols.collect();
    match d {
        Dialect::Sqlite => format!("json_array({})", cols.join(", ")),
        Dialect::Postgres => cols.join(", "),
    }
}

/// Decode the employee [`select`] put at column `at`. Errors never quote the row.
pub fn read(d: Dialect, row: &impl Columns, at: usize) -> Result<Employee> {
    match d {
        Dialect::Sqlite => from_json_array(row.text(at, "an employees row")?),
        Dialect::Postgres => from_columns(row, at),
    }
}

/// Decode [`select_opt`] at column `at`: `None` when the joined row is missing.
pub fn read_opt(d: Dialect, row: &impl Columns, at: usize) -> Result<Option<Employee>> {
    match d {
        Dialect::Sqlite => row
            .opt_text(at, "an employees row")?
            .map(from_json_array)
            .transpose(),
        Dialect::Postgres => match row.opt_int(at, "employees.key")? {
            None => Ok(None),
            Some(_) => from_columns(row, at).map(Some),
        },
    }
}

/// One employee as SQLite's [`select`] gives it.
#[derive(serde::Deserialize)]
struct JsonRow(
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<String>,
    Option<String>,
    FieldMap,
    u8,
    Option<DeactivationReason>,
    u8,
    u8,
    u8,
    Option<i64>,
);

fn from_json_array(json: &str) -> Result<Employee> {
    let r: JsonRow = serde_json::from_str(json).map_err(|_| corrupt("an employees row"))?;
    Ok(Employee {
        key: r.0,
        employee_id: r.1.ok_or_else(|| corrupt("employees.employee_id"))?,
        source_id: r.2,
        email: r.3.unwrap_or_default(),
        secondary_email: r.4,
        first_name: r.5,
        last_name: r.6,
        preferred_name: r.7,
        date_of_birth: r.8,
        start_date: r.9,
        latest_rehire_date: r.10,
        hire_date: r.11,
        end_date: r.12,
        manager_email: r.13,
        phone: r.14,
        demographics: r.15,
        active: r.16 != 0,
        deactivation_reason: r.17,
        is_manager: r.18 != 0,
        excluded: r.19 != 0,
        email_edited: r.20 != 0,
        merged_into: r.21,
    })
}

fn from_columns(row: &impl Columns, at: usize) -> Result<Employee> {
    let text = |i: usize, what: &str| row.opt_string(at + i, what);
    let date = |i: usize, what: &str| parse_date(row.opt_text(at + i, what)?, what);
    let flag = |i: usize, what: &str| row.boolean(at + i, what);
    let reason = row.opt_text(at + 17, "employees.deactivation_reason")?;
    Ok(Employee {
        key: row.int(at, "employees.key")?,
        employee_id: row.string(at + 1, "employees.employee_id")?,
        source_id: text(2, "employees.source_id")?,
        email: text(3, "employees.email")?.unwrap_or_default(),
        secondary_email: text(4, "employees.secondary_email")?,
        first_name: text(5, "employees.first_name")?,
        last_name: text(6, "employees.last_name")?,
        preferred_name: text(7, "employees.preferred_name")?,
        date_of_birth: date(8, "employees.date_of_birth")?,
        start_date: date(9, "employees.start_date")?,
        latest_rehire_date: date(10, "employees.latest_rehire_date")?,
        hire_date: date(11, "employees.hire_date")?,
        end_date: date(12, "employees.end_date")?,
        manager_email: text(13, "employees.manager_email")?,
        phone: text(14, "employees.phone")?,
        demographics: from_json(
            row.text(at + 15, "employees.demographics")?,
            "employees.demographics",
        )?,
        active: flag(16, "employees.active")?,
        deactivation_reason: reason
            .map(|r| {
                DeactivationReason::parse(r).ok_or_else(|| corrupt("employees.deactivation_reason"))
            })
            .transpose()?,
        is_manager: flag(18, "employees.is_manager")?,
        excluded: flag(19, "employees.excluded")?,
        email_edited: flag(20, "employees.email_edited")?,
        merged_into: row.opt_int(at + 21, "employees.merged_into")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;

    #[test]
    fn selects_list_every_column() {
        let sql = select(Dialect::Sqlite, "e");
        assert!(sql.starts_with("json_array(e.key, e.employee_id,"));
        assert!(sql.contains("json(e.demographics)"));
        assert_eq!(sql.matches("e.").count(), READ_COLUMNS.len());
        let sql = select(Dialect::Postgres, "e");
        assert!(sql.starts_with("e.key, e.employee_id,"));
        assert_eq!(sql.matches("e.").count(), 22);
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(
                select_outline(d, "e").matches("e.").count(),
                OUTLINE_COLUMNS.len()
            );
        }
    }

    #[test]
    fn a_write_sets_every_read_column() {
        for c in READ_COLUMNS {
            assert!(WRITE_COLUMNS.iter().any(|(w, _)| w == c), "{c}");
        }
        let values = write_values(7, Employee::default()).unwrap();
        assert_eq!(values.len(), WRITE_COLUMNS.len());
        for (v, (name, kind)) in values.iter().zip(WRITE_COLUMNS) {
            let matches = matches!(
                (v, kind),
                (Arg::Int(_), Kind::Int) | (Arg::Text(_), Kind::Text) | (Arg::Bool(_), Kind::Bool)
            );
            assert!(matches, "{name}: {v:?}");
        }
    }

    #[test]
    fn a_bad_row_is_corrupt_without_quoting_it() {
        let err = from_json_array(r#"[1, "secret@example.com"]"#).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
