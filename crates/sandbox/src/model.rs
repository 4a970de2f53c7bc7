//! The company the sandbox serves: its profile, custom field definitions and members.
//!
//! Members are kept in a `Vec` sorted by `(created_at, id)` — the list order — with a
//! hash index from id to position, so a page is a binary search plus a slice walk.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use jiff::Timestamp;
use jiff::civil::Date;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::arena::{Pool, Span, Str, Text};

/// An address in owned form (company and office addresses, and member input).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireAddress {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl WireAddress {
    /// Applies the empty-value rule: empty strings become absent.
    pub(crate) fn normalised(mut self) -> Self {
        for f in [
            &mut self.kind,
            &mut self.line1,
            &mut self.line2,
            &mut self.city,
            &mut self.state,
            &mut self.postal_code,
            &mut self.country,
        ] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == WireAddress::default()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Department {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Office {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<WireAddress>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WirePhone {
    pub number: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `GET /v1/company`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompanyProfile {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub addresses: Vec<WireAddress>,
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub offices: Vec<Office>,
    #[serde(default)]
    pub phones: Vec<WirePhone>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub country_data: serde_json::Map<String, serde_json::Value>,
    pub created_at: Timestamp,
    #[serde(default = "Timestamp::default")]
    pub updated_at: Timestamp,
}

/// One entry of `GET /v1/company/custom-fields`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomFieldDef {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
    pub cardinality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Email {
    pub address: Str,
    pub kind: Str,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Phone {
    pub number: Str,
    pub kind: Str,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Address {
    pub kind: Str,
    pub line1: Str,
    pub line2: Str,
    pub city: Str,
    pub state: Str,
    pub postal_code: Str,
    pub country: Str,
}

/// One entry of `current_employment`: `{ "<country>": { "employment_type": … } }`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Employment {
    pub country: Str,
    pub employment_type: Str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    pub start: Option<Date>,
    pub end: Option<Date>,
}

/// One value of one custom field; a multi-valued field has several entries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CustomValue {
    pub field: u16,
    pub value: Str,
}

/// A member, stored compactly. Empty [`Str`]s and `None`s are absent on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub id: Str,
    pub work_id: Str,
    pub given_name: Str,
    pub family_name: Str,
    pub preferred_name: Str,
    pub full_preferred_name: Str,
    pub additional_names: Span<Str>,
    pub kind: Str,
    pub location_type: Str,
    pub sex: Str,
    pub emails: Span<Email>,
    pub phones: Span<Phone>,
    pub addresses: Span<Address>,
    pub employment: Span<Employment>,
    pub history: Span<Period>,
    pub custom: Span<CustomValue>,
    pub date_added: Option<Date>,
    pub dob: Option<Date>,
    pub start_date: Option<Date>,
    pub termination_date: Option<Date>,
    pub department: Option<u16>,
    pub office: Option<u16>,
    pub job_title: Str,
    pub manager: Str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub active: bool,
    pub hidden: bool,
}

/// The company and everything about it that can change.
pub(crate) struct Company {
    pub profile: CompanyProfile,
    pub custom_fields: Vec<CustomFieldDef>,
    /// Domain for work emails of members hired at run time.
    pub domain: String,
    pub text: Text,
    pub names: Pool<Str>,
    pub emails: Pool<Email>,
    pub phones: Pool<Phone>,
    pub addresses: Pool<Address>,
    pub employment: Pool<Employment>,
    pub periods: Pool<Period>,
    pub custom: Pool<CustomValue>,
    /// Sorted by `(created_at, id)`. Change a member through [`Company::insert`] and
    /// [`Company::replace`] once loaded: they keep `stamps` beside it.
    pub members: Vec<Member>,
    /// Each member's `updated_at`, in list order ([`Company::stamps`]).
    stamps: Vec<Timestamp>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    pub today: Date,
    last_ts: Timestamp,
    /// Randomness for run-time changes (hires), seeded from the config so runs repeat.
    pub rng: ChaCha8Rng,
    pub next_work_id: u64,
}

impl std::fmt::Debug for Company {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Company")
            .field("id", &self.profile.id)
            .field("members", &self.members.len())
            .field("today", &self.today)
            .finish_non_exhaustive()
    }
}

/// A member id used twice.
#[derive(Debug)]
pub(crate) struct DuplicateId(pub String);

impl Company {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        profile: CompanyProfile,
        custom_fields: Vec<CustomFieldDef>,
        domain: String,
        today: Date,
        rng: ChaCha8Rng,
        capacity: usize,
    ) -> Self {
        Company {
            profile,
            custom_fields,
            domain,
            text: Text::with_capacity(capacity * 160),
            names: Pool::default(),
            emails: Pool::with_capacity(capacity * 2),
            phones: Pool::with_capacity(capacity + capacity / 5),
            addresses: Pool::with_capacity(capacity),
            employment: Pool::with_capacity(capacity),
            periods: Pool::with_capacity(capacity + capacity / 20),
            custom: Pool::with_capacity(capacity * 3),
            members: Vec::with_capacity(capacity),
            stamps: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            today,
            last_ts: Timestamp::UNIX_EPOCH,
            rng,
            next_work_id: 1,
        }
    }

    fn cmp_key(text: &Text, m: &Member, created_at: Timestamp, id: &str) -> Ordering {
        m.created_at
            .cmp(&created_at)
            .then_with(|| text.get(m.id).cmp(id))
    }

    /// Sorts the members into list order, builds the id index and starts the clock
    /// after the latest timestamp. Fails on a repeated id.
    pub(crate) fn finish_loading(&mut self) -> Result<(), DuplicateId> {
        let text = &self.text;
        self.members.sort_unstable_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| text.get(a.id).cmp(text.get(b.id)))
        });
        self.rebuild_index()?;
        self.stamps = self.members.iter().map(|m| m.updated_at).collect();
        let latest = self
            .members
            .iter()
            .flat_map(|m| [m.created_at, m.updated_at])
            .chain([self.profile.created_at, self.profile.updated_at])
            .max()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        self.last_ts = self.last_ts.max(latest);
        Ok(())
    }

    fn rebuild_index(&mut self) -> Result<(), DuplicateId> {
        let (text, members, hasher) = (&self.text, &self.members, &self.hasher);
        let mut index = HashTable::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let id = text.get(m.id);
            let hash = hasher.hash_one(id);
            if index
                .find(hash, |&p: &u32| text.get(members[p as usize].id) == id)
                .is_some()
            {
                return Err(DuplicateId(id.to_owned()));
            }
            index.insert_unique(hash, u32::try_from(i).expect("too many members"), |&p| {
                hasher.hash_one(text.get(members[p as usize].id))
            });
        }
        self.index = index;
        Ok(())
    }

    /// Position of the member with this id (hidden ones included).
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.index
            .find(hash, |&p| self.text.get(self.members[p as usize].id) == id)
            .map(|&p| p as usize)
    }

    /// Index of the first member whose key is after `(created_at, id)`.
    pub(crate) fn position_after(&self, created_at: Timestamp, id: &str) -> usize {
        self.members
            .partition_point(|m| Self::cmp_key(&self.text, m, created_at, id) != Ordering::Greater)
    }

    /// Adds a member in list order. The id must not be taken (checked by the caller).
    pub(crate) fn insert(&mut self, member: Member) -> usize {
        let id = self.text.get(member.id).to_owned();
        let pos = self.position_after(member.created_at, &id);
        self.members.insert(pos, member);
        self.stamps.insert(pos, member.updated_at);
        if pos + 1 == self.members.len() {
            let (text, members, hasher) = (&self.text, &self.members, &self.hasher);
            self.index.insert_unique(
                hasher.hash_one(id.as_str()),
                u32::try_from(pos).expect("too many members"),
                |&p| hasher.hash_one(text.get(members[p as usize].id)),
            );
        } else {
            self.rebuild_index()
                .expect("ids were unique before the insert");
        }
        self.bump_clock(member.created_at.max(member.updated_at));
        pos
    }

    /// Replaces the member at `pos` (same id), moving it if its list key changed.
    pub(crate) fn replace(&mut self, pos: usize, member: Member) -> usize {
        let old = self.members[pos];
        debug_assert_eq!(self.text.get(old.id), self.text.get(member.id));
        self.bump_clock(member.created_at.max(member.updated_at));
        if old.created_at == member.created_at {
            self.members[pos] = member;
            self.stamps[pos] = member.updated_at;
            return pos;
        }
        self.members.remove(pos);
        self.stamps.remove(pos);
        let id = self.text.get(member.id).to_owned();
        let new_pos = self.position_after(member.created_at, &id);
        self.members.insert(new_pos, member);
        self.stamps.insert(new_pos, member.updated_at);
        self.rebuild_index()
            .expect("ids were unique before the move");
        new_pos
    }

    /// The members' `updated_at` in list order, beside [`Company::members`]: a
    /// filtered list (`updated_at_gte`, …) reads these 16 bytes a member instead of
    /// each member's record (≈ 240 bytes) until one matches. An incremental sync of
    /// 1,000 changed members of a million pages through all of them (issue #15).
    pub(crate) fn stamps(&self) -> &[Timestamp] {
        debug_assert_eq!(self.stamps.len(), self.members.len());
        &self.stamps
    }

    fn bump_clock(&mut self, ts: Timestamp) {
        self.last_ts = self.last_ts.max(ts);
    }

    /// "Now" for change stamps: the wall clock to the microsecond, but always later
    /// than every timestamp handed out or stored before, so `updated_at_gt` filters
    /// never miss or repeat a change.
    pub(crate) fn now(&mut self) -> Timestamp {
        let wall = Timestamp::now();
        let wall = Timestamp::from_microsecond(wall.as_microsecond()).unwrap_or(wall);
        let next = self
            .last_ts
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(self.last_ts);
        let ts = wall.max(next);
        self.last_ts = ts;
        ts
    }

    pub(crate) fn department_index(&self, id: &str) -> Option<u16> {
        self.profile
            .departments
            .iter()
            .position(|d| d.id == id)
            .and_then(|i| u16::try_from(i).ok())
    }

    pub(crate) fn office_index(&self, id: &str) -> Option<u16> {
        self.profile
            .offices
            .iter()
            .position(|o| o.id == id)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// Approximate heap use, for the start-up log.
    pub(crate) fn approx_bytes(&self) -> usize {
        self.members.capacity() * std::mem::size_of::<Member>()
            + self.stamps.capacity() * std::mem::size_of::<Timestamp>()
            + self.index.capacity() * 5
            + self.text.bytes()
            + self.names.bytes()
            + self.emails.bytes()
            + self.phones.bytes()
            + self.addresses.bytes()
            + self.employment.bytes()
            + self.periods.bytes()
            + self.custom.bytes()
    }

    /// Country of the member's home (or first) address.
    pub(crate) fn home_country(&self, m: &Member) -> Option<&str> {
        let addrs = self.addresses.get(m.addresses);
        addrs
            .iter()
            .find(|a| self.text.get(a.kind).eq_ignore_ascii_case("home"))
            .or(addrs.first())
            .and_then(|a| self.text.opt(a.country))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_record_is_compact() {
        let size = std::mem::size_of::<super::Member>();
        assert!(size <= 240, "Member is {size} bytes");
    }
}
