//! Between Rust values and PostgreSQL columns: timestamps, dates, JSON, employees,
//! errors.
//!
//! Error messages never carry row values: a corrupt cell is named by its column, and
//! of a server error only the primary message is kept (PostgreSQL puts the values of
//! a violated key in the detail, which is dropped).

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::{DeactivationReason, Employee};
use roster_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;

/// A sqlx error as a store error. Constraint violations are conflicts.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        sqlx::Error::Database(d) => StoreError::Database(d.message().to_string()),
        sqlx::Error::ColumnDecode { index, .. } => {
            StoreError::Corrupt(format!("column {index} cannot be decoded"))
        }
        _ => StoreError::Database(e.to_string()),
    }
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} is not valid"))
}

/// Timestamps as RFC 3339 UTC with nine fractional digits: exact, and (in the "C"
/// collation of the schema) text order is time order, which the sync lock uses.
pub(crate) fn ts(t: Timestamp) -> String {
    format!("{t:.9}")
}

pub(crate) fn parse_ts(s: &str, what: &str) -> Result<Timestamp, StoreError> {
    s.parse().map_err(|_| corrupt(what))
}

pub(crate) fn parse_opt_ts(s: Option<&str>, what: &str) -> Result<Option<Timestamp>, StoreError> {
    s.map(|s| parse_ts(s, what)).transpose()
}

pub(crate) fn date_text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn parse_date(s: Option<&str>, what: &str) -> Result<Option<Date>, StoreError> {
    s.map(|s| s.parse().map_err(|_| corrupt(what))).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|_| StoreError::Database("a value cannot be encoded as JSON".into()))
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|_| corrupt(what))
}

/// Column `i` of `row`; `what` names it in the error.
pub(crate) fn col<'r, T>(row: &'r PgRow, i: usize, what: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(i).map_err(|_| corrupt(what))
}

/// The employee columns [`employee_from_row`] reads, in order.
const EMPLOYEE_COLUMNS: &[&str] = &[
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

/// The select list of one employee of table alias `t` (see [`employee_from_row`]).
pub(crate) fn employee_columns(t: &str) -> String {
    EMPLOYEE_COLUMNS
        .iter()
        .map(|c| format!("{t}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of [`Employee::outline`]; the others are selected as empty, so that
/// [`employee_from_row`] reads the outline too.
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

/// [`employee_columns`] with only the columns of [`Employee::outline`].
pub(crate) fn employee_outline_columns(t: &str) -> String {
    EMPLOYEE_COLUMNS
        .iter()
        .map(|c| {
            if OUTLINE_COLUMNS.contains(c) {
                format!("{t}.{c}")
            } else if *c == "demographics" {
                "'{}'::text".to_string()
            } else {
                "NULL::text".to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decode the employee whose [`employee_columns`] start at column `at` of `row`.
/// Errors never quote the row.
pub(crate) fn employee_from_row(row: &PgRow, at: usize) -> Result<Employee, StoreError> {
    let text = |i: usize, what: &str| -> Result<Option<String>, StoreError> {
        col::<Option<String>>(row, at + i, what)
    };
    let date = |i: usize, what: &str| -> Result<Option<Date>, StoreError> {
        parse_date(col::<Option<&str>>(row, at + i, what)?, what)
    };
    let flag = |i: usize, what: &str| -> Result<bool, StoreError> { col(row, at + i, what) };
    let reason: Option<&str> = col(row, at + 17, "employees.deactivation_reason")?;
    Ok(Employee {
        key: col(row, at, "employees.key")?,
        employee_id: col(row, at + 1, "employees.employee_id")?,
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
            col(row, at + 15, "employees.demographics")?,
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
        merged_into: col(row, at + 21, "employees.merged_into")?,
    })
}

/// What employee search matches: ID, email and names, lower-cased, one per line
/// (the same text as the SQLite adapter keeps).
pub(crate) fn search_text(e: &Employee) -> String {
    let mut s = String::with_capacity(64);
    for part in [
        Some(e.employee_id.as_str()),
        Some(e.email.as_str()),
        e.first_name.as_deref(),
        e.last_name.as_deref(),
        e.preferred_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        s.push_str(&part.to_lowercase());
        s.push('\n');
    }
    s
}

/// The needle for [`search_text`]: lower-cased the same way.
pub(crate) fn search_needle(s: &str) -> String {
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_exact() {
        let a: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-01-01T00:00:00.5Z".parse().unwrap();
        assert!(ts(a) < ts(b), "text order is time order");
        assert_eq!(ts(a).len(), ts(b).len());
        let c = Timestamp::new(1_772_000_000, 123_456_789).unwrap();
        assert_eq!(parse_ts(&ts(c), "x").unwrap(), c);
    }

    #[test]
    fn employee_columns_list_every_column() {
        let sql = employee_columns("e");
        assert!(sql.starts_with("e.key, e.employee_id,"));
        assert_eq!(sql.matches("e.").count(), 22);
        assert_eq!(EMPLOYEE_COLUMNS.len(), 22);
    }

    #[test]
    fn search_text_is_lower_case_lines() {
        let e = Employee {
            employee_id: "A-1".into(),
            email: "Zoë@X.example".into(),
            first_name: Some("ÉLODIE".into()),
            ..Default::default()
        };
        assert_eq!(search_text(&e), "a-1\nzoë@x.example\nélodie\n");
    }
}
