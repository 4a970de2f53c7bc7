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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub action: Action,
    /// The directory key; `None` for a create.
    pub key: Option<EmployeeKey>,
    pub employee_id: String,
    pub source_id: Option<String>,
    /// Field changes. Empty for a create: see [`Entry::changes`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The employee as it will be.
    pub after: Employee,
    /// Two or more of name, date of birth and email change at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privacy: bool,
    /// The employee ID changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub id_change: bool,
    /// An existing employee with the same name and date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicate_of: Option<String>,
}

impl Entry {
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
