use roster_core::Settings;
use rstest::rstest;
use serde_json::json;

use super::*;
use crate::ScimConfig;

fn provider() -> ScimProvider {
    ScimProvider::new(&Settings::default(), ScimConfig::default())
}

fn check(resource: ResourceType, method: WriteMethod, body: &str) -> Result<(), ScimError> {
    provider().validate_write(resource, method, body.as_bytes())
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user_body(extra: serde_json::Value) -> String {
    let mut body = json!({
        "schemas": [USER, ENT],
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "active": true,
        ENT: {"employeeNumber": "701984", "manager": {"value": "26"}},
        "id": "ignored", "meta": {"created": "ignored"}, "unknownThing": 3,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body.to_string()
}

#[rstest]
#[case(ResourceType::User, WriteMethod::Post, user_body(json!({})))]
#[case(ResourceType::User, WriteMethod::Put, user_body(json!({"active": "False"})))]
#[case(ResourceType::User, WriteMethod::Post, user_body(json!({ENT: {"manager": "26"}})))]
#[case(ResourceType::User, WriteMethod::Post, user_body(json!({"emails": null, "USERNAME": "x"})))]
#[case(ResourceType::Group, WriteMethod::Post, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales", "members": [{"value": "1"}]}).to_string())]
#[case(ResourceType::User, WriteMethod::Delete, "".to_string())]
#[case(ResourceType::User, WriteMethod::Patch, json!({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@x.com"},
        {"op": "add", "path": "emails", "value": {"value": "b@x.com", "type": "home"}},
        {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "c@x.com"}},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "emails[type eq \"home\"]"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "26"},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"department": "x"}},
        {"op": "replace", "value": {"displayName": "B", "name": {"familyName": "J"}}},
        {"op": "replace", "path": "nickName", "value": null},
    ]
}).to_string())]
#[case(ResourceType::Group, WriteMethod::Patch, json!({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "operations": [
        {"op": "add", "path": "members", "value": [{"value": "1"}, {"value": "2"}]},
        {"op": "remove", "path": "members[value eq \"3\"]"},
    ]
}).to_string())]
fn well_formed_writes_are_refused_as_read_only(
    #[case] resource: ResourceType,
    #[case] method: WriteMethod,
    #[case] body: String,
) {
    check(resource, method, &body).unwrap_or_else(|e| panic!("{body}: {e}"));
    let e = provider().refuse_write(resource, method, body.as_bytes());
    assert_eq!(e.status(), 501);
    assert!(e.to_string().contains("read-only"));
}

#[rstest]
// syntax
#[case(ResourceType::User, WriteMethod::Post, "", "invalidSyntax", "not JSON")]
#[case(
    ResourceType::User,
    WriteMethod::Post,
    "{",
    "invalidSyntax",
    "not JSON"
)]
#[case(
    ResourceType::User,
    WriteMethod::Put,
    "[1]",
    "invalidSyntax",
    "JSON object"
)]
#[case(
    ResourceType::User,
    WriteMethod::Post,
    r#"{"userName": "a"}"#,
    "invalidSyntax",
    "no \"schemas\""
)]
#[case(
    ResourceType::User,
    WriteMethod::Post,
    r#"{"schemas": "x", "userName": "a"}"#,
    "invalidSyntax",
    "array of schema URNs"
)]
#[case(
    ResourceType::User,
    WriteMethod::Post,
    r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}"#,
    "invalidSyntax",
    "must include"
)]
#[case(
    ResourceType::User,
    WriteMethod::Post,
    r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:x"], "userName": "a"}"#,
    "invalidSyntax",
    "unknown schema"
)]
#[case(
    ResourceType::User,
    WriteMethod::Patch,
    r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}"#,
    "invalidSyntax",
    "PatchOp"
)]
#[case(
    ResourceType::User,
    WriteMethod::Patch,
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#,
    "invalidSyntax",
    "Operations"
)]
#[case(
    ResourceType::User,
    WriteMethod::Patch,
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}"#,
    "invalidSyntax",
    "Operations"
)]
#[case(
    ResourceType::User,
    WriteMethod::Patch,
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [3]}"#,
    "invalidSyntax",
    "operation 1 must be an object"
)]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "move", "path": "x"}]}"#, "invalidSyntax", "\"op\" must be")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title"}]}"#, "invalidSyntax", "needs a \"value\"")]
// values
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"userName": null})), "invalidValue", "userName is required")]
#[case(ResourceType::User, WriteMethod::Put, &user_body(json!({"userName": " "})), "invalidValue", "userName is required")]
#[case(ResourceType::User, WriteMethod::Put, &user_body(json!({"userName": 5})), "invalidValue", "userName must be a string")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"active": 3})), "invalidValue", "active must be true or false")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"emails": "a@x.com"})), "invalidValue", "emails must be an array")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"emails": [{"value": 1}]})), "invalidValue", "emails.value must be a string")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]})), "invalidValue", "more than one primary")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({"name": "Barbara"})), "invalidValue", "name must be an object")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({ENT: {"employeeNumber": 701984}})), "invalidValue", "employeeNumber must be a string")]
#[case(ResourceType::User, WriteMethod::Post, &user_body(json!({ENT: []})), "invalidValue", "must be an object")]
#[case(
    ResourceType::Group,
    WriteMethod::Put,
    r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}"#,
    "invalidValue",
    "displayName is required"
)]
#[case(ResourceType::Group, WriteMethod::Post, r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x", "members": [{"value": 1}]}"#, "invalidValue", "members.value must be a string")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}"#, "invalidValue", "active must be true or false")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": 5}]}"#, "invalidValue", "must be an object of attributes")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "emails[type eq \"work\"].value", "value": 7}]}"#, "invalidValue", "emails.value must be a string")]
// paths
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]}"#, "noTarget", "needs a \"path\"")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "nope"}]}"#, "invalidPath", "no attribute")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "emails["}]}"#, "invalidPath", "invalid path")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "emails[nope eq \"x\"]"}]}"#, "invalidPath", "no sub-attribute")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "name[givenName eq \"x\"]"}]}"#, "invalidPath", "not multi-valued")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "name.nope"}]}"#, "invalidPath", "no sub-attribute")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "urn:x:y"}]}"#, "invalidPath", "unknown schema")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": 5}]}"#, "invalidPath", "must be a string")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "id", "value": "1"}]}"#, "mutability", "read-only")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "meta.lastModified", "value": "x"}]}"#, "mutability", "read-only")]
#[case(ResourceType::User, WriteMethod::Patch, r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "groups"}]}"#, "mutability", "read-only")]
fn malformed_writes(
    #[case] resource: ResourceType,
    #[case] method: WriteMethod,
    #[case] body: &str,
    #[case] scim_type: &str,
    #[case] message: &str,
) {
    let e = check(resource, method, body).expect_err(body);
    assert_eq!(e.scim_type(), Some(scim_type), "{body}: {e}");
    assert!(e.to_string().contains(message), "{body}: {e}");
    assert_eq!(
        provider().refuse_write(resource, method, body.as_bytes()),
        e
    );
}

#[rstest]
#[case("POST", Some(WriteMethod::Post))]
#[case("put", Some(WriteMethod::Put))]
#[case("Patch", Some(WriteMethod::Patch))]
#[case("DELETE", Some(WriteMethod::Delete))]
#[case("GET", None)]
fn methods(#[case] m: &str, #[case] expected: Option<WriteMethod>) {
    assert_eq!(WriteMethod::parse(m), expected);
}
