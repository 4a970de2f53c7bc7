//! Evaluation of a filter over a resource's JSON representation (RFC 7644 §3.4.2.2):
//!
//! - strings compare case-insensitively unless the attribute is `caseExact`
//!   (`id`, `externalId`, references); `co`, `sw`, `ew`, `gt`… fold case the same way,
//!   and `gt`… order strings lexicographically;
//! - dateTimes compare as instants (`2024-01-01T01:00:00+01:00 eq
//!   2024-01-01T00:00:00Z`); booleans with `eq`/`ne`; numbers numerically;
//! - a multi-valued attribute matches when any of its values does; a complex
//!   multi-valued one compared without a sub-attribute compares its `value`s;
//! - `ne` is the negation of `eq` (so an absent attribute is `ne` anything);
//!   `eq null` matches an absent (or empty) attribute, `ne null` a present one;
//! - `pr`: the attribute has a value that is not null, not `""`, not `[]` and not an
//!   object without such a value;
//! - `attr[f]`: some element of `attr` (an object, or each object of an array)
//!   satisfies `f`.
//!
//! A filter straight from [`super::parse_filter`] (not resolved) evaluates too, with
//! every string case-insensitive and URN-prefixed names looked up under their URN.

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::{AttrPath, CompareOp, Filter, Leaf, Value, parse_datetime};
use crate::schema::AttrType;

/// Does `resource` (a User or Group representation) match `filter`?
pub fn evaluate(filter: &Filter, resource: &Json) -> bool {
    match filter {
        Filter::And(items) => items.iter().all(|f| evaluate(f, resource)),
        Filter::Or(items) => items.iter().any(|f| evaluate(f, resource)),
        Filter::Not(inner) => !evaluate(inner, resource),
        Filter::Present(p) => values(p, resource).into_iter().any(present),
        Filter::Compare(p, op, v) => compare(p, *op, v, resource),
        Filter::ValuePath(p, inner) => values(p, resource)
            .into_iter()
            .any(|element| element.is_object() && evaluate(inner, element)),
    }
}

pub(crate) fn leaf(p: &AttrPath) -> Leaf {
    p.resolved.unwrap_or(Leaf {
        ty: AttrType::String,
        case_exact: false,
        in_extension: p
            .schema
            .as_deref()
            .is_some_and(|s| !s.starts_with("urn:ietf:params:scim:schemas:core:")),
        implicit_value: false,
    })
}

/// A member of an object by name: exactly, else ASCII-case-insensitively.
pub(crate) fn member<'a>(object: &'a Json, name: &str) -> Option<&'a Json> {
    let map = object.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The values a path designates, arrays flattened, nulls dropped.
fn values<'a>(p: &AttrPath, resource: &'a Json) -> Vec<&'a Json> {
    let l = leaf(p);
    let root = match (&p.schema, l.in_extension) {
        (Some(urn), true) => match member(resource, urn) {
            Some(r) => r,
            None => return Vec::new(),
        },
        _ => resource,
    };
    let Some(attr) = member(root, &p.name) else {
        return Vec::new();
    };
    let elements: Vec<&Json> = match attr {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let sub = p.sub_attr.as_deref().or(if l.implicit_value {
        Some("value")
    } else {
        None
    });
    let mut out = Vec::with_capacity(elements.len());
    for e in elements {
        let v = match sub {
            Some(sub) => match member(e, sub) {
                Some(v) => v,
                None => continue,
            },
            None => e,
        };
        match v {
            Json::Null => {}
            Json::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
            other => out.push(other),
        }
    }
    out
}

/// RFC 7644 `pr`: a non-empty value, or a complex one with a non-empty member.
fn present(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::String(s) => !s.is_empty(),
        Json::Array(items) => items.iter().any(present),
        Json::Object(map) => map.values().any(present),
        Json::Bool(_) | Json::Number(_) => true,
    }
}

fn compare(p: &AttrPath, op: CompareOp, v: &Value, resource: &Json) -> bool {
    let vals = values(p, resource);
    match (op, v) {
        (CompareOp::Eq, Value::Null) => !vals.into_iter().any(present),
        (CompareOp::Ne, Value::Null) => vals.into_iter().any(present),
        (CompareOp::Ne, _) => !vals
            .into_iter()
            .any(|a| matches_one(leaf(p), CompareOp::Eq, a, v)),
        _ => vals.into_iter().any(|a| matches_one(leaf(p), op, a, v)),
    }
}

fn ordered(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// One attribute value against the filter's value.
fn matches_one(leaf: Leaf, op: CompareOp, attr: &Json, v: &Value) -> bool {
    match (attr, v) {
        (Json::String(a), Value::Str(b)) if leaf.ty == AttrType::DateTime => {
            match (parse_datetime(a), parse_datetime(b)) {
                (Some(a), Some(b)) => ordered(op, a.cmp(&b)),
                _ => false,
            }
        }
        (Json::String(a), Value::Str(b)) => {
            let (a, b) = if leaf.case_exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ordered(op, a.cmp(&b)),
            }
        }
        (Json::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        (Json::Number(a), Value::Num(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordered(op, o)),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
