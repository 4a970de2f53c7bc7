//! Resolution of a parsed filter against the published schema: attribute names are
//! matched case-insensitively and rewritten as the schema spells them, each path learns
//! its type and case-exactness, and every comparison is checked against its attribute's
//! type. Anything unknown or not comparable is an `invalidFilter` naming the attribute.

use jiff::Timestamp;

use super::{AttrPath, CompareOp, Filter, Leaf, Value};
use crate::error::ScimError;
use crate::schema::{AttrDef, AttrType, ResourceSchemas};

/// Resolve a filter for one resource type.
pub(crate) fn resolve(schemas: &ResourceSchemas, f: Filter) -> Result<Filter, ScimError> {
    resolve_in(schemas, None, f)
}

/// Resolve a value filter (`attr[…]`) whose paths are sub-attributes of `parent`.
pub(crate) fn resolve_within(
    schemas: &ResourceSchemas,
    parent: &AttrDef,
    f: Filter,
) -> Result<Filter, ScimError> {
    resolve_in(schemas, Some(parent), f)
}

/// Resolve one top-level attribute path (for `sortBy`); `compared` as in a comparison
/// (a multi-valued complex attribute stands for its `value`s).
pub(crate) fn resolve_attr(
    schemas: &ResourceSchemas,
    p: AttrPath,
    compared: bool,
) -> Result<(AttrPath, &AttrDef), ScimError> {
    path(schemas, None, p, compared)
}

/// A time in a filter or a cursor: RFC 3339 with an offset, or without one (read as
/// UTC). A date alone is not a dateTime.
pub(crate) fn parse_datetime(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    if !s.contains(['T', 't', ' ']) {
        return None;
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

fn invalid(msg: String) -> ScimError {
    ScimError::InvalidFilter(msg)
}

fn resolve_in(
    schemas: &ResourceSchemas,
    parent: Option<&AttrDef>,
    f: Filter,
) -> Result<Filter, ScimError> {
    Ok(match f {
        Filter::And(items) => Filter::And(
            items
                .into_iter()
                .map(|f| resolve_in(schemas, parent, f))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Or(items) => Filter::Or(
            items
                .into_iter()
                .map(|f| resolve_in(schemas, parent, f))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Not(inner) => Filter::Not(Box::new(resolve_in(schemas, parent, *inner)?)),
        Filter::Present(p) => {
            let (p, _) = path(schemas, parent, p, false)?;
            Filter::Present(p)
        }
        Filter::Compare(p, op, v) => {
            let (p, _) = path(schemas, parent, p, true)?;
            let v = check(&p, op, v)?;
            Filter::Compare(p, op, v)
        }
        Filter::ValuePath(p, inner) => {
            let shown = p.to_string();
            if p.sub_attr.is_some() {
                return Err(invalid(format!(
                    "\"{shown}[…]\": a value filter follows a multi-valued attribute, not a \
                     sub-attribute"
                )));
            }
            let (p, def) = path(schemas, parent, p, false)?;
            if def.ty != AttrType::Complex {
                return Err(invalid(format!(
                    "\"{shown}[…]\": {} has no sub-attributes to filter on",
                    def.name
                )));
            }
            let inner = resolve_in(schemas, Some(def), *inner)?;
            Filter::ValuePath(p, Box::new(inner))
        }
    })
}

/// Resolve one path; returns it canonical and the definition of what it names.
fn path<'s>(
    schemas: &'s ResourceSchemas,
    parent: Option<&'s AttrDef>,
    p: AttrPath,
    compared: bool,
) -> Result<(AttrPath, &'s AttrDef), ScimError> {
    let shown = p.to_string();
    let (schema, in_extension, def) = match parent {
        Some(parent) => {
            if p.schema.is_some() || p.sub_attr.is_some() {
                return Err(invalid(format!(
                    "\"{shown}\": inside {}[…] name a sub-attribute of {} alone",
                    parent.name, parent.name
                )));
            }
            let Some(def) = parent.sub(&p.name) else {
                return Err(invalid(format!(
                    "{} has no sub-attribute \"{}\" to filter on",
                    parent.name, p.name
                )));
            };
            (None, false, def)
        }
        None => {
            if let Some(urn) = &p.schema
                && schemas.schema(urn).is_none()
            {
                return Err(invalid(format!(
                    "\"{shown}\": unknown schema \"{urn}\" for {}s",
                    schemas.resource.name()
                )));
            }
            let Some(found) = schemas.lookup(p.schema.as_deref(), &p.name) else {
                return Err(invalid(format!(
                    "unknown attribute \"{shown}\": {}s cannot be filtered by it",
                    schemas.resource.name()
                )));
            };
            (
                Some(found.schema.to_string()),
                found.in_extension,
                found.def,
            )
        }
    };
    let (sub_attr, leaf_def) = match &p.sub_attr {
        None => (None, def),
        Some(sub) => match def.sub(sub) {
            Some(s) => (Some(s.name.clone()), s),
            None => {
                return Err(invalid(format!(
                    "unknown attribute \"{shown}\": {} has no sub-attribute \"{sub}\"",
                    def.name
                )));
            }
        },
    };
    let mut leaf = Leaf {
        ty: leaf_def.ty,
        case_exact: leaf_def.case_exact,
        in_extension,
        implicit_value: false,
    };
    if compared && leaf_def.ty == AttrType::Complex {
        // RFC 7644 §3.4.2.2: a complex multi-valued attribute compares by `value`.
        match leaf_def.sub("value") {
            Some(v) if leaf_def.multi_valued => {
                leaf.ty = v.ty;
                leaf.case_exact = v.case_exact;
                leaf.implicit_value = true;
            }
            _ => {
                let subs: Vec<String> = leaf_def
                    .sub_attributes
                    .iter()
                    .map(|s| format!("{}.{}", leaf_def.name, s.name))
                    .collect();
                return Err(invalid(format!(
                    "\"{shown}\" is complex: compare one of its sub-attributes ({})",
                    subs.join(", ")
                )));
            }
        }
    }
    let resolved = AttrPath {
        schema,
        name: def.name.clone(),
        sub_attr,
        resolved: Some(leaf),
    };
    Ok((resolved, leaf_def))
}

/// Check a comparison against the attribute's type; booleans written as strings
/// (`"True"`) become booleans.
fn check(p: &AttrPath, op: CompareOp, v: Value) -> Result<Value, ScimError> {
    let leaf = p.resolved.expect("resolved path");
    if v == Value::Null {
        return if matches!(op, CompareOp::Eq | CompareOp::Ne) {
            Ok(v)
        } else {
            Err(invalid(format!(
                "\"{p} {} null\": null compares with eq or ne only",
                op.as_str()
            )))
        };
    }
    let shown = format!("{p} {} {v}", op.as_str());
    match leaf.ty {
        AttrType::Boolean => {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(invalid(format!(
                    "\"{shown}\": {p} is a boolean, compared with eq or ne only"
                )));
            }
            match v {
                Value::Bool(_) => Ok(v),
                Value::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                Value::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                _ => Err(invalid(format!(
                    "\"{shown}\": {p} is a boolean, compare it with true or false"
                ))),
            }
        }
        AttrType::String | AttrType::Reference => match v {
            Value::Str(_) => Ok(v),
            _ => Err(invalid(format!(
                "\"{shown}\": {p} is a string, compare it with a string in double quotes"
            ))),
        },
        AttrType::DateTime => {
            if op.is_substring() {
                return Err(invalid(format!(
                    "\"{shown}\": {p} is a dateTime, compared with eq, ne, gt, ge, lt or le"
                )));
            }
            match &v {
                Value::Str(s) if parse_datetime(s).is_some() => Ok(v),
                _ => Err(invalid(format!(
                    "\"{shown}\": {p} is a dateTime, compare it with a time like \
                     \"2024-05-13T04:42:34Z\""
                ))),
            }
        }
        AttrType::Integer | AttrType::Decimal => {
            if op.is_substring() {
                return Err(invalid(format!(
                    "\"{shown}\": {p} is a number, compared with eq, ne, gt, ge, lt or le"
                )));
            }
            match v {
                Value::Num(_) => Ok(v),
                _ => Err(invalid(format!(
                    "\"{shown}\": {p} is a number, compare it with a number"
                ))),
            }
        }
        AttrType::Complex => Err(invalid(format!("\"{shown}\": {p} is complex"))),
    }
}
