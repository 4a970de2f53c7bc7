//! Step 6: final emails stay unique.

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use super::lifecycle::Hollow;
use super::work::{Planner, Slot, issue_for};
use crate::issue::{IssueCode, Severity};
use crate::normalise::email_key_ref;

impl Planner<'_> {
    /// Step 6: a member taking an email another employee keeps is skipped (its changes
    /// are undone), one clash at a time until none is left.
    pub(super) fn unique_emails(
        &mut self,
        records: &[Hollow],
        by_email: &HashMap<Cow<'_, str>, usize>,
        record_slot: &mut Vec<(Slot, usize)>,
    ) {
        while let Some((a, b)) = self.email_clash(by_email) {
            let touched =
                |s: Slot| matches!(s, Slot::Existing(i) if self.work.touched.contains_key(&i));
            let loser = if matches!(b, Slot::New(_)) || touched(b) {
                b
            } else {
                a
            };
            let ri = record_slot
                .iter()
                .find(|(s, _)| *s == loser)
                .map(|(_, ri)| *ri);
            let other = self
                .work
                .get(if loser == a { b } else { a })
                .employee_id
                .clone();
            if let Some(ri) = ri {
                self.issues.push(issue_for(
                    &records[ri],
                    Severity::Error,
                    IssueCode::EmailTaken,
                    Some("email"),
                    format!("the member's email already belongs to employee {other}"),
                ));
            }
            self.skipped += 1;
            match loser {
                Slot::Existing(i) => {
                    self.work.touched.remove(&i);
                }
                Slot::New(i) => {
                    // Keep indices stable: blank the row so it is dropped later.
                    self.work.created[i].email.clear();
                    self.work.created[i].employee_id.clear();
                }
            }
            record_slot.retain(|(s, _)| *s != loser);
        }
    }

    /// The first two employees found with the same final email, the changed one
    /// second. Only changed rows can clash: each is checked against the unchanged
    /// directory (its email index) and against the other changed rows.
    fn email_clash(&self, by_email: &HashMap<Cow<'_, str>, usize>) -> Option<(Slot, Slot)> {
        let work = &self.work;
        let mut owner: HashMap<Cow<'_, str>, Slot> = HashMap::default();
        let changed = work
            .touched
            .iter()
            .map(|(i, e)| (Slot::Existing(*i), e))
            .chain(
                work.created
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (Slot::New(i), e)),
            );
        for (slot, e) in changed {
            if e.email.is_empty()
                || (matches!(slot, Slot::Existing(i) if self.directory[i].merged_into.is_some()))
            {
                continue;
            }
            let key = email_key_ref(&e.email);
            if let Some(&j) = by_email.get(key.as_ref())
                && Slot::Existing(j) != slot
                && !work.touched.contains_key(&j)
            {
                return Some((Slot::Existing(j), slot));
            }
            if let Some(prev) = owner.insert(key, slot) {
                return Some((prev, slot));
            }
        }
        None
    }
}
