//! Incremental syncs plan over an outline of the directory: the rows to load in full
//! before planning, and those to load after (see ARCHITECTURE.md).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::types::Plan;
use crate::employee::{Employee, EmployeeKey};
use crate::member::SourceMember;
use crate::normalise::{email_key, email_key_ref};
use crate::settings::{EmployeeIds, Settings};

/// The rows of an outline directory (see [`Employee::outline`]) that planning
/// `members` needs in full: every row a member could match, by employee ID, source
/// ID or either of its emails (a superset of what [`plan`](super::plan) matches).
pub fn rows_to_load(
    outline: &[Employee],
    members: &[SourceMember],
    settings: &Settings,
) -> Vec<usize> {
    let mut ids: HashSet<&str> = HashSet::default();
    let mut emails: HashSet<String> = HashSet::default();
    for m in members {
        ids.insert(m.source_id.trim());
        for e in [&m.work_email, &m.personal_email].into_iter().flatten() {
            emails.insert(email_key(e));
        }
    }
    let by_id = settings.employee_ids == EmployeeIds::Source;
    outline
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            (by_id && ids.contains(e.employee_id.as_str()))
                || e.source_id.as_deref().is_some_and(|s| ids.contains(s))
                || (!e.email.is_empty() && emails.contains(email_key_ref(&e.email).as_ref()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Rows of `directory` that `plan` changes although they were not loaded in full
/// (`loaded[i]` false): derived changes such as `is_manager`. Load them and plan
/// again; the plan is then the one the whole directory gives.
pub fn rows_missing(plan: &Plan, directory: &[Employee], loaded: &[bool]) -> Vec<usize> {
    let index: HashMap<EmployeeKey, usize> = directory
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key, i))
        .collect();
    let mut rows: Vec<usize> = plan
        .entries
        .iter()
        .filter_map(|e| index.get(&e.key?).copied())
        .filter(|&i| !loaded[i])
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}
