//! The members of one fetch, gathered page by page: parsed, mapped, a member
//! repeated across pages kept once (the later copy), the unreadable rejected.

use std::collections::HashMap;

use roster_core::member::{RejectedMember, SourceMember};

use crate::mapping::{Presence, map_member};
use crate::wire::{Page, parse_item, readable_id};

/// Duplicate ids named in the diagnostic at most.
const DUPLICATES_NAMED: usize = 10;

/// Members gathered during one fetch.
#[derive(Default)]
pub(crate) struct Accumulator {
    pub members: Vec<SourceMember>,
    pub manager_ids: Vec<Option<String>>,
    pub index: HashMap<String, usize>,
    pub rejected: Vec<RejectedMember>,
    pub duplicates: usize,
    pub duplicate_ids: Vec<String>,
    pub items: usize,
    pub presence: Presence,
}

impl Accumulator {
    pub fn ingest(&mut self, page: &Page) {
        self.members.reserve(page.items.len());
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
