//! The directory's view of a person.

use crate::fields::FieldMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

/// Why an employee is deactivated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum DeactivationReason {
    /// The source's end date is on or before today.
    EndDate,
    /// Missing from a full sync (or inactive there without an end date) under
    /// `on_missing = deactivate`, or a one-off `--deactivate-missing`.
    Missing,
    /// An admin excluded the employee; sticky across syncs.
    Excluded,
    /// Merged into another employee.
    Merged,
    /// Created by an import that was rolled back.
    RolledBack,
}

impl DeactivationReason {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// From the name `as_str` gives (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// The internal, never-changing key of a directory row (assigned by the store).
pub type EmployeeKey = i64;

/// One employee in the directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    /// Store key; 0 for an employee the plan creates.
    pub key: EmployeeKey,
    pub employee_id: String,
    /// The member id in the source this employee was last matched to.
    pub source_id: Option<String>,
    /// Empty: no email (a merged record's, or a member without one). Written as
    /// `null` in JSON, read from `null` or `""`.
    #[serde(with = "email_or_null", default)]
    pub email: String,
    pub secondary_email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    /// Original hire date.
    pub start_date: Option<Date>,
    pub latest_rehire_date: Option<Date>,
    /// The date anniversaries use (`hire_date_priority`).
    pub hire_date: Option<Date>,
    pub end_date: Option<Date>,
    pub manager_email: Option<String>,
    pub phone: Option<String>,
    /// Mapped demographics by demographic name.
    pub demographics: FieldMap,
    pub active: bool,
    pub deactivation_reason: Option<DeactivationReason>,
    /// Derived: active with at least one active report.
    pub is_manager: bool,
    /// Excluded by an admin: stays deactivated in every later sync.
    pub excluded: bool,
    /// The email was edited by an admin in Roster (see `override_emails`).
    pub email_edited: bool,
    /// Set when this employee was merged into another.
    pub merged_into: Option<EmployeeKey>,
}

/// Directory fields in display order. Demographics follow as `demographic:<name>`.
pub const CORE_FIELDS: &[&str] = &[
    "employee_id",
    "source_id",
    "email",
    "secondary_email",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "start_date",
    "latest_rehire_date",
    "hire_date",
    "end_date",
    "manager_email",
    "phone",
    "active",
    "deactivation_reason",
    "is_manager",
    "excluded",
];

/// The merge link in diffs and history (not a directory field: only a merge sets it,
/// and a rollback of the merge must clear it).
pub const MERGED_INTO: &str = "merged_into";

/// The mark of an email an admin set, in diffs and history (not shown as a directory
/// field: a set email records it, so a rollback of the edit clears it again).
pub const EMAIL_EDITED: &str = "email_edited";

/// Prefix of demographic field names in diffs and history.
pub const DEMOGRAPHIC_PREFIX: &str = "demographic:";

fn date_str(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn bool_str(b: bool) -> Option<String> {
    Some(if b { "true" } else { "false" }.to_string())
}

impl Employee {
    /// What planning needs of an employee no member of the sync matches: identity,
    /// emails, the reporting line, status, and the name and birth date that flag
    /// possible duplicates. Everything else is left empty. An incremental sync
    /// loads the directory in this form and the full rows only where it must
    /// (see [`crate::plan::rows_to_load`]).
    pub fn outline(&self) -> Employee {
        Employee {
            key: self.key,
            employee_id: self.employee_id.clone(),
            source_id: self.source_id.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            date_of_birth: self.date_of_birth,
            manager_email: self.manager_email.clone(),
            active: self.active,
            deactivation_reason: self.deactivation_reason,
            is_manager: self.is_manager,
            excluded: self.excluded,
            email_edited: self.email_edited,
            merged_into: self.merged_into,
            ..Employee::default()
        }
    }

    /// The value of one field as text (`None` when empty), by its name.
    pub fn field(&self, name: &str) -> Option<String> {
        match name {
            "employee_id" => Some(self.employee_id.clone()),
            "source_id" => self.source_id.clone(),
            "email" => Some(self.email.clone()),
            "secondary_email" => self.secondary_email.clone(),
            "first_name" => self.first_name.clone(),
            "last_name" => self.last_name.clone(),
            "preferred_name" => self.preferred_name.clone(),
            "date_of_birth" => date_str(self.date_of_birth),
            "start_date" => date_str(self.start_date),
            "latest_rehire_date" => date_str(self.latest_rehire_date),
            "hire_date" => date_str(self.hire_date),
            "end_date" => date_str(self.end_date),
            "manager_email" => self.manager_email.clone(),
            "phone" => self.phone.clone(),
            "active" => bool_str(self.active),
            "deactivation_reason" => self.deactivation_reason.map(|r| r.as_str().to_string()),
            "is_manager" => bool_str(self.is_manager),
            "excluded" => bool_str(self.excluded),
            EMAIL_EDITED => bool_str(self.email_edited),
            MERGED_INTO => self.merged_into.map(|k| k.to_string()),
            other => other
                .strip_prefix(DEMOGRAPHIC_PREFIX)
                .and_then(|d| self.demographics.get(d).map(str::to_string)),
        }
    }

    /// Set one field from text, as stored in history (used by rollback).
    pub fn set_field(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let date = |v: Option<&str>| -> Result<Option<Date>, String> {
            v.map(|s| s.parse::<Date>().map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let owned = |v: Option<&str>| v.map(str::to_string);
        match name {
            "employee_id" => self.employee_id = value.unwrap_or_default().to_string(),
            "source_id" => self.source_id = owned(value),
            "email" => self.email = value.unwrap_or_default().to_string(),
            "secondary_email" => self.secondary_email = owned(value),
            "first_name" => self.first_name = owned(value),
            "last_name" => self.last_name = owned(value),
            "preferred_name" => self.preferred_name = owned(value),
            "date_of_birth" => self.date_of_birth = date(value)?,
            "start_date" => self.start_date = date(value)?,
            "latest_rehire_date" => self.latest_rehire_date = date(value)?,
            "hire_date" => self.hire_date = date(value)?,
            "end_date" => self.end_date = date(value)?,
            "manager_email" => self.manager_email = owned(value),
            "phone" => self.phone = owned(value),
            "active" => self.active = value == Some("true"),
            "deactivation_reason" => {
                self.deactivation_reason = value.and_then(DeactivationReason::parse)
            }
            "is_manager" => self.is_manager = value == Some("true"),
            "excluded" => self.excluded = value == Some("true"),
            EMAIL_EDITED => self.email_edited = value == Some("true"),
            MERGED_INTO => {
                self.merged_into = value
                    .map(|v| v.parse().map_err(|e| format!("{name}: {e}")))
                    .transpose()?
            }
            other => match other.strip_prefix(DEMOGRAPHIC_PREFIX) {
                Some(d) => match value {
                    Some(v) => {
                        self.demographics.insert(d, v);
                    }
                    None => {
                        self.demographics.remove(d);
                    }
                },
                None => return Err(format!("unknown field {other}")),
            },
        }
        Ok(())
    }

    /// Every field name this employee carries, core first, then demographics.
    pub fn field_names(&self) -> impl Iterator<Item = String> + '_ {
        CORE_FIELDS.iter().map(|s| s.to_string()).chain(
            self.demographics
                .keys()
                .map(|k| format!("{DEMOGRAPHIC_PREFIX}{k}")),
        )
    }

    /// Name shown to an admin: preferred or first name, then last name.
    pub fn display_name(&self) -> String {
        let first = self
            .preferred_name
            .as_deref()
            .or(self.first_name.as_deref())
            .unwrap_or("");
        let last = self.last_name.as_deref().unwrap_or("");
        format!("{first} {last}").trim().to_string()
    }

    /// What employee search looks in: the ID, the email and the names (first,
    /// last, preferred) that are present, in that order. The store's search
    /// column and [`Employee::matches`] are both built from it.
    pub fn search_fields(&self) -> impl Iterator<Item = &str> {
        [
            Some(self.employee_id.as_str()),
            Some(self.email.as_str()),
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.preferred_name.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    /// Whether employee search for `needle` finds this employee: one of its
    /// [`search_fields`](Employee::search_fields) contains it, ignoring case.
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.search_fields()
            .any(|v| v.to_lowercase().contains(needle.as_str()))
    }
}

/// Differences between two employees, field by field, in display order.
pub fn diff(before: &Employee, after: &Employee) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for name in CORE_FIELDS {
        let (a, b) = (before.field(name), after.field(name));
        if a != b {
            out.push((name.to_string(), a, b));
        }
    }
    if before.email_edited != after.email_edited {
        out.push((
            EMAIL_EDITED.to_string(),
            before.field(EMAIL_EDITED),
            after.field(EMAIL_EDITED),
        ));
    }
    if before.merged_into != after.merged_into {
        out.push((
            MERGED_INTO.to_string(),
            before.field(MERGED_INTO),
            after.field(MERGED_INTO),
        ));
    }
    let keys: std::collections::BTreeSet<&str> = before
        .demographics
        .keys()
        .chain(after.demographics.keys())
        .collect();
    for k in keys {
        let (a, b) = (before.demographics.get(k), after.demographics.get(k));
        if a != b {
            out.push((
                format!("{DEMOGRAPHIC_PREFIX}{k}"),
                a.map(str::to_string),
                b.map(str::to_string),
            ));
        }
    }
    out
}

/// [`Employee::email`] in JSON: `null` for none.
mod email_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(email: &str, s: S) -> Result<S::Ok, S::Error> {
        if email.is_empty() {
            s.serialize_none()
        } else {
            s.serialize_some(email)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Employee {
        Employee {
            employee_id: "E-17".into(),
            email: "Zoe.Adams@x.example".into(),
            first_name: Some("Zoë".into()),
            last_name: Some("Adams".into()),
            preferred_name: Some("Élodie".into()),
            ..Employee::default()
        }
    }

    #[test]
    fn search_fields_are_id_email_and_present_names_in_order() {
        let mut e = person();
        e.last_name = None;
        let fields: Vec<&str> = e.search_fields().collect();
        assert_eq!(fields, ["E-17", "Zoe.Adams@x.example", "Zoë", "Élodie"]);
    }

    #[test]
    fn matches_any_search_field_ignoring_case() {
        let e = person();
        for needle in ["e-17", "ZOE.ADAMS@", "zoË", "adams", "éLOD", ""] {
            assert!(e.matches(needle), "{needle:?} should match");
        }
    }

    #[test]
    fn matches_nothing_outside_the_search_fields() {
        let mut e = person();
        e.manager_email = Some("boss@x.example".into());
        e.secondary_email = Some("home@y.example".into());
        e.phone = Some("+1 555 0100".into());
        for needle in ["boss", "home@", "555", "zoe adams", "E-18"] {
            assert!(!e.matches(needle), "{needle:?} should not match");
        }
    }
}
