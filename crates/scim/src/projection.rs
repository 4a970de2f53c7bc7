//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes of a
//! resource are returned. Names are resolved against the schema case-insensitively and
//! may carry a sub-attribute (`name.givenName`, `emails.value`) or a schema URN
//! (`urn:…:enterprise:2.0:User:employeeNumber`, or an extension's URN alone for the
//! whole extension). `id`, `schemas` and `meta.resourceType` are always returned.
//! A well-formed name the schema does not know is ignored (RFC 7644 leaves this open;
//! a client asking for an attribute this provider does not have gets none); a
//! malformed one is `invalidValue`. Given both lists, `attributes` selects first and
//! `excludedAttributes` then removes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::provider::ScimProvider;
use crate::schema::ResourceSchemas;
use crate::schema::ResourceType;

/// What to keep of one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Keep {
    All,
    Subs(BTreeSet<String>),
}

impl Keep {
    fn add(&mut self, sub: Option<&str>) {
        match (self, sub) {
            (Keep::All, _) => {}
            (me, None) => *me = Keep::All,
            (Keep::Subs(s), Some(sub)) => {
                s.insert(sub.to_string());
            }
        }
    }

    fn new(sub: Option<&str>) -> Self {
        match sub {
            None => Keep::All,
            Some(s) => Keep::Subs(BTreeSet::from([s.to_string()])),
        }
    }
}

/// A set of attributes, by canonical name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Mask {
    /// Core and common attributes.
    attrs: BTreeMap<String, Keep>,
    /// Extensions by URN: `None` for the whole extension.
    exts: BTreeMap<String, Option<BTreeMap<String, Keep>>>,
}

impl Mask {
    fn add(&mut self, urn: Option<&str>, name: &str, sub: Option<&str>) {
        let attrs = match urn {
            None => &mut self.attrs,
            Some(urn) => match self
                .exts
                .entry(urn.to_string())
                .or_insert(Some(BTreeMap::new()))
            {
                Some(attrs) => attrs,
                None => return,
            },
        };
        attrs
            .entry(name.to_string())
            .and_modify(|k| k.add(sub))
            .or_insert_with(|| Keep::new(sub));
    }

    fn covers(&self, name: &str) -> Option<&Keep> {
        self.attrs.get(name)
    }
}

/// A resolved `attributes` / `excludedAttributes` pair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    include: Option<Mask>,
    exclude: Option<Mask>,
}

/// Split a comma-separated parameter into names.
fn split(list: Option<&str>) -> Vec<&str> {
    list.map(|l| {
        l.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn valid_name(s: &str) -> bool {
    s == "$ref"
        || s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Resolve names into a mask; `None` for an empty list.
fn mask<S: AsRef<str>>(schemas: &ResourceSchemas, names: &[S]) -> Result<Option<Mask>, ScimError> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut m = Mask::default();
    for raw in names {
        let raw = raw.as_ref().trim();
        if let Some(ext) = schemas
            .extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(raw))
        {
            m.exts.insert(ext.id.to_string(), None);
            continue;
        }
        let (urn, rest) = match raw.rsplit_once(':') {
            Some((u, r)) => (Some(u), r),
            None => (None, raw),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !valid_name(name) || sub.is_some_and(|s| !valid_name(s)) || urn == Some("") {
            return Err(ScimError::InvalidValue(format!(
                "\"{raw}\" is not an attribute name like userName, name.givenName or \
                 urn:…:employeeNumber"
            )));
        }
        let Some(found) = schemas.lookup(urn, name) else {
            continue;
        };
        let sub = match sub {
            None => None,
            Some(s) => match found.def.sub(s) {
                Some(d) => Some(d.name.as_str()),
                None => continue,
            },
        };
        let urn = found.in_extension.then_some(found.schema);
        m.add(urn, &found.def.name, sub);
    }
    Ok(Some(m))
}

/// Keep the selected sub-attributes of a value (an object, or each object of an
/// array); `None` when nothing is left.
fn keep(value: Value, k: &Keep) -> Option<Value> {
    let Keep::Subs(subs) = k else {
        return Some(value);
    };
    let pick = |o: Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = o.into_iter().filter(|(k, _)| subs.contains(k)).collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(o) => pick(o),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Object(o) => pick(o),
                    other => Some(other),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other),
    }
}

/// Remove the selected sub-attributes of a value; `None` when nothing is left.
fn remove(value: Value, k: &Keep) -> Option<Value> {
    let Keep::Subs(subs) = k else {
        return None;
    };
    let drop = |o: Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = o.into_iter().filter(|(k, _)| !subs.contains(k)).collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(o) => drop(o),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Object(o) => drop(o),
                    other => Some(other),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other),
    }
}

/// Attributes a client always gets.
const ALWAYS: [&str; 2] = ["id", "schemas"];

fn select(obj: Map<String, Value>, m: &Mask) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in obj {
        if ALWAYS.contains(&key.as_str()) {
            out.insert(key, value);
        } else if key == "meta" {
            let resource_type = value.get("resourceType").cloned();
            let mut meta = match m.covers("meta") {
                Some(k) => keep(value, k).unwrap_or_else(|| Value::Object(Map::new())),
                None => Value::Object(Map::new()),
            };
            if let (Some(rt), Some(o)) = (resource_type, meta.as_object_mut()) {
                o.insert("resourceType".into(), rt);
            }
            out.insert(key, meta);
        } else if let Some(ext) = m.exts.get(&key) {
            let kept = match (ext, value) {
                (None, v) => Some(v),
                (Some(attrs), Value::Object(o)) => {
                    let inner: Map<String, Value> = o
                        .into_iter()
                        .filter_map(|(k, v)| Some((k.clone(), keep(v, attrs.get(&k)?)?)))
                        .collect();
                    (!inner.is_empty()).then_some(Value::Object(inner))
                }
                _ => None,
            };
            if let Some(v) = kept {
                out.insert(key, v);
            }
        } else if let Some(k) = m.covers(&key)
            && let Some(v) = keep(value, k)
        {
            out.insert(key, v);
        }
    }
    out
}

fn deselect(obj: Map<String, Value>, m: &Mask) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in obj {
        if ALWAYS.contains(&key.as_str()) {
            out.insert(key, value);
        } else if key == "meta" {
            let resource_type = value.get("resourceType").cloned();
            let mut meta = match m.covers("meta") {
                Some(k) => remove(value, k).unwrap_or_else(|| Value::Object(Map::new())),
                None => value,
            };
            if let (Some(rt), Some(o)) = (resource_type, meta.as_object_mut()) {
                o.insert("resourceType".into(), rt);
            }
            out.insert(key, meta);
        } else if let Some(ext) = m.exts.get(&key) {
            let Some(attrs) = ext else { continue };
            let Value::Object(o) = value else { continue };
            let inner: Map<String, Value> = o
                .into_iter()
                .filter_map(|(k, v)| match attrs.get(&k) {
                    Some(keep) => Some((k, remove(v, keep)?)),
                    None => Some((k, v)),
                })
                .collect();
            if !inner.is_empty() {
                out.insert(key, Value::Object(inner));
            }
        } else {
            match m.covers(&key) {
                Some(k) => {
                    if let Some(v) = remove(value, k) {
                        out.insert(key, v);
                    }
                }
                None => {
                    out.insert(key, value);
                }
            }
        }
    }
    out
}

/// Drop the URNs of extensions no longer in the representation from `schemas`.
fn prune_schemas(obj: &mut Map<String, Value>) {
    let present: BTreeSet<String> = obj.keys().filter(|k| k.contains(':')).cloned().collect();
    if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
        let mut first = true;
        schemas.retain(|s| {
            let keep = first || s.as_str().is_some_and(|s| present.contains(s));
            first = false;
            keep
        });
    }
}

impl Projection {
    /// Apply to a resource's full representation.
    pub fn apply(&self, resource: Value) -> Value {
        if self.include.is_none() && self.exclude.is_none() {
            return resource;
        }
        let Value::Object(mut obj) = resource else {
            return resource;
        };
        if let Some(m) = &self.include {
            obj = select(obj, m);
        }
        if let Some(m) = &self.exclude {
            obj = deselect(obj, m);
        }
        prune_schemas(&mut obj);
        Value::Object(obj)
    }

    /// Will any of the core attribute `name` be returned? (`wants("members")` is false
    /// under `excludedAttributes=members`: the caller may skip loading them; build the
    /// resource with them anyway when its `meta.version` is returned.)
    pub fn wants(&self, name: &str) -> bool {
        let find = |m: &Mask| {
            m.attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return true;
        }
        if let Some(m) = &self.include
            && find(m).is_none()
        {
            return false;
        }
        if let Some(m) = &self.exclude
            && find(m) == Some(Keep::All)
        {
            return false;
        }
        true
    }

    /// No `attributes` and no `excludedAttributes`.
    pub fn is_default(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }
}

impl ScimProvider {
    /// A projection from the query parameters (comma-separated lists).
    pub fn projection(
        &self,
        resource: ResourceType,
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
    ) -> Result<Projection, ScimError> {
        self.projection_from_lists(resource, &split(attributes), &split(excluded_attributes))
    }

    /// A projection from a SearchRequest's lists.
    pub fn projection_from_lists<S: AsRef<str>>(
        &self,
        resource: ResourceType,
        attributes: &[S],
        excluded_attributes: &[S],
    ) -> Result<Projection, ScimError> {
        let schemas = self.schemas(resource);
        Ok(Projection {
            include: mask(schemas, attributes)?,
            exclude: mask(schemas, excluded_attributes)?,
        })
    }
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
