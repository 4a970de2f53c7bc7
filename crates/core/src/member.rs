//! The source-neutral member: what any `Source` (Justworks, CSV) hands the planner.
//!
//! Values are kept as the source gave them (dates as text) so that validation can
//! name the member and the field when something is malformed.

use crate::fields::FieldMap;

use serde::{Deserialize, Serialize};

/// How a member's manager was resolved by the source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ManagerRef {
    /// The member has no manager.
    #[default]
    None,
    /// The manager was found in the snapshot and has a work email.
    Resolved { source_id: String, email: String },
    /// The manager was found in the snapshot but has no work email: the reporting
    /// line cannot be linked (a warning, DESIGN §4).
    NoWorkEmail { source_id: String },
    /// The manager reference points at a member that is not in the snapshot.
    NotInSnapshot { source_id: String },
    /// The source names the manager by email directly (CSV files).
    Email { email: String },
}

impl ManagerRef {
    /// The manager's email when the reference could be resolved to one.
    pub fn email(&self) -> Option<&str> {
        match self {
            ManagerRef::Resolved { email, .. } | ManagerRef::Email { email } => Some(email),
            _ => None,
        }
    }
}

/// One member as a source delivers it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMember {
    /// The stable key of the member in the source (Justworks member `id`).
    pub source_id: String,
    /// 1-based position in the snapshot, for messages.
    pub position: usize,
    /// `active` as the source says; `None` when the source does not say.
    pub active: Option<bool>,
    /// Member type, lower-cased (`employee`, `contractor`, `international_employee`,
    /// `employee_eor`, or anything else the source sends).
    pub member_type: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_name: Option<String>,
    pub work_email: Option<String>,
    pub personal_email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD` expected; validated by the core.
    pub date_of_birth: Option<String>,
    /// Start of the current employment period.
    pub start_date: Option<String>,
    /// Start of the first employment period when the member was rehired.
    pub original_start_date: Option<String>,
    pub end_date: Option<String>,
    pub manager: ManagerRef,
    /// Every other source field by its source-field key (see [`crate::fields`]),
    /// e.g. `job_title`, `department`, `home_country`, `custom:<definition id>`.
    pub fields: FieldMap,
    /// An admin's exclusion directive carried by the source (a CSV file's
    /// `Employee Deactivated` column): `Some(true)` excludes an active employee, sticky
    /// like `roster users exclude` (an employee already deactivated stays as it is);
    /// `Some(false)` re-includes an excluded one; `None` says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
}

impl SourceMember {
    pub fn new(source_id: impl Into<String>, position: usize) -> Self {
        Self {
            source_id: source_id.into(),
            position,
            ..Self::default()
        }
    }
}

/// A member the source could not parse at all. Reported, never planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedMember {
    pub source_id: Option<String>,
    pub position: usize,
    pub reason: String,
}

/// A source field the admin can map, with the first populated value seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceField {
    pub key: String,
    pub label: String,
    pub sample: Option<String>,
}
