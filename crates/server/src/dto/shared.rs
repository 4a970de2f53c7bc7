//! What several resources share: roles, counts, field changes, issues, paging.

use roster_core::plan::{Change, Counts};
use roster_store::access::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Viewer,
    EmployeeDataAdmin,
    AccountAdmin,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Viewer => Self::Viewer,
            Role::EmployeeDataAdmin => Self::EmployeeDataAdmin,
            Role::AccountAdmin => Self::AccountAdmin,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Viewer => Self::Viewer,
            RoleDto::EmployeeDataAdmin => Self::EmployeeDataAdmin,
            RoleDto::AccountAdmin => Self::AccountAdmin,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok`.
    pub status: &'static str,
}

/// Paging of a list.
#[derive(Clone, Copy, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Skip this many (default 0).
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub const MAX_LIMIT: usize = 1000;

pub fn limit_of(limit: Option<usize>, default: usize) -> usize {
    limit.unwrap_or(default).clamp(1, MAX_LIMIT)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CountsDto {
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub reactivated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Employees whose changes are privacy-guarded.
    pub privacy: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Members matched to an anonymised (erased) employee while inactive in the
    /// source: left erased, nothing of theirs planned back.
    pub erased_left: usize,
}

impl From<&Counts> for CountsDto {
    fn from(c: &Counts) -> Self {
        let Counts {
            created,
            updated,
            deactivated,
            reactivated,
            unchanged,
            skipped,
            privacy,
            errors,
            warnings,
            erased_left,
        } = *c;
        Self {
            created,
            updated,
            deactivated,
            reactivated,
            unchanged,
            skipped,
            privacy,
            errors,
            warnings,
            erased_left,
        }
    }
}

/// One field's change, with the rule that caused it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChangeDto {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// e.g. `source`, `end_date`, `on_missing`, `hire_date_priority`, `derived`; an
    /// admin's change: `admin_edit`, `merge`, `exclusion`, `rollback`.
    pub rule: String,
}

impl From<&Change> for ChangeDto {
    fn from(c: &Change) -> Self {
        let Change {
            field,
            old,
            new,
            rule,
        } = c;
        Self {
            field: field.clone(),
            old: old.clone(),
            new: new.clone(),
            rule: rule.as_str().to_string(),
        }
    }
}

/// A note from the source or the file (a missing scope, an unknown column …).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DiagnosticDto {
    pub code: String,
    pub message: String,
}

/// An error or warning about one member, named by position and id.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssueDto {
    /// `error` (the member is skipped) or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// Position of the member in the source (line for a file), when known.
    pub position: Option<usize>,
    pub employee_id: Option<String>,
    pub field: Option<String>,
}
