//! The `employees` table: which columns hold an [`Employee`], how a query selects
//! one (per [`Dialect`]), how a row decodes, and the values a write stores.
//!
//! SQLite selects an employee as one JSON array (`json_array(…)`) and the
//! demographics' stored JSON beside it: sqlx copies every column value of every row
//! from its worker thread to the caller, and two values per row instead of 22 load a
//! directory about three times faster. The demographics stay out of the array: in it,
//! SQLite parsed and re-wrote each row's JSON object (`json(…)`), a quarter of the
//! instructions of loading a directory. PostgreSQL selects the columns.

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
    wrap(d, columns(t))
}

/// How many columns [`select`] takes: what follows it starts at this index.
pub fn width(d: Dialect) -> usize {
    match d {
        Dialect::Sqlite => 2,
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
                (Dialect::Sqlite, "demographics") => "'{}'".to_string(),
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
        // (The demographics column of a missing row is NULL.)
        Dialect::Sqlite => {
            let (array, demographics) = sqlite_parts(columns(t));
            format!("CASE WHEN {t}.key IS NULL THEN NULL ELSE {array} END, {demographics}")
        }
        Dialect::Postgres => select(d, t),
    }
}

/// Every column of [`READ_COLUMNS`] of table alias `t`.
fn columns(t: &str) -> impl Iterator<Item = String> {
    READ_COLUMNS.iter().map(move |c| format!("{t}.{c}"))
}

/// The select list of `cols` (in [`READ_COLUMNS`]' order): PostgreSQL's as they
/// are, SQLite's as [`sqlite_parts`].
fn wrap(d: Dialect, cols: impl Iterator<Item = String>) -> String {
    match d {
        Dialect::Sqlite => {
            let (array, demographics) = sqlite_parts(cols);
            format!("{array}, {demographics}")
        }
        Dialect::Postgres => cols.collect::<Vec<_>>().join(", "),
    }
}

/// SQLite's two columns of an employee: a JSON array of all but the demographics,
/// and the demographics (stored as JSON text, read as they are).
fn sqlite_parts(cols: impl Iterator<Item = String>) -> (String, String) {
    let mut cols: Vec<String> = cols.collect();
    let demographics = cols.remove(DEMOGRAPHICS);
    (format!("json_array({})", cols.join(", ")), demographics)
}

/// Where the demographics are in [`READ_COLUMNS`].
const DEMOGRAPHICS: usize = 15;

/// Decode the employee [`select`] put at column `at`. Errors never quote the row.
pub fn read(d: Dialect, row: &impl Columns, at: usize) -> Result<Employee> {
    match d {
        Dialect::Sqlite => from_json_array(
            row.text(at, "an employees row")?,
            row.text(at + 1, "employees.demographics")?,
        ),
        Dialect::Postgres => from_columns(row, at),
    }
}

/// Decode [`select_opt`] at column `at`: `None` when the joined row is missing.
pub fn read_opt(d: Dialect, row: &impl Columns, at: usize) -> Result<Option<Employee>> {
    match d {
        Dialect::Sqlite => match row.opt_text(at, "an employees row")? {
            None => Ok(None),
            Some(json) => {
                from_json_array(json, row.text(at + 1, "employees.demographics")?).map(Some)
            }
        },
        Dialect::Postgres => match row.opt_int(at, "employees.key")? {
            None => Ok(None),
            Some(_) => from_columns(row, at).map(Some),
        },
    }
}

/// One employee as SQLite's [`select`] gives it, but for the demographics.
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
    u8,
    Option<DeactivationReason>,
    u8,
    u8,
    u8,
    Option<i64>,
);

/// One employee as SQLite's [`select`] gives it: the JSON array, and the
/// demographics' JSON.
fn from_json_array(json: &str, demographics: &str) -> Result<Employee> {
    let r: JsonRow = serde_json::from_str(json).map_err(|_| corrupt("an employees row"))?;
    from_json_row(r, demographics)
}

/// SQLite's select of every employee of the account bound as `$1`, a range of
/// [`GROUP_KEYS`] keys a row, in key order: the range's employees as one JSON array
/// of their JSON arrays, and their keys and demographics joined by control
/// characters ([`read_group`] decodes a row). One statement (one snapshot, and a
/// reader that stops early leaves no transaction open); each range is read twice
/// by its key, the rows' order and pairing checked by the keys. Each row sqlx hands
/// over costs about as much as decoding it (its values copied off SQLite's thread,
/// sent, and freed): a directory read a few hundred rows at a time takes about a
/// third less CPU than one read row by row (issue #15, session 22).
pub fn select_groups_sqlite() -> String {
    let (array, _) = sqlite_parts(columns("e"));
    let range = format!(
        "FROM employees e WHERE e.key BETWEEN r.lo AND r.lo + {} AND +e.account_id = $1",
        GROUP_KEYS - 1
    );
    format!(
        "WITH RECURSIVE r(lo) AS (\
           SELECT min(key) FROM employees WHERE account_id = $1 \
           UNION ALL SELECT lo + {GROUP_KEYS} FROM r \
           WHERE lo + {GROUP_KEYS} <= (SELECT max(key) FROM employees WHERE account_id = $1)) \
         SELECT (SELECT json_group_array({array}) {range}), \
           (SELECT group_concat(e.key || char({KEY_END}) || e.demographics, char({ROW_END})) {range}) \
         FROM r"
    )
}

/// Keys a row of [`select_groups_sqlite`] spans (at most as many employees).
const GROUP_KEYS: i64 = 256;
/// What ends an employee's key, and what ends its demographics, in
/// [`select_groups_sqlite`]'s second column: control characters, which a stored
/// demographics object (JSON text) holds only escaped.
const KEY_END: u8 = 0x1f;
const ROW_END: u8 = 0x1e;

/// Decode a row of [`select_groups_sqlite`] at column `at`: its employees, as the
/// row lists them (each demographics paired with its row by the key; the caller
/// checks the order).
pub fn read_group(row: &impl Columns, at: usize) -> Result<Vec<Employee>> {
    let rows: Vec<JsonRow> = serde_json::from_str(row.text(at, "an employees group")?)
        .map_err(|_| corrupt("an employees row"))?;
    let Some(demographics) = row.opt_text(at + 1, "employees.demographics")? else {
        return match rows.is_empty() {
            true => Ok(Vec::new()),
            false => Err(corrupt("an employees group")),
        };
    };
    let mut parts = demographics.split(char::from(ROW_END));
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let part = parts.next().ok_or_else(|| corrupt("an employees group"))?;
        let (key, d) = part
            .split_once(char::from(KEY_END))
            .ok_or_else(|| corrupt("employees.demographics"))?;
        if key.parse::<i64>().ok() != Some(r.0) {
            return Err(corrupt("an employees group"));
        }
        out.push(from_json_row(r, d)?);
    }
    if parts.next().is_some() {
        return Err(corrupt("an employees group"));
    }
    Ok(out)
}

/// An employee from its [`JsonRow`] and its demographics' JSON.
fn from_json_row(r: JsonRow, demographics: &str) -> Result<Employee> {
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
        demographics: from_json(demographics, "employees.demographics")?,
        active: r.15 != 0,
        deactivation_reason: r.16,
        is_manager: r.17 != 0,
        excluded: r.18 != 0,
        email_edited: r.19 != 0,
        merged_into: r.20,
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
        assert_eq!(READ_COLUMNS[DEMOGRAPHICS], "demographics");
        let sql = select(Dialect::Sqlite, "e");
        assert!(sql.starts_with("json_array(e.key, e.employee_id,"));
        assert!(sql.ends_with(", e.merged_into), e.demographics"), "{sql}");
        assert!(!sql.contains("json(e.demographics)"));
        assert_eq!(sql.matches("e.").count(), READ_COLUMNS.len());
        assert_eq!(
            select_opt(Dialect::Sqlite, "e"),
            format!(
                "CASE WHEN e.key IS NULL THEN NULL ELSE {} END, e.demographics",
                sql.trim_end_matches(", e.demographics")
            )
        );
        assert!(select_outline(Dialect::Sqlite, "e").ends_with("), '{}'"));
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
        let err = from_json_array(r#"[1, "secret@example.com"]"#, "{}").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
        let row = r#"[1, "E1", null, "a@b.example", null, null, null, null, null, null,
            null, null, null, null, null, 1, null, 0, 0, 0, null]"#;
        let e = from_json_array(row, r#"{"job_title":"Chef","department":"Kitchen"}"#).unwrap();
        assert_eq!(e.employee_id, "E1");
        assert!(e.active && e.merged_into.is_none());
        assert_eq!(e.demographics.get("job_title"), Some("Chef"));
        assert_eq!(e.demographics.len(), 2);
        let err = from_json_array(row, r#"{"job_title":"secret"#).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
