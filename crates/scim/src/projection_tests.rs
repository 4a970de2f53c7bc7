use roster_core::Settings;
use rstest::rstest;
use serde_json::{Value, json};

use crate::provider::ScimProvider;
use crate::schema::ResourceType;
use crate::user::tests::{barbara, config, meta, smith};

fn provider() -> ScimProvider {
    ScimProvider::new(&Settings::default(), config())
}

fn user() -> Value {
    provider().user(&barbara(), &meta(), Some(&smith()))
}

fn project(attributes: Option<&str>, excluded: Option<&str>) -> Value {
    provider()
        .projection(ResourceType::User, attributes, excluded)
        .unwrap()
        .apply(user())
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ROS: &str = "urn:roster:params:scim:schemas:extension:roster:2.0:User";

#[test]
fn no_parameters_return_everything() {
    assert_eq!(project(None, None), user());
    assert_eq!(project(Some(""), Some(" , ")), user());
}

#[rstest]
#[case("userName", &["id", "meta", "schemas", "userName"])]
#[case("USERNAME, displayname", &["displayName", "id", "meta", "schemas", "userName"])]
#[case("urn:ietf:params:scim:schemas:core:2.0:User:userName", &["id", "meta", "schemas", "userName"])]
#[case("id", &["id", "meta", "schemas"])]
#[case("nope,password", &["id", "meta", "schemas"])]
#[case("name.givenName,name.nope", &["id", "meta", "name", "schemas"])]
#[case("employeeNumber", &["id", "meta", "schemas", ENT])]
#[case(ENT, &["id", "meta", "schemas", ENT])]
#[case("urn:roster:params:scim:schemas:extension:roster:2.0:User:office", &["id", "meta", "schemas", ROS])]
fn attributes_select(#[case] attributes: &str, #[case] expected: &[&str]) {
    let v = project(Some(attributes), None);
    assert_eq!(keys(&v), expected, "{v}");
    assert_eq!(v["meta"]["resourceType"], "User");
    assert_eq!(v["id"], "42");
}

#[test]
fn sub_attributes() {
    let v = project(Some("name.givenName,emails.value,meta.lastModified"), None);
    assert_eq!(v["name"], json!({"givenName": "Barbara"}));
    assert_eq!(
        v["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@home.example.org"}])
    );
    assert_eq!(
        v["meta"],
        json!({"resourceType": "User", "lastModified": "2024-06-01T12:00:00.25Z"})
    );
    assert_eq!(
        v["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );

    let v = project(
        Some(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value,emails.type,emails.value",
        ),
        None,
    );
    assert_eq!(v[ENT], json!({"manager": {"value": "26"}}));
    assert_eq!(
        v["emails"][1],
        json!({"type": "home", "value": "babs@home.example.org"})
    );
    assert_eq!(
        v["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    // A sub-attribute and the whole attribute: the whole.
    let v = project(Some("name.givenName,name"), None);
    assert_eq!(v["name"], user()["name"]);
}

#[test]
fn excluded_attributes_remove() {
    let full = user();
    let v = project(None, Some("emails,name.givenName,meta,id,schemas"));
    assert!(v.get("emails").is_none());
    assert_eq!(
        v["name"],
        json!({"familyName": "Jensen", "formatted": "Barbara Jensen"})
    );
    assert_eq!(v["meta"], json!({"resourceType": "User"}));
    assert_eq!(v["id"], "42");
    assert_eq!(v["schemas"], full["schemas"]);
    assert_eq!(v["userName"], full["userName"]);

    let v = project(None, Some(&format!("{ENT},{ROS}:office,emails.type")));
    assert!(v.get(ENT).is_none());
    assert!(v[ROS].get("office").is_none());
    assert_eq!(v[ROS]["jobTitle"], "Tour Guide");
    assert_eq!(
        v["emails"][0],
        json!({"primary": true, "value": "bjensen@example.com"})
    );
    assert_eq!(
        v["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ROS])
    );

    // Emptied objects go.
    let v = project(None, Some("name.givenName,name.familyName,name.formatted"));
    assert!(v.get("name").is_none());
}

#[test]
fn both_lists() {
    let v = project(Some("userName,emails"), Some("emails.type"));
    assert_eq!(keys(&v), ["emails", "id", "meta", "schemas", "userName"]);
    assert!(v["emails"][0].get("type").is_none());
}

#[rstest]
#[case("name.given.x")]
#[case("1abc")]
#[case(":userName")]
#[case("name.")]
fn malformed_names(#[case] name: &str) {
    let err = provider()
        .projection(ResourceType::User, Some(name), None)
        .unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidValue"));
    assert!(
        provider()
            .projection(ResourceType::User, None, Some(name))
            .is_err()
    );
}

#[test]
fn groups_without_members() {
    let p = provider();
    let groups = p.groups(&[barbara()]);
    let g = p.group(&groups[0], &Default::default());
    let proj = p
        .projection(ResourceType::Group, None, Some("members"))
        .unwrap();
    assert!(!proj.wants("members"));
    assert!(proj.wants("displayName"));
    let v = proj.apply(g.clone());
    assert!(v.get("members").is_none());
    assert_eq!(v["displayName"], "Tour Operations");
    assert_eq!(v["meta"]["version"], g["meta"]["version"]);

    let proj = p
        .projection(ResourceType::Group, Some("displayName"), None)
        .unwrap();
    assert!(!proj.wants("members"));
    assert!(proj.wants("id"));
    let proj = p
        .projection(ResourceType::Group, Some("members.value"), None)
        .unwrap();
    assert!(proj.wants("members"));
    assert_eq!(proj.apply(g)["members"], json!([{"value": "42"}]));
    let proj = p
        .projection(ResourceType::Group, None, Some("members.display"))
        .unwrap();
    assert!(proj.wants("MEMBERS"));
    assert!(
        p.projection(ResourceType::Group, None, None)
            .unwrap()
            .is_default()
    );
}
