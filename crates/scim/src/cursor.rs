//! RFC 9865 cursors: an opaque, URL-safe token naming the position after which the
//! next page starts, bound to the query it was issued for.
//!
//! A cursor is base64url (no padding; RFC 3986 unreserved characters only) of a
//! version byte, a JSON body `{"q": <query key>, "a": <position>}` and the first 4
//! bytes of the SHA-256 of the two. The position is the sort value and id of the last
//! resource returned, so the next page is "everything ordered after it": keyset
//! paging that neither skips nor repeats people while a sync changes the directory
//! (new employees get higher keys and come at the end). Cursors never expire.
//!
//! The checksum catches corruption and casual edits, not a determined forger; it does
//! not need to: a forged position only moves the client within results it may read
//! anyway.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ScimError;
use crate::sort::Position;

const VERSION: u8 = 1;
/// Longest cursor accepted, in characters.
pub const MAX_CURSOR_LEN: usize = 2048;

/// A decoded cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The query key ([`crate::Query::key`]) the cursor belongs to.
    #[serde(rename = "q")]
    pub query: u64,
    /// The last position returned; `None` before the first.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Position>,
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let d = Sha256::digest(bytes);
    [d[0], d[1], d[2], d[3]]
}

impl Cursor {
    /// The token.
    pub fn encode(&self) -> String {
        let mut bytes = vec![VERSION];
        bytes.extend(serde_json::to_vec(self).unwrap_or_default());
        let sum = checksum(&bytes);
        bytes.extend(sum);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Read a token issued for `query`. Anything else is `invalidCursor`.
    pub fn decode(token: &str, query: u64) -> Result<Cursor, ScimError> {
        let bad = || {
            ScimError::InvalidCursor(
                "the cursor is not one this server issued: send an empty cursor for the \
                 first page, then each response's nextCursor"
                    .into(),
            )
        };
        if token.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
        if bytes.len() < 6 || bytes[0] != VERSION {
            return Err(bad());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 4);
        if checksum(body) != sum {
            return Err(bad());
        }
        let cursor: Cursor = serde_json::from_slice(&body[1..]).map_err(|_| bad())?;
        if cursor.query != query {
            return Err(ScimError::InvalidCursor(
                "the cursor belongs to another query: keep the filter and sortBy of the \
                 first request when following nextCursor"
                    .into(),
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use std::cmp::Ordering;

    use super::*;
    use crate::sort::{OrderId, SortValue};

    fn cursor(sort: Option<SortValue>, id: OrderId) -> Cursor {
        Cursor {
            query: 0xDEAD_BEEF_0123_4567,
            after: Some(Position { sort, id }),
        }
    }

    #[rstest]
    #[case(cursor(None, OrderId::Num(42)))]
    #[case(cursor(None, OrderId::Num(-7)))]
    #[case(cursor(Some(SortValue::Text("jensen".into())), OrderId::Num(i64::MAX)))]
    #[case(cursor(Some(SortValue::Time("2024-01-01T00:00:00.123Z".parse().unwrap())), OrderId::Num(1)))]
    #[case(cursor(Some(SortValue::Bool(true)), OrderId::Text("be965e83e27eb086".into())))]
    #[case(cursor(Some(SortValue::Num(-1.5)), OrderId::Num(3)))]
    #[case(Cursor { query: 1, after: None })]
    fn round_trip(#[case] c: Cursor) {
        let token = c.encode();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(Cursor::decode(&token, c.query).unwrap(), c);
    }

    #[test]
    fn another_query() {
        let token = cursor(None, OrderId::Num(1)).encode();
        let err = Cursor::decode(&token, 1).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidCursor"));
        assert!(err.to_string().contains("another query"));
    }

    #[rstest]
    #[case("")]
    #[case("abc")]
    #[case("!!!!")]
    #[case("AQ")]
    #[case(&"A".repeat(MAX_CURSOR_LEN + 1))]
    fn garbage(#[case] token: &str) {
        let err = Cursor::decode(token, 0xDEAD_BEEF_0123_4567).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidCursor"));
    }

    #[test]
    fn tampering_is_caught() {
        let c = cursor(Some(SortValue::Text("x".into())), OrderId::Num(42));
        let token = c.encode();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let t = URL_SAFE_NO_PAD.encode(&b);
            assert!(Cursor::decode(&t, c.query).is_err(), "byte {i}");
        }
        // A truncated or extended token.
        assert!(Cursor::decode(&token[..token.len() - 1], c.query).is_err());
        assert!(Cursor::decode(&format!("{token}A"), c.query).is_err());
        // A well-formed body with a recomputed checksum but another version.
        let mut b = bytes[..bytes.len() - 4].to_vec();
        b[0] = 2;
        let sum = checksum(&b);
        b.extend(sum);
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(&b), c.query).is_err());
    }

    #[test]
    fn order() {
        let p = |s: Option<&str>, id: i64| Position {
            sort: s.map(|s| SortValue::Text(s.into())),
            id: OrderId::Num(id),
        };
        assert_eq!(p(Some("a"), 2).cmp(&p(Some("b"), 1), false), Ordering::Less);
        assert_eq!(
            p(Some("a"), 2).cmp(&p(Some("a"), 1), false),
            Ordering::Greater
        );
        assert_eq!(p(None, 1).cmp(&p(Some("z"), 9), false), Ordering::Greater);
        assert_eq!(p(None, 1).cmp(&p(Some("z"), 9), true), Ordering::Less);
        assert!(OrderId::Num(10) > OrderId::Num(9));
        assert!(OrderId::Text("0".into()) > OrderId::Num(i64::MAX));
        assert_eq!(OrderId::of("12"), OrderId::Num(12));
        assert_eq!(OrderId::of("012"), OrderId::Text("012".into()));
    }

    proptest! {
        #[test]
        fn any_position_round_trips(id in any::<i64>(), s in proptest::option::of(".*"), q in any::<u64>()) {
            let c = Cursor { query: q, after: Some(Position { sort: s.map(SortValue::Text), id: OrderId::Num(id) }) };
            prop_assert_eq!(Cursor::decode(&c.encode(), q).unwrap(), c);
        }

        #[test]
        fn decoding_never_panics(s in ".{0,200}") {
            let _ = Cursor::decode(&s, 0);
        }
    }
}
