//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3), in memory: any singular attribute or
//! sub-attribute, or a multi-valued one (by its primary value, else its first). Strings
//! fold case unless `caseExact`, dateTimes order as instants; resources without a value
//! come last ascending and first descending; ties are broken by id, so the order is
//! total and a cursor can resume it.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ScimError;
use crate::filter::{AttrPath, leaf, member, parse_datetime, parse_path, resolve_attr};
use crate::plan::fold;
use crate::provider::ScimProvider;
use crate::schema::AttrType;
use crate::schema::ResourceType;

/// A value resources are ordered by.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum SortValue {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "d")]
    Time(Timestamp),
    #[serde(rename = "b")]
    Bool(bool),
    #[serde(rename = "n")]
    Num(f64),
}

impl SortValue {
    fn rank(&self) -> u8 {
        match self {
            SortValue::Bool(_) => 0,
            SortValue::Num(_) => 1,
            SortValue::Time(_) => 2,
            SortValue::Text(_) => 3,
        }
    }
}

impl Ord for SortValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            (SortValue::Time(a), SortValue::Time(b)) => a.cmp(b),
            (SortValue::Bool(a), SortValue::Bool(b)) => a.cmp(b),
            (SortValue::Num(a), SortValue::Num(b)) => a.total_cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortValue {}

/// A resource's id as an order key: decimal ids (users) numerically, others (groups)
/// as text, after every number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OrderId {
    #[serde(rename = "n")]
    Num(i64),
    #[serde(rename = "t")]
    Text(String),
}

impl OrderId {
    /// The order key of a resource id.
    pub fn of(id: &str) -> Self {
        match id.parse::<i64>() {
            Ok(n) if n.to_string() == id => OrderId::Num(n),
            _ => OrderId::Text(id.to_string()),
        }
    }
}

/// Where a resource stands in a result's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The sort value (`None` when unsorted, or when the resource has none).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortValue>,
    #[serde(rename = "i")]
    pub id: OrderId,
}

impl Position {
    /// The order of two positions: ascending sort values with missing values last,
    /// then ids ascending; `descending` reverses all of it (RFC 7644 §3.4.2.3: missing
    /// values come first then).
    pub fn cmp(&self, other: &Position, descending: bool) -> Ordering {
        let by_value = match (&self.sort, &other.sort) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        };
        let ord = by_value.then_with(|| self.id.cmp(&other.id));
        if descending { ord.reverse() } else { ord }
    }
}

/// A resolved `sortBy` and `sortOrder`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    pub by: AttrPath,
    pub descending: bool,
}

impl Sort {
    /// The value `resource` is ordered by.
    pub fn value(&self, resource: &Value) -> Option<SortValue> {
        let l = leaf(&self.by);
        let root = match (&self.by.schema, l.in_extension) {
            (Some(urn), true) => member(resource, urn)?,
            _ => resource,
        };
        let attr = member(root, &self.by.name)?;
        let element = match attr {
            Value::Array(items) => items
                .iter()
                .find(|i| i.get("primary") == Some(&Value::Bool(true)))
                .or(items.first())?,
            other => other,
        };
        let sub = self.by.sub_attr.as_deref().or(if l.implicit_value {
            Some("value")
        } else {
            None
        });
        let v = match sub {
            Some(s) => member(element, s)?,
            None => element,
        };
        match (v, l.ty) {
            (Value::String(s), AttrType::DateTime) => parse_datetime(s).map(SortValue::Time),
            (Value::String(s), _) if l.case_exact => Some(SortValue::Text(s.clone())),
            (Value::String(s), _) => Some(SortValue::Text(fold(s))),
            (Value::Bool(b), _) => Some(SortValue::Bool(*b)),
            (Value::Number(n), _) => n.as_f64().map(SortValue::Num),
            _ => None,
        }
    }
}

/// Where a resource stands: its sort value (when sorted) and its id.
pub fn position(sort: Option<&Sort>, resource: &Value) -> Position {
    Position {
        sort: sort.and_then(|s| s.value(resource)),
        id: OrderId::of(resource.get("id").and_then(Value::as_str).unwrap_or("")),
    }
}

/// Order resources: by the sort, else by id (users by key, groups by id).
pub fn sort_resources(resources: &mut [Value], sort: Option<&Sort>) {
    let descending = sort.is_some_and(|s| s.descending);
    let mut keyed: Vec<(Position, Value)> = resources
        .iter_mut()
        .map(|r| (position(sort, r), std::mem::take(r)))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0, descending));
    for (slot, (_, r)) in resources.iter_mut().zip(keyed) {
        *slot = r;
    }
}

impl ScimProvider {
    /// Resolve `sortBy` and `sortOrder` (`ascending`, the default, or `descending`,
    /// case-insensitively). No `sortBy`: unsorted (ordered by id), `sortOrder`
    /// ignored. An unknown or complex attribute is `invalidValue`.
    pub fn sort(
        &self,
        resource: ResourceType,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
    ) -> Result<Option<Sort>, ScimError> {
        let Some(by) = sort_by.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let descending = match sort_order.map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::InvalidValue(format!(
                    "sortOrder {o:?} is neither \"ascending\" nor \"descending\""
                )));
            }
        };
        let bad = |why: String| ScimError::InvalidValue(format!("cannot sort by {by:?}: {why}"));
        let path = parse_path(by).map_err(|e| bad(e.to_string()))?;
        if path.filter.is_some() {
            return Err(bad("name an attribute, without a value filter".into()));
        }
        let (by_path, _) = resolve_attr(self.schemas(resource), path.attr, true)
            .map_err(|e| bad(e.to_string()))?;
        Ok(Some(Sort {
            by: by_path,
            descending,
        }))
    }
}

#[cfg(test)]
mod tests {
    use roster_core::Settings;
    use rstest::rstest;
    use serde_json::json;

    use super::*;
    use crate::provider::ScimConfig;

    fn provider() -> ScimProvider {
        ScimProvider::new(&Settings::default(), ScimConfig::default())
    }

    fn users() -> Vec<Value> {
        vec![
            json!({"id": "10", "userName": "b@x.com", "meta": {"lastModified": "2024-01-02T00:00:00Z"},
                   "emails": [{"value": "z@x.com"}, {"value": "b@x.com", "primary": true}],
                   "active": true}),
            json!({"id": "9", "userName": "A@x.com", "meta": {"lastModified": "2024-01-01T01:00:00+02:00"},
                   "emails": [{"value": "c@x.com"}], "active": false}),
            json!({"id": "11", "meta": {"lastModified": "2024-01-03T00:00:00Z"}, "active": true,
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E2"}}),
            json!({"id": "2", "userName": "a@x.com", "meta": {"lastModified": "2023-12-31T23:30:00Z"}}),
        ]
    }

    fn ids(sort_by: Option<&str>, order: Option<&str>) -> Vec<String> {
        let sort = provider().sort(ResourceType::User, sort_by, order).unwrap();
        let mut v = users();
        sort_resources(&mut v, sort.as_ref());
        v.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[rstest]
    #[case(None, None, &["2", "9", "10", "11"])]
    #[case(Some("userName"), None, &["2", "9", "10", "11"])]
    #[case(Some("USERNAME"), Some("Descending"), &["11", "10", "9", "2"])]
    #[case(Some("meta.lastModified"), None, &["9", "2", "10", "11"])]
    #[case(Some("meta.lastModified"), Some("descending"), &["11", "10", "2", "9"])]
    #[case(Some("emails"), None, &["10", "9", "2", "11"])]
    #[case(Some("emails.value"), None, &["10", "9", "2", "11"])]
    #[case(Some("active"), None, &["9", "10", "11", "2"])]
    #[case(Some("employeeNumber"), None, &["11", "2", "9", "10"])]
    #[case(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"), Some("ascending"), &["11", "2", "9", "10"])]
    #[case(Some("id"), None, &["10", "11", "2", "9"])]
    fn sorts(#[case] by: Option<&str>, #[case] order: Option<&str>, #[case] expected: &[&str]) {
        assert_eq!(ids(by, order), expected);
    }

    #[rstest]
    #[case(Some("nope"), None, "cannot sort by")]
    #[case(Some("name"), None, "complex")]
    #[case(Some("emails[type eq \"work\"]"), None, "without a value filter")]
    #[case(Some("userName"), Some("up"), "sortOrder")]
    #[case(Some("a b"), None, "cannot sort by")]
    fn rejects(#[case] by: Option<&str>, #[case] order: Option<&str>, #[case] message: &str) {
        let err = provider().sort(ResourceType::User, by, order).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"));
        assert!(err.to_string().contains(message), "{err}");
    }

    #[test]
    fn sort_order_alone_is_ignored() {
        assert_eq!(
            provider()
                .sort(ResourceType::User, None, Some("descending"))
                .unwrap(),
            None
        );
    }
}
