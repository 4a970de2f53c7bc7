//! [`FieldMap`]: a member's source fields and an employee's demographics, held small.
//!
//! A company of a million members holds a million of these maps (twice while a plan
//! is made), each of a dozen short entries whose keys are the same few names. As a
//! `BTreeMap<String, String>` each entry cost two heap strings and a share of the
//! B-tree nodes (≈ 1.8 KiB a member); here the entries are one sorted vector of
//! small strings that keep up to 24 bytes inline (no allocation for almost every key
//! and value), sized to fit once built.
//!
//! It reads and writes like the map it replaced: iteration in the byte order of the
//! keys, equality, ordering and hashing over the entries in that order, JSON as an
//! object with the keys in that order (an empty map is `{}`), and a JSON object
//! with a key twice keeps the last value.

use std::fmt;

use compact_str::CompactString;
use litemap::LiteMap;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A small string map sorted by key (see the module documentation).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldMap(LiteMap<CompactString, CompactString>);

impl FieldMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self(LiteMap::with_capacity(capacity))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(CompactString::as_str)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key` to `value`; the value it had, if any. A key after every other
    /// (the maps are mostly built in key order: read back from JSON, mapped field by
    /// field) is appended after one comparison instead of a binary search.
    pub fn insert(
        &mut self,
        key: impl Into<CompactString>,
        value: impl Into<CompactString>,
    ) -> Option<CompactString> {
        let (key, value) = self.0.try_append(key.into(), value.into())?;
        self.0.insert(key, value)
    }

    /// Removes `key`; the value it had, if any.
    pub fn remove(&mut self, key: &str) -> Option<CompactString> {
        self.0.remove(key)
    }

    pub fn clear(&mut self) {
        self.0 = LiteMap::new_vec();
    }

    /// Keeps the entries for which `keep(key, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|k, v| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.as_slice().iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        self.0.as_slice().iter().map(|(k, _)| k.as_str())
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        self.0.as_slice().iter().map(|(_, v)| v.as_str())
    }

    /// Gives back the spare capacity a map built by repeated inserts keeps: call it
    /// once the map is complete (a member or employee that is kept).
    pub fn shrink_to_fit(&mut self) {
        if self.0.is_empty() {
            // An empty map keeps no buffer.
            self.0 = LiteMap::new_vec();
            return;
        }
        let mut entries = std::mem::take(&mut self.0).into_tuple_vec();
        entries.shrink_to_fit();
        self.0 = LiteMap::from_sorted_store_unchecked(entries);
    }

    /// Entries the vector has room for (tests of [`FieldMap::shrink_to_fit`]'s callers).
    #[cfg(test)]
    pub(crate) fn capacity(&mut self) -> usize {
        let entries = std::mem::take(&mut self.0).into_tuple_vec();
        let capacity = entries.capacity();
        self.0 = LiteMap::from_sorted_store_unchecked(entries);
        capacity
    }

    /// The map as the standard library's (for types that must keep that one, such
    /// as the API's documented DTOs).
    pub fn to_btree(&self) -> std::collections::BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The entries of a [`FieldMap`] in key order, as `(&str, &str)`.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (CompactString, CompactString)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k.as_str(), v.as_str()))
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

impl IntoIterator for FieldMap {
    type Item = (CompactString, CompactString);
    type IntoIter = std::vec::IntoIter<(CompactString, CompactString)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_tuple_vec().into_iter()
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>> FromIterator<(K, V)> for FieldMap {
    /// Later entries win over earlier ones with the same key (as a `BTreeMap`'s).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = FieldMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>> Extend<(K, V)> for FieldMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>, const N: usize> From<[(K, V); N]>
    for FieldMap
{
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl From<std::collections::BTreeMap<String, String>> for FieldMap {
    fn from(map: std::collections::BTreeMap<String, String>) -> Self {
        // Already sorted and unique: appended in order, sized once.
        let mut entries = Vec::with_capacity(map.len());
        entries.extend(
            map.into_iter()
                .map(|(k, v)| (CompactString::from(k), CompactString::from(v))),
        );
        FieldMap(LiteMap::from_sorted_store_unchecked(entries))
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
        // Not LiteMap's own: it writes an empty map as `[]`.
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
        let mut map = FieldMap::with_capacity(access.size_hint().unwrap_or(0).min(64));
        while let Some((k, v)) = access.next_entry::<CompactString, CompactString>()? {
            // In order (as written) this appends; a repeated key keeps the last value.
            map.insert(k, v);
        }
        map.shrink_to_fit();
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(String, String),
        Remove(String),
        Get(String),
    }

    /// Keys from a small alphabet (so that inserts, removes and gets meet), with
    /// non-ASCII and long keys (inline and heap strings; byte order against char order).
    fn key() -> impl Strategy<Value = String> {
        prop_oneof!["[a-c]{0,2}", "[aÄé ~z]{1,3}", "custom:[0-9a-f]{30,34}",]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (key(), ".{0,30}").prop_map(|(k, v)| Op::Insert(k, v)),
            key().prop_map(Op::Remove),
            key().prop_map(Op::Get),
        ]
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
        assert_eq!(map.iter().rev().collect::<Vec<_>>(), {
            let mut r = expected.clone();
            r.reverse();
            r
        });
        assert!(map.keys().eq(model.keys().map(String::as_str)));
        assert!(map.values().eq(model.values().map(String::as_str)));
        assert_eq!(format!("{map:?}"), format!("{model:?}"));
        assert_eq!(
            serde_json::to_string(map).expect("a map of strings serialises"),
            serde_json::to_string(model).expect("a map of strings serialises")
        );
        assert_eq!(&map.to_btree(), model);
    }

    proptest! {
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
                }
                same(&map, &model);
            }
            let mut shrunk = map.clone();
            shrunk.shrink_to_fit();
            prop_assert_eq!(&shrunk, &map);
            same(&shrunk, &model);
            prop_assert_eq!(&FieldMap::from(model.clone()), &map);
            prop_assert_eq!(&model.clone().into_iter().collect::<FieldMap>(), &map);
        }

        #[test]
        fn reads_the_json_a_btreemap_reads(
            entries in proptest::collection::vec((key(), ".{0,30}"), 0..20)
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
            prop_assert_eq!(fa == fb, a == b);
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
    }

    #[test]
    fn short_entries_are_kept_inline_and_the_vector_fits() {
        let mut map = FieldMap::new();
        for (k, v) in [
            ("job_title", "Engineer"),
            ("department", "Eng"),
            ("home_country", "US"),
        ] {
            map.insert(k, v);
        }
        assert!(
            map.0
                .iter()
                .all(|(k, v)| !k.is_heap_allocated() && !v.is_heap_allocated())
        );
        assert!(map.capacity() > 3, "three pushes leave spare room");
        map.shrink_to_fit();
        assert_eq!(map.capacity(), 3);
        assert_eq!(map.len(), 3);
        // Two 24-byte strings an entry, nothing else on the heap.
        assert_eq!(std::mem::size_of::<(CompactString, CompactString)>(), 48);
    }
}
