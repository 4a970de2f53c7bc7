//! Selecting employees by conditions the store answers from its indexes (what SCIM
//! filters on: key, email, secondary email, source id, employee ID, active, last
//! change), with their times from the history, paged in SQL.

use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::normalise::email_key;
use serde::{Deserialize, Serialize};

/// A range bound on a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeBound {
    Gt,
    Ge,
    Lt,
    Le,
}

impl TimeBound {
    /// Does `t` satisfy `t <bound> at`?
    pub fn holds(self, t: Timestamp, at: Timestamp) -> bool {
        match self {
            TimeBound::Gt => t > at,
            TimeBound::Ge => t >= at,
            TimeBound::Lt => t < at,
            TimeBound::Le => t <= at,
        }
    }

    /// Is it "changed since" (`gt`, `ge`) rather than "not changed since"?
    pub fn is_since(self) -> bool {
        matches!(self, TimeBound::Gt | TimeBound::Ge)
    }

    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            TimeBound::Gt => ">",
            TimeBound::Ge => ">=",
            TimeBound::Lt => "<",
            TimeBound::Le => "<=",
        }
    }
}

/// Which employees a [`Store::select_employees`](crate::Store::select_employees)
/// selects. Lists mean "one of these"; an empty list selects nobody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmployeeFilter {
    /// Everyone (deactivated and merged employees too).
    All,
    Nothing,
    Keys(Vec<EmployeeKey>),
    /// `email_key(email)` is one of these (give them as `email_key` gives them).
    Emails(Vec<String>),
    /// `email_key(secondary_email)` is one of these.
    SecondaryEmails(Vec<String>),
    /// `source_id` is one of these, exactly.
    SourceIds(Vec<String>),
    /// The employee ID in lower case (`str::to_lowercase`) is one of these.
    EmployeeIds(Vec<String>),
    /// Active and not merged into another employee (`true`), or not (`false`).
    Served(bool),
    /// The last change to the employee's row ([`Dated::modified`]) against a bound.
    Modified(TimeBound, Timestamp),
    And(Vec<EmployeeFilter>),
    Or(Vec<EmployeeFilter>),
}

impl EmployeeFilter {
    /// The reference semantics (the contract suite checks the stores against it).
    pub fn matches(&self, e: &Employee, modified: Timestamp) -> bool {
        match self {
            EmployeeFilter::All => true,
            EmployeeFilter::Nothing => false,
            EmployeeFilter::Keys(keys) => keys.contains(&e.key),
            EmployeeFilter::Emails(v) => !e.email.is_empty() && v.contains(&email_key(&e.email)),
            EmployeeFilter::SecondaryEmails(v) => e
                .secondary_email
                .as_deref()
                .map(email_key)
                .is_some_and(|k| !k.is_empty() && v.contains(&k)),
            EmployeeFilter::SourceIds(v) => e.source_id.as_ref().is_some_and(|s| v.contains(s)),
            EmployeeFilter::EmployeeIds(v) => v.contains(&e.employee_id.to_lowercase()),
            EmployeeFilter::Served(b) => (e.active && e.merged_into.is_none()) == *b,
            EmployeeFilter::Modified(bound, at) => bound.holds(modified, *at),
            EmployeeFilter::And(parts) => parts.iter().all(|p| p.matches(e, modified)),
            EmployeeFilter::Or(parts) => parts.iter().any(|p| p.matches(e, modified)),
        }
    }
}

/// Which part of the selection, in key order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    /// Only keys greater than this (keyset paging).
    pub after: Option<EmployeeKey>,
    /// Skip this many (after `after`).
    pub offset: usize,
    /// At most this many; `None`: all.
    pub limit: Option<usize>,
}

/// An employee with the times of its row: when it was created and when any writer
/// (sync, CSV import, admin edit, merge, rollback, end-date tick) last changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dated {
    pub employee: Employee,
    pub created: Timestamp,
    pub modified: Timestamp,
}

/// An active, unmerged employee holding a value of a demographic: what a group of
/// employees by that value needs, without the whole record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemographicMember {
    pub demographic: String,
    pub value: String,
    /// The employee with only `key`, `email`, `first_name`, `last_name`,
    /// `preferred_name`, `active` and the one demographic filled in.
    pub employee: Employee,
    pub created: Timestamp,
    pub modified: Timestamp,
}

/// Filter for listing employees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmployeeQuery {
    /// Case-insensitive substring of employee ID, email, first, last or preferred name.
    pub search: Option<String>,
    pub include_inactive: bool,
    pub limit: Option<usize>,
    pub offset: usize,
    /// Only employees whose key is greater (keyset paging: the previous page's last
    /// key; a deep page then costs what the first does). Combines with `offset`.
    pub after: Option<EmployeeKey>,
}
