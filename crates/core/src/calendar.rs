//! What is coming up in the directory: deactivations and starts ([`upcoming`]), work
//! anniversaries and birthdays ([`milestones`]). Pure functions of the directory,
//! the settings and today.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::employee::Employee;
use crate::settings::{HireDatePriority, Settings};

/// What an [`Upcoming`] change is.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UpcomingKind {
    /// An end date: the employee is deactivated then.
    Deactivation,
    /// A start (or the latest rehire) date.
    Start,
    /// A former employee's personal fields are anonymised then (`retention_days`
    /// after the end date; `crate::retention`).
    Anonymisation,
}

impl UpcomingKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An upcoming change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Upcoming {
    pub date: Date,
    pub kind: UpcomingKind,
    pub employee_id: String,
    pub name: String,
}

/// The last day of a look-ahead of `days` days from `today`.
fn until(today: Date, days: i64) -> Date {
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(Date::MAX)
}

/// Deactivations due within `days` days of `today` (those due today or earlier that
/// `tick` has not applied yet included: shown until a tick or sync applies them, not
/// dropped from both lists meanwhile) and starts from today on, by date then
/// employee ID. Merged records are left out.
pub fn upcoming(directory: &[Employee], today: Date, days: i64) -> Vec<Upcoming> {
    let until = until(today, days);
    let mut out = Vec::new();
    for e in directory.iter().filter(|e| e.merged_into.is_none()) {
        if e.active
            && let Some(d) = e.end_date
            && d <= until
        {
            out.push(Upcoming {
                date: d,
                kind: UpcomingKind::Deactivation,
                employee_id: e.employee_id.clone(),
                name: e.display_name(),
            });
        }
        let start = e.latest_rehire_date.or(e.start_date);
        if let Some(d) = start
            && d >= today
            && d <= until
        {
            out.push(Upcoming {
                date: d,
                kind: UpcomingKind::Start,
                employee_id: e.employee_id.clone(),
                name: e.display_name(),
            });
        }
    }
    out.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| a.employee_id.cmp(&b.employee_id))
    });
    out
}

/// What a [`Milestone`] is.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MilestoneKind {
    WorkAnniversary,
    Birthday,
}

impl MilestoneKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A work anniversary or a birthday.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Milestone {
    pub date: Date,
    pub kind: MilestoneKind,
    pub employee_id: String,
    pub name: String,
    /// Years of service on that date (anniversaries only; birthdays carry no age).
    pub years: Option<i16>,
}

/// The date in `year` with `base`'s month and day (29 February → 28 February in a
/// common year).
fn in_year(base: Date, year: i16) -> Option<Date> {
    Date::new(year, base.month(), base.day())
        .or_else(|_| Date::new(year, base.month(), 28))
        .ok()
}

/// The first recurrence of `base`'s month and day on or after `from`, if by `until`.
fn next_occurrence(base: Date, from: Date, until: Date) -> Option<Date> {
    [from.year(), from.year().saturating_add(1)]
        .into_iter()
        .filter_map(|y| in_year(base, y))
        .find(|d| *d >= from)
        .filter(|d| *d <= until)
}

/// Whether dates of birth may be shown: no integration redacts or excludes them.
/// (A withheld DOB scope leaves `date_of_birth` empty, so those employees simply have
/// none.)
pub fn dob_shared(settings: &[&Settings]) -> bool {
    !settings.iter().any(|s| {
        s.redact_fields.contains("date_of_birth") || s.exclude_fields.contains("date_of_birth")
    })
}

/// The hire date anniversaries count from, by `hire_date_priority`.
pub fn anniversary_base(e: &Employee, priority: HireDatePriority) -> Option<Date> {
    match priority {
        HireDatePriority::Original => e.start_date.or(e.hire_date),
        HireDatePriority::Latest => e.latest_rehire_date.or(e.start_date).or(e.hire_date),
    }
}

/// Work anniversaries (by `hire_date_priority`, from the first full year) and
/// birthdays (only with `birthdays`: where the date of birth is shared) of active
/// employees from `today` through `today + days`, by date, kind and employee ID.
pub fn milestones(
    directory: &[Employee],
    priority: HireDatePriority,
    birthdays: bool,
    today: Date,
    days: i64,
) -> Vec<Milestone> {
    let until = until(today, days);
    let mut out = Vec::new();
    for e in directory
        .iter()
        .filter(|e| e.active && e.merged_into.is_none())
    {
        if let Some(h) = anniversary_base(e, priority)
            && let Some(d) = next_occurrence(h, today, until)
        {
            let years = d.year() - h.year();
            if years >= 1 {
                out.push(Milestone {
                    date: d,
                    kind: MilestoneKind::WorkAnniversary,
                    employee_id: e.employee_id.clone(),
                    name: e.display_name(),
                    years: Some(years),
                });
            }
        }
        if birthdays
            && let Some(b) = e.date_of_birth
            && let Some(d) = next_occurrence(b, today, until)
        {
            out.push(Milestone {
                date: d,
                kind: MilestoneKind::Birthday,
                employee_id: e.employee_id.clone(),
                name: e.display_name(),
                years: None,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.date, a.kind.as_str(), &a.employee_id).cmp(&(b.date, b.kind.as_str(), &b.employee_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use rstest::rstest;

    use super::*;

    fn emp(id: &str, start: Option<Date>, rehire: Option<Date>, dob: Option<Date>) -> Employee {
        Employee {
            key: 1,
            employee_id: id.into(),
            email: format!("{id}@x.example"),
            start_date: start,
            latest_rehire_date: rehire,
            date_of_birth: dob,
            active: true,
            ..Employee::default()
        }
    }

    #[test]
    fn kinds_are_named_as_they_are_serialised() {
        use strum::VariantArray;
        for k in UpcomingKind::VARIANTS {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for k in MilestoneKind::VARIANTS {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn anniversaries_follow_hire_date_priority() {
        let e = emp("A", Some(date(2015, 3, 10)), Some(date(2022, 3, 12)), None);
        let today = date(2026, 3, 1);
        let m = milestones(
            std::slice::from_ref(&e),
            HireDatePriority::Original,
            true,
            today,
            30,
        );
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].date, m[0].years), (date(2026, 3, 10), Some(11)));
        let m = milestones(&[e], HireDatePriority::Latest, true, today, 30);
        assert_eq!((m[0].date, m[0].years), (date(2026, 3, 12), Some(4)));
    }

    #[test]
    fn birthdays_only_when_shared_and_leap_days_fall_back() {
        let e = emp("B", None, None, Some(date(1992, 2, 29)));
        let today = date(2026, 2, 20);
        let m = milestones(
            std::slice::from_ref(&e),
            HireDatePriority::Original,
            true,
            today,
            30,
        );
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].kind.as_str(), m[0].date),
            ("birthday", date(2026, 2, 28))
        );
        assert!(m[0].years.is_none(), "no age");
        assert!(milestones(&[e], HireDatePriority::Original, false, today, 30).is_empty());
        let mut s = Settings::default();
        assert!(dob_shared(&[&s]));
        s.redact_fields.insert("date_of_birth".into());
        assert!(!dob_shared(&[&s]));
    }

    #[test]
    fn first_year_and_out_of_range_are_left_out() {
        let today = date(2026, 6, 1);
        let new_hire = emp("C", Some(date(2026, 6, 5)), None, None);
        let far = emp("D", Some(date(2010, 12, 1)), None, None);
        assert!(
            milestones(
                &[new_hire, far],
                HireDatePriority::Original,
                true,
                today,
                30
            )
            .is_empty()
        );
    }

    #[rstest]
    #[case::leap_day_in_a_common_year(date(1992, 2, 29), date(2026, 2, 1), Some(date(2026, 2, 28)))]
    #[case::leap_day_in_a_leap_year(date(1992, 2, 29), date(2028, 2, 1), Some(date(2028, 2, 29)))]
    #[case::today_counts(date(1990, 5, 4), date(2026, 5, 4), Some(date(2026, 5, 4)))]
    #[case::passed_this_year_next_is_too_far(date(1990, 5, 3), date(2026, 5, 4), None)]
    #[case::next_year(date(1990, 1, 2), date(2026, 12, 20), Some(date(2027, 1, 2)))]
    fn birthdays_recur_within_the_window(
        #[case] dob: Date,
        #[case] today: Date,
        #[case] expected: Option<Date>,
    ) {
        let e = emp("E", None, None, Some(dob));
        let got = milestones(&[e], HireDatePriority::Original, true, today, 30);
        assert_eq!(got.first().map(|m| m.date), expected);
    }

    #[rstest]
    #[case::shared(&[], &[], true)]
    #[case::redacted(&["date_of_birth"], &[], false)]
    #[case::excluded(&[], &["date_of_birth"], false)]
    #[case::other_field_redacted(&["phone"], &[], true)]
    fn dob_is_shared_unless_a_setting_hides_it(
        #[case] redact: &[&str],
        #[case] exclude: &[&str],
        #[case] shared: bool,
    ) {
        let hidden = Settings {
            redact_fields: redact.iter().map(|s| s.to_string()).collect(),
            exclude_fields: exclude.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        };
        let open = Settings::default();
        assert_eq!(dob_shared(&[&open, &hidden]), shared);
    }

    #[test]
    fn milestones_sort_by_date_kind_and_id_and_skip_inactive_and_merged() {
        let today = date(2026, 3, 1);
        let a = emp("A", Some(date(2020, 3, 5)), None, Some(date(1990, 3, 5)));
        let b = emp("B", Some(date(2019, 3, 5)), None, None);
        let gone = Employee {
            active: false,
            ..emp("C", Some(date(2019, 3, 5)), None, None)
        };
        let merged = Employee {
            merged_into: Some(1),
            ..emp("D", Some(date(2019, 3, 5)), None, None)
        };
        let m = milestones(
            &[b, gone, a, merged],
            HireDatePriority::Original,
            true,
            today,
            30,
        );
        let got: Vec<(&str, &str)> = m
            .iter()
            .map(|m| (m.kind.as_str(), m.employee_id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("birthday", "A"),
                ("work_anniversary", "A"),
                ("work_anniversary", "B")
            ]
        );
    }

    fn dated(
        id: &str,
        start: Option<Date>,
        rehire: Option<Date>,
        end: Option<Date>,
        active: bool,
    ) -> Employee {
        Employee {
            end_date: end,
            active,
            ..emp(id, start, rehire, None)
        }
    }

    #[rstest]
    #[case::end_date_ahead(dated("A", None, None, Some(date(2026, 6, 20)), true), &[(date(2026, 6, 20), UpcomingKind::Deactivation)])]
    #[case::end_date_passed_not_yet_applied(dated("A", None, None, Some(date(2026, 5, 1)), true), &[(date(2026, 5, 1), UpcomingKind::Deactivation)])]
    #[case::end_date_applied(dated("A", None, None, Some(date(2026, 5, 1)), false), &[])]
    #[case::end_date_too_far(dated("A", None, None, Some(date(2026, 9, 1)), true), &[])]
    #[case::start_ahead(dated("A", Some(date(2026, 6, 3)), None, None, true), &[(date(2026, 6, 3), UpcomingKind::Start)])]
    #[case::start_passed(dated("A", Some(date(2026, 5, 3)), None, None, true), &[])]
    #[case::rehire_wins_over_start(dated("A", Some(date(2026, 6, 3)), Some(date(2026, 6, 9)), None, true), &[(date(2026, 6, 9), UpcomingKind::Start)])]
    #[case::start_of_an_inactive_employee(dated("A", Some(date(2026, 6, 3)), None, None, false), &[(date(2026, 6, 3), UpcomingKind::Start)])]
    fn upcoming_lists_due_deactivations_and_starts(
        #[case] e: Employee,
        #[case] expected: &[(Date, UpcomingKind)],
    ) {
        let got: Vec<(Date, UpcomingKind)> = upcoming(&[e], date(2026, 6, 1), 30)
            .iter()
            .map(|u| (u.date, u.kind))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn upcoming_is_by_date_then_id_and_skips_merged_records() {
        let today = date(2026, 6, 1);
        let list = upcoming(
            &[
                dated("B", Some(date(2026, 6, 5)), None, None, true),
                dated("A", None, None, Some(date(2026, 6, 5)), true),
                dated("C", None, None, Some(date(2026, 6, 2)), true),
                Employee {
                    merged_into: Some(1),
                    ..dated("D", None, None, Some(date(2026, 6, 2)), true)
                },
            ],
            today,
            30,
        );
        let got: Vec<(&str, &str)> = list
            .iter()
            .map(|u| (u.employee_id.as_str(), u.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            [("C", "deactivation"), ("A", "deactivation"), ("B", "start")]
        );
    }
}
