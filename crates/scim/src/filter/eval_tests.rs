use roster_core::Settings;
use rstest::rstest;
use serde_json::{Value as Json, json};

use crate::{ResourceType, ScimConfig, ScimProvider};

fn provider() -> ScimProvider {
    ScimProvider::new(&Settings::default(), ScimConfig::default())
}

fn user() -> Json {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:roster:params:scim:schemas:extension:roster:2.0:User"
        ],
        "id": "42",
        "externalId": "ext-ABC",
        "userName": "Barbara.Jensen@Example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "title": "Tour Guide",
        "userType": "employee",
        "active": true,
        "emails": [
            {"value": "Barbara.Jensen@Example.com", "type": "work", "primary": true},
            {"value": "babs@home.example.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "E-701984",
            "department": "Tour Operations",
            "manager": {"value": "26", "$ref": "/scim/v2/Users/26", "displayName": "John Smith"}
        },
        "urn:roster:params:scim:schemas:extension:roster:2.0:User": {
            "jobTitle": "Tour Guide",
            "office": "Oslo"
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "location": "/scim/v2/Users/42",
            "version": "W/\"abc\""
        }
    })
}

fn eval(text: &str) -> bool {
    let f = provider()
        .filter(ResourceType::User, text)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    crate::evaluate(&f, &user())
}

#[rstest]
// eq: case-insensitive userName, case-exact id/externalId
#[case(r#"userName eq "barbara.jensen@example.com""#, true)]
#[case(r#"USERNAME EQ "BARBARA.JENSEN@EXAMPLE.COM""#, true)]
#[case(
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "barbara.jensen@example.com""#,
    true
)]
#[case(r#"userName eq "barbara""#, false)]
#[case(r#"id eq "42""#, true)]
#[case(r#"externalId eq "ext-ABC""#, true)]
#[case(r#"externalId eq "ext-abc""#, false)]
// ne
#[case(r#"userName ne "someone@else.com""#, true)]
#[case(r#"userName ne "barbara.jensen@EXAMPLE.com""#, false)]
#[case(r#"nickName ne "x""#, true)]
#[case(
    r#"urn:roster:params:scim:schemas:extension:roster:2.0:User:workCity ne "x""#,
    true
)]
// co sw ew
#[case(r#"userName co "JENSEN""#, true)]
#[case(r#"userName sw "barbara""#, true)]
#[case(r#"userName ew "EXAMPLE.COM""#, true)]
#[case(r#"userName sw "jensen""#, false)]
#[case(r#"externalId co "abc""#, false)]
#[case(r#"externalId co "ABC""#, true)]
// gt ge lt le on strings: lexicographic, folded
#[case(r#"title gt "TOUR""#, true)]
#[case(r#"title ge "tour guide""#, true)]
#[case(r#"title lt "tour guide""#, false)]
#[case(r#"title le "TOUR GUIDE""#, true)]
#[case(r#"title lt "zebra""#, true)]
// dateTime as instants
#[case(r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true)]
#[case(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false)]
#[case(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true)]
#[case(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true)]
#[case(r#"meta.lastModified eq "2011-05-13T04:42:34.000Z""#, true)]
#[case(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false)]
#[case(r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true)]
#[case(r#"meta.lastModified gt "2011-05-13T04:42:33""#, true)]
#[case(r#"meta.created lt "2011-01-01T00:00:00Z""#, true)]
#[case(r#"meta.lastModified ne "2011-05-13T04:42:34Z""#, false)]
// booleans
#[case("active eq true", true)]
#[case("active eq false", false)]
#[case("active ne false", true)]
#[case(r#"active eq "True""#, true)]
#[case("emails.primary eq true", true)]
// pr and null
#[case("title pr", true)]
#[case("name pr", true)]
#[case("emails pr", true)]
#[case(
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr",
    true
)]
#[case(
    "urn:roster:params:scim:schemas:extension:roster:2.0:User:workCity pr",
    false
)]
#[case("groups pr", false)]
#[case("title eq null", false)]
#[case("groups eq null", true)]
#[case("title ne null", true)]
// multi-valued: any value
#[case(r#"emails.value eq "BABS@home.example.org""#, true)]
#[case(r#"emails eq "babs@home.example.org""#, true)]
#[case(r#"emails co "example.org""#, true)]
#[case(r#"emails.type eq "home""#, true)]
#[case(r#"emails.type eq "other""#, false)]
#[case(r#"emails.value ne "babs@home.example.org""#, false)]
#[case(
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    true
)]
// value paths: one element satisfies all
#[case(r#"emails[type eq "work" and value co "example.com"]"#, true)]
#[case(r#"emails[type eq "home" and value co "example.com"]"#, false)]
#[case(
    r#"emails[type eq "work"].value eq "barbara.jensen@example.com""#,
    true
)]
#[case(
    r#"emails[type eq "home"].value eq "barbara.jensen@example.com""#,
    false
)]
#[case(
    r#"emails[TYPE eq "WORK"].VALUE eq "barbara.jensen@example.com""#,
    true
)]
#[case(r#"emails[not (type eq "work")]"#, true)]
#[case(r#"emails[primary eq true and type eq "work"]"#, true)]
#[case(r#"phoneNumbers[type eq "mobile"]"#, false)]
// extensions, with and without their URN
#[case(r#"employeeNumber eq "e-701984""#, true)]
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-701984""#,
    true
)]
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26""#,
    true
)]
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "john""#,
    true
)]
#[case(r#"department eq "tour operations""#, true)]
#[case(r#"office eq "OSLO""#, true)]
#[case(
    r#"urn:roster:params:scim:schemas:extension:roster:2.0:User:jobTitle co "guide""#,
    true
)]
// logic
#[case(r#"userName sw "barbara" and active eq true"#, true)]
#[case(r#"userName sw "barbara" and active eq false"#, false)]
#[case(r#"userName sw "x" or active eq true"#, true)]
#[case(r#"not (userName sw "x")"#, true)]
#[case(
    r#"not (userName sw "barbara") or (title pr and not (nickName eq "x"))"#,
    true
)]
#[case(
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    true
)]
fn evaluates(#[case] text: &str, #[case] expected: bool) {
    assert_eq!(eval(text), expected, "{text}");
}

#[rstest]
#[case(r#"nope eq "x""#, "unknown attribute \"nope\"")]
#[case(r#"password eq "x""#, "unknown attribute \"password\"")]
#[case(r#"name.middleName eq "x""#, "no sub-attribute \"middleName\"")]
#[case(r#"urn:nope:User:userName eq "x""#, "unknown schema \"urn:nope:User\"")]
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x""#,
    "unknown attribute"
)]
#[case(
    r#"name eq "x""#,
    "complex: compare one of its sub-attributes (name.formatted"
)]
#[case(r#"meta eq "x""#, "complex")]
#[case(r#"active gt true"#, "boolean, compared with eq or ne only")]
#[case(r#"active co "t""#, "boolean")]
#[case(r#"active eq "yes""#, "compare it with true or false")]
#[case(r#"active eq 1"#, "compare it with true or false")]
#[case(r#"userName eq 12"#, "string, compare it with a string")]
#[case(r#"userName eq true"#, "string")]
#[case(r#"meta.lastModified gt "yesterday""#, "dateTime")]
#[case(r#"meta.lastModified gt "2024-01-01""#, "dateTime")]
#[case(r#"meta.lastModified co "2024""#, "dateTime, compared with eq")]
#[case(r#"title gt null"#, "null compares with eq or ne only")]
#[case(r#"emails[nope eq "x"]"#, "emails has no sub-attribute \"nope\"")]
#[case(r#"emails[value.x eq "x"]"#, "sub-attribute of emails alone")]
#[case(r#"title[value eq "x"]"#, "no sub-attributes")]
#[case(r#"emails[type eq "work"].nope eq "x""#, "no sub-attribute \"nope\"")]
#[case(r#"userName eq "a" and nope pr"#, "unknown attribute \"nope\"")]
#[case(
    r#"urn:roster:params:scim:schemas:extension:roster:2.0:User:Department2 pr"#,
    "unknown attribute"
)]
fn rejects_unfilterable(#[case] text: &str, #[case] message: &str) {
    let err = provider().filter(ResourceType::User, text).expect_err(text);
    assert_eq!(err.scim_type(), Some("invalidFilter"), "{err}");
    assert!(err.to_string().contains(message), "{text}: {err}");
}

#[test]
fn names_are_canonical_after_resolution() {
    let f = provider()
        .filter(
            ResourceType::User,
            r#"USERNAME eq "a" and EMPLOYEENUMBER eq "1" and Emails[TYPE eq "work"].Value pr"#,
        )
        .unwrap();
    assert_eq!(
        f.to_string(),
        r#"userName eq "a" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1" and emails[type eq "work" and value pr]"#
    );
}

#[test]
fn group_filters() {
    let p = provider();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abc",
        "displayName": "Tour Operations",
        "members": [{"value": "42", "display": "Babs Jensen", "type": "User"}],
        "urn:roster:params:scim:schemas:extension:roster:2.0:Group": {"demographic": "Department"},
    });
    for (text, expected) in [
        (r#"displayName eq "tour operations""#, true),
        (r#"members.value eq "42""#, true),
        (r#"members[value eq "42"]"#, true),
        (r#"members eq "43""#, false),
        (r#"demographic eq "department""#, true),
        (r#"id eq "ABC""#, false),
    ] {
        let f = p.filter(ResourceType::Group, text).unwrap();
        assert_eq!(crate::evaluate(&f, &group), expected, "{text}");
    }
    assert!(p.filter(ResourceType::Group, r#"userName eq "x""#).is_err());
}

#[test]
fn unresolved_filters_evaluate_too() {
    let f = crate::parse_filter(r#"USERNAME eq "BARBARA.jensen@example.com" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"#).unwrap();
    assert!(crate::evaluate(&f, &user()));
}
