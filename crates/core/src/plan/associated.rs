//! Step 7: associated fields, a demographic that names another employee by member id
//! or email, resolved to that employee's email.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::lifecycle::Hollow;
use super::types::Rule;
use super::work::{Planner, Slot, issue_for};
use crate::issue::{IssueCode, Severity};
use crate::normalise::email_key;

impl Planner<'_> {
    /// Step 7: a member id or email → that employee's email; unresolved values are
    /// cleared, with a warning.
    pub(super) fn associated(&mut self, records: &[Hollow], record_slot: &[(Slot, usize)]) {
        let any_associated = record_slot
            .iter()
            .any(|&(_, ri)| !records[ri].associated.is_empty());
        if !any_associated {
            return;
        }
        let mut email_of_source: HashMap<String, String> = HashMap::default();
        let mut known_email: HashSet<String> = HashSet::default();
        for slot in self.work.slots() {
            let e = self.work.get(slot);
            if let Some(s) = &e.source_id {
                email_of_source.insert(s.clone(), e.email.clone());
            }
            known_email.insert(email_key(&e.email));
        }
        let mut updates: Vec<(Slot, String, Option<String>)> = Vec::new();
        for &(slot, ri) in record_slot {
            let r = &records[ri];
            for (demo, raw) in &r.associated {
                let resolved = email_of_source
                    .get(raw)
                    .cloned()
                    .filter(|e| !e.is_empty())
                    .or_else(|| {
                        known_email
                            .contains(&email_key(raw))
                            .then(|| raw.to_string())
                    });
                if resolved.is_none() {
                    self.issues.push(issue_for(
                        r,
                        Severity::Warning,
                        IssueCode::AssociatedUnresolved,
                        Some(demo),
                        format!("{demo} refers to {raw:?}, which is no employee in the sync"),
                    ));
                }
                updates.push((slot, demo.to_string(), resolved));
            }
        }
        let mut last: Option<Slot> = None;
        for (slot, demo, value) in updates {
            if let Some(done) = last.filter(|&l| l != slot) {
                self.work.get_mut(done).demographics.shrink_to_fit();
            }
            last = Some(slot);
            let e = self.work.get_mut(slot);
            match value {
                Some(v) => {
                    e.demographics.insert(demo.as_str(), v);
                }
                None => {
                    e.demographics.remove(&demo);
                }
            }
            self.work
                .rule(slot, &format!("demographic:{demo}"), Rule::Associated);
        }
        // An insert grows the vector (to twice its size): kept employees hold none spare.
        if let Some(done) = last {
            self.work.get_mut(done).demographics.shrink_to_fit();
        }
    }
}
