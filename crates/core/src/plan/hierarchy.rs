//! Step 8, the hierarchy: managers not active in the sync, self-managers and cycles,
//! then `is_manager`. The `is_manager` rule itself ([`has_active_report`]) is shared
//! with the admin edits.

use std::borrow::Cow;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::lifecycle::Hollow;
use super::types::Rule;
use super::work::{Planner, Slot, issue_for};
use crate::issue::{Issue, IssueCode, Severity};
use crate::member::ManagerRef;
use crate::normalise::{email_key, email_key_ref};

/// `is_manager` is derived: an employee is a manager when active with at least one
/// active report. Returns, per index, whether one of the active employees names it as
/// manager, given the index of each active employee's manager (`reports_to`).
pub(super) fn has_active_report(
    len: usize,
    reports_to: impl IntoIterator<Item = usize>,
) -> Vec<bool> {
    let mut has_report = vec![false; len];
    for m in reports_to {
        has_report[m] = true;
    }
    has_report
}

/// Employees a thread looks at least before another takes over.
const HIERARCHY_MIN_LEN: usize = 1024;

impl<'a> Planner<'a> {
    /// Step 8: warn about managers not active in the sync, drop the links of
    /// self-managers and the link that closes each cycle, then derive `is_manager`.
    pub(super) fn hierarchy(
        &mut self,
        records: &[Hollow],
        record_slot: &[(Slot, usize)],
        record_of: &HashMap<Slot, usize>,
    ) {
        let final_slots: Vec<Slot> = self
            .work
            .slots()
            .filter(|s| match s {
                Slot::New(i) => !self.work.created[*i].employee_id.is_empty(),
                Slot::Existing(_) => true,
            })
            .collect();
        let by_email = self.final_emails(&final_slots);
        self.managers_not_in_sync(records, record_slot, &by_email);
        let mut managers = self.managers(&final_slots, &by_email);
        self.drop_cycles(records, record_of, &final_slots, &mut managers);
        let work = &self.work;
        let reports_to = final_slots
            .iter()
            .filter(|s| work.get(**s).active)
            .filter_map(|s| managers[work.dense(*s)])
            .map(|m| work.dense(m));
        let mut has_report = has_active_report(work.len(), reports_to);
        // Planning over a part: active reports outside it count too.
        if let Some(rest) = self.rest {
            for key in &rest.managed {
                if let Some(s) = by_email.get(key.as_str()) {
                    has_report[work.dense(*s)] = true;
                }
            }
        }
        for &s in &final_slots {
            let e = self.work.get(s);
            let is_manager = e.active && has_report[self.work.dense(s)];
            if e.is_manager != is_manager && e.merged_into.is_none() {
                self.work.get_mut(s).is_manager = is_manager;
                self.work.rule(s, "is_manager", Rule::Derived);
            }
        }
    }

    /// The final employees by email; merged ones are left out.
    fn final_emails(&self, final_slots: &[Slot]) -> HashMap<Cow<'a, str>, Slot> {
        let directory = self.directory;
        let mut by_email: HashMap<Cow<'a, str>, Slot> =
            HashMap::with_capacity_and_hasher(final_slots.len(), Default::default());
        for &s in final_slots {
            // Unchanged rows lend their email; changed ones are copied, as they change
            // below.
            let key = match s {
                Slot::Existing(i) if !self.work.touched.contains_key(&i) => {
                    let e = &directory[i];
                    (e.merged_into.is_none() && !e.email.is_empty())
                        .then(|| email_key_ref(&e.email))
                }
                _ => {
                    let e = self.work.get(s);
                    (e.merged_into.is_none() && !e.email.is_empty())
                        .then(|| Cow::Owned(email_key(&e.email)))
                }
            };
            if let Some(key) = key {
                by_email.insert(key, s);
            }
        }
        by_email
    }

    /// Each final employee's manager in the final directory, by `dense` index: the
    /// employee its manager email names (looked up on every core).
    fn managers(
        &self,
        final_slots: &[Slot],
        by_email: &HashMap<Cow<'_, str>, Slot>,
    ) -> Vec<Option<Slot>> {
        let work = &self.work;
        let found: Vec<Option<Slot>> = final_slots
            .par_iter()
            .with_min_len(HIERARCHY_MIN_LEN)
            .map(|s| {
                let m = work.get(*s).manager_email.as_deref()?;
                by_email.get(email_key_ref(m).as_ref()).copied()
            })
            .collect();
        let mut managers = vec![None; work.len()];
        for (s, m) in final_slots.iter().zip(found) {
            managers[work.dense(*s)] = m;
        }
        managers
    }

    /// A warning for each active member whose manager is not an active employee of
    /// the final directory.
    fn managers_not_in_sync(
        &mut self,
        records: &[Hollow],
        record_slot: &[(Slot, usize)],
        by_email: &HashMap<Cow<'_, str>, Slot>,
    ) {
        // Whether each member's manager is an active employee, found on every core;
        // the warnings then in order.
        let work = &self.work;
        let unlinked: Vec<bool> = record_slot
            .par_iter()
            .with_min_len(HIERARCHY_MIN_LEN)
            .map(|&(slot, ri)| {
                let email = records[ri].manager.email();
                let ok = |email: &str| {
                    by_email
                        .get(email_key_ref(email).as_ref())
                        .is_some_and(|m| work.get(*m).active)
                };
                work.get(slot).active && email.is_some_and(|e| !ok(e))
            })
            .collect();
        for (&(_, ri), _) in record_slot.iter().zip(unlinked).filter(|(_, u)| *u) {
            let r = &records[ri];
            let who = match source_id_of(&r.manager) {
                Some(id) => format!("manager {id}"),
                None => "the manager".to_string(),
            };
            self.issues.push(issue_for(
                r,
                Severity::Warning,
                IssueCode::ManagerNotInSync,
                Some("manager_email"),
                format!("{who} is not an active employee in the sync"),
            ));
        }
    }

    /// Self-managers and cycles, over the whole final directory (a functional graph):
    /// the link of a self-manager, and the link that closes each cycle, are dropped,
    /// with a warning.
    fn drop_cycles(
        &mut self,
        records: &[Hollow],
        record_of: &HashMap<Slot, usize>,
        final_slots: &[Slot],
        managers: &mut [Option<Slot>],
    ) {
        for (slot, code) in self.find_cycles(final_slots, managers) {
            let emp_id = self.work.get(slot).employee_id.clone();
            self.work.get_mut(slot).manager_email = None;
            managers[self.work.dense(slot)] = None;
            self.work.rule(slot, "manager_email", Rule::ManagerCycle);
            let message = if code == IssueCode::SelfManager {
                "the employee is their own manager; the link is dropped".to_string()
            } else {
                "this reporting line closes a manager cycle; the link is dropped".to_string()
            };
            let issue = match record_of.get(&slot) {
                Some(&ri) => issue_for(
                    &records[ri],
                    Severity::Warning,
                    code,
                    Some("manager_email"),
                    message,
                ),
                None => Issue {
                    position: None,
                    severity: Severity::Warning,
                    code,
                    source_id: None,
                    employee_id: Some(emp_id),
                    field: Some("manager_email".into()),
                    message,
                },
            };
            self.issues.push(issue);
        }
    }

    /// The employees whose manager link is a self-manager or closes a cycle, walking
    /// the reporting lines in employee ID order.
    fn find_cycles(
        &self,
        final_slots: &[Slot],
        managers: &[Option<Slot>],
    ) -> Vec<(Slot, IssueCode)> {
        let work = &self.work;
        let mut order: Vec<Slot> = final_slots
            .iter()
            .copied()
            .filter(|s| work.get(*s).manager_email.is_some())
            .collect();
        // Whether there is a self-manager or a cycle at all does not depend on the
        // order of the walk, only which link closes a cycle does: walk in the order
        // at hand first, and sort by employee ID only when there is one (rarely).
        if self.walk_cycles(&order, managers).is_empty() {
            return Vec::new();
        }
        order.sort_by(|a, b| work.get(*a).employee_id.cmp(&work.get(*b).employee_id));
        self.walk_cycles(&order, managers)
    }

    /// The links [`Self::find_cycles`] drops, walking the reporting lines from each
    /// slot of `order` in turn.
    fn walk_cycles(&self, order: &[Slot], managers: &[Option<Slot>]) -> Vec<(Slot, IssueCode)> {
        let work = &self.work;
        // 0 = not seen, 1 = on the current path, 2 = done; indexed by `dense`.
        let mut state: Vec<u8> = vec![0; work.len()];
        let mut drops: Vec<(Slot, IssueCode)> = Vec::new();
        let mut path = Vec::new();
        for &start in order {
            if state[work.dense(start)] != 0 {
                continue;
            }
            let mut cur = start;
            loop {
                state[work.dense(cur)] = 1;
                path.push(cur);
                let next = managers[work.dense(cur)];
                match next {
                    Some(n) if n == cur => {
                        drops.push((cur, IssueCode::SelfManager));
                        break;
                    }
                    Some(n) if state[work.dense(n)] == 1 => {
                        drops.push((cur, IssueCode::ManagerCycle));
                        break;
                    }
                    Some(n) if state[work.dense(n)] == 0 => cur = n,
                    _ => break,
                }
            }
            for p in path.drain(..) {
                state[work.dense(p)] = 2;
            }
        }
        drops
    }
}

fn source_id_of(m: &ManagerRef) -> Option<&str> {
    match m {
        ManagerRef::Resolved { source_id, .. }
        | ManagerRef::NoWorkEmail { source_id }
        | ManagerRef::NotInSnapshot { source_id } => Some(source_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::employee::Employee;
    use crate::plan::PlanOptions;
    use crate::settings::Settings;

    proptest! {
        /// The shortcut of `find_cycles` (walk unsorted, sort only when there is a
        /// cycle) drops the links the walk in employee ID order drops.
        #[test]
        fn the_unsorted_cycle_check_drops_what_the_sorted_walk_drops(
            links in prop::collection::vec((0u8..24, prop::option::weighted(0.8, 0u8..24)), 0..24)
        ) {
            let directory: Vec<Employee> = links
                .iter()
                .enumerate()
                .map(|(i, (id, m))| Employee {
                    key: i as i64 + 1,
                    employee_id: format!("e{id:02}-{i}"),
                    email: format!("P{i}@x.example"),
                    manager_email: m.map(|m| format!("p{m}@X.example")),
                    active: true,
                    ..Employee::default()
                })
                .collect();
            let (settings, options) = (Settings::default(), PlanOptions::default());
            let p = Planner::new(&directory, &settings, jiff::civil::date(2026, 1, 1), &options, None);
            let slots: Vec<Slot> = p.work.slots().collect();
            let by_email = p.final_emails(&slots);
            let managers = p.managers(&slots, &by_email);
            let mut sorted: Vec<Slot> = slots
                .iter()
                .copied()
                .filter(|s| p.work.get(*s).manager_email.is_some())
                .collect();
            sorted.sort_by(|a, b| p.work.get(*a).employee_id.cmp(&p.work.get(*b).employee_id));
            prop_assert_eq!(p.find_cycles(&slots, &managers), p.walk_cycles(&sorted, &managers));
        }
    }
}
