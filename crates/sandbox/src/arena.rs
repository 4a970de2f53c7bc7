//! Compact storage: every member string lives in one text buffer and every member
//! array in a typed pool, so a member is a small fixed-size record of offsets.
//! Edits append new text and leave the old bytes behind, which is fine for a test server.

use std::fmt;
use std::marker::PhantomData;

/// A string in a [`Text`] buffer. The empty string means "no value".
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Str {
    off: u32,
    len: u32,
}

impl Str {
    pub(crate) const EMPTY: Str = Str { off: 0, len: 0 };

    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }

    pub(crate) fn is_some(self) -> bool {
        self.len != 0
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Str({}+{})", self.off, self.len)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("sandbox storage exceeds 4 GiB")
}

/// The text buffer all [`Str`]s point into.
#[derive(Default, Clone)]
pub(crate) struct Text {
    buf: String,
}

impl Text {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Text {
            buf: String::with_capacity(n),
        }
    }

    /// Stores `s` (trimmed of nothing); the empty string gives [`Str::EMPTY`].
    pub(crate) fn push(&mut self, s: &str) -> Str {
        if s.is_empty() {
            return Str::EMPTY;
        }
        let off = to_u32(self.buf.len());
        self.buf.push_str(s);
        Str {
            off,
            len: to_u32(s.len()),
        }
    }

    /// Stores the formatted text.
    pub(crate) fn push_fmt(&mut self, args: fmt::Arguments<'_>) -> Str {
        use fmt::Write;
        let off = self.buf.len();
        self.buf
            .write_fmt(args)
            .expect("writing to a String cannot fail");
        let len = self.buf.len() - off;
        if len == 0 {
            return Str::EMPTY;
        }
        Str {
            off: to_u32(off),
            len: to_u32(len),
        }
    }

    /// Starts a string built in pieces with [`Text::append`] and [`Text::finish`].
    pub(crate) fn start(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn append(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub(crate) fn finish(&self, start: usize) -> Str {
        let len = self.buf.len() - start;
        if len == 0 {
            return Str::EMPTY;
        }
        Str {
            off: to_u32(start),
            len: to_u32(len),
        }
    }

    pub(crate) fn get(&self, s: Str) -> &str {
        &self.buf[s.off as usize..(s.off + s.len) as usize]
    }

    /// `Some(text)` unless the string is empty.
    pub(crate) fn opt(&self, s: Str) -> Option<&str> {
        if s.is_empty() {
            None
        } else {
            Some(self.get(s))
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.buf.capacity()
    }
}

/// A run of items in a [`Pool`].
pub(crate) struct Span<T> {
    off: u32,
    len: u32,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Span<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Span<T> {}
impl<T> Default for Span<T> {
    fn default() -> Self {
        Span {
            off: 0,
            len: 0,
            _t: PhantomData,
        }
    }
}
impl<T> fmt::Debug for Span<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Span({}+{})", self.off, self.len)
    }
}

impl<T> Span<T> {
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Append-only storage for one kind of array item.
#[derive(Clone)]
pub(crate) struct Pool<T> {
    items: Vec<T>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool { items: Vec::new() }
    }
}

impl<T: Clone> Pool<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Pool {
            items: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push_all(&mut self, items: impl IntoIterator<Item = T>) -> Span<T> {
        let off = self.items.len();
        self.items.extend(items);
        Span {
            off: to_u32(off),
            len: to_u32(self.items.len() - off),
            _t: PhantomData,
        }
    }

    pub(crate) fn push_one(&mut self, item: T) -> Span<T> {
        self.push_all(std::iter::once(item))
    }

    pub(crate) fn get(&self, span: Span<T>) -> &[T] {
        &self.items[span.off as usize..(span.off + span.len) as usize]
    }

    pub(crate) fn bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_empty_is_none() {
        let mut t = Text::default();
        let a = t.push("Zoë");
        let b = t.push_fmt(format_args!("E{:05}", 42));
        let e = t.push("");
        assert_eq!(t.get(a), "Zoë");
        assert_eq!(t.get(b), "E00042");
        assert!(e.is_empty());
        assert_eq!(t.opt(e), None);
        let s = t.start();
        t.append("jose");
        t.append(".");
        t.append("garcia");
        let c = t.finish(s);
        assert_eq!(t.get(c), "jose.garcia");
    }

    #[test]
    fn pool_spans() {
        let mut p = Pool::default();
        let a = p.push_all([1, 2, 3]);
        let b = p.push_all(Vec::<i32>::new());
        let c = p.push_one(9);
        assert_eq!(p.get(a), &[1, 2, 3]);
        assert!(b.is_empty());
        assert_eq!(p.get(b), &[] as &[i32]);
        assert_eq!(p.get(c), &[9]);
    }
}
