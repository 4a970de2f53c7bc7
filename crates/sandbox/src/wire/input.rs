//! The member documents Roster's sandbox reads: fixtures, hires and merge patches.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

use super::CustomValueOut;
use crate::model::{Member, WireAddress};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameInput {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_name: Option<String>,
    pub full_preferred_name: Option<String>,
    pub additional_names: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailInput {
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneInput {
    pub number: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmploymentInput {
    pub employment_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodInput {
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefInput {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfficeInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: Option<WireAddress>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManagerInput {
    pub id: Option<String>,
}

/// A member in the wire shape, as read from a fixture, a hire or a patched document.
/// `custom_field_values` and `hidden` are sandbox extras.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberInput {
    pub id: Option<String>,
    pub company_id: Option<String>,
    pub work_id: Option<String>,
    pub name: Option<NameInput>,
    pub active: Option<bool>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub employment_location_type: Option<String>,
    pub emails: Option<Vec<EmailInput>>,
    pub phones: Option<Vec<PhoneInput>>,
    pub addresses: Option<Vec<WireAddress>>,
    pub current_employment: Option<BTreeMap<String, EmploymentInput>>,
    pub employment_history: Option<Vec<PeriodInput>>,
    pub date_added_to_justworks: Option<Date>,
    pub date_of_birth: Option<Date>,
    pub sex_assigned_at_birth: Option<String>,
    pub department: Option<RefInput>,
    pub employment_start_date: Option<Date>,
    pub employment_termination_date: Option<Date>,
    pub job_title: Option<String>,
    pub manager: Option<ManagerInput>,
    pub office: Option<OfficeInput>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub custom_field_values: Option<Vec<CustomValueOut>>,
    pub hidden: Option<bool>,
}

/// What a [`MemberInput`] is for; decides defaults and which checks apply.
pub(crate) enum InputMode<'a> {
    /// A fixture member: the id is required; the manager is checked after loading.
    Fixture { default_created_at: Timestamp },
    /// A hire at run time: the id is optional; defaults fill a new employee.
    Hire { now: Timestamp },
    /// A merge-patched existing member: the id must not change.
    Patch { old: &'a Member, now: Timestamp },
}

/// A problem with one field of a member document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

pub(super) fn err<T>(
    field: impl Into<String>,
    message: impl Into<String>,
) -> Result<T, FieldError> {
    Err(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

/// `Some(s)` for a non-blank string.
pub(super) fn clean(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Parses a member document, naming the failing field in the error.
pub(crate) fn parse_input(doc: serde_json::Value) -> Result<MemberInput, FieldError> {
    serde_path_to_error::deserialize(doc).map_err(|e| FieldError {
        field: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}
