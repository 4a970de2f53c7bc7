//! An employee as a SCIM User (core User, the enterprise extension and Roster's
//! extension). The mapping table is in the crate's README.

use jiff::Timestamp;
use roster_core::Employee;
use roster_core::employee::EmployeeKey;
use serde_json::{Map, Value, json};

use crate::etag::stamp_version;
use crate::ids::{group_id, is_active, user_id, user_name};
use crate::provider::ScimProvider;
use crate::schema::{ENTERPRISE_USER_SCHEMA, ROSTER_USER_SCHEMA, USER_SCHEMA};

/// What the history knows of a user, for `meta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserMeta {
    /// When the employee was added to the directory.
    pub created: Timestamp,
    /// When the employee's directory row last changed. Also what
    /// `meta.lastModified gt "…"` filters by ([`crate::IndexTerm::LastModified`]).
    pub last_modified: Timestamp,
}

/// The manager as the caller resolved it (the employee whose email is the user's
/// `manager_email`, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagerLink {
    pub key: EmployeeKey,
    /// The manager's `displayName` (see [`ScimProvider::display_name`]).
    pub display_name: String,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl ScimProvider {
    /// A served field's value, trimmed, `None` when empty or not served.
    fn field<'e>(&self, field: &str, value: Option<&'e str>) -> Option<&'e str> {
        non_empty(value).filter(|_| self.serves(field))
    }

    /// A demographic's value when it is served.
    fn demographic<'e>(&self, e: &'e Employee, name: Option<&String>) -> Option<&'e str> {
        non_empty(e.demographics.get(name?))
    }

    /// The `displayName` of an employee: the preferred (or else given) name and the
    /// family name; `None` when the employee has neither.
    pub fn display_name(&self, e: &Employee) -> Option<String> {
        let first = self
            .field("preferred_name", e.preferred_name.as_deref())
            .or(self.field("first_name", e.first_name.as_deref()));
        let last = self.field("last_name", e.last_name.as_deref());
        let s = format!("{} {}", first.unwrap_or(""), last.unwrap_or(""));
        non_empty(Some(&s)).map(str::to_string)
    }

    /// An employee as a SCIM User. `manager` is the caller's resolution of the
    /// employee's `manager_email`; it is dropped for a merged duplicate (which points
    /// nowhere) and when `manager_email` is not served.
    pub fn user(&self, e: &Employee, meta: &UserMeta, manager: Option<&ManagerLink>) -> Value {
        let mut u = Map::new();
        let mut schemas = vec![USER_SCHEMA];
        u.insert("id".into(), json!(user_id(e.key)));
        if let Some(s) = self.field("source_id", e.source_id.as_deref()) {
            u.insert("externalId".into(), json!(s));
        }
        u.insert("userName".into(), json!(user_name(e)));
        self.names(e, &mut u);
        if let Some(t) = self.demographic(e, self.title.as_ref()) {
            u.insert("title".into(), json!(t));
        }
        if let Some(t) = self.demographic(e, self.user_type.as_ref()) {
            u.insert("userType".into(), json!(t));
        }
        u.insert("active".into(), json!(is_active(e)));
        self.contacts(e, &mut u);
        let groups = self.user_groups(e);
        if !groups.is_empty() {
            u.insert("groups".into(), Value::Array(groups));
        }
        let enterprise = self.enterprise(e, manager);
        if !enterprise.is_empty() {
            schemas.push(ENTERPRISE_USER_SCHEMA);
            u.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(enterprise));
        }
        let roster: Map<String, Value> = self
            .demographics()
            .iter()
            .filter_map(|(attr, d)| Some((attr.clone(), json!(self.demographic(e, Some(d))?))))
            .collect();
        if !roster.is_empty() {
            schemas.push(ROSTER_USER_SCHEMA);
            u.insert(ROSTER_USER_SCHEMA.into(), Value::Object(roster));
        }
        u.insert("schemas".into(), json!(schemas));
        u.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": meta.created.to_string(),
                "lastModified": meta.last_modified.to_string(),
                "location": self.user_location(e.key),
            }),
        );
        let mut out = Value::Object(u);
        stamp_version(&mut out);
        out
    }

    /// `name`, `displayName`, `nickName`.
    fn names(&self, e: &Employee, u: &mut Map<String, Value>) {
        let given = self.field("first_name", e.first_name.as_deref());
        let family = self.field("last_name", e.last_name.as_deref());
        let mut name = Map::new();
        if let Some(g) = given {
            name.insert("givenName".into(), json!(g));
        }
        if let Some(f) = family {
            name.insert("familyName".into(), json!(f));
        }
        if !name.is_empty() {
            let formatted = format!("{} {}", given.unwrap_or(""), family.unwrap_or(""));
            name.insert("formatted".into(), json!(formatted.trim()));
            u.insert("name".into(), Value::Object(name));
        }
        if let Some(d) = self.display_name(e) {
            u.insert("displayName".into(), json!(d));
        }
        if let Some(n) = self.field("preferred_name", e.preferred_name.as_deref()) {
            u.insert("nickName".into(), json!(n));
        }
    }

    /// `emails` (work, primary; secondary as home) and `phoneNumbers`.
    fn contacts(&self, e: &Employee, u: &mut Map<String, Value>) {
        let mut emails = Vec::new();
        if let Some(w) = self.field("email", Some(&e.email)) {
            emails.push(json!({"value": w, "type": "work", "primary": true}));
        }
        if let Some(h) = self.field("secondary_email", e.secondary_email.as_deref()) {
            emails.push(json!({"value": h, "type": "home"}));
        }
        if !emails.is_empty() {
            u.insert("emails".into(), Value::Array(emails));
        }
        if let Some(p) = self.field("phone", e.phone.as_deref()) {
            u.insert(
                "phoneNumbers".into(),
                json!([{"value": p, "type": "work", "primary": true}]),
            );
        }
    }

    /// `groups`: an active user's groups, one per group demographic it has a value of.
    fn user_groups(&self, e: &Employee) -> Vec<Value> {
        if !is_active(e) {
            return Vec::new();
        }
        self.group_demographics()
            .iter()
            .filter_map(|d| {
                let v = self.demographic(e, Some(d))?;
                let id = group_id(d, v);
                Some(json!({
                    "value": id,
                    "$ref": self.group_location(&id),
                    "display": v,
                    "type": "direct",
                }))
            })
            .collect()
    }

    /// The enterprise extension: `employeeNumber`, `department`, `manager`.
    fn enterprise(&self, e: &Employee, manager: Option<&ManagerLink>) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(n) = self.field("employee_id", Some(&e.employee_id)) {
            out.insert("employeeNumber".into(), json!(n));
        }
        if let Some(d) = self.demographic(e, self.department.as_ref()) {
            out.insert("department".into(), json!(d));
        }
        if let Some(m) = manager.filter(|_| e.merged_into.is_none() && self.serves("manager_email"))
        {
            out.insert(
                "manager".into(),
                json!({
                    "value": user_id(m.key),
                    "$ref": self.user_location(m.key),
                    "displayName": m.display_name,
                }),
            );
        }
        out
    }
}

#[cfg(test)]
#[path = "user_tests.rs"]
pub(crate) mod tests;
