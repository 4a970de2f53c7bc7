//! Groups: one per value of each group demographic (`scim_group_demographics`,
//! default `Department`) held by at least one active employee. `displayName` is the
//! value, the members are the active employees with that value, and the id is derived
//! from (demographic, value) so it is stable without being stored. A value nobody
//! active holds any more makes no group: the group is gone (404) until someone holds
//! it again, with the same id.

use std::collections::BTreeMap;

use jiff::Timestamp;
use roster_core::Employee;
use roster_core::employee::EmployeeKey;
use serde_json::{Map, Value, json};

use crate::etag::stamp_version;
use crate::ids::{group_id, is_active, user_id, user_name};
use crate::provider::ScimProvider;
use crate::schema::{GROUP_SCHEMA, ROSTER_GROUP_SCHEMA};

/// One member of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    pub key: EmployeeKey,
    /// The member's `displayName`, else its `userName`.
    pub display: String,
}

/// A group as computed from the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimGroup {
    /// [`group_id`] of the demographic and value.
    pub id: String,
    pub demographic: String,
    /// The value: the group's `displayName`.
    pub value: String,
    /// The active employees with the value, by key.
    pub members: Vec<GroupMember>,
}

/// What the caller knows of a group's history; both optional (a group is derived, not
/// stored). A natural choice: the earliest `created` and the latest `lastModified` of
/// its members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupMeta {
    pub created: Option<Timestamp>,
    pub last_modified: Option<Timestamp>,
}

impl ScimProvider {
    /// The groups of a directory, in the order of the group demographics and then by
    /// value; members by key.
    pub fn groups<'a>(&self, employees: impl IntoIterator<Item = &'a Employee>) -> Vec<ScimGroup> {
        let demographics = self.group_demographics();
        let mut by_value: Vec<BTreeMap<&str, Vec<GroupMember>>> =
            vec![BTreeMap::new(); demographics.len()];
        for e in employees.into_iter().filter(|e| is_active(e)) {
            for (i, d) in demographics.iter().enumerate() {
                let Some(v) = e.demographics.get(d).map(|v| v.trim()) else {
                    continue;
                };
                if v.is_empty() {
                    continue;
                }
                by_value[i].entry(v).or_default().push(GroupMember {
                    key: e.key,
                    display: self.display_name(e).unwrap_or_else(|| user_name(e)),
                });
            }
        }
        demographics
            .iter()
            .zip(by_value)
            .flat_map(|(d, values)| {
                values.into_iter().map(move |(v, mut members)| {
                    members.sort_by_key(|m| m.key);
                    ScimGroup {
                        id: group_id(d, v),
                        demographic: d.clone(),
                        value: v.to_string(),
                        members,
                    }
                })
            })
            .collect()
    }

    /// The group with this id, if the directory has it.
    pub fn find_group<'a>(
        &self,
        employees: impl IntoIterator<Item = &'a Employee>,
        id: &str,
    ) -> Option<ScimGroup> {
        self.groups(employees).into_iter().find(|g| g.id == id)
    }

    /// A group as SCIM JSON. Build it with all members even when the client excludes
    /// them (`excludedAttributes=members`, applied by [`crate::Projection`]) so that
    /// `meta.version` is the same whatever the client asked for.
    pub fn group(&self, g: &ScimGroup, meta: &GroupMeta) -> Value {
        let mut out = Map::new();
        out.insert("schemas".into(), json!([GROUP_SCHEMA, ROSTER_GROUP_SCHEMA]));
        out.insert("id".into(), json!(g.id));
        out.insert("displayName".into(), json!(g.value));
        if !g.members.is_empty() {
            let members: Vec<Value> = g
                .members
                .iter()
                .map(|m| {
                    json!({
                        "value": user_id(m.key),
                        "$ref": self.user_location(m.key),
                        "display": m.display,
                        "type": "User",
                    })
                })
                .collect();
            out.insert("members".into(), Value::Array(members));
        }
        out.insert(
            ROSTER_GROUP_SCHEMA.into(),
            json!({ "demographic": g.demographic }),
        );
        let mut m = Map::new();
        m.insert("resourceType".into(), json!("Group"));
        if let Some(t) = meta.created {
            m.insert("created".into(), json!(t.to_string()));
        }
        if let Some(t) = meta.last_modified {
            m.insert("lastModified".into(), json!(t.to_string()));
        }
        m.insert("location".into(), json!(self.group_location(&g.id)));
        out.insert("meta".into(), Value::Object(m));
        let mut out = Value::Object(out);
        stamp_version(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use roster_core::Settings;

    use super::*;
    use crate::provider::ScimConfig;
    use crate::user::tests::{barbara, config};

    fn directory() -> Vec<Employee> {
        let mut a = barbara();
        a.key = 3;
        let mut b = barbara();
        b.key = 1;
        b.email = "ann@example.com".into();
        b.first_name = Some("Ann".into());
        b.preferred_name = None;
        b.demographics.insert("Office", "Bergen");
        let mut c = barbara();
        c.key = 2;
        c.active = false;
        c.demographics.insert("Department", "Finance");
        let mut d = barbara();
        d.key = 4;
        d.demographics.insert("Department", "  Sales ");
        d.first_name = None;
        d.last_name = None;
        d.preferred_name = None;
        let mut e = barbara();
        e.key = 5;
        e.demographics.remove("Department");
        vec![a, b, c, d, e]
    }

    #[test]
    fn groups_by_value_of_active_employees() {
        let p = ScimProvider::new(
            &Settings::default(),
            ScimConfig {
                group_demographics: vec!["Department".into(), "Office".into(), "Nope".into()],
                ..config()
            },
        );
        let groups = p.groups(&directory());
        let summary: Vec<(&str, &str, Vec<i64>)> = groups
            .iter()
            .map(|g| {
                (
                    g.demographic.as_str(),
                    g.value.as_str(),
                    g.members.iter().map(|m| m.key).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Department", "Sales", vec![4]),
                ("Department", "Tour Operations", vec![1, 3]),
                ("Office", "Bergen", vec![1]),
                ("Office", "Oslo", vec![3, 4, 5]),
            ]
        );
        assert_eq!(groups[0].members[0].display, "bjensen@example.com");
        assert_eq!(groups[1].members[0].display, "Ann Jensen");
        assert_eq!(groups[1].id, group_id("Department", "Tour Operations"));
        let found = p.find_group(&directory(), &groups[2].id).unwrap();
        assert_eq!(found, groups[2]);
        assert!(p.find_group(&directory(), "nope").is_none());
    }

    #[test]
    fn a_group() {
        let p = ScimProvider::new(&Settings::default(), config());
        let g = &p.groups(&directory())[1];
        let meta = GroupMeta {
            created: Some("2024-01-15T09:30:00Z".parse().unwrap()),
            last_modified: Some("2024-06-01T12:00:00Z".parse().unwrap()),
        };
        let json = p.group(g, &meta);
        insta::assert_json_snapshot!("group", json);
        let mut fewer = g.clone();
        fewer.members.pop();
        assert_ne!(
            p.group(&fewer, &meta)["meta"]["version"],
            json["meta"]["version"]
        );
        assert!(
            p.group(g, &GroupMeta::default())["meta"]
                .get("created")
                .is_none()
        );
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(
            group_id("Department", "Sales"),
            group_id("Department", "Sales")
        );
        assert_ne!(
            group_id("Department", "Sales"),
            group_id("Department", "sales")
        );
        assert_ne!(group_id("Department", "Sales"), group_id("Office", "Sales"));
        assert_ne!(group_id("ab", "c"), group_id("a", "bc"));
        assert_eq!(group_id("Department", "Sales").len(), 32);
    }

    #[test]
    fn unserved_demographics_make_no_groups() {
        let mut settings = Settings::default();
        settings.exclude_fields.insert("Department".into());
        let p = ScimProvider::new(&settings, config());
        assert!(p.group_demographics().is_empty());
        assert!(p.groups(&directory()).is_empty());
    }
}
