//! Writes (POST, PUT, PATCH, DELETE on Users and Groups) are refused: the directory is
//! read-only and every change comes from the HR system. A write is still checked first,
//! so a client learns about a malformed request the way RFC 7644 says:
//!
//! - not JSON, not an object, no `schemas`, the wrong schemas, a PATCH without
//!   `Operations` or with an unknown `op`, an `add`/`replace` without `value`:
//!   `invalidSyntax`;
//! - a value of the wrong type (`"active": 3`, `"emails": "x"`, two primary emails,
//!   no `userName` on a User, no `displayName` on a Group): `invalidValue`;
//! - a PATCH `path` that does not parse or names no attribute: `invalidPath`;
//!   `remove` without a path: `noTarget`; a path at `id`, `meta` or `groups`, which no
//!   client may ever change: `mutability`.
//!
//! A request that passes gets [`ScimError::read_only`] (501). Attributes the schema
//! does not know are ignored, as are read-only ones in a body (RFC 7644 §3.5.1). Input
//! is read leniently where real clients need it: booleans as `"True"`/`"False"` and a
//! complex attribute given as its `value` alone (Entra's `manager`).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{parse_datetime, parse_path, resolve_within};
use crate::provider::ScimProvider;
use crate::schema::{AttrDef, AttrType, ResourceSchemas, ResourceType};

/// The PatchOp message schema.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A write method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl WriteMethod {
    /// From an HTTP method name, case-insensitively.
    pub fn parse(method: &str) -> Option<Self> {
        Some(match method.to_ascii_uppercase().as_str() {
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }
}

fn syntax(msg: impl Into<String>) -> ScimError {
    ScimError::InvalidSyntax(msg.into())
}

fn value_error(msg: impl Into<String>) -> ScimError {
    ScimError::InvalidValue(msg.into())
}

/// A member by name, case-insensitively (RFC 7643 §2.1).
fn get<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `schemas`: an array of strings holding `required`; each a schema of `allowed`.
fn check_schemas(
    obj: &Map<String, Value>,
    required: &str,
    allowed: &[&str],
) -> Result<(), ScimError> {
    let Some(schemas) = get(obj, "schemas") else {
        return Err(syntax(format!(
            "the request has no \"schemas\"; it needs \"{required}\""
        )));
    };
    let Some(list) = schemas
        .as_array()
        .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<&str>>>())
    else {
        return Err(syntax("\"schemas\" must be an array of schema URNs"));
    };
    if !list.iter().any(|s| s.eq_ignore_ascii_case(required)) {
        return Err(syntax(format!("\"schemas\" must include \"{required}\"")));
    }
    if let Some(unknown) = list
        .iter()
        .find(|s| !allowed.iter().any(|a| a.eq_ignore_ascii_case(s)))
    {
        return Err(syntax(format!(
            "unknown schema \"{unknown}\" in \"schemas\""
        )));
    }
    Ok(())
}

/// Check one value of `def` (a single value, or an element of a multi-valued one).
fn check_single(def: &AttrDef, v: &Value, path: &str) -> Result<(), ScimError> {
    let wrong = |what: &str| value_error(format!("{path} must be {what}"));
    match def.ty {
        AttrType::String | AttrType::Reference => {
            v.is_string().then_some(()).ok_or_else(|| wrong("a string"))
        }
        AttrType::Boolean => match v {
            Value::Bool(_) => Ok(()),
            Value::String(s)
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                Ok(())
            }
            _ => Err(wrong("true or false")),
        },
        AttrType::DateTime => match v {
            Value::String(s) if parse_datetime(s).is_some() => Ok(()),
            _ => Err(wrong("a dateTime such as \"2024-05-13T04:42:34Z\"")),
        },
        AttrType::Integer => v.is_i64().then_some(()).ok_or_else(|| wrong("an integer")),
        AttrType::Decimal => v.is_number().then_some(()).ok_or_else(|| wrong("a number")),
        AttrType::Complex => match v {
            Value::Object(o) => {
                for (k, sv) in o {
                    if let Some(sub) = def.sub(k) {
                        check_value(sub, sv, &format!("{path}.{}", sub.name))?;
                    }
                }
                Ok(())
            }
            // A complex attribute given as its `value` alone.
            other => match def.sub("value") {
                Some(value) if !other.is_array() => check_single(value, other, path),
                _ => Err(wrong("an object")),
            },
        },
    }
}

/// Check a value of `def`: `null` (a clear), a single value, or for a multi-valued
/// attribute an array with at most one `primary`.
fn check_value(def: &AttrDef, v: &Value, path: &str) -> Result<(), ScimError> {
    if v.is_null() {
        return Ok(());
    }
    if !def.multi_valued {
        return check_single(def, v, path);
    }
    let Value::Array(items) = v else {
        return Err(value_error(format!("{path} must be an array")));
    };
    for item in items {
        check_single(def, item, path)?;
    }
    let primaries = items
        .iter()
        .filter(|i| {
            i.get("primary").is_some_and(|p| {
                p == &Value::Bool(true)
                    || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
            })
        })
        .count();
    if primaries > 1 {
        return Err(value_error(format!(
            "{path} has more than one primary value"
        )));
    }
    Ok(())
}

/// Attributes no client may ever change (RFC 7643: readOnly in any service provider).
fn never_writable(name: &str) -> bool {
    ["id", "meta", "groups"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// Check a resource's attributes (a POST or PUT body, or a PATCH value without path).
fn check_attributes(schemas: &ResourceSchemas, obj: &Map<String, Value>) -> Result<(), ScimError> {
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = schemas
            .extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(k))
        {
            match v {
                Value::Null => {}
                Value::Object(inner) => {
                    for (ak, av) in inner {
                        if let Some(def) = ext.attr(ak) {
                            check_value(def, av, &format!("{}:{}", ext.id, def.name))?;
                        }
                    }
                }
                _ => return Err(value_error(format!("{} must be an object", ext.id))),
            }
            continue;
        }
        let Some(found) = schemas.lookup(None, k) else {
            continue;
        };
        if never_writable(&found.def.name) {
            continue;
        }
        check_value(found.def, v, &found.def.name)?;
    }
    Ok(())
}

/// The attribute a POST or PUT must carry.
fn required_attribute(resource: ResourceType) -> &'static str {
    match resource {
        ResourceType::User => "userName",
        ResourceType::Group => "displayName",
    }
}

impl ScimProvider {
    /// Check a write request. `Ok` means it is well-formed: answer
    /// [`ScimError::read_only`] (or use [`ScimProvider::refuse_write`]).
    pub fn validate_write(
        &self,
        resource: ResourceType,
        method: WriteMethod,
        body: &[u8],
    ) -> Result<(), ScimError> {
        if method == WriteMethod::Delete {
            return Ok(());
        }
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| syntax(format!("the request body is not JSON: {e}")))?;
        let Value::Object(obj) = v else {
            return Err(syntax("the request body must be a JSON object"));
        };
        let schemas = self.schemas(resource);
        if method == WriteMethod::Patch {
            return self.check_patch(schemas, &obj);
        }
        let allowed: Vec<&str> = schemas.urns().collect();
        check_schemas(&obj, schemas.core.id, &allowed)?;
        let required = required_attribute(resource);
        match get(&obj, required) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(value_error(format!("{required} is required")));
            }
            Some(_) => return Err(value_error(format!("{required} must be a string"))),
        }
        check_attributes(schemas, &obj)
    }

    /// Validate, then refuse: the error to answer a write with.
    pub fn refuse_write(
        &self,
        resource: ResourceType,
        method: WriteMethod,
        body: &[u8],
    ) -> ScimError {
        match self.validate_write(resource, method, body) {
            Ok(()) => ScimError::read_only(),
            Err(e) => e,
        }
    }

    fn check_patch(
        &self,
        schemas: &ResourceSchemas,
        obj: &Map<String, Value>,
    ) -> Result<(), ScimError> {
        check_schemas(obj, PATCH_OP_SCHEMA, &[PATCH_OP_SCHEMA])?;
        let ops = match get(obj, "Operations") {
            Some(Value::Array(ops)) if !ops.is_empty() => ops,
            _ => return Err(syntax("a PatchOp needs a non-empty \"Operations\" array")),
        };
        for (i, op) in ops.iter().enumerate() {
            let n = i + 1;
            let Value::Object(op) = op else {
                return Err(syntax(format!("operation {n} must be an object")));
            };
            let kind = get(op, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let kind = match kind.as_deref() {
                Some(k @ ("add" | "remove" | "replace")) => k.to_string(),
                _ => {
                    return Err(syntax(format!(
                        "operation {n}: \"op\" must be \"add\", \"remove\" or \"replace\""
                    )));
                }
            };
            let path = match get(op, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) => Some(p.as_str()),
                Some(_) => {
                    return Err(ScimError::InvalidPath(format!(
                        "operation {n}: \"path\" must be a string"
                    )));
                }
            };
            let value = get(op, "value");
            if kind == "remove" {
                let Some(path) = path else {
                    return Err(ScimError::NoTarget(format!(
                        "operation {n}: \"remove\" needs a \"path\""
                    )));
                };
                check_path(schemas, path, None)?;
                continue;
            }
            let Some(value) = value else {
                return Err(syntax(format!(
                    "operation {n}: \"{kind}\" needs a \"value\""
                )));
            };
            match path {
                Some(path) => check_path(schemas, path, Some(value))?,
                None => match value {
                    Value::Object(attrs) => check_attributes(schemas, attrs)?,
                    _ => {
                        return Err(value_error(format!(
                            "operation {n}: without a \"path\", \"value\" must be an object of attributes"
                        )));
                    }
                },
            }
        }
        Ok(())
    }
}

/// Check a PATCH path and, for `add`/`replace`, its value.
fn check_path(
    schemas: &ResourceSchemas,
    text: &str,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let p = parse_path(text)?;
    let bad = |why: String| ScimError::InvalidPath(format!("path {text:?}: {why}"));
    if p.attr.schema.is_some()
        && p.attr.sub_attr.is_none()
        && p.filter.is_none()
        && let Some(ext) = schemas
            .extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(text))
    {
        // The whole extension.
        return match value {
            None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
            Some(_) => Err(value_error(format!("{} must be an object", ext.id))),
        };
    }
    if p.attr
        .schema
        .as_deref()
        .is_some_and(|u| schemas.schema(u).is_none())
    {
        return Err(bad(format!(
            "unknown schema {:?}",
            p.attr.schema.as_deref().unwrap_or("")
        )));
    }
    let Some(found) = schemas.lookup(p.attr.schema.as_deref(), &p.attr.name) else {
        return Err(bad(format!("no attribute {:?}", p.attr.name)));
    };
    let def = found.def;
    if never_writable(&def.name) {
        return Err(ScimError::Mutability(format!(
            "{} is read-only: no client may change it",
            def.name
        )));
    }
    let sub_name = p.attr.sub_attr.as_deref().or(p.sub_attr.as_deref());
    if let Some(filter) = p.filter {
        if def.ty != AttrType::Complex || !def.multi_valued {
            return Err(bad(format!("{} is not multi-valued", def.name)));
        }
        resolve_within(schemas, def, filter).map_err(|e| bad(e.to_string()))?;
    }
    let target = match sub_name {
        None => def,
        Some(s) => def
            .sub(s)
            .ok_or_else(|| bad(format!("{} has no sub-attribute {s:?}", def.name)))?,
    };
    let Some(value) = value else { return Ok(()) };
    let shown = match sub_name {
        Some(s) => format!("{}.{s}", def.name),
        None => def.name.clone(),
    };
    if value.is_null() {
        Ok(())
    } else if sub_name.is_some() || (def.multi_valued && !value.is_array()) {
        // A sub-attribute's value, or one element to add to a multi-valued attribute
        // (or to put in place of the filtered ones).
        check_single(target, value, &shown)
    } else {
        check_value(target, value, &shown)
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
