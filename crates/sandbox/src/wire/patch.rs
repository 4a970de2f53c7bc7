//! Merge patches of a member (RFC 7386) over its full wire document.

use super::{custom_values, member_value};
use crate::model::{Company, Member};

/// The member as a document for merge patching: the full wire member plus the
/// sandbox extras `custom_field_values` and `hidden`.
pub(crate) fn patch_document(c: &Company, m: &Member) -> serde_json::Value {
    let mut doc = member_value(c, m);
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert(
            "custom_field_values".into(),
            serde_json::to_value(custom_values(c, m)).expect("plain data"),
        );
        map.insert("hidden".into(), serde_json::Value::Bool(m.hidden));
    }
    doc
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::parse_input;
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "arr": [1, 2]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null}, "arr": [3], "new": {"x": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "arr": [3], "new": {"x": 1}})
        );
    }

    #[test]
    fn parse_input_names_the_field() {
        let e = parse_input(json!({"id": "mbr_1", "date_of_birth": "1990-13-01"})).unwrap_err();
        assert_eq!(e.field, "date_of_birth");
        let e = parse_input(json!({"id": "mbr_1", "nmae": {}})).unwrap_err();
        assert!(e.message.contains("nmae"), "{e:?}");
        let e = parse_input(json!({"emails": [{"address": "a@b", "kind": "work"}]})).unwrap_err();
        assert!(e.field.starts_with("emails[0]"), "{e:?}");
    }
}
