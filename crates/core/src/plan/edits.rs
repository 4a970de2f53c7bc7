//! Plans that are not syncs: admin edits and end dates come due, with `is_manager`
//! re-derived; and applying entries to an in-memory directory.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rustc_hash::FxHashMap as HashMap;

use super::hierarchy::has_active_report;
use super::types::{Action, Change, Counts, Entry, MassChange, Plan, Rule};
use crate::employee::{DeactivationReason, Employee, EmployeeKey};
use crate::normalise::email_key;

/// Apply entries to an in-memory directory, as the store would: creates get the
/// next free keys. Used by dry runs and tests; the store has its own transactional
/// path.
pub fn apply(directory: &[Employee], entries: &[&Entry]) -> Vec<Employee> {
    let mut out = directory.to_vec();
    let index: HashMap<EmployeeKey, usize> =
        out.iter().enumerate().map(|(i, e)| (e.key, i)).collect();
    let mut next_key = out.iter().map(|e| e.key).max().unwrap_or(0) + 1;
    for entry in entries {
        match entry.key.and_then(|k| index.get(&k)) {
            Some(&i) => {
                let key = out[i].key;
                out[i] = entry.after.clone();
                out[i].key = key;
            }
            None => {
                let mut e = entry.after.clone();
                e.key = next_key;
                next_key += 1;
                out.push(e);
            }
        }
    }
    out
}

/// Re-derive `is_manager` for a directory after some rows changed; returns the keys
/// whose flag flips.
pub fn manager_flags(directory: &[Employee]) -> Vec<(EmployeeKey, bool)> {
    let by_email: HashMap<String, usize> = directory
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.email.is_empty() && e.merged_into.is_none())
        .map(|(i, e)| (email_key(&e.email), i))
        .collect();
    let reports_to = directory.iter().filter(|e| e.active).filter_map(|e| {
        by_email
            .get(&email_key(e.manager_email.as_deref()?))
            .copied()
    });
    let has_report = has_active_report(directory.len(), reports_to);
    directory
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let flag = e.active && has_report[i];
            (flag != e.is_manager).then_some((e.key, flag))
        })
        .collect()
}

/// Turn admin edits (employees as they should be) into a plan of updates, with
/// `is_manager` re-derived over the whole directory.
pub fn edits(directory: &[Employee], changed: Vec<Employee>, rule: Rule, today: Date) -> Plan {
    let index: HashMap<EmployeeKey, usize> = directory
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key, i))
        .collect();
    let mut after: BTreeMap<usize, Employee> = BTreeMap::new();
    for e in changed {
        if let Some(&i) = index.get(&e.key) {
            after.insert(i, e);
        }
    }
    let mut merged: Vec<Employee> = directory.to_vec();
    for (i, e) in &after {
        merged[*i] = e.clone();
    }
    for (key, flag) in manager_flags(&merged) {
        let i = index[&key];
        after
            .entry(i)
            .or_insert_with(|| merged[i].clone())
            .is_manager = flag;
    }
    let mut entries = Vec::new();
    let mut counts = Counts::default();
    for (i, a) in after {
        let before = &directory[i];
        let changes = Change::between(before, &a, |field| {
            if field == "is_manager" {
                Rule::Derived
            } else {
                rule
            }
        });
        if changes.is_empty() {
            continue;
        }
        let entry = Entry {
            action: Action::between(before, &a),
            key: Some(before.key),
            changes,
            after: a,
            privacy: false,
            id_change: false,
            possible_duplicate_of: None,
        };
        counts.add(&entry);
        entries.push(entry);
    }
    entries.sort_by(|a, b| {
        a.action
            .cmp(&b.action)
            .then_with(|| a.employee_id().cmp(b.employee_id()))
    });
    Plan {
        today,
        complete: false,
        counts,
        entries,
        issues: Vec::new(),
        mass_change: MassChange::default(),
    }
}

/// Future end dates that have come due: deactivate those employees today even though
/// the source did not change (DESIGN §6).
pub fn tick(directory: &[Employee], today: Date) -> Plan {
    let due: Vec<Employee> = directory
        .iter()
        .filter(|e| e.active && e.merged_into.is_none() && e.end_date.is_some_and(|d| d <= today))
        .map(|e| {
            let mut e = e.clone();
            e.active = false;
            e.deactivation_reason = Some(DeactivationReason::EndDate);
            e
        })
        .collect();
    edits(directory, due, Rule::EndDate, today)
}
