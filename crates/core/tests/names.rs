//! The names of core's enums, as stored in the database, shown and typed: pinned one by
//! one (they were hand-written before strum derived them), and the same through
//! `as_str`, `Display`, `AsRef<str>`, `FromStr` and serde.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::fmt::Debug;
use std::str::FromStr;

use roster_core::employee::DeactivationReason;
use roster_core::guard::{BlockReason, Trigger};
use roster_core::issue::{IssueCode, Severity};
use roster_core::plan::{Action, Rule};
use roster_core::settings::{EmployeeIds, FieldKind, HireDatePriority, HoldMode, OnMissing};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Every spelling agrees with `name`.
fn check<T>(cases: &[(T, &str)])
where
    T: Copy
        + Debug
        + PartialEq
        + std::fmt::Display
        + AsRef<str>
        + Into<&'static str>
        + FromStr
        + Serialize
        + DeserializeOwned,
{
    for &(v, name) in cases {
        assert_eq!(v.to_string(), name, "{v:?} Display");
        assert_eq!(v.as_ref(), name, "{v:?} AsRef");
        assert_eq!(Into::<&'static str>::into(v), name, "{v:?} IntoStaticStr");
        assert_eq!(T::from_str(name).ok(), Some(v), "{name} FromStr");
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            serde_json::Value::String(name.into()),
            "{v:?} serde"
        );
        assert_eq!(
            serde_json::from_value::<T>(serde_json::Value::String(name.into())).unwrap(),
            v,
            "{name} serde"
        );
    }
    assert!(T::from_str("no_such_name").is_err());
}

#[test]
fn rules() {
    use Rule::*;
    let cases = [
        (Source, "source"),
        (EndDate, "end_date"),
        (OnMissing, "on_missing"),
        (DeactivateMissing, "deactivate_missing"),
        (Reactivated, "reactivated"),
        (HireDatePriority, "hire_date_priority"),
        (Derived, "derived"),
        (ManagerCycle, "manager_cycle"),
        (GeneratedId, "generated_id"),
        (Excluded, "excluded"),
        (Associated, "associated"),
        (AdminEdit, "admin_edit"),
        (Merge, "merge"),
        (Exclusion, "exclusion"),
        (Rollback, "rollback"),
    ];
    check(&cases);
    for (v, name) in cases {
        assert_eq!(v.as_str(), name);
    }
}

#[test]
fn actions() {
    let cases = [
        (Action::Create, "create"),
        (Action::Deactivate, "deactivate"),
        (Action::Reactivate, "reactivate"),
        (Action::Update, "update"),
    ];
    check(&cases);
    for (v, name) in cases {
        assert_eq!(v.as_str(), name);
    }
}

#[test]
fn deactivation_reasons() {
    use DeactivationReason::*;
    let cases = [
        (EndDate, "end_date"),
        (Missing, "missing"),
        (Excluded, "excluded"),
        (Merged, "merged"),
        (RolledBack, "rolled_back"),
    ];
    check(&cases);
    for (v, name) in cases {
        assert_eq!(v.as_str(), name);
        assert_eq!(DeactivationReason::parse(name), Some(v));
    }
    assert_eq!(DeactivationReason::parse("Missing"), None);
}

#[test]
fn triggers_and_block_reasons() {
    let cases = [
        (Trigger::Manual, "manual"),
        (Trigger::Automatic, "automatic"),
    ];
    check(&cases);
    for (v, name) in cases {
        assert_eq!(v.as_str(), name);
    }
    check(&[
        (BlockReason::Privacy, "privacy"),
        (BlockReason::MassChange, "mass_change"),
    ]);
}

#[test]
fn issues() {
    check(&[
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ]);
    use IssueCode::*;
    let cases = [
        (Unparseable, "unparseable"),
        (NoIdentifier, "no_identifier"),
        (MalformedEmail, "malformed_email"),
        (DuplicateEmail, "duplicate_email"),
        (DuplicateEmployeeId, "duplicate_employee_id"),
        (DobInFuture, "dob_in_future"),
        (BadDate, "bad_date"),
        (IdentifierConflict, "identifier_conflict"),
        (EmailTaken, "email_taken"),
        (EndBeforeStart, "end_before_start"),
        (ManagerNoWorkEmail, "manager_no_work_email"),
        (ManagerNotInSync, "manager_not_in_sync"),
        (ManagerCycle, "manager_cycle"),
        (SelfManager, "self_manager"),
        (AssociatedUnresolved, "associated_unresolved"),
        (PossibleDuplicate, "possible_duplicate"),
        (DoNotImport, "do_not_import"),
        (ExcludedStaysDeactivated, "excluded_stays_deactivated"),
        (EmailKept, "email_kept"),
        (HireDateKept, "hire_date_kept"),
        (DemographicNameClash, "demographic_name_clash"),
    ];
    check(&cases);
    for (v, name) in cases {
        assert_eq!(v.as_str(), name);
    }
}

#[test]
fn settings() {
    check(&[
        (EmployeeIds::Source, "source"),
        (EmployeeIds::Generate, "generate"),
    ]);
    check(&[
        (OnMissing::Keep, "keep"),
        (OnMissing::Deactivate, "deactivate"),
    ]);
    check(&[
        (HireDatePriority::Original, "original"),
        (HireDatePriority::Latest, "latest"),
    ]);
    check(&[
        (HoldMode::BlockSync, "block_sync"),
        (HoldMode::HoldRecords, "hold_records"),
    ]);
    let kinds = [
        (FieldKind::Default, "default"),
        (FieldKind::Associated, "associated"),
        (FieldKind::Hidden, "hidden"),
    ];
    check(&kinds);
    for (v, name) in kinds {
        assert_eq!(FieldKind::parse(name), Some(v));
    }
    assert_eq!(FieldKind::parse("Hidden"), None);
}

#[test]
fn settings_read_and_write_enums_by_name() {
    let mut s = roster_core::Settings::default();
    // Typed case-insensitively and with spaces; read back in snake case.
    s.set("hold_mode", " Hold_Records ").unwrap();
    assert_eq!(s.hold_mode, HoldMode::HoldRecords);
    assert_eq!(s.get("hold_mode").unwrap(), "hold_records");
    let err = s.set("on_missing", "archive").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value for on_missing: \"archive\" is not one of keep, deactivate"
    );
}
