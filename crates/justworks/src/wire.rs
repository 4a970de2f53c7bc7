//! Wire shapes, read tolerantly: every non-required field is optional, `null` equals
//! absent, unknown fields are ignored, enum strings stay strings (compared
//! case-insensitively by the mapping).

use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use std::borrow::Cow;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// One list page: the body (checked to be UTF-8) and where each item lies in it.
#[derive(Debug)]
pub(crate) struct Page {
    pub body: String,
    pub items: Vec<Range<usize>>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    items: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    next_cursor: Option<serde_json::Value>,
}

impl Page {
    /// Check the page is whole JSON of the list shape and locate its items; the
    /// items themselves are parsed one by one later, so one bad member does not
    /// sink the page. `next_cursor` absent, `null` or `""` means the last page.
    pub fn parse(body: Bytes) -> Result<Page, String> {
        // Validate UTF-8 once per page (the buffer is taken over, not copied, when the
        // page holds it alone); serde_json then skips the check per string, and each
        // item is a slice of the checked text.
        let body = String::from_utf8(Vec::from(body)).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            format!("the page is not UTF-8 (at byte {at})")
        })?;
        let (items, next_cursor) = {
            let text = body.as_str();
            let envelope: Envelope<'_> = serde_json::from_str(text).map_err(json_error)?;
            let raw = envelope
                .items
                .ok_or_else(|| "the page has no `items` array".to_owned())?;
            let base = body.as_ptr() as usize;
            let items: Vec<Range<usize>> = raw
                .iter()
                .map(|raw| {
                    let start = raw.get().as_ptr() as usize - base;
                    start..start + raw.get().len()
                })
                .collect();
            let next_cursor = match envelope.next_cursor {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) if s.is_empty() => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(_) => return Err("`next_cursor` is not a string".to_owned()),
            };
            (items, next_cursor)
        };
        Ok(Page {
            body,
            items,
            next_cursor,
        })
    }

    /// Item `index` as text: items lie on JSON token boundaries (ASCII), so the
    /// slice is on character boundaries of the checked body.
    pub fn item(&self, index: usize) -> &str {
        self.body.get(self.items[index].clone()).unwrap_or_default()
    }
}

/// The `next_cursor` a list page names, read from its ends alone, before the page
/// is parsed: the envelope's last member just before its closing brace, or its
/// first just after the opening one. Only a plain string (no escape, not empty)
/// counts; anything else is `None` and the page is read as before. A page whose
/// body is JSON names this same cursor (the brace at either end is the
/// envelope's own), so the next page can be asked for while this one is checked;
/// the check decides (issue #15).
pub(crate) fn peek_next_cursor(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"next_cursor\"";
    let text = body.trim_ascii();
    let last = || {
        // … ,"next_cursor" : "cursor" }
        let rest = text.strip_suffix(b"}")?.trim_ascii_end();
        let rest = rest.strip_suffix(b"\"")?;
        let open = rest.iter().rposition(|&b| b == b'"')?;
        let (rest, cursor) = (&rest[..open], &rest[open + 1..]);
        let rest = rest.trim_ascii_end().strip_suffix(b":")?;
        let rest = rest.trim_ascii_end().strip_suffix(KEY)?;
        matches!(rest.trim_ascii_end().last(), Some(b',' | b'{')).then_some(cursor)
    };
    let first = || {
        // { "next_cursor" : "cursor" , …
        let rest = text.strip_prefix(b"{")?.trim_ascii_start();
        let rest = rest.strip_prefix(KEY)?.trim_ascii_start();
        let rest = rest.strip_prefix(b":")?.trim_ascii_start();
        let rest = rest.strip_prefix(b"\"")?;
        let close = rest.iter().position(|&b| b == b'"')?;
        let (cursor, rest) = (&rest[..close], &rest[close + 1..]);
        matches!(rest.trim_ascii_start().first(), Some(b',' | b'}')).then_some(cursor)
    };
    let cursor = last().or_else(first)?;
    if cursor.is_empty() || cursor.iter().any(|&b| b == b'\\' || b < 0x20) {
        return None;
    }
    std::str::from_utf8(cursor).ok()
}

/// A serde_json error without the offending text (it may be personal data).
pub(crate) fn json_error(err: serde_json::Error) -> String {
    let position = format!("line {} column {}", err.line(), err.column());
    match err.classify() {
        serde_json::error::Category::Eof => format!("the JSON ends early at {position}"),
        serde_json::error::Category::Syntax => format!("invalid JSON at {position}"),
        serde_json::error::Category::Io => "could not read the body".to_owned(),
        serde_json::error::Category::Data => {
            format!(
                "unexpected JSON shape: {}",
                redact_serde_message(&err.to_string())
            )
        }
    }
}

/// Keep the kind of a serde message, drop the value it quotes:
/// "invalid type: string \"Ada\", expected …" → "invalid type: string, expected …".
pub(crate) fn redact_serde_message(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
            let kind = found.split([' ', '`', '"']).next().unwrap_or("value");
            let expected = redact_type_names(expected);
            return if expected.is_empty() {
                format!("{prefix}{kind}")
            } else {
                format!("{prefix}{kind}, expected{expected}")
            };
        }
    }
    redact_type_names(message)
}

/// "struct WireName" reads as "an object" to whoever sees the message.
fn redact_type_names(text: &str) -> String {
    if text.contains("struct ") {
        " an object".to_owned()
    } else {
        text.to_owned()
    }
}

/// A member's item position in the stream and what could be read of it.
#[derive(Deserialize)]
pub(crate) struct IdOnly {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
}

/// Parse one item; on failure, say where, without quoting values.
pub(crate) fn parse_item<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    match serde_json::from_str::<T>(text) {
        Ok(value) => Ok(value),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(value) => Ok(value),
                Err(err) => {
                    let path = err.path().to_string();
                    let message = redact_serde_message(&err.into_inner().to_string());
                    if path == "." || path.is_empty() {
                        Err(message)
                    } else {
                        Err(format!("`{path}`: {message}"))
                    }
                }
            }
        }
    }
}

/// The id of an item that did not parse, when it can be read.
pub(crate) fn readable_id(text: &str) -> Option<String> {
    match serde_json::from_str::<IdOnly>(text).ok()?.id? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Text read from a page: borrowed from the page's body when the JSON string has no
/// escapes (most have none), else unescaped into a string of its own. Serde's own
/// `Option<Cow<str>>` always copies; the values a member's field map takes are
/// copied into it anyway, so reading them needs no allocation of its own.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A list item. Strings the mapping copies into the member's field map, or may
/// drop (types, history dates, phone numbers), borrow from the page instead of
/// allocating ([`Text`]).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireMember<'a> {
    pub id: String,
    #[serde(default, borrow)]
    pub work_id: Option<Text<'a>>,
    #[serde(default)]
    pub name: Option<WireName>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default, rename = "type")]
    pub member_type: Option<String>,
    #[serde(default, borrow)]
    pub emails: Option<Vec<WireEmail<'a>>>,
    #[serde(default, borrow)]
    pub phones: Option<Vec<WirePhone<'a>>>,
    #[serde(default, borrow)]
    pub addresses: Option<Vec<WireAddress<'a>>>,
    #[serde(default, borrow)]
    pub current_employment: Option<CountryMap<WireEmployment<'a>>>,
    #[serde(default, borrow)]
    pub employment_history: Option<Vec<WirePeriod<'a>>>,
    #[serde(default)]
    pub date_of_birth: Option<String>,
    #[serde(default, borrow)]
    pub sex_assigned_at_birth: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub department: Option<WireNamed<'a>>,
    #[serde(default)]
    pub employment_start_date: Option<String>,
    #[serde(default)]
    pub employment_termination_date: Option<String>,
    #[serde(default, borrow)]
    pub job_title: Option<Text<'a>>,
    #[serde(default)]
    pub manager: Option<WireRef>,
    #[serde(default, borrow)]
    pub office: Option<WireOffice<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireName {
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub preferred_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireEmail<'a> {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WirePhone<'a> {
    #[serde(default, borrow)]
    pub number: Option<Text<'a>>,
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireAddress<'a> {
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub city: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub state: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub country: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireEmployment<'a> {
    #[serde(default, borrow)]
    pub employment_type: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WirePeriod<'a> {
    #[serde(default, borrow)]
    pub start_date: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireNamed<'a> {
    #[serde(default, borrow)]
    pub name: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireRef {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireOffice<'a> {
    #[serde(default, borrow)]
    pub name: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub address: Option<WireAddress<'a>>,
}

/// An object keyed by country code, in document order; `null` values skipped.
#[derive(Debug)]
pub(crate) struct CountryMap<T>(pub Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for CountryMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
            type Value = CountryMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by country code")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Option<T>>()? {
                    if let Some(value) = value {
                        entries.push((key, value));
                    }
                }
                Ok(CountryMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// `GET /v1/company`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireCompany {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub legal_name: Option<String>,
}

/// `GET /v1/company/custom-fields`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireCustomFields {
    #[serde(default)]
    pub items: Option<Vec<WireCustomField>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireCustomField {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// `GET /v1/members/{id}/custom-field-values`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireCustomValues {
    #[serde(default)]
    pub items: Option<Vec<WireCustomValue>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireCustomValue {
    pub id: String,
    #[serde(default)]
    pub values: Option<Vec<serde_json::Value>>,
}

impl WireCustomValue {
    /// The values as text, multi-value fields joined with "; ".
    pub fn joined(&self) -> Option<String> {
        let values: Vec<String> = self
            .values
            .iter()
            .flatten()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s.trim().to_owned()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect();
        (!values.is_empty()).then(|| values.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_envelope_variants() {
        let page = Page::parse(Bytes::from_static(
            br#"{"items":[{"id":"a"}, {"id":"b"}],"next_cursor":"c2"}"#,
        ))
        .unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.item(1), r#"{"id":"b"}"#);
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));
        for last in [
            r#"{"items":[]}"#,
            r#"{"items":[],"next_cursor":null}"#,
            r#"{"items":[],"next_cursor":""}"#,
        ] {
            assert!(
                Page::parse(Bytes::from(last.as_bytes().to_vec()))
                    .unwrap()
                    .next_cursor
                    .is_none()
            );
        }
        let truncated = Page::parse(Bytes::from_static(br#"{"items":[{"id":"a"},{"id":"#));
        assert!(truncated.unwrap_err().contains("ends early"));
        assert!(Page::parse(Bytes::from_static(b"<html>oops</html>")).is_err());
        assert!(Page::parse(Bytes::from_static(br#"{"members":[]}"#)).is_err());
        // Items beside letters beyond ASCII are whole; a page that is not UTF-8 says where.
        let page = Page::parse(Bytes::from(
            r#"{"items":[{"n":"Zoë"},{"n":"Łukasz 名"}]}"#.as_bytes().to_vec(),
        ))
        .unwrap();
        assert_eq!(page.item(0), r#"{"n":"Zoë"}"#);
        assert_eq!(page.item(1), r#"{"n":"Łukasz 名"}"#);
        let latin1 = Page::parse(Bytes::from_static(b"{\"items\":[{\"n\":\"Zo\xeb\"}]}"));
        assert_eq!(latin1.unwrap_err(), "the page is not UTF-8 (at byte 18)");
    }

    #[test]
    fn item_errors_name_the_field_not_the_value() {
        let err = parse_item::<WireMember>(r#"{"id":"m1","name":42}"#).unwrap_err();
        assert!(err.starts_with("`name`: invalid type: integer"), "{err}");
        let err = parse_item::<WireMember>(
            r#"{"id":"m1","job_title":"Secret Agent","active":"Ada Lovelace"}"#,
        )
        .unwrap_err();
        assert!(err.contains("`active`") && !err.contains("Ada"), "{err}");
        let err = parse_item::<WireMember>(r#"{"name":{"given_name":"Ada"}}"#).unwrap_err();
        assert!(err.contains("missing field `id`"), "{err}");
        assert_eq!(
            readable_id(r#"{"id":"m9","name":1}"#).as_deref(),
            Some("m9")
        );
        assert_eq!(readable_id(r#"{"name":1}"#), None);
    }

    #[test]
    fn nulls_and_unknown_fields_are_tolerated() {
        let m: WireMember = parse_item(
            r#"{"id":"m1","emails":null,"phones":[],"manager":null,"office":{"name":null},
                "current_employment":{"US":null,"CA":{"employment_type":"full_time","extra":1}},
                "partner_settings":{"x":[1,2]},"brand_new_field":true,"employment_termination_date":null}"#,
        )
        .unwrap();
        assert!(m.emails.is_none());
        assert!(m.phones.as_ref().is_some_and(Vec::is_empty));
        assert!(m.manager.is_none());
        let employment = m.current_employment.unwrap();
        assert_eq!(employment.0.len(), 1);
        assert_eq!(employment.0[0].0, "CA");
        assert!(m.employment_termination_date.is_none());
    }

    #[test]
    fn text_borrows_from_the_page_unless_escaped() {
        let m: WireMember = parse_item(
            r#"{"id":"m1","job_title":"Chief Executive Officer","work_id":"E\u0030\"1",
                "office":{"name":"San Francisco","address":{"city":"S\u00e3o Paulo"}}}"#,
        )
        .unwrap();
        let title = m.job_title.unwrap();
        assert!(matches!(title.0, Cow::Borrowed(_)));
        assert_eq!(&*title, "Chief Executive Officer");
        let work_id = m.work_id.unwrap();
        assert!(matches!(work_id.0, Cow::Owned(_)));
        assert_eq!(&*work_id, "E0\"1");
        let office = m.office.unwrap();
        assert!(matches!(
            office.name.unwrap().0,
            Cow::Borrowed("San Francisco")
        ));
        assert_eq!(office.address.unwrap().city.as_deref(), Some("São Paulo"));
        let err = parse_item::<WireMember>(r#"{"id":"m1","job_title":7}"#).unwrap_err();
        assert!(err.contains("`job_title`: invalid type: integer"), "{err}");
    }

    #[test]
    fn custom_values_join() {
        let v: WireCustomValues =
            serde_json::from_str(r#"{"items":[{"id":"cf_1","values":["M"," L ",""]},{"id":"cf_2","values":[]},{"id":"cf_3","values":[3]}]}"#)
                .unwrap();
        let items = v.items.unwrap();
        assert_eq!(items[0].joined().as_deref(), Some("M; L"));
        assert_eq!(items[1].joined(), None);
        assert_eq!(items[2].joined().as_deref(), Some("3"));
    }

    /// The cursor read from a page's ends is the one the page's check reads, or
    /// none: whatever the envelope's spacing, key order, or items (which may hold a
    /// `next_cursor` of their own).
    #[test]
    fn a_peeked_cursor_is_the_page_s_own() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"items":[{"id":"a"}],"next_cursor":"c2"}"#, Some("c2")),
            (
                "{\"items\":[],\n  \"next_cursor\" :  \"YzEu\" }\n",
                Some("YzEu"),
            ),
            (r#"{"next_cursor":"c3","items":[{"id":"a"}]}"#, Some("c3")),
            (r#"{ "next_cursor" : "c4" , "items": [] }"#, Some("c4")),
            // The last page, and cursors that are left to the check.
            (r#"{"items":[],"next_cursor":""}"#, None),
            (r#"{"items":[],"next_cursor":null}"#, None),
            (r#"{"items":[]}"#, None),
            (r#"{"items":[],"next_cursor":"a\"b"}"#, None),
            (r#"{"items":[],"next_cursor":"a\\"}"#, None),
            (r#"{"items":[],"next_cursor":7}"#, None),
            // An item's or another object's `next_cursor` is not the page's.
            (r#"{"items":[{"next_cursor":"x"}]}"#, None),
            (r#"{"items":[],"meta":{"next_cursor":"x"}}"#, None),
            (r#"{"items":[{"id":"a","next_cursor":"x"}],"n":1}"#, None),
            (r#"{"items":["next_cursor":"x"}"#, None),
            // Cut short: nothing to read.
            (r#"{"items":[{"id":"a"}],"next_cur"#, None),
            ("", None),
        ];
        for (body, want) in cases {
            assert_eq!(peek_next_cursor(body.as_bytes()), *want, "{body}");
            if want.is_some() {
                let page = Page::parse(Bytes::from(body.as_bytes().to_vec())).unwrap();
                assert_eq!(page.next_cursor.as_deref(), *want, "{body}");
            }
        }
    }

    proptest::proptest! {
        /// Any page serde_json writes (either key order, items with strings of any
        /// character): the cursor read from its ends is none or the one its check
        /// reads; and a plain cursor is always read.
        #[test]
        fn peeking_never_disagrees_with_the_check(
            cursor in proptest::option::of(".{0,12}"),
            plain in "[A-Za-z0-9_.=-]{1,24}",
            names in proptest::collection::vec(".{0,8}", 0..4),
            cursor_first in proptest::bool::ANY,
            use_plain in proptest::bool::ANY,
        ) {
            let cursor = if use_plain { Some(plain.clone()) } else { cursor };
            let items: Vec<serde_json::Value> = names
                .iter()
                .map(|n| serde_json::json!({"id": n, "next_cursor": n}))
                .collect();
            let (items, next) = (serde_json::json!(items), serde_json::json!(cursor));
            let body = if cursor_first {
                format!(r#"{{"next_cursor":{next},"items":{items}}}"#)
            } else {
                format!(r#"{{"items":{items},"next_cursor":{next}}}"#)
            };
            let checked = Page::parse(Bytes::from(body.clone().into_bytes())).unwrap();
            match peek_next_cursor(body.as_bytes()) {
                Some(peeked) => proptest::prop_assert_eq!(Some(peeked), checked.next_cursor.as_deref()),
                None => proptest::prop_assert!(!use_plain, "a plain cursor was not read: {}", body),
            }
        }
    }
}
