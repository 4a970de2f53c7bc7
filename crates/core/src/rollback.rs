//! Rolling back an applied import: each field it changed goes back to its old value,
//! unless the employee changed since (then nothing of that employee is touched and
//! the conflict is reported).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::employee::{DeactivationReason, Employee, EmployeeKey};

/// One field an import changed, as recorded in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedChange {
    pub key: EmployeeKey,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The employee was created by the import.
    pub created: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackConflict {
    pub key: EmployeeKey,
    pub employee_id: String,
    /// Fields whose value changed after the import.
    pub fields: Vec<String>,
}

/// A field put back: (field, value now, value restored).
pub type Restored = (String, Option<String>, Option<String>);

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackPlan {
    /// Employees as they will be after the rollback, with the changes made.
    pub restore: Vec<(Employee, Vec<Restored>)>,
    pub conflicts: Vec<RollbackConflict>,
    /// Fields erased since the import (issue #17): not restored (the history no
    /// longer holds their values), reported per employee.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<RollbackConflict>,
    /// Employees the import changed whose record was removed since (`users erase
    /// --remove`): not brought back, reported by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<EmployeeKey>,
}

/// Plan the rollback of `changes` against the current state of the employees.
pub fn plan_rollback(changes: &[RecordedChange], current: &[Employee]) -> RollbackPlan {
    plan_rollback_after_erasure(changes, current, &HashMap::new())
}

/// [`plan_rollback`] when employees' personal data was erased after the import:
/// `erased` gives, per employee, the fields an erasure since replaced. Those fields
/// are left as they are and reported in [`RollbackPlan::erased`]; the employee's
/// other fields roll back as usual.
pub fn plan_rollback_after_erasure(
    changes: &[RecordedChange],
    current: &[Employee],
    erased: &HashMap<EmployeeKey, std::collections::BTreeSet<String>>,
) -> RollbackPlan {
    let mut out = RollbackPlan::default();
    let mut kept = Vec::with_capacity(changes.len());
    let mut reported: std::collections::BTreeMap<EmployeeKey, Vec<String>> = Default::default();
    for c in changes {
        match erased.get(&c.key) {
            Some(fields)
                if fields.contains(&c.field) || c.field == crate::employee::EMAIL_EDITED =>
            {
                let list = reported.entry(c.key).or_default();
                if !list.contains(&c.field) {
                    list.push(c.field.clone());
                }
            }
            _ => kept.push(c.clone()),
        }
    }
    let by_key: HashMap<EmployeeKey, &Employee> = current.iter().map(|e| (e.key, e)).collect();
    for (key, fields) in reported {
        let employee_id = by_key
            .get(&key)
            .map(|e| e.employee_id.clone())
            .unwrap_or_default();
        out.erased.push(RollbackConflict {
            key,
            employee_id,
            fields,
        });
    }
    let RollbackPlan {
        restore, conflicts, ..
    } = plan_kept(&kept, current);
    out.restore = restore;
    out.conflicts = conflicts;
    // Nothing but a removal deletes a record: one the import changed and the
    // directory lacks was removed since (its erased fields are not reported twice).
    let mut removed: Vec<EmployeeKey> = changes
        .iter()
        .map(|c| c.key)
        .filter(|k| !by_key.contains_key(k))
        .collect();
    removed.sort_unstable();
    removed.dedup();
    out.erased.retain(|e| !removed.contains(&e.key));
    out.removed = removed;
    out
}

fn plan_kept(changes: &[RecordedChange], current: &[Employee]) -> RollbackPlan {
    let by_key: HashMap<EmployeeKey, &Employee> = current.iter().map(|e| (e.key, e)).collect();
    let mut grouped: std::collections::BTreeMap<EmployeeKey, Vec<&RecordedChange>> =
        Default::default();
    for c in changes {
        grouped.entry(c.key).or_default().push(c);
    }
    let mut out = RollbackPlan::default();
    for (key, cs) in grouped {
        let Some(emp) = by_key.get(&key) else {
            continue;
        };
        // Derived fields (is_manager) follow the rest; they never conflict.
        let drifted: Vec<String> = cs
            .iter()
            .filter(|c| c.field != "is_manager" && emp.field(&c.field) != c.new)
            .map(|c| c.field.clone())
            .collect();
        if !drifted.is_empty() {
            out.conflicts.push(RollbackConflict {
                key,
                employee_id: emp.employee_id.clone(),
                fields: drifted,
            });
            continue;
        }
        let mut after = (*emp).clone();
        let mut applied = Vec::new();
        if cs.iter().any(|c| c.created) {
            // It did not exist before the import: deactivate it.
            if after.active {
                applied.push(("active".into(), Some("true".into()), Some("false".into())));
                applied.push((
                    "deactivation_reason".into(),
                    after.deactivation_reason.map(|r| r.as_str().to_string()),
                    Some("rolled_back".into()),
                ));
                after.active = false;
                after.deactivation_reason = Some(DeactivationReason::RolledBack);
            }
        } else {
            for c in cs {
                let now = after.field(&c.field);
                if after.set_field(&c.field, c.old.as_deref()).is_ok() {
                    applied.push((c.field.clone(), now, c.old.clone()));
                }
            }
        }
        if !applied.is_empty() {
            out.restore.push((after, applied));
        }
    }
    out
}
