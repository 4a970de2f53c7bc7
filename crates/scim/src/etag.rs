//! `meta.version`: a weak ETag computed from the representation.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The weak ETag of a representation: `W/"<32 hex digits>"`, the first 16 bytes of the
/// SHA-256 of its JSON without `meta.version`. Any change to what a client can read
/// changes it.
pub fn version(representation: &Value) -> String {
    let has_version = representation
        .get("meta")
        .is_some_and(|m| m.get("version").is_some());
    let bytes = if has_version {
        let mut v = representation.clone();
        if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("version");
        }
        serde_json::to_vec(&v)
    } else {
        serde_json::to_vec(representation)
    }
    .unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    format!("W/\"{}\"", hex::encode(&digest[..16]))
}

/// Set `meta.version` from the rest of the representation.
pub(crate) fn stamp_version(representation: &mut Value) {
    let v = version(representation);
    if let Some(meta) = representation
        .get_mut("meta")
        .and_then(Value::as_object_mut)
    {
        meta.insert("version".into(), Value::String(v));
    }
}

/// Does an `If-None-Match` or `If-Match` header value name `version`? `*` names any;
/// otherwise a comma-separated list of entity tags, compared weakly (RFC 9110
/// §8.8.3.2: `W/` ignored), so `"abc"` and `W/"abc"` both name `W/"abc"`.
pub fn matches(header: &str, version: &str) -> bool {
    let opaque = |t: &str| {
        let t = t.trim();
        t.strip_prefix("W/").unwrap_or(t).to_string()
    };
    let ours = opaque(version);
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || (!t.is_empty() && opaque(t) == ours))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("*", true)]
    #[case(r#"W/"abc""#, true)]
    #[case(r#""abc""#, true)]
    #[case(r#"W/"x", W/"abc""#, true)]
    #[case(r#"  W/"abc"  "#, true)]
    #[case(r#"W/"abd""#, false)]
    #[case(r#"abc"#, false)]
    #[case("", false)]
    fn if_none_match(#[case] header: &str, #[case] expected: bool) {
        assert_eq!(matches(header, r#"W/"abc""#), expected);
    }

    #[test]
    fn the_version_ignores_itself() {
        let a = serde_json::json!({"id": "1", "meta": {"version": "W/\"old\""}});
        let b = serde_json::json!({"id": "1", "meta": {}});
        assert_eq!(version(&a), version(&b));
        let mut c = b.clone();
        stamp_version(&mut c);
        assert_eq!(c["meta"]["version"], version(&b));
    }
}
