//! Retention (issue #17, DESIGN §13): who is due for anonymisation, and when.
//!
//! A former employee is due `retention_days` after their end date: deactivated, with
//! an end date that long ago (in the account's time zone: `today` is its date), not
//! re-activated since (a re-hire after the end date, or an active row, resets the
//! clock), not anonymised already, and not on hold (an admin's retention hold, e.g.
//! a legal hold). A record merged into another is left to its original (an erasure
//! of the original reaches it). A deactivated employee without an end date is never
//! due: retention counts from the end of employment, and Roster does not guess it.

use std::collections::BTreeSet;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::employee::{Employee, EmployeeKey};

/// The fewest days `retention_days` may be: a typo (7 for 730) must not anonymise
/// everyone who left last week, irreversibly.
pub const MIN_DAYS: u32 = 30;
/// The most: a hundred years is "keep", not a retention period.
pub const MAX_DAYS: u32 = 36_500;

/// One former employee and the day retention anonymises them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub key: EmployeeKey,
    pub employee_id: String,
    /// For the admin (the dashboard, `roster upcoming`); never sent out.
    pub name: String,
    pub end_date: Date,
    /// `end_date + retention_days`: anonymised by the first end-date job on or after it.
    pub due_on: Date,
}

/// What the directory does not say: who is on hold, who is anonymised already.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excluded {
    /// Retention holds (an admin's, e.g. a legal hold).
    pub held: BTreeSet<EmployeeKey>,
    /// Anonymised already (by retention or an erasure).
    pub anonymised: BTreeSet<EmployeeKey>,
}

/// The day `e` becomes due under `days`, if retention applies to them at all
/// (whatever today is).
pub fn due_on(e: &Employee, days: u32, excluded: &Excluded) -> Option<Date> {
    if e.active || e.merged_into.is_some() {
        return None;
    }
    if excluded.held.contains(&e.key) || excluded.anonymised.contains(&e.key) {
        return None;
    }
    let end = e.end_date?;
    if e.latest_rehire_date.is_some_and(|r| r > end) {
        // Re-hired after that end date and deactivated since without a new one.
        return None;
    }
    end.checked_add(i64::from(days).days()).ok()
}

/// Every former employee due on or before `until` under `days`, by due date then
/// employee ID. `until = today` gives who the end-date job anonymises today; a later
/// day, who is coming up.
pub fn due(directory: &[Employee], days: u32, until: Date, excluded: &Excluded) -> Vec<Due> {
    let mut out: Vec<Due> = directory
        .iter()
        .filter_map(|e| {
            let on = due_on(e, days, excluded)?;
            let end_date = e.end_date?;
            (on <= until).then(|| Due {
                key: e.key,
                employee_id: e.employee_id.clone(),
                name: e.display_name(),
                end_date,
                due_on: on,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then_with(|| a.employee_id.cmp(&b.employee_id))
    });
    out
}

/// The `retention_days` setting from text: `off` (or empty), or a whole number of
/// days within [`MIN_DAYS`]..=[`MAX_DAYS`]; `Err` says what is wrong.
pub fn parse_days(v: &str) -> Result<Option<u32>, String> {
    let v = v.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match v.parse::<i64>() {
        Ok(d) if (i64::from(MIN_DAYS)..=i64::from(MAX_DAYS)).contains(&d) => {
            Ok(u32::try_from(d).ok())
        }
        Ok(d) => Err(format!(
            "{d} days is out of range: from {MIN_DAYS} (a shorter period is more likely a \
             typo than a policy) to {MAX_DAYS}, or off"
        )),
        Err(_) => Err(format!("{v:?} is not a whole number of days or off")),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;
    use crate::employee::DeactivationReason;

    fn leaver(end: Option<Date>) -> Employee {
        Employee {
            key: 7,
            employee_id: "E7".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            end_date: end,
            active: false,
            deactivation_reason: Some(DeactivationReason::EndDate),
            ..Employee::default()
        }
    }

    /// The rule, case by case: 730 days after 2024-01-31 is 2026-01-30.
    #[rstest]
    #[case::due_on_the_day(leaver(Some(date(2024, 1, 31))), date(2026, 1, 30), true)]
    #[case::due_after_the_day(leaver(Some(date(2024, 1, 31))), date(2026, 6, 1), true)]
    #[case::not_yet_the_day_before(leaver(Some(date(2024, 1, 31))), date(2026, 1, 29), false)]
    #[case::no_end_date(leaver(None), date(2099, 1, 1), false)]
    #[case::active_again(Employee { active: true, deactivation_reason: None, ..leaver(Some(date(2020, 1, 1))) }, date(2026, 1, 1), false)]
    #[case::rehired_after_the_end(Employee { latest_rehire_date: Some(date(2021, 5, 1)), deactivation_reason: Some(DeactivationReason::Missing), ..leaver(Some(date(2020, 1, 1))) }, date(2026, 1, 1), false)]
    #[case::rehired_before_the_end(Employee { latest_rehire_date: Some(date(2019, 5, 1)), ..leaver(Some(date(2020, 1, 1))) }, date(2026, 1, 1), true)]
    #[case::merged_record(Employee { merged_into: Some(1), ..leaver(Some(date(2020, 1, 1))) }, date(2026, 1, 1), false)]
    #[case::excluded_by_an_admin_counts_too(Employee { excluded: true, deactivation_reason: Some(DeactivationReason::Excluded), ..leaver(Some(date(2020, 1, 1))) }, date(2026, 1, 1), true)]
    fn who_is_due(#[case] e: Employee, #[case] today: Date, #[case] expected: bool) {
        let got = due(&[e], 730, today, &Excluded::default());
        assert_eq!(!got.is_empty(), expected, "{got:?}");
        if let Some(d) = got.first() {
            assert_eq!(
                (d.employee_id.as_str(), d.name.as_str()),
                ("E7", "Ada Lovelace")
            );
        }
    }

    #[test]
    fn held_and_anonymised_people_are_never_due() {
        let e = leaver(Some(date(2000, 1, 1)));
        let today = date(2026, 1, 1);
        assert_eq!(
            due(std::slice::from_ref(&e), 730, today, &Excluded::default()).len(),
            1
        );
        let held = Excluded {
            held: [7].into(),
            ..Excluded::default()
        };
        assert!(due(std::slice::from_ref(&e), 730, today, &held).is_empty());
        let done = Excluded {
            anonymised: [7].into(),
            ..Excluded::default()
        };
        assert!(due(&[e], 730, today, &done).is_empty());
    }

    #[test]
    fn due_dates_order_the_list_and_cross_leap_days() {
        let mut a = leaver(Some(date(2024, 2, 29)));
        (a.key, a.employee_id) = (1, "B".into());
        let mut b = leaver(Some(date(2023, 3, 1)));
        (b.key, b.employee_id) = (2, "A".into());
        let list = due(&[a, b], 365, date(2025, 12, 31), &Excluded::default());
        assert_eq!(
            list.iter()
                .map(|d| (d.employee_id.as_str(), d.due_on))
                .collect::<Vec<_>>(),
            vec![("A", date(2024, 2, 29)), ("B", date(2025, 2, 28))]
        );
    }

    proptest! {
        /// Due exactly from `end + days` on, and from then on every later day.
        #[test]
        fn due_from_the_day_on(end_off in 0i64..20_000, days in MIN_DAYS..3_000u32, look in -400i64..400) {
            let end = date(1990, 1, 1).checked_add(end_off.days()).unwrap();
            let e = leaver(Some(end));
            let day = end.checked_add((i64::from(days) + look).days()).unwrap();
            let got = due(std::slice::from_ref(&e), days, day, &Excluded::default());
            prop_assert_eq!(got.len() == 1, look >= 0);
            if let Some(d) = got.first() {
                prop_assert_eq!(d.due_on, end.checked_add(i64::from(days).days()).unwrap());
                prop_assert!(d.due_on <= day);
            }
        }
    }
}
