//! How values are spelled in their columns: timestamps, JSON, the names of enums,
//! and the search text of an employee.
//!
//! Error messages never carry row values: a corrupt cell is named by its column.

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::guard::Trigger;
use roster_core::plan::Action;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ImportKind, ImportStatus, IntegrationKind, IntegrationState, Result, StoreError};

/// The error for a cell that does not decode; `what` names the column, never the
/// value.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} is not valid"))
}

/// Timestamps as RFC 3339 UTC with nine fractional digits: exact, and text order is
/// time order (the sync lock and the leases compare them; PostgreSQL's columns use
/// the "C" collation).
pub fn ts(t: Timestamp) -> String {
    format!("{t:.9}")
}

pub fn parse_ts(s: &str, what: &str) -> Result<Timestamp> {
    s.parse().map_err(|_| corrupt(what))
}

/// Dates as `YYYY-MM-DD`.
pub fn date_text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

pub fn parse_date(s: Option<&str>, what: &str) -> Result<Option<Date>> {
    s.map(|s| s.parse().map_err(|_| corrupt(what))).transpose()
}

pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|_| StoreError::Database("a value cannot be encoded as JSON".into()))
}

pub fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|_| corrupt(what))
}

/// A row count for `LIMIT`.
pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `import_entries.action`: `create`, `update`, `deactivate` or `reactivate`.
pub fn action(s: &str) -> Result<Action> {
    s.parse().map_err(|_| corrupt("import_entries.action"))
}

/// `imports.trigger_kind`: `manual` or `automatic`.
pub fn trigger(s: &str) -> Result<Trigger> {
    s.parse().map_err(|_| corrupt("imports.trigger_kind"))
}

/// `integrations.kind`: `justworks` or `csv`.
pub fn integration_kind(s: &str) -> Result<IntegrationKind> {
    IntegrationKind::parse(s).ok_or_else(|| corrupt("integrations.kind"))
}

pub fn integration_state(s: &str, what: &str) -> Result<IntegrationState> {
    IntegrationState::parse(s).ok_or_else(|| corrupt(what))
}

pub fn import_kind(s: &str, what: &str) -> Result<ImportKind> {
    ImportKind::parse(s).ok_or_else(|| corrupt(what))
}

pub fn import_status(s: &str, what: &str) -> Result<ImportStatus> {
    ImportStatus::parse(s).ok_or_else(|| corrupt(what))
}

/// What employee search matches ([`Employee::search_fields`]), lower-cased, one
/// per line.
pub fn search_text(e: &Employee) -> String {
    let mut s = String::with_capacity(64);
    for part in e.search_fields() {
        s.push_str(&part.to_lowercase());
        s.push('\n');
    }
    s
}

/// The needle for [`search_text`]: lower-cased the same way.
pub fn search_needle(s: &str) -> String {
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ReviewStatus, Role};
    use crate::jobs::{ChannelKind, JobKind};

    /// The stored text of every enum the store keeps, pinned: changing one is a
    /// migration, not a rename.
    #[test]
    fn stored_names_are_pinned() {
        fn pin<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[(T, &str)],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &(v, name) in all {
                assert_eq!(as_str(v), name);
                assert_eq!(parse(name), Some(v), "{name}");
            }
        }
        use IntegrationState as S;
        pin(
            &[
                (S::Connected, "connected"),
                (S::NeedsFinalise, "needs_finalise"),
                (S::Active, "active"),
            ],
            S::as_str,
            S::parse,
        );
        use IntegrationKind as K;
        pin(
            &[(K::Justworks, "justworks"), (K::Csv, "csv")],
            K::as_str,
            K::parse,
        );
        use ImportKind as I;
        pin(
            &[
                (I::Sync, "sync"),
                (I::CsvImport, "csv_import"),
                (I::Rollback, "rollback"),
                (I::AdminEdit, "admin_edit"),
                (I::Merge, "merge"),
                (I::Tick, "tick"),
                (I::Unlock, "unlock"),
            ],
            I::as_str,
            I::parse,
        );
        assert_eq!(
            I::parse("manual"),
            Some(I::AdminEdit),
            "the word older versions stored"
        );
        use ImportStatus as T;
        pin(
            &[
                (T::Applied, "applied"),
                (T::PartiallyApplied, "partially_applied"),
                (T::Blocked, "blocked"),
                (T::Discarded, "discarded"),
                (T::Failed, "failed"),
                (T::RolledBack, "rolled_back"),
            ],
            T::as_str,
            T::parse,
        );
        pin(
            &[
                (Role::Viewer, "viewer"),
                (Role::EmployeeDataAdmin, "employee_data_admin"),
                (Role::AccountAdmin, "account_admin"),
            ],
            Role::as_str,
            Role::parse,
        );
        use ReviewStatus as R;
        pin(
            &[
                (R::Pending, "pending"),
                (R::Applying, "applying"),
                (R::Applied, "applied"),
                (R::Discarded, "discarded"),
                (R::Failed, "failed"),
            ],
            R::as_str,
            R::parse,
        );
        pin(
            &[(JobKind::Sync, "sync"), (JobKind::Tick, "tick")],
            JobKind::as_str,
            JobKind::parse,
        );
        pin(
            &[
                (ChannelKind::Webhook, "webhook"),
                (ChannelKind::Email, "email"),
            ],
            ChannelKind::as_str,
            ChannelKind::parse,
        );
        assert_eq!(format!("{:<10}|", IntegrationKind::Csv), "csv       |");
        assert_eq!(Role::parse("Viewer"), None);
    }

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
    fn search_text_is_lower_case_lines() {
        let e = Employee {
            employee_id: "A-1".into(),
            email: "Zoë@X.example".into(),
            first_name: Some("ÉLODIE".into()),
            ..Default::default()
        };
        assert_eq!(search_text(&e), "a-1\nzoë@x.example\nélodie\n");
    }

    #[test]
    fn names_read_back_as_written() {
        for a in [
            Action::Create,
            Action::Update,
            Action::Deactivate,
            Action::Reactivate,
        ] {
            assert_eq!(action(a.as_str()).unwrap(), a);
        }
        for t in [Trigger::Manual, Trigger::Automatic] {
            assert_eq!(trigger(t.as_str()).unwrap(), t);
        }
        for k in [IntegrationKind::Justworks, IntegrationKind::Csv] {
            assert_eq!(integration_kind(k.as_str()).unwrap(), k);
        }
        assert!(matches!(action("restore"), Err(StoreError::Corrupt(_))));
        assert!(matches!(action("Create"), Err(StoreError::Corrupt(_))));
        assert!(matches!(trigger("Manual"), Err(StoreError::Corrupt(_))));
        assert!(integration_kind("ldap").is_err());
    }
}
