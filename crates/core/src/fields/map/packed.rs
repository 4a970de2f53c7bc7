//! How a [`FieldMap`](super::FieldMap)'s entries are written in its one string: the
//! numbers (key headers, value lengths), the known keys, and where an entry's key
//! and value are.

use std::ops::Range;

use compact_str::CompactString;

/// Bits of a length a header byte holds, and the flag saying another byte follows.
const GROUP_BITS: u32 = 6;
const GROUP_MASK: usize = (1 << GROUP_BITS) - 1;
const MORE: u8 = 1 << GROUP_BITS;

/// Where entries are written: the map's buffer, or one entry on its own (inline when
/// short) before it is spliced in.
pub(super) trait Text {
    fn reserve_text(&mut self, additional: usize);
    fn push_char(&mut self, c: char);
    fn push_text(&mut self, s: &str);
}

impl Text for String {
    fn reserve_text(&mut self, additional: usize) {
        self.reserve(additional);
    }
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Text for CompactString {
    fn reserve_text(&mut self, additional: usize) {
        self.reserve(additional);
    }
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Writes `n` as the module documentation says.
pub(super) fn put_len(buf: &mut impl Text, mut n: usize) {
    loop {
        // Below 64 either way: one ASCII byte.
        let group = (n & GROUP_MASK) as u8;
        n >>= GROUP_BITS;
        if n == 0 {
            buf.push_char(char::from(group));
            return;
        }
        buf.push_char(char::from(MORE | group));
    }
}

/// Writes one entry, its room made once; where its key is (a written key's range
/// counts from `at`, the length of `buf` before the entry).
pub(super) fn put_entry(buf: &mut impl Text, at: usize, key: &str, value: &str) -> Key {
    let head = key_head(key);
    let written = head.is_multiple_of(2);
    let key_len = if written { key.len() } else { 0 };
    let (head_size, value_size) = (len_size(head), len_size(value.len()));
    buf.reserve_text(head_size + value_size + key_len + value.len());
    put_len(buf, head);
    put_len(buf, value.len());
    if written {
        buf.push_text(key);
    }
    buf.push_text(value);
    if written {
        let start = at + head_size + value_size;
        Key::Written(start..start + key_len)
    } else {
        Key::Known(KNOWN[head / 2])
    }
}

/// The bytes [`put_entry`] writes.
pub(super) fn entry_size(key: &str, value: &str) -> usize {
    let head = key_head(key);
    let written = if head.is_multiple_of(2) { key.len() } else { 0 };
    len_size(head) + len_size(value.len()) + written + value.len()
}

/// Reads a length written by [`put_len`] at `*at`, moving `*at` past it.
pub(super) fn read_len(buf: &[u8], at: &mut usize) -> usize {
    let mut n = 0;
    let mut shift = 0;
    loop {
        let byte = buf[*at];
        *at += 1;
        n |= usize::from(byte & GROUP_MASK as u8) << shift;
        if byte & MORE == 0 {
            return n;
        }
        shift += GROUP_BITS;
    }
}

/// One entry's place in the buffer: its key (in the buffer, or one of [`KNOWN`]) and
/// its value (the value ends where the next entry begins).
pub(super) struct Slot {
    pub(super) key: Key,
    pub(super) value: Range<usize>,
}

/// Where an entry's key is.
#[derive(Clone)]
pub(super) enum Key {
    Written(Range<usize>),
    Known(&'static str),
}

impl Key {
    pub(super) fn of<'a>(&self, buf: &'a str) -> &'a str {
        match self {
            Key::Written(range) => &buf[range.clone()],
            Key::Known(key) => key,
        }
    }
}

impl Slot {
    /// The entry beginning at `at` in `buf`.
    pub(super) fn at(buf: &str, at: usize) -> Slot {
        let bytes = buf.as_bytes();
        let mut pos = at;
        let key_head = read_len(bytes, &mut pos);
        let value_len = read_len(bytes, &mut pos);
        let key = if key_head % 2 == 1 {
            Key::Known(KNOWN[key_head / 2])
        } else {
            let key = pos..pos + key_head / 2;
            pos = key.end;
            Key::Written(key)
        };
        Slot {
            key,
            value: pos..pos + value_len,
        }
    }

    pub(super) fn end(&self) -> usize {
        self.value.end
    }

    pub(super) fn key<'a>(&self, buf: &'a str) -> &'a str {
        self.key.of(buf)
    }
}

/// The keys written as a number instead of their text (one byte instead of ≈ 10 in
/// each of a million maps): the standard source fields and the demographics they map
/// to by default. Sorted by bytes (and distinct); never
/// reordered or shortened (a map's buffer is not stored, but tests pin the layout).
pub(super) const KNOWN: [&str; 26] = [
    "Department",
    "Employment Subtype",
    "Employment Type",
    "Home City",
    "Home Country",
    "Home State",
    "Job Title",
    "Member Type",
    "Office",
    "Work City",
    "Work Country",
    "Work State",
    super::super::DEPARTMENT,
    super::super::EMPLOYMENT_SUBTYPE,
    super::super::EMPLOYMENT_TYPE,
    super::super::HOME_CITY,
    super::super::HOME_COUNTRY,
    super::super::HOME_STATE,
    super::super::JOB_TITLE,
    super::super::MEMBER_TYPE,
    super::super::OFFICE,
    super::super::SEX,
    super::super::WORK_CITY,
    super::super::WORK_COUNTRY,
    super::super::WORK_ID,
    super::super::WORK_STATE,
];

/// Where each of [`KNOWN`] is, by [`known_hash`]: its index plus one (0: none).
const KNOWN_BY_HASH: [u8; 64] = {
    let mut table = [0; 64];
    let mut i = 0;
    while i < KNOWN.len() {
        let h = known_hash(KNOWN[i].as_bytes());
        assert!(
            table[h] == 0,
            "two known keys share a hash: change `known_hash`"
        );
        table[h] = i as u8 + 1;
        i += 1;
    }
    table
};

/// A key's slot in [`KNOWN_BY_HASH`], from its length and first byte: no two known
/// keys share one (checked as the table is built).
const fn known_hash(key: &[u8]) -> usize {
    let first = if key.is_empty() { 0 } else { key[0] as usize };
    (first + 9 * key.len()) & 63
}

/// The header of a key: its number among [`KNOWN`] (odd) or its length (even).
/// Every insert asks it (twice per field of every member a sync reads, and once per
/// field of every directory row read), so the one known key a key can be is found by
/// its length and first byte, and only that one compared: a scan comparing length
/// and first byte of each known key was ≈ 2 % of a 100k daily sync's instructions, a
/// binary search before it ≈ 7 % (docs/benchmarks.md, issue #15, sessions 13, 17).
pub(super) fn key_head(key: &str) -> usize {
    match KNOWN_BY_HASH[known_hash(key.as_bytes())] {
        0 => 2 * key.len(),
        n => {
            let i = usize::from(n - 1);
            if KNOWN[i] == key {
                2 * i + 1
            } else {
                2 * key.len()
            }
        }
    }
}

/// The number of entries from `front` to `back` (both entry boundaries).
pub(super) fn count(buf: &str, mut front: usize, back: usize) -> usize {
    let mut n = 0;
    while front < back {
        front = Slot::at(buf, front).end();
        n += 1;
    }
    n
}

/// The bytes [`put_len`] writes for `n`.
pub(super) fn len_size(mut n: usize) -> usize {
    let mut size = 1;
    while n > GROUP_MASK {
        n >>= GROUP_BITS;
        size += 1;
    }
    size
}
