//! Problems found while planning, each naming the member (position and source id) and
//! the field. Messages carry identifiers, never names, emails or dates of birth.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The member is skipped.
    Error,
    /// The member is kept.
    Warning,
    /// For the record.
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    Unparseable,
    NoIdentifier,
    MalformedEmail,
    DuplicateEmail,
    DuplicateEmployeeId,
    DobInFuture,
    BadDate,
    IdentifierConflict,
    EmailTaken,
    EndBeforeStart,
    ManagerNoWorkEmail,
    ManagerNotInSync,
    ManagerCycle,
    SelfManager,
    AssociatedUnresolved,
    PossibleDuplicate,
    DoNotImport,
    ExcludedStaysDeactivated,
    EmailKept,
    HireDateKept,
    DemographicNameClash,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unparseable => "unparseable",
            Self::NoIdentifier => "no_identifier",
            Self::MalformedEmail => "malformed_email",
            Self::DuplicateEmail => "duplicate_email",
            Self::DuplicateEmployeeId => "duplicate_employee_id",
            Self::DobInFuture => "dob_in_future",
            Self::BadDate => "bad_date",
            Self::IdentifierConflict => "identifier_conflict",
            Self::EmailTaken => "email_taken",
            Self::EndBeforeStart => "end_before_start",
            Self::ManagerNoWorkEmail => "manager_no_work_email",
            Self::ManagerNotInSync => "manager_not_in_sync",
            Self::ManagerCycle => "manager_cycle",
            Self::SelfManager => "self_manager",
            Self::AssociatedUnresolved => "associated_unresolved",
            Self::PossibleDuplicate => "possible_duplicate",
            Self::DoNotImport => "do_not_import",
            Self::ExcludedStaysDeactivated => "excluded_stays_deactivated",
            Self::EmailKept => "email_kept",
            Self::HireDateKept => "hire_date_kept",
            Self::DemographicNameClash => "demographic_name_clash",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Issue {
    /// 1-based position of the member in the source (line or record number).
    pub position: Option<usize>,
    pub severity: Severity,
    pub code: IssueCode,
    pub source_id: Option<String>,
    pub employee_id: Option<String>,
    /// The field concerned, when there is one.
    pub field: Option<String>,
    pub message: String,
}

impl Issue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{sev}")?;
        if let Some(p) = self.position {
            write!(f, " at member #{p}")?;
        }
        if let Some(id) = &self.source_id {
            write!(f, " ({id})")?;
        }
        if let Some(field) = &self.field {
            write!(f, " field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}
