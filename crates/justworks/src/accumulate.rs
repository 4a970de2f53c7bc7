//! The members of one fetch, gathered page by page: parsed, mapped, a member
//! repeated across pages kept once (the later copy), the unreadable rejected.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use roster_core::member::{RejectedMember, SourceMember};
use roster_source::MemberFn;

use crate::known::Asker;
use crate::mapping::{Presence, map_member};
use crate::wire::{Page, parse_item, readable_id};

/// Duplicate ids named in the diagnostic at most.
const DUPLICATES_NAMED: usize = 10;

/// Members gathered during one fetch.
#[derive(Default)]
pub(crate) struct Accumulator {
    pub members: Vec<SourceMember>,
    pub manager_ids: Vec<Option<String>>,
    /// Where each source id is in `members` (Fx: hashing 100k ids with the
    /// standard library's SipHash, here and again when managers are resolved, was
    /// ≈ 1 % of a daily sync's CPU).
    pub index: FxHashMap<String, usize>,
    pub rejected: Vec<RejectedMember>,
    pub duplicates: usize,
    pub duplicate_ids: Vec<String>,
    pub items: usize,
    pub presence: Presence,
    /// An incremental fetch's look-up of managers in what Roster knows, fed with
    /// each page's manager ids.
    pub asker: Option<Asker>,
}

/// Members a hint reserves room for at most (≈ 600 MB of address space, touched only
/// as members arrive): beyond, the room grows as they do.
const EXPECTED_AT_MOST: usize = 2_000_000;

impl Accumulator {
    /// An accumulator with room for `expected` members (capped), so that a large
    /// list is not copied each time its room doubles (a 100k daily sync's members
    /// were copied ≈ 30 MB over and their fresh pages faulted in: ≈ 7 % of the
    /// mapping thread's CPU; issue #15, session 22).
    pub fn expecting(expected: Option<usize>) -> Self {
        let n = expected.unwrap_or(0).min(EXPECTED_AT_MOST);
        let mut acc = Accumulator::default();
        acc.members.reserve_exact(n);
        acc.manager_ids.reserve_exact(n);
        acc.index.reserve(n);
        acc
    }

    pub fn ingest(&mut self, page: &Page) {
        let first = self.manager_ids.len();
        self.members.reserve(page.items.len());
        self.index.reserve(page.items.len());
        for i in 0..page.items.len() {
            self.items += 1;
            let bytes = page.item(i);
            match parse_item(bytes) {
                Ok(wire) => {
                    let mapped = map_member(wire, self.members.len() + 1, &mut self.presence);
                    if mapped.member.source_id.trim().is_empty() {
                        self.reject(None, "empty `id`".into());
                        continue;
                    }
                    match self.index.get(&mapped.member.source_id) {
                        Some(&at) => {
                            // Seen on an earlier page: the later copy wins.
                            self.duplicates += 1;
                            if self.duplicate_ids.len() < DUPLICATES_NAMED {
                                self.duplicate_ids.push(mapped.member.source_id.clone());
                            }
                            tracing::debug!(member = %mapped.member.source_id, "justworks: member repeated across pages");
                            self.members[at] = mapped.member;
                            self.manager_ids[at] = mapped.manager_id;
                        }
                        None => {
                            self.index
                                .insert(mapped.member.source_id.clone(), self.members.len());
                            self.members.push(mapped.member);
                            self.manager_ids.push(mapped.manager_id);
                        }
                    }
                }
                Err(reason) => {
                    let id = readable_id(bytes);
                    self.reject(id, reason);
                }
            }
        }
        // Managers among the members fetched so far are resolved from them: not asked.
        if let Some(asker) = &mut self.asker {
            let index = &self.index;
            asker.ask(
                self.manager_ids[first..]
                    .iter()
                    .flatten()
                    .filter(|id| !index.contains_key(*id)),
            );
        }
    }

    pub fn reject(&mut self, source_id: Option<String>, reason: String) {
        tracing::warn!(member = ?source_id, position = self.items, reason = %reason, "justworks: member rejected");
        self.rejected.push(RejectedMember {
            source_id,
            position: self.items,
            reason,
        });
    }
}

/// Members of the pages of one survey, each handed on as it is mapped (once per
/// id, the first copy) and not held.
pub(crate) struct Visitor {
    seen: HashSet<String>,
    presence: Presence,
    visit: MemberFn,
}

impl Visitor {
    pub fn new(visit: MemberFn) -> Self {
        Visitor {
            seen: HashSet::new(),
            presence: Presence::default(),
            visit,
        }
    }

    pub fn ingest(&mut self, page: &Page) {
        for i in 0..page.items.len() {
            // An unreadable member is left out (a fetch reports it; a survey counts).
            let Ok(wire) = parse_item(page.item(i)) else {
                continue;
            };
            let mapped = map_member(wire, self.seen.len() + 1, &mut self.presence);
            let id = &mapped.member.source_id;
            if id.trim().is_empty() || !self.seen.insert(id.clone()) {
                continue;
            }
            (self.visit)(mapped.member);
        }
    }

    /// Members handed on.
    pub fn count(&self) -> usize {
        self.seen.len()
    }
}
