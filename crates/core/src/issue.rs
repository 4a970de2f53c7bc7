//! Problems found while planning, each naming the member (position and source id) and
//! the field. Messages carry identifiers, never names, emails or dates of birth.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
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
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
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
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
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
        write!(f, "{}", self.severity)?;
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
