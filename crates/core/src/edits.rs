//! The admin edits' rules: how set email, exclude, include and merge change the
//! employees they touch, and which reports follow a changed email. Pure: each
//! function takes employees as read and returns them as they should be;
//! [`crate::plan::edits`] then turns them into a plan (re-deriving `is_manager`), and
//! the engine records it.

use jiff::civil::Date;

use crate::employee::{DeactivationReason, Employee, EmployeeKey};
use crate::normalise::{email_key, valid_email};

/// An edit the rules refuse. The messages are the ones admins see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the new email is not a valid email address")]
    InvalidEmail,
    #[error("an employee cannot be merged into itself")]
    MergeIntoItself,
    #[error("employee {0} is already merged")]
    AlreadyMerged(String),
}

/// The employee with the email an admin set (trimmed): marked `email_edited`, so
/// that syncs keep it while `override_emails` is off. The caller checks that no
/// other employee has the address.
pub fn set_email(employee: &Employee, email: &str) -> Result<Employee, EditError> {
    let email = checked_email(email)?;
    let mut e = employee.clone();
    e.email = email.to_string();
    e.email_edited = true;
    Ok(e)
}

/// The address an admin gave, trimmed, if it is a valid email address.
pub fn checked_email(email: &str) -> Result<&str, EditError> {
    let email = email.trim();
    if valid_email(email) {
        Ok(email)
    } else {
        Err(EditError::InvalidEmail)
    }
}

/// Excluded: deactivated now and in every later sync until included again.
pub fn exclude(employee: &Employee) -> Employee {
    let mut e = employee.clone();
    e.excluded = true;
    e.active = false;
    e.deactivation_reason = Some(DeactivationReason::Excluded);
    e
}

/// Included again: active, unless the end date has passed (`today` or earlier), in
/// which case the employee stays deactivated for that reason.
pub fn include(employee: &Employee, today: Date) -> Employee {
    let mut e = employee.clone();
    e.excluded = false;
    if e.end_date.is_some_and(|d| d <= today) {
        e.deactivation_reason = Some(DeactivationReason::EndDate);
    } else {
        e.active = true;
        e.deactivation_reason = None;
    }
    e
}

/// A merge's two employees as they become.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// The duplicate: its employee ID suffixed `~merged-{key}`, no email or source
    /// id, deactivated as merged into the original.
    pub duplicate: Employee,
    /// The original with the duplicate's identifiers (the ones the source now uses).
    pub original: Employee,
}

impl Merge {
    /// Both employees, the duplicate first (the order the plan is given them).
    pub fn into_vec(self) -> Vec<Employee> {
        vec![self.duplicate, self.original]
    }
}

/// Merge `duplicate` into `original`: the original takes the duplicate's employee
/// ID, source id (when it has one) and email (when it has one); it is active if
/// either was; demographics are unioned (the original's win). The duplicate is
/// deactivated and points at the original. Reports follow with
/// [`reports_following`] from the original's email to the duplicate's.
pub fn merge(duplicate: &Employee, original: &Employee) -> Result<Merge, EditError> {
    if duplicate.key == original.key {
        return Err(EditError::MergeIntoItself);
    }
    if duplicate.merged_into.is_some() {
        return Err(EditError::AlreadyMerged(duplicate.employee_id.clone()));
    }
    let (dup, orig) = (duplicate, original);
    let mut new_orig = orig.clone();
    new_orig.employee_id = dup.employee_id.clone();
    new_orig.source_id = dup.source_id.clone().or(orig.source_id.clone());
    if !dup.email.is_empty() {
        new_orig.email = dup.email.clone();
    }
    new_orig.active = dup.active || orig.active;
    if new_orig.active {
        new_orig.deactivation_reason = None;
    }
    for (k, v) in &dup.demographics {
        if !new_orig.demographics.contains_key(k) {
            new_orig.demographics.insert(k, v);
        }
    }
    let mut new_dup = dup.clone();
    new_dup.employee_id = merged_id(dup);
    new_dup.email = String::new();
    new_dup.source_id = None;
    new_dup.active = false;
    new_dup.deactivation_reason = Some(DeactivationReason::Merged);
    new_dup.merged_into = Some(orig.key);
    Ok(Merge {
        duplicate: new_dup,
        original: new_orig,
    })
}

/// The employee ID a merged duplicate keeps: its own, suffixed so that the source's
/// ID is free for the original.
pub fn merged_id(duplicate: &Employee) -> String {
    format!("{}~merged-{}", duplicate.employee_id, duplicate.key)
}

/// Employees of `directory` whose manager email is `old`, with `new` instead: the
/// reports that follow their manager's changed address. Those in `edited` (already
/// changed by the same edit) are left out, and nobody follows when either address
/// is empty or both are the same address.
pub fn reports_following(
    directory: &[Employee],
    edited: &[Employee],
    old: &str,
    new: &str,
) -> Vec<Employee> {
    if old.is_empty() || new.is_empty() || email_key(old) == email_key(new) {
        return Vec::new();
    }
    let edited: std::collections::HashSet<EmployeeKey> = edited.iter().map(|e| e.key).collect();
    let old = email_key(old);
    directory
        .iter()
        .filter(|r| !edited.contains(&r.key))
        .filter(|r| r.manager_email.as_deref().map(email_key).as_ref() == Some(&old))
        .map(|r| Employee {
            manager_email: Some(new.to_string()),
            ..r.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use rstest::rstest;

    use super::*;

    fn emp(key: EmployeeKey, id: &str, email: &str) -> Employee {
        Employee {
            key,
            employee_id: id.into(),
            email: email.into(),
            active: true,
            ..Employee::default()
        }
    }

    fn reporting_to(key: EmployeeKey, manager: &str) -> Employee {
        Employee {
            manager_email: Some(manager.into()),
            ..emp(key, &format!("R{key}"), &format!("r{key}@x.example"))
        }
    }

    #[rstest]
    #[case::valid(" new@x.example ", Ok("new@x.example"))]
    #[case::no_tld("new@x", Err(EditError::InvalidEmail))]
    #[case::not_an_address("nobody", Err(EditError::InvalidEmail))]
    fn set_email_trims_validates_and_marks_the_edit(
        #[case] email: &str,
        #[case] expected: Result<&str, EditError>,
    ) {
        let e = emp(1, "A", "old@x.example");
        let got = set_email(&e, email);
        match expected {
            Ok(address) => {
                let got = got.unwrap();
                assert_eq!(got.email, address);
                assert!(got.email_edited);
            }
            Err(err) => assert_eq!(got.unwrap_err(), err),
        }
    }

    #[test]
    fn exclude_deactivates_stickily() {
        let e = exclude(&emp(1, "A", "a@x.example"));
        assert!(e.excluded && !e.active);
        assert_eq!(e.deactivation_reason, Some(DeactivationReason::Excluded));
    }

    #[rstest]
    #[case::no_end_date(None, true, None)]
    #[case::future_end_date(Some(date(2026, 7, 1)), true, None)]
    #[case::end_date_today(Some(date(2026, 6, 1)), false, Some(DeactivationReason::EndDate))]
    #[case::end_date_passed(Some(date(2026, 1, 1)), false, Some(DeactivationReason::EndDate))]
    fn include_keeps_a_passed_end_date_deactivated(
        #[case] end_date: Option<Date>,
        #[case] active: bool,
        #[case] reason: Option<DeactivationReason>,
    ) {
        let excluded = Employee {
            end_date,
            ..exclude(&emp(1, "A", "a@x.example"))
        };
        let e = include(&excluded, date(2026, 6, 1));
        assert!(!e.excluded);
        assert_eq!((e.active, e.deactivation_reason), (active, reason));
    }

    #[test]
    fn merge_moves_ids_and_email_and_unions_demographics() {
        let mut dup = emp(7, "NEW-1", "new@x.example");
        dup.source_id = Some("src-9".into());
        dup.demographics.insert("Team", "Blue");
        dup.demographics.insert("Site", "Oslo");
        let mut orig = emp(3, "OLD-1", "old@x.example");
        orig.active = false;
        orig.deactivation_reason = Some(DeactivationReason::Missing);
        orig.source_id = Some("src-1".into());
        orig.demographics.insert("Team", "Red");
        let m = merge(&dup, &orig).unwrap();
        let o = &m.original;
        assert_eq!(
            (o.key, o.employee_id.as_str(), o.email.as_str()),
            (3, "NEW-1", "new@x.example")
        );
        assert_eq!(o.source_id.as_deref(), Some("src-9"));
        assert!(o.active && o.deactivation_reason.is_none());
        assert_eq!(
            o.demographics.get("Team"),
            Some("Red"),
            "the original's value wins"
        );
        assert_eq!(o.demographics.get("Site"), Some("Oslo"));
        let d = &m.duplicate;
        assert_eq!(d.employee_id, "NEW-1~merged-7");
        assert_eq!((d.email.as_str(), d.source_id.as_deref()), ("", None));
        assert!(!d.active);
        assert_eq!(d.deactivation_reason, Some(DeactivationReason::Merged));
        assert_eq!(d.merged_into, Some(3));
        assert_eq!(m.into_vec().len(), 2);
    }

    #[rstest]
    #[case::empty_email_and_source_id("", None, "old@x.example", Some("src-1"))]
    #[case::both_given("new@x.example", Some("src-9"), "new@x.example", Some("src-9"))]
    fn merge_keeps_what_the_duplicate_lacks(
        #[case] dup_email: &str,
        #[case] dup_source: Option<&str>,
        #[case] email: &str,
        #[case] source: Option<&str>,
    ) {
        let mut dup = emp(7, "NEW-1", dup_email);
        dup.source_id = dup_source.map(str::to_string);
        let mut orig = emp(3, "OLD-1", "old@x.example");
        orig.source_id = Some("src-1".into());
        let o = merge(&dup, &orig).unwrap().original;
        assert_eq!((o.email.as_str(), o.source_id.as_deref()), (email, source));
    }

    #[test]
    fn merge_refuses_itself_and_a_merged_duplicate() {
        let a = emp(1, "A", "a@x.example");
        assert_eq!(merge(&a, &a), Err(EditError::MergeIntoItself));
        let merged = Employee {
            merged_into: Some(5),
            ..emp(2, "B", "")
        };
        assert_eq!(
            merge(&merged, &a).unwrap_err().to_string(),
            "employee B is already merged"
        );
    }

    #[rstest]
    #[case::moved("boss@x.example", "chief@x.example", &[2, 3])]
    #[case::case_only("boss@x.example", "BOSS@x.example", &[])]
    #[case::old_empty("", "chief@x.example", &[])]
    #[case::new_empty("boss@x.example", "", &[])]
    fn reports_follow_a_changed_email(
        #[case] old: &str,
        #[case] new: &str,
        #[case] followed: &[EmployeeKey],
    ) {
        let directory = vec![
            emp(1, "BOSS", "boss@x.example"),
            reporting_to(2, "Boss@X.example"),
            reporting_to(3, "boss@x.example"),
            reporting_to(4, "other@x.example"),
            reporting_to(5, "boss@x.example"),
        ];
        // Employee 5 is edited by the same change: it is not repeated.
        let edited = vec![directory[0].clone(), directory[4].clone()];
        let got = reports_following(&directory, &edited, old, new);
        let keys: Vec<EmployeeKey> = got.iter().map(|e| e.key).collect();
        assert_eq!(keys, followed);
        assert!(got.iter().all(|e| e.manager_email.as_deref() == Some(new)));
    }
}
