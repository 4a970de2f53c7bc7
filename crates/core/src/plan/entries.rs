//! Step 9: the final state as entries, one per employee that changes, and the counts.

use rustc_hash::FxHashMap as HashMap;

use super::lifecycle::Placed;
use super::types::{Action, Change, Counts, Entry, Rule};
use super::work::{Planner, Slot, sort_in_place_by_prefix, text_prefix};
use crate::guard::privacy_guarded;

impl Planner<'_> {
    /// Step 9: an entry per changed or created employee, sorted by action, then
    /// employee ID; and the counts (all but skipped, errors and warnings).
    pub(super) fn entries(
        &mut self,
        placed: &mut Placed,
        record_of: &HashMap<Slot, usize>,
    ) -> (Vec<Entry>, Counts) {
        // Matched rows left untouched; those touched but unchanged are added below.
        let unchanged = placed
            .record_slot
            .iter()
            .filter(|(s, _)| matches!(s, Slot::Existing(i) if !self.work.touched.contains_key(i)))
            .count();
        let mut counts = Counts {
            unchanged,
            ..Counts::default()
        };
        let mut entries = self.updates(record_of, &mut counts);
        // The employees' room is given back as they move into entries, a chunk at
        // a time (a first import of a million would otherwise hold both).
        let created = std::mem::take(&mut self.work.created);
        entries.reserve_exact(created.len());
        for (i, after) in created.into_giving_back().enumerate() {
            if after.employee_id.is_empty() {
                continue;
            }
            entries.push(Entry {
                action: Action::Create,
                key: None,
                changes: Vec::new(),
                after,
                privacy: false,
                id_change: false,
                possible_duplicate_of: placed.possible_dups.remove(&Slot::New(i)),
            });
        }
        sort_in_place_by_prefix(
            &mut entries,
            |e| entry_prefix(e.action, e.employee_id()),
            |a, b| {
                a.action
                    .cmp(&b.action)
                    .then_with(|| a.employee_id().cmp(b.employee_id()))
                    .then_with(|| a.key.cmp(&b.key))
            },
        );
        for e in &entries {
            counts.add(e);
        }
        (entries, counts)
    }

    /// The entries of the directory rows that change; a matched row whose copy
    /// turned out unchanged counts as unchanged.
    fn updates(&mut self, record_of: &HashMap<Slot, usize>, counts: &mut Counts) -> Vec<Entry> {
        let mut entries = Vec::new();
        let touched = std::mem::take(&mut self.work.touched);
        for (i, after) in touched {
            let before = &self.directory[i];
            let rules = self.work.rules.get(&i);
            let changes = Change::between(before, &after, |field| {
                rules
                    .and_then(|r| r.get(field))
                    .copied()
                    .unwrap_or(Rule::Source)
            });
            if changes.is_empty() {
                if record_of.contains_key(&Slot::Existing(i)) {
                    counts.unchanged += 1;
                }
                continue;
            }
            let privacy = privacy_guarded(self.settings, &changes);
            let id_change = changes.iter().any(|c| c.field == "employee_id");
            entries.push(Entry {
                action: Action::between(before, &after),
                key: Some(before.key),
                changes,
                after,
                privacy,
                id_change,
                possible_duplicate_of: None,
            });
        }
        entries
    }
}

/// An entry's place in the plan's order, as far as a number holds it: its action
/// (in the order actions sort), then the first fifteen bytes of its employee ID.
fn entry_prefix(action: Action, employee_id: &str) -> u128 {
    (u128::from(action as u8) << 120) | (text_prefix(employee_id) >> 8)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Create),
            Just(Action::Deactivate),
            Just(Action::Reactivate),
            Just(Action::Update),
            Just(Action::Remove),
        ]
    }

    proptest! {
        /// Where two entries' prefixes differ, they order as the entries do.
        #[test]
        fn an_entrys_prefix_orders_as_the_entry(
            a in (action(), "[a-c\\x00]{0,20}"),
            b in (action(), "[a-c\\x00]{0,20}"),
        ) {
            let (pa, pb) = (entry_prefix(a.0, &a.1), entry_prefix(b.0, &b.1));
            if pa != pb {
                prop_assert_eq!(pa.cmp(&pb), a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            }
        }
    }
}
