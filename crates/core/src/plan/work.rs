//! The planner's scratchpad: the [`Planner`] context every step is a method of, and
//! the [`Work`] copy of the directory the steps change.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};

use jiff::civil::Date;
use rayon::slice::ParallelSliceMut;
use rustc_hash::FxHashMap as HashMap;

use super::part::Rest;
use super::types::{PlanOptions, Rule};
use crate::employee::Employee;
use crate::issue::{Issue, IssueCode, Severity};
use crate::normalise::Record;
use crate::settings::Settings;

/// Where an employee of the final state lives while planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Slot {
    Existing(usize),
    New(usize),
}

/// The final state being built: the directory, the rows that change and the rows
/// created, and the rule behind each field that does not simply follow the source.
pub(super) struct Work<'a> {
    pub(super) directory: &'a [Employee],
    /// Changed copies of directory rows by index.
    pub(super) touched: BTreeMap<usize, Employee>,
    /// The rows created, in chunks (see [`Chunked`]).
    pub(super) created: Chunked<Employee>,
    /// Special rules per directory row (by index) and field (default: `Rule::Source`):
    /// only an update's changes carry their rule, a create's entry records none.
    pub(super) rules: HashMap<usize, BTreeMap<String, Rule>>,
}

impl<'a> Work<'a> {
    pub(super) fn new(directory: &'a [Employee]) -> Self {
        Work {
            directory,
            touched: BTreeMap::new(),
            created: Chunked::default(),
            rules: HashMap::default(),
        }
    }

    pub(super) fn get(&self, slot: Slot) -> &Employee {
        match slot {
            Slot::Existing(i) => self.touched.get(&i).unwrap_or(&self.directory[i]),
            Slot::New(i) => &self.created[i],
        }
    }

    pub(super) fn get_mut(&mut self, slot: Slot) -> &mut Employee {
        match slot {
            Slot::Existing(i) => {
                let dir = self.directory;
                self.touched.entry(i).or_insert_with(|| dir[i].clone())
            }
            Slot::New(i) => &mut self.created[i],
        }
    }

    /// Store an employee's new state, computed apart: a directory row only when it
    /// differs.
    pub(super) fn put(&mut self, slot: Slot, e: Cow<'_, Employee>) {
        match (slot, e) {
            (Slot::New(i), e) => self.created[i] = e.into_owned(),
            (Slot::Existing(i), Cow::Owned(e)) => {
                if e != self.directory[i] {
                    self.touched.insert(i, e);
                }
            }
            (Slot::Existing(_), Cow::Borrowed(_)) => {}
        }
    }

    /// The rule behind a field of a directory row's new state. A created employee's
    /// is not kept: nothing reads it (a first import of a million members, 133k of
    /// them managers, kept a map for each).
    pub(super) fn rule(&mut self, slot: Slot, field: &str, rule: Rule) {
        if let Slot::Existing(i) = slot {
            self.rules
                .entry(i)
                .or_default()
                .insert(field.to_string(), rule);
        }
    }

    pub(super) fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        (0..self.directory.len())
            .map(Slot::Existing)
            .chain((0..self.created.len()).map(Slot::New))
    }

    /// Slots as dense indices: directory rows, then created ones.
    pub(super) fn dense(&self, slot: Slot) -> usize {
        match slot {
            Slot::Existing(i) => i,
            Slot::New(i) => self.directory.len() + i,
        }
    }

    /// The number of dense indices.
    pub(super) fn len(&self) -> usize {
        self.directory.len() + self.created.len()
    }
}

/// The context of one planning run. Each step of [`super::plan`] is a method; the
/// steps add to `issues` and `skipped` and change `work`.
pub(super) struct Planner<'a> {
    pub(super) directory: &'a [Employee],
    pub(super) settings: &'a Settings,
    pub(super) today: Date,
    pub(super) options: &'a PlanOptions,
    /// When `directory` is a part of the directory: what planning needs of the rest
    /// (see [`super::plan_part`]).
    pub(super) rest: Option<&'a Rest>,
    /// Every issue found so far, in no particular order (sorted at the end).
    pub(super) issues: Vec<Issue>,
    /// Members left out so far: rejected, not imported, invalid or conflicting.
    pub(super) skipped: usize,
    /// Members matched to an anonymised record and left erased (inactive in the
    /// source): `Counts::erased_left`.
    pub(super) erased_left: usize,
    /// The source's emails of those members (email keys) → their anonymous record's
    /// (neutral) email, or `None` when it was removed: a manager named by such an
    /// email is named by the neutral one (or by nobody).
    pub(super) erased_emails: HashMap<String, Option<String>>,
    pub(super) work: Work<'a>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(
        directory: &'a [Employee],
        settings: &'a Settings,
        today: Date,
        options: &'a PlanOptions,
        rest: Option<&'a Rest>,
    ) -> Self {
        Planner {
            directory,
            settings,
            today,
            options,
            rest,
            issues: Vec::new(),
            skipped: 0,
            erased_left: 0,
            erased_emails: HashMap::default(),
            work: Work::new(directory),
        }
    }
}

/// Items kept in order in chunks of [`CHUNK`] instead of one vector. A first import
/// creates a million employees (≈ 300 MiB of them side by side): in one vector they
/// were moved whenever it grew, and again as it was given back while the entries
/// took them (each halving held the rest twice for a moment: ≈ 1.5 times what was
/// left, beside the entries). Here a chunk is freed as soon as its last item is
/// taken, and nothing is moved but the items themselves.
pub(super) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

/// Items in a chunk of [`Chunked`]: ≈ 1.2 MiB of employees.
const CHUNK: usize = 4096;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub(super) fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// The items in order, each chunk freed once its last item is taken.
    pub(super) fn into_giving_back(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// Members (or their records) a plan holds twice over at most, to keep both cores
/// busy: up to this many (≈ 60 MB at 100k) members are normalised in one batch and
/// the lifecycle's remains are freed beside the entries; beyond (a million members'
/// first import) the room is given back first, for the peak's sake (session 22).
pub(super) const HELD_TWICE_UP_TO: usize = 131_072;

/// The items of `items` in order, each moved out as it is taken, the vector's room
/// given back as it empties (halving: each item is moved at most once more in all).
/// A step consuming a million items into another vector holds both only in part.
pub(super) struct GivingBack<T>(VecDeque<T>);

impl<T> GivingBack<T> {
    pub(super) fn new(items: Vec<T>) -> Self {
        GivingBack(VecDeque::from(items))
    }
}

impl<T> Iterator for GivingBack<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let item = self.0.pop_front()?;
        if self.0.len() < self.0.capacity() / 2 {
            self.0.shrink_to_fit();
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0.len(), Some(self.0.len()))
    }
}

impl<T> ExactSizeIterator for GivingBack<T> {}

/// Sort `items` as a stable sort by `compare` does, moving each item once: the order
/// is found over indices, then each cycle of the permutation is followed by swaps.
/// A stable sort of the items themselves would hold half of them again (a million
/// records or entries of a few hundred bytes each) and move each at every step.
/// The order is found on every core (a 100k daily sync's records were a sixth of the
/// plan's time on one core; issue #15). A prefix of each item's key is taken first
/// (`prefix`: a number that orders as `compare` does wherever two prefixes differ)
/// and sorted beside the index: most comparisons are then of two numbers side by
/// side, not of two items each behind an index (compared by source id behind
/// indices, the records missed the cache at every step: the plan step of a 100k
/// daily sync is 13 % shorter without it; session 18). Equal prefixes are compared
/// in full.
pub(super) fn sort_in_place_by_prefix<T: Sync>(
    items: &mut [T],
    prefix: impl Fn(&T) -> u128 + Sync,
    compare: impl Fn(&T, &T) -> Ordering + Sync,
) {
    let mut order: Vec<(u128, usize)> = items.iter().map(prefix).zip(0..).collect();
    order.par_sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| compare(&items[a.1], &items[b.1]))
    });
    place(items, order.into_iter().map(|(_, i)| i).collect());
}

/// The first sixteen bytes of `text` as a number, zeros after its end: where two
/// texts' numbers differ, they order as the texts do (bytewise, as `str::cmp`).
pub(super) fn text_prefix(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let head = &text.as_bytes()[..text.len().min(16)];
    bytes[..head.len()].copy_from_slice(head);
    u128::from_be_bytes(bytes)
}

/// Move the item at `order[k]` to `k`, for every `k`, following each cycle of the
/// permutation by swaps.
fn place<T>(items: &mut [T], mut order: Vec<usize>) {
    const PLACED: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != PLACED {
            let from = std::mem::replace(&mut order[at], PLACED);
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// A record, or what the lifecycle left of it: the member an issue is about, as
/// (position, source id, employee ID).
pub(super) trait Member {
    fn member(&self) -> (usize, &str, Option<&str>);
}

impl Member for Record {
    fn member(&self) -> (usize, &str, Option<&str>) {
        (self.position, &self.source_id, self.employee_id.as_deref())
    }
}

/// An issue about the member behind `r`.
pub(super) fn issue_for(
    r: &impl Member,
    sev: Severity,
    code: IssueCode,
    field: Option<&str>,
    message: String,
) -> Issue {
    let (position, source_id, employee_id) = r.member();
    Issue {
        position: Some(position),
        severity: sev,
        code,
        source_id: Some(source_id.to_string()),
        employee_id: employee_id.map(str::to_string),
        field: field.map(str::to_string),
        message,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{GivingBack, Slot, Work, sort_in_place_by_prefix, text_prefix};
    use crate::employee::Employee;
    use crate::plan::types::Rule;

    /// A directory row's rules are kept for its update's changes; a created
    /// employee's are not kept at all.
    #[test]
    fn rules_are_kept_for_directory_rows_only() {
        let directory = [Employee::default()];
        let mut work = Work::new(&directory);
        work.created.push(Employee::default());
        work.rule(Slot::New(0), "is_manager", Rule::Derived);
        assert!(work.rules.is_empty(), "{:?}", work.rules);
        work.rule(Slot::Existing(0), "is_manager", Rule::Derived);
        assert_eq!(work.rules[&0]["is_manager"], Rule::Derived);
        assert_eq!(work.rules.len(), 1);
    }

    /// Items by index as a vector holds them, across chunks; taken back in order,
    /// each chunk freed as its last item is taken.
    #[test]
    fn chunked_items_read_and_come_back_as_a_vectors() {
        let n = 2 * super::CHUNK + 5;
        let mut items = super::Chunked::default();
        for i in 0..n {
            items.push(i);
        }
        assert_eq!(items.len(), n);
        assert_eq!(items.chunks.len(), 3);
        assert!(items.chunks.iter().all(|c| c.capacity() == super::CHUNK));
        items[super::CHUNK + 1] += 1_000_000;
        assert_eq!(items[super::CHUNK + 1], super::CHUNK + 1 + 1_000_000);
        items[super::CHUNK + 1] -= 1_000_000;
        assert_eq!(items[n - 1], n - 1);
        assert!(items.iter().copied().eq(0..n));
        // Rc counts show when each chunk is freed.
        let rcs: Vec<std::rc::Rc<()>> = (0..n).map(|_| std::rc::Rc::new(())).collect();
        let mut held = super::Chunked::default();
        for rc in &rcs {
            held.push(std::rc::Rc::clone(rc));
        }
        let mut taken = held.into_giving_back();
        let first: Vec<_> = taken.by_ref().take(super::CHUNK + 1).collect();
        drop(first);
        assert_eq!(
            std::rc::Rc::strong_count(&rcs[0]),
            1,
            "the first chunk is freed"
        );
        assert_eq!(std::rc::Rc::strong_count(&rcs[super::CHUNK + 1]), 2);
        assert_eq!(taken.count(), n - super::CHUNK - 1);
    }

    /// Every item, in order; the vector shrinks as it empties.
    #[test]
    fn giving_back_yields_every_item_in_order_and_shrinks() {
        let mut items = GivingBack::new((0..1000).collect::<Vec<u32>>());
        let first: Vec<u32> = items.by_ref().take(600).collect();
        assert_eq!(first, (0..600).collect::<Vec<_>>());
        assert!(
            items.0.capacity() < 1000,
            "room given back: {}",
            items.0.capacity()
        );
        assert_eq!(items.len(), 400);
        assert_eq!(items.collect::<Vec<_>>(), (600..1000).collect::<Vec<_>>());
    }

    proptest! {
        /// With a prefix of the key first, the order is the same as without it.
        #[test]
        fn sorting_by_a_prefix_first_gives_the_same_order(
            items in proptest::collection::vec(
                ("(mbr_|m|)[a-c\\x00]{0,20}", 0u8..3), 0..200)
        ) {
            let compare = |a: &(String, u8), b: &(String, u8)| a.0.cmp(&b.0).then(a.1.cmp(&b.1));
            let mut expected = items.clone();
            expected.sort_by(compare);
            let mut sorted = items;
            sort_in_place_by_prefix(&mut sorted, |t| text_prefix(&t.0), compare);
            prop_assert_eq!(sorted, expected);
        }

        /// Two texts' prefixes never order against the texts.
        #[test]
        fn a_texts_prefix_orders_as_the_text(a in "[a-c\\x00é]{0,20}", b in "[a-c\\x00é]{0,20}") {
            let (pa, pb) = (text_prefix(&a), text_prefix(&b));
            if pa != pb {
                prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
            }
        }

        /// Moved in place, the items come in the order a stable sort gives (equal
        /// keys keep their order: the second element tells them apart).
        #[test]
        fn sorting_in_place_gives_the_stable_sorts_order(
            items in proptest::collection::vec((0u8..5, any::<u32>()), 0..200)
        ) {
            let mut expected = items.clone();
            expected.sort_by_key(|&(k, _)| k);
            // No prefix (all equal), and the key itself as the prefix.
            let mut sorted = items.clone();
            sort_in_place_by_prefix(&mut sorted, |_| 0, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(&sorted, &expected);
            let mut sorted = items;
            sort_in_place_by_prefix(&mut sorted, |t| u128::from(t.0), |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(sorted, expected);
        }
    }
}
