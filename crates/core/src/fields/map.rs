//! [`FieldMap`]: a member's source fields and an employee's demographics, held small.
//!
//! A company of a million members holds a million of these maps (twice while a plan
//! is made), each of a dozen short entries whose keys are the same few names. As a
//! `BTreeMap<String, String>` each entry cost two heap strings and a share of the
//! B-tree nodes (≈ 1.8 KiB a member); as a sorted vector of two 24-byte inline
//! strings an entry, 48 bytes (≈ 470 bytes a map of ten entries of ≈ 17 bytes of
//! text). Here the entries are packed into one string, in key order, each as
//! `[key header][value length][key][value]`, sized to fit once built. The key header
//! is twice the key's length, or, for one of the standard keys every source and the
//! default mapping use (`packed::KNOWN`), twice its number plus one, and then the key
//! itself is not written: ≈ 9 bytes an entry of a member's demographics.
//!
//! A number is written in groups of 6 bits, lowest first, one byte each: `0x40 | group`
//! while more follow, `group` for the last. Every such byte is ASCII, so the whole
//! buffer stays valid UTF-8 and a key or value is read back as a slice of it (no
//! check, no copy). Lengths under 64 take one byte; the encoding is the shortest, so
//! two maps with the same entries have the same buffer.
//!
//! Maps are small (≈ 10 entries), so a look-up is a scan; a key after every other (the
//! maps are mostly built in key order: read back from JSON, from a `BTreeMap`, mapped
//! field by field) is appended, other inserts and removes move the entries after it.
//!
//! It reads and writes like the map it replaced: iteration in the byte order of the
//! keys, equality, ordering and hashing over the entries in that order, JSON as an
//! object with the keys in that order (an empty map is `{}`), and a JSON object
//! with a key twice keeps the last value.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use compact_str::CompactString;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod packed;

use packed::{Key, Slot, count, entry_size, put_entry};

/// A small string map sorted by key (see the module documentation).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FieldMap(String);

/// Where a key is, or would go.
enum Found {
    /// The entry with the key begins at `start`.
    At { start: usize, slot: Slot },
    /// The first entry with a greater key begins here (the buffer's end when none has).
    Before(usize),
}

impl FieldMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entries (a scan: the maps are small).
    pub fn len(&self) -> usize {
        count(&self.0, 0, self.0.len())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, key: &str) -> Found {
        let bytes = self.0.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let slot = Slot::at(&self.0, at);
            match slot.key(&self.0).as_bytes().cmp(key.as_bytes()) {
                Ordering::Less => at = slot.end(),
                Ordering::Equal => return Found::At { start: at, slot },
                Ordering::Greater => return Found::Before(at),
            }
        }
        Found::Before(at)
    }

    /// The last entry's key.
    fn last_key(&self) -> Option<Key> {
        self.last_start().map(|at| Slot::at(&self.0, at).key)
    }

    /// Where the last entry begins.
    fn last_start(&self) -> Option<usize> {
        let mut at = 0;
        let mut last = None;
        while at < self.0.len() {
            last = Some(at);
            at = Slot::at(&self.0, at).end();
        }
        last
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        match self.find(key) {
            Found::At { slot, .. } => Some(&self.0[slot.value]),
            Found::Before(_) => None,
        }
    }

    pub fn contains_key(&self, key: &str) -> bool {
        matches!(self.find(key), Found::At { .. })
    }

    /// Sets `key` to `value`; the value it had, if any. A key after every other is
    /// appended; any other is spliced in at its place.
    pub fn insert(
        &mut self,
        key: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Option<CompactString> {
        let (key, value) = (key.as_ref(), value.as_ref());
        match self.find(key) {
            Found::Before(at) if at == self.0.len() => {
                put_entry(&mut self.0, at, key, value);
                None
            }
            Found::Before(at) => {
                let mut entry = CompactString::default();
                put_entry(&mut entry, 0, key, value);
                self.0.insert_str(at, &entry);
                None
            }
            Found::At { start, slot } => {
                let old = CompactString::from(&self.0[slot.value.clone()]);
                let mut entry = CompactString::default();
                put_entry(&mut entry, 0, key, value);
                self.0.replace_range(start..slot.end(), &entry);
                Some(old)
            }
        }
    }

    /// Removes `key`; the value it had, if any.
    pub fn remove(&mut self, key: &str) -> Option<CompactString> {
        match self.find(key) {
            Found::At { start, slot } => {
                let old = CompactString::from(&self.0[slot.value.clone()]);
                self.0.replace_range(start..slot.end(), "");
                Some(old)
            }
            Found::Before(_) => None,
        }
    }

    pub fn clear(&mut self) {
        self.0 = String::new();
    }

    /// Keeps the entries for which `keep(key, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let mut at = 0;
        while at < self.0.len() {
            let slot = Slot::at(&self.0, at);
            if keep(slot.key(&self.0), &self.0[slot.value.clone()]) {
                at = slot.end();
            } else {
                self.0.replace_range(at..slot.end(), "");
            }
        }
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.0,
            front: 0,
            back: self.0.len(),
        }
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        self.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        self.iter().map(|(_, v)| v)
    }

    /// Gives back the spare capacity a map built by repeated inserts keeps: call it
    /// once the map is complete (a member or employee that is kept). An empty map
    /// keeps no buffer.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    /// Bytes the buffer has room for beyond its entries (tests of
    /// [`FieldMap::shrink_to_fit`]'s callers).
    #[cfg(test)]
    pub(crate) fn spare_room(&self) -> usize {
        self.0.capacity() - self.0.len()
    }

    /// The map as the standard library's (for types that must keep that one, such
    /// as the API's documented DTOs).
    pub fn to_btree(&self) -> std::collections::BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The buffer a [`Builder`] writes in, kept from one map to the next on each thread.
const SCRATCH_KEPT: usize = 4096;

thread_local! {
    static SCRATCH: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// Builds a map from entries that mostly come in key order: each is compared with
/// the last entry only, and appended when it goes after it. It writes in a buffer kept
/// on the thread and copies the map out at its size once built: grown entry by entry,
/// each map was moved five or six times as its buffer doubled, and once more to give
/// back the room (a daily sync builds three maps a member: its fields, its
/// demographics, and the directory row's read back; issue #15).
struct Builder {
    map: FieldMap,
    /// The map's last key.
    last: Option<Key>,
}

impl Builder {
    fn new(map: &FieldMap) -> Self {
        let mut buf = SCRATCH.take();
        buf.clear();
        buf.push_str(&map.0);
        let map = FieldMap(buf);
        let last = map.last_key();
        Builder { map, last }
    }

    fn push(&mut self, key: &str, value: &str) {
        let after = match &self.last {
            None => true,
            Some(last) => last.of(&self.map.0).as_bytes() < key.as_bytes(),
        };
        if after {
            let at = self.map.0.len();
            self.last = Some(put_entry(&mut self.map.0, at, key, value));
        } else {
            self.map.insert(key, value);
            self.last = self.map.last_key();
        }
    }

    /// The map built, its buffer no larger than its entries.
    fn finish(self) -> FieldMap {
        let map = FieldMap(self.map.0.as_str().to_owned());
        if self.map.0.capacity() <= SCRATCH_KEPT {
            SCRATCH.set(self.map.0);
        }
        map
    }
}

/// The entries of a [`FieldMap`] in key order, as `(&str, &str)`.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a str,
    /// Where the next entry from the front begins.
    front: usize,
    /// Where the entry after the next one from the back begins.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let slot = Slot::at(self.buf, self.front);
        self.front = slot.end();
        Some((slot.key(self.buf), &self.buf[slot.value]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = count(self.buf, self.front, self.back);
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        // The lengths are read forwards only: find the entry that ends at `back`.
        let mut at = self.front;
        while at < self.back {
            let slot = Slot::at(self.buf, at);
            if slot.end() == self.back {
                self.back = at;
                return Some((slot.key(self.buf), &self.buf[slot.value]));
            }
            at = slot.end();
        }
        None
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a FieldMap {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The entries of a [`FieldMap`] in key order, owned.
pub struct IntoIter {
    map: FieldMap,
    front: usize,
    back: usize,
}

fn owned((key, value): (&str, &str)) -> (CompactString, CompactString) {
    (CompactString::from(key), CompactString::from(value))
}

impl IntoIter {
    fn borrowed(&self) -> Iter<'_> {
        Iter {
            buf: &self.map.0,
            front: self.front,
            back: self.back,
        }
    }

    /// The entry `take` gives of the borrowed iterator, owned; the ends moved as it
    /// moved them.
    fn step(
        &mut self,
        take: impl for<'b> FnOnce(&mut Iter<'b>) -> Option<(&'b str, &'b str)>,
    ) -> Option<(CompactString, CompactString)> {
        let mut it = self.borrowed();
        let entry = owned(take(&mut it)?);
        (self.front, self.back) = (it.front, it.back);
        Some(entry)
    }
}

impl Iterator for IntoIter {
    type Item = (CompactString, CompactString);

    fn next(&mut self) -> Option<Self::Item> {
        self.step(|it| it.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.borrowed().size_hint()
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(|it| it.next_back())
    }
}

impl ExactSizeIterator for IntoIter {}

impl IntoIterator for FieldMap {
    type Item = (CompactString, CompactString);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        let back = self.0.len();
        IntoIter {
            map: self,
            front: 0,
            back,
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for FieldMap {
    /// Later entries win over earlier ones with the same key (as a `BTreeMap`'s).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = FieldMap::new();
        map.extend(iter);
        map
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for FieldMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut builder = Builder::new(self);
        for (k, v) in iter {
            builder.push(k.as_ref(), v.as_ref());
        }
        *self = builder.finish();
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> From<[(K, V); N]> for FieldMap {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl From<std::collections::BTreeMap<String, String>> for FieldMap {
    fn from(map: std::collections::BTreeMap<String, String>) -> Self {
        // Already sorted and unique: appended in order, sized once.
        let size = map.iter().map(|(k, v)| entry_size(k, v)).sum();
        let mut buf = String::with_capacity(size);
        for (k, v) in &map {
            let at = buf.len();
            put_entry(&mut buf, at, k, v);
        }
        FieldMap(buf)
    }
}

impl PartialOrd for FieldMap {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FieldMap {
    /// The entries compared in key order, as `(key, value)` pairs.
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl Hash for FieldMap {
    /// As a `BTreeMap<String, String>` hashes: the length, then each entry in order.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for (k, v) in self {
            k.hash(state);
            v.hash(state);
        }
    }
}

impl fmt::Debug for FieldMap {
    /// As a `BTreeMap<String, String>` prints: `{"key": "value", …}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for FieldMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldMapVisitor)
    }
}

struct FieldMapVisitor;

impl<'de> Visitor<'de> for FieldMapVisitor {
    type Value = FieldMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings to strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<FieldMap, A::Error> {
        let mut builder = Builder::new(&FieldMap::new());
        while let Some((k, v)) = access.next_entry::<CompactString, CompactString>()? {
            // In order (as written) this appends; a repeated key keeps the last value.
            builder.push(&k, &v);
        }
        Ok(builder.finish())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::hash::{BuildHasher, RandomState};

    use proptest::prelude::*;

    use super::packed::{KNOWN, key_head, len_size, put_len, read_len};
    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(String, String),
        Remove(String),
        Get(String),
        /// Keeps the entries whose key and value lengths sum to an even number, or
        /// (when false) to an odd one.
        Retain(bool),
        Extend(Vec<(String, String)>),
        Shrink,
        Clear,
    }

    /// Keys from a small alphabet (so that inserts, removes and gets meet), with
    /// non-ASCII keys (byte order against char order) and keys whose length takes
    /// one, two and three bytes to write (a length of 63, 64, 4,095, 4,096 bytes…).
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-c]{0,2}",
            3 => proptest::sample::select(&KNOWN[..]).prop_map(str::to_string),
            1 => "(Job Title|office|work_c)[a-c]{0,1}",
            2 => "[aÄé ~z]{1,3}",
            1 => "custom:[0-9a-f]{30,34}",
            1 => (60usize..68).prop_map(|n| "k".repeat(n)),
            1 => (4094usize..4098).prop_map(|n| "k".repeat(n)),
        ]
    }

    /// Values of any length: empty, short, non-ASCII, about the one- and two-byte
    /// length limits (64 and 4,096 bytes), and over 16 KiB.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => ".{0,30}",
            1 => (60usize..68, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
            1 => (127usize..130).prop_map(|n| "v".repeat(n)),
            1 => (4094usize..4098).prop_map(|n| "é".repeat(n / 2) + &"v".repeat(n % 2)),
            1 => (16_380usize..16_400, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => key().prop_map(Op::Remove),
            3 => key().prop_map(Op::Get),
            1 => any::<bool>().prop_map(Op::Retain),
            1 => proptest::collection::vec((key(), value()), 0..6).prop_map(Op::Extend),
            1 => Just(Op::Shrink),
            1 => Just(Op::Clear),
        ]
    }

    fn hash_of(value: &impl Hash, hasher: &RandomState) -> u64 {
        hasher.hash_one(value)
    }

    fn same(map: &FieldMap, model: &BTreeMap<String, String>) {
        assert_eq!(map.len(), model.len());
        assert_eq!(map.is_empty(), model.is_empty());
        let entries: Vec<(&str, &str)> = map.iter().collect();
        let expected: Vec<(&str, &str)> = model
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(entries, expected);
        assert_eq!(map.iter().len(), expected.len());
        assert_eq!(map.iter().rev().collect::<Vec<_>>(), {
            let mut r = expected.clone();
            r.reverse();
            r
        });
        // From both ends at once: they meet without an entry twice or missed.
        let mut both = map.iter();
        let (mut front, mut back) = (Vec::new(), Vec::new());
        while let Some(f) = both.next() {
            front.push(f);
            assert_eq!(both.len(), expected.len() - front.len() - back.len());
            let Some(b) = both.next_back() else { break };
            back.push(b);
        }
        back.reverse();
        front.extend(back);
        assert_eq!(front, expected);
        assert!(map.keys().eq(model.keys().map(String::as_str)));
        assert!(map.values().eq(model.values().map(String::as_str)));
        assert!(map.keys().rev().eq(model.keys().rev().map(String::as_str)));
        for (k, v) in model {
            assert_eq!(map.get(k), Some(v.as_str()));
        }
        assert_eq!(format!("{map:?}"), format!("{model:?}"));
        let json = serde_json::to_string(map).expect("a map of strings serialises");
        assert_eq!(
            json,
            serde_json::to_string(model).expect("a map of strings serialises")
        );
        let back: FieldMap = serde_json::from_str(&json).expect("its own JSON reads back");
        assert_eq!(&back, map);
        assert_eq!(&map.to_btree(), model);
        let owned: Vec<(String, String)> = map
            .clone()
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        assert!(
            owned.iter().eq(model
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
                .iter())
        );
        let owned_back: Vec<(CompactString, CompactString)> =
            map.clone().into_iter().rev().collect();
        assert_eq!(owned_back.len(), model.len());
        assert!(
            owned_back
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .eq(expected.iter().rev().copied())
        );
        let hasher = RandomState::new();
        assert_eq!(hash_of(map, &hasher), hash_of(model, &hasher));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn behaves_as_a_btreemap_of_strings(ops in proptest::collection::vec(op(), 0..60)) {
            let mut map = FieldMap::new();
            let mut model = BTreeMap::<String, String>::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let old = map.insert(k.as_str(), v.as_str()).map(String::from);
                        prop_assert_eq!(old, model.insert(k, v));
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(map.remove(&k).map(String::from), model.remove(&k));
                    }
                    Op::Get(k) => {
                        prop_assert_eq!(map.get(&k), model.get(&k).map(String::as_str));
                        prop_assert_eq!(map.contains_key(&k), model.contains_key(&k));
                    }
                    Op::Retain(even) => {
                        let keep = |k: &str, v: &str| (k.len() + v.len()).is_multiple_of(2) == even;
                        map.retain(keep);
                        model.retain(|k, v| keep(k, v));
                    }
                    Op::Extend(entries) => {
                        map.extend(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                        model.extend(entries);
                    }
                    Op::Shrink => {
                        map.shrink_to_fit();
                        prop_assert_eq!(map.spare_room(), 0);
                    }
                    Op::Clear => {
                        map.clear();
                        model.clear();
                    }
                }
                same(&map, &model);
            }
            let mut shrunk = map.clone();
            shrunk.shrink_to_fit();
            prop_assert_eq!(&shrunk, &map);
            same(&shrunk, &model);
            prop_assert_eq!(&FieldMap::from(model.clone()), &map);
            prop_assert_eq!(&model.clone().into_iter().collect::<FieldMap>(), &map);
            prop_assert_eq!(&model.clone().into_iter().rev().collect::<FieldMap>(), &map);
        }

        #[test]
        fn reads_the_json_a_btreemap_reads(
            entries in proptest::collection::vec((key(), value()), 0..20)
        ) {
            // Written in any order, keys repeated: a JSON object as old rows may hold.
            let mut json = String::from("{");
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(&serde_json::to_string(k).expect("a string serialises"));
                json.push(':');
                json.push_str(&serde_json::to_string(v).expect("a string serialises"));
            }
            json.push('}');
            let model: BTreeMap<String, String> =
                serde_json::from_str(&json).expect("the model reads it");
            let map: FieldMap = serde_json::from_str(&json).expect("the map reads it");
            prop_assert_eq!(map.spare_room(), 0);
            same(&map, &model);
            let back: FieldMap = serde_json::from_value(
                serde_json::to_value(&map).expect("a map serialises"),
            )
            .expect("its own JSON reads back");
            prop_assert_eq!(back, map);
        }

        #[test]
        fn orders_and_hashes_as_a_btreemap(
            a in proptest::collection::btree_map(key(), "[xy]{0,2}", 0..4),
            b in proptest::collection::btree_map(key(), "[xy]{0,2}", 0..4),
        ) {
            let (fa, fb) = (FieldMap::from(a.clone()), FieldMap::from(b.clone()));
            prop_assert_eq!(fa.cmp(&fb), a.cmp(&b));
            prop_assert_eq!(fa.partial_cmp(&fb), a.partial_cmp(&b));
            prop_assert_eq!(fa == fb, a == b);
            let hasher = RandomState::new();
            prop_assert_eq!(hash_of(&fa, &hasher) == hash_of(&fb, &hasher), a == b);
        }

        #[test]
        fn a_length_reads_back_as_written(n in any::<usize>()) {
            let mut buf = String::new();
            put_len(&mut buf, n);
            prop_assert!(buf.is_ascii());
            prop_assert_eq!(buf.len(), len_size(n));
            let mut at = 0;
            prop_assert_eq!(read_len(buf.as_bytes(), &mut at), n);
            prop_assert_eq!(at, buf.len());
        }
    }

    #[test]
    fn lengths_take_one_byte_below_64_and_one_more_each_6_bits() {
        for (n, bytes) in [
            (0, 1),
            (63, 1),
            (64, 2),
            (4095, 2),
            (4096, 3),
            (16 * 1024, 3),
            (262_143, 3),
            (262_144, 4),
            (usize::MAX, 11),
        ] {
            let mut buf = String::new();
            put_len(&mut buf, n);
            assert_eq!(buf.len(), bytes, "{n}");
            assert_eq!(len_size(n), bytes, "{n}");
            let mut at = 0;
            assert_eq!(read_len(buf.as_bytes(), &mut at), n);
        }
    }

    #[test]
    fn an_empty_map_is_an_empty_json_object() {
        assert_eq!(
            serde_json::to_string(&FieldMap::new()).expect("serialises"),
            "{}"
        );
        let read: FieldMap = serde_json::from_str("{}").expect("reads");
        assert!(read.is_empty());
        assert_eq!(read.0.capacity(), 0, "an empty map keeps no buffer");
    }

    #[test]
    fn entries_are_packed_and_the_buffer_fits() {
        let mut map = FieldMap::new();
        for (k, v) in [
            ("job_title", "Engineer"),
            ("department", "Eng"),
            ("Team", "Blue"),
            ("home_country", "US"),
        ] {
            map.insert(k, v);
        }
        // A header byte for the key and one for the value length, then the key (not
        // for a known one: its number) and the value, in key order ("Team" < "d…").
        assert_eq!(
            map.0,
            "\u{8}\u{4}TeamBlue\u{19}\u{3}Eng\u{21}\u{2}US\u{25}\u{8}Engineer"
        );
        assert!(map.spare_room() > 0, "four pushes leave spare room");
        map.shrink_to_fit();
        assert_eq!(map.spare_room(), 0);
        assert_eq!(map.0.len(), (2 + 4 + 4) + (2 + 3) + (2 + 2) + (2 + 8));
        // Inline: a pointer, a capacity and a length.
        assert_eq!(std::mem::size_of::<FieldMap>(), 24);
        map.clear();
        map.shrink_to_fit();
        assert_eq!(map.0.capacity(), 0, "an empty map keeps no buffer");
    }

    /// The known keys are sorted and distinct, and they are the standard source
    /// fields and the demographics they map to by default; each is written as its
    /// number, and every other key (the same length, the same first letter, another
    /// case, a prefix, empty) as its length.
    #[test]
    fn the_known_keys_are_the_standard_ones_in_order() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]), "{KNOWN:?}");
        for (source, demographic) in crate::fields::DEFAULT_DEMOGRAPHICS {
            assert!(KNOWN.contains(source) && KNOWN.contains(demographic));
        }
        for key in [super::super::WORK_ID, super::super::SEX] {
            assert!(KNOWN.contains(&key));
        }
        assert_eq!(
            KNOWN.len(),
            2 * crate::fields::DEFAULT_DEMOGRAPHICS.len() + 2
        );
        for (i, key) in KNOWN.iter().enumerate() {
            assert_eq!(key_head(key), 2 * i + 1);
            let mut map = FieldMap::new();
            map.insert(*key, "v");
            assert_eq!(map.0.len(), 3, "{key} is written as its number");
            assert_eq!(map.iter().collect::<Vec<_>>(), [(*key, "v")]);
        }
        for other in [
            "",
            "d",
            "Department ",
            "Departmenu",
            "DEPARTMENT",
            "Job Titl",
            "job_titlf",
            "Work Cities",
            "xex",
            "Sex",
            "Cost Center",
            "Hôme City",
        ] {
            assert!(!KNOWN.contains(&other), "{other}");
            assert_eq!(key_head(other), 2 * other.len(), "{other}");
        }
    }
}
