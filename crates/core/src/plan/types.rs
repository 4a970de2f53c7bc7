//! The plan as data: what a sync does to each employee, field by field, with the rule
//! behind each change, the counts and the issues.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::employee::{Employee, EmployeeKey, diff};
use crate::issue::Issue;

/// Why a field gets its new value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Rule {
    /// The source's value.
    Source,
    /// End date on or before today.
    EndDate,
    /// Missing from a full sync, or inactive there without an end date, under
    /// `on_missing = deactivate`.
    OnMissing,
    /// A one-off `--deactivate-missing`.
    DeactivateMissing,
    /// Present again and active: restored.
    Reactivated,
    /// `hire_date_priority` chose the hire date.
    HireDatePriority,
    /// Derived from the rest of the directory (`is_manager`).
    Derived,
    /// The link that closed a manager cycle was dropped.
    ManagerCycle,
    /// Roster generated the employee ID.
    GeneratedId,
    /// Excluded by an admin: stays deactivated.
    Excluded,
    /// An associated field resolved to an employee's email.
    Associated,
    /// An admin edited the employee (`users set-email`).
    AdminEdit,
    /// An admin merged a duplicate into the original.
    Merge,
    /// An admin excluded or re-included the employee.
    Exclusion,
    /// An import was rolled back.
    Rollback,
    /// Personal data erased on request (`users erase`).
    Erasure,
    /// Personal data anonymised by retention (`retention_days` after the end date).
    Retention,
}

impl Rule {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Create,
    Deactivate,
    Reactivate,
    Update,
    /// The record removed entirely (`users erase --remove`, issue #17): only an
    /// erasure records it, never a plan. Its changes are every field of the
    /// anonymised record, from its value to nothing (the tombstone).
    Remove,
}

impl Action {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The action on an existing employee going from `before` to `after`.
    pub(crate) fn between(before: &Employee, after: &Employee) -> Action {
        match (before.active, after.active) {
            (true, false) => Self::Deactivate,
            (false, true) => Self::Reactivate,
            _ => Self::Update,
        }
    }
}

/// One field's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub rule: Rule,
}

impl Change {
    /// The field changes from `before` to `after`, each under the rule `rule_of` gives
    /// its field.
    pub(crate) fn between(
        before: &Employee,
        after: &Employee,
        rule_of: impl Fn(&str) -> Rule,
    ) -> Vec<Change> {
        diff(before, after)
            .into_iter()
            .map(|(field, old, new)| {
                let rule = rule_of(&field);
                Change {
                    field,
                    old,
                    new,
                    rule,
                }
            })
            .collect()
    }
}

impl Change {
    /// A removal's field changes (the tombstone): every field of `before` (an
    /// anonymised record) from its value to nothing, under `rule`.
    /// [`crate::feed::rewind`] rebuilds the record from them.
    pub fn removed(before: &Employee, rule: Rule) -> Vec<Change> {
        let gone = Employee {
            key: before.key,
            ..Employee::default()
        };
        Change::between(before, &gone, |_| rule)
    }

    /// A create's field changes: every field of `after` from empty (an empty
    /// [`Employee`]), under the rule that gave it. Plans and the history keep no
    /// changes for a create (the employee's row holds the values); the change feed
    /// needs them.
    pub fn created(after: &Employee) -> Vec<Change> {
        let mut changes = Change::between(&Employee::default(), after, |field| match field {
            "employee_id" if after.source_id.as_deref() != Some(&after.employee_id) => {
                Rule::GeneratedId
            }
            "is_manager" => Rule::Derived,
            _ => Rule::Source,
        });
        changes.retain(|c| c.field != "active" || after.active);
        changes
    }
}

/// What the plan does to one employee.
///
/// Its employee ID and source id are the ones of `after` ([`Entry::employee_id`],
/// [`Entry::source_id`]): not copies (a first import of a million holds a million
/// entries). Its JSON still has them as fields of their own, before the changes, as
/// it always had (`EntryJson`); when read, `after`'s are the ones kept.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "EntryJson")]
pub struct Entry {
    pub action: Action,
    /// The directory key; `None` for a create.
    pub key: Option<EmployeeKey>,
    /// Field changes. Empty for a create: see [`Entry::changes`].
    pub changes: Vec<Change>,
    /// The employee as it will be.
    pub after: Employee,
    /// Two or more of name, date of birth and email change at once.
    pub privacy: bool,
    /// The employee ID changes.
    pub id_change: bool,
    /// An existing employee with the same name and date of birth.
    pub possible_duplicate_of: Option<String>,
}

/// An [`Entry`] as JSON, read: its fields in their order, with the employee ID and
/// source id (ignored: `after` has them).
#[derive(Deserialize)]
struct EntryJson {
    action: Action,
    key: Option<EmployeeKey>,
    #[serde(rename = "employee_id")]
    _employee_id: String,
    #[serde(rename = "source_id")]
    _source_id: Option<String>,
    #[serde(default)]
    changes: Vec<Change>,
    after: Employee,
    #[serde(default)]
    privacy: bool,
    #[serde(default)]
    id_change: bool,
    #[serde(default)]
    possible_duplicate_of: Option<String>,
}

/// An [`Entry`] as JSON, written (borrowed: a plan of a million entries is written
/// without copies).
#[derive(Serialize)]
struct EntryRef<'a> {
    action: Action,
    key: Option<EmployeeKey>,
    employee_id: &'a str,
    source_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Change]>::is_empty")]
    changes: &'a [Change],
    after: &'a Employee,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    privacy: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    id_change: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    possible_duplicate_of: Option<&'a str>,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EntryRef {
            action: self.action,
            key: self.key,
            employee_id: self.employee_id(),
            source_id: self.source_id(),
            changes: &self.changes,
            after: &self.after,
            privacy: self.privacy,
            id_change: self.id_change,
            possible_duplicate_of: self.possible_duplicate_of.as_deref(),
        }
        .serialize(serializer)
    }
}

impl From<EntryJson> for Entry {
    fn from(e: EntryJson) -> Self {
        Entry {
            action: e.action,
            key: e.key,
            changes: e.changes,
            after: e.after,
            privacy: e.privacy,
            id_change: e.id_change,
            possible_duplicate_of: e.possible_duplicate_of,
        }
    }
}

impl Entry {
    /// The employee ID (the one the employee will have).
    pub fn employee_id(&self) -> &str {
        &self.after.employee_id
    }

    /// The member id in the source (the one the employee will have).
    pub fn source_id(&self) -> Option<&str> {
        self.after.source_id.as_deref()
    }

    /// Every field change, also for a create (all fields from empty).
    pub fn all_changes(&self) -> Vec<Change> {
        if self.action != Action::Create {
            return self.changes.clone();
        }
        Change::created(&self.after)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
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
    /// Members matched to an anonymised (erased) record while inactive in the
    /// source (a leaver the source still lists): left erased, nothing of theirs
    /// planned back (issue #17).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub erased_left: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Counts {
    /// Count one entry by its action, and by its privacy guard.
    pub(crate) fn add(&mut self, entry: &Entry) {
        match entry.action {
            Action::Create => self.created += 1,
            Action::Update => self.updated += 1,
            Action::Deactivate => self.deactivated += 1,
            Action::Reactivate => self.reactivated += 1,
            // An erasure's removal counts as the update it records.
            Action::Remove => self.updated += 1,
        }
        if entry.privacy {
            self.privacy += 1;
        }
    }
}

/// The mass-change guard's finding ([`crate::guard`] computes it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MassChange {
    pub deactivations: usize,
    pub active_before: usize,
    pub id_changes: usize,
    pub matched: usize,
    pub deactivation_triggered: bool,
    pub id_change_triggered: bool,
}

impl MassChange {
    pub fn triggered(&self) -> bool {
        self.deactivation_triggered || self.id_change_triggered
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.deactivation_triggered {
            parts.push(format!(
                "would deactivate {} of {} active employees",
                self.deactivations, self.active_before
            ));
        }
        if self.id_change_triggered {
            parts.push(format!(
                "would change the employee ID of {} of {} matched employees",
                self.id_changes, self.matched
            ));
        }
        parts.join("; ")
    }
}

/// Options of one planning run beyond the settings.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// The snapshot is the whole population (a full sync): missing members follow
    /// `on_missing`. False for incremental syncs and partial imports.
    pub complete: bool,
    /// Deactivate missing members this once, whatever `on_missing` says.
    pub deactivate_missing: bool,
    /// Partial import: only these fields are updated (directory field names or
    /// `demographic:<name>`). `None` updates every field.
    pub only_fields: Option<BTreeSet<String>>,
    /// Members recognised as people whose personal data was erased (issue #17): the
    /// member's source id → the anonymous record's key. The engine finds them by the
    /// keyed digest of the source id kept at the erasure (the planner never sees a
    /// key or digest); matching gives such a member that record when nothing matches
    /// it by ID, so a re-hire creates no duplicate.
    pub returning: std::collections::BTreeMap<String, EmployeeKey>,
}

/// The full, deterministic list of what a sync would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub today: Date,
    pub complete: bool,
    pub counts: Counts,
    /// Sorted by action, then employee ID.
    pub entries: Vec<Entry>,
    /// Sorted by position, then code.
    pub issues: Vec<Issue>,
    pub mass_change: MassChange,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn privacy_entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries.iter().enumerate().filter(|(_, e)| e.privacy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source_id: Option<&str>, changes: Vec<Change>) -> Entry {
        Entry {
            action: Action::Update,
            key: Some(7),
            changes,
            after: Employee {
                key: 7,
                employee_id: "E7".into(),
                source_id: source_id.map(str::to_string),
                ..Employee::default()
            },
            privacy: true,
            id_change: false,
            possible_duplicate_of: Some("E3".into()),
        }
    }

    /// The employee ID and source id are the employee's, yet written as fields of
    /// their own before the changes, as when the entry held copies of them.
    #[test]
    fn an_entrys_json_keeps_its_ids_in_their_place() {
        let change = Change {
            field: "last_name".into(),
            old: Some("Old".into()),
            new: Some("New".into()),
            rule: Rule::Source,
        };
        let e = entry(Some("mbr_7"), vec![change]);
        assert_eq!(e.employee_id(), "E7");
        assert_eq!(e.source_id(), Some("mbr_7"));
        let json = serde_json::to_string(&e).expect("serialises");
        let after = serde_json::to_string(&e.after).expect("serialises");
        let changes = serde_json::to_string(&e.changes).expect("serialises");
        assert_eq!(
            json,
            format!(
                r#"{{"action":"update","key":7,"employee_id":"E7","source_id":"mbr_7","changes":{changes},"after":{after},"privacy":true,"possible_duplicate_of":"E3"}}"#
            )
        );
        let back: Entry = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, e);

        let bare = entry(None, Vec::new());
        let json = serde_json::to_string(&bare).expect("serialises");
        let after = serde_json::to_string(&bare.after).expect("serialises");
        assert_eq!(
            json,
            format!(
                r#"{{"action":"update","key":7,"employee_id":"E7","source_id":null,"after":{after},"privacy":true,"possible_duplicate_of":"E3"}}"#
            )
        );
        assert_eq!(serde_json::from_str::<Entry>(&json).expect("reads"), bare);
    }

    /// A stored entry is read with the employee's IDs (the ones written beside them
    /// were always the same); one without an employee ID is refused, as before.
    #[test]
    fn an_entry_is_read_with_its_employees_ids() {
        let e = entry(Some("mbr_7"), Vec::new());
        let mut json = serde_json::to_value(&e).expect("serialises");
        json["source_id"] = serde_json::Value::Null;
        let read: Entry = serde_json::from_value(json.clone()).expect("reads");
        assert_eq!(read.source_id(), Some("mbr_7"));
        json.as_object_mut()
            .expect("an object")
            .remove("employee_id");
        assert!(serde_json::from_value::<Entry>(json).is_err());
    }
}
