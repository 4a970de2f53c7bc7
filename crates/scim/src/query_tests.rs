use roster_core::{Employee, Settings};
use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::user::tests::{config, meta};
use crate::{IndexQuery, IndexTerm};

fn provider() -> ScimProvider {
    ScimProvider::new(&Settings::default(), config())
}

fn directory() -> Vec<Value> {
    let p = provider();
    (1..=9)
        .map(|k| {
            let e = Employee {
                key: k,
                employee_id: format!("E{k}"),
                email: format!("user{}@example.com", 10 - k),
                first_name: Some(format!("N{}", k % 3)),
                last_name: Some("L".into()),
                active: k != 5,
                ..Employee::default()
            };
            p.user(&e, &meta(), None)
        })
        .collect()
}

fn ids(r: &ListResponse) -> Vec<&str> {
    r.resources
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect()
}

#[test]
fn from_query_string() {
    let r = SearchRequest::from_query([
        ("FILTER", "userName eq \"a\""),
        ("attributes", "userName, emails"),
        ("attributes", "name"),
        ("excludedAttributes", "groups"),
        ("sortBy", "userName"),
        ("sortorder", "descending"),
        ("startIndex", "2"),
        ("Count", "3"),
        ("cursor", ""),
        ("other", "ignored"),
    ]);
    assert_eq!(
        r,
        SearchRequest {
            filter: Some("userName eq \"a\"".into()),
            attributes: vec!["userName".into(), "emails".into(), "name".into()],
            excluded_attributes: vec!["groups".into()],
            sort_by: Some("userName".into()),
            sort_order: Some("descending".into()),
            start_index: Some("2".into()),
            count: Some("3".into()),
            cursor: Some("".into()),
        }
    );
}

#[test]
fn from_search_body() {
    let body = json!({
        "schemas": [SEARCH_REQUEST_SCHEMA],
        "attributes": ["displayName", "userName"],
        "excludedattributes": "groups,emails",
        "Filter": "displayName sw \"smith\"",
        "startIndex": 1,
        "count": 10,
        "cursor": "",
        "sortBy": null,
    });
    let r = SearchRequest::from_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.attributes, ["displayName", "userName"]);
    assert_eq!(r.excluded_attributes, ["groups", "emails"]);
    assert_eq!(r.filter.as_deref(), Some("displayName sw \"smith\""));
    assert_eq!(
        (r.start_index.as_deref(), r.count.as_deref()),
        (Some("1"), Some("10"))
    );
    assert_eq!(r.cursor.as_deref(), Some(""));
    assert_eq!(r.sort_by, None);
}

#[rstest]
#[case("not json", "invalidSyntax")]
#[case("[]", "invalidSyntax")]
#[case(r#"{"filter": "a pr"}"#, "invalidSyntax")]
#[case(
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#,
    "invalidSyntax"
)]
#[case(
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 1}"#,
    "invalidValue"
)]
#[case(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": "x", "attributes": [1]}"#, "invalidValue")]
#[case(
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": {}}"#,
    "invalidValue"
)]
#[case(
    r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": true}"#,
    "invalidValue"
)]
fn bad_search_bodies(#[case] body: &str, #[case] scim_type: &str) {
    let err = SearchRequest::from_json(body.as_bytes()).unwrap_err();
    assert_eq!(err.scim_type(), Some(scim_type), "{err}");
}

fn query(pairs: &[(&str, &str)]) -> Result<Query, ScimError> {
    provider().query(
        ResourceType::User,
        &SearchRequest::from_query(pairs.iter().copied()),
    )
}

#[test]
fn an_indexed_query_pages_in_store() {
    let q = query(&[
        ("filter", "userName eq \"user3@example.com\""),
        ("count", "2"),
    ])
    .unwrap();
    assert!(q.pages_in_store());
    assert_eq!(
        q.plan.index,
        IndexQuery::Term(IndexTerm::Email(vec!["user3@example.com".into()]))
    );
    let r = q.respond(directory().into_iter().filter(|u| u["id"] == "7").collect());
    assert_eq!(ids(&r), ["7"]);
    let r = q.respond_page(1, vec![directory()[6].clone()], false);
    assert_eq!(r.to_json()["totalResults"], 1);
}

#[test]
fn a_scan_filters_sorts_pages_and_projects() {
    let q = query(&[
        ("filter", "name.givenName eq \"n1\" or active eq false"),
        ("sortBy", "userName"),
        ("attributes", "userName"),
        ("count", "2"),
    ])
    .unwrap();
    assert!(!q.pages_in_store());
    let r = q.respond(directory());
    // Matches: keys 1, 4, 7 (N1) and 5 (inactive); by userName: user3 (7), user5 (5), …
    assert_eq!(r.total_results, 4);
    assert_eq!(ids(&r), ["7", "5"]);
    assert_eq!(
        r.resources[0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["id", "meta", "schemas", "userName"]
    );
    let j = r.to_json();
    assert_eq!(
        (j["startIndex"].as_u64(), j["itemsPerPage"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn sorted_cursor_paging_resumes_where_it_stopped() {
    let pairs = [
        ("filter", "active eq true"),
        ("sortBy", "userName"),
        ("sortOrder", "descending"),
        ("count", "3"),
    ];
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let mut p = pairs.to_vec();
        p.push(("cursor", &cursor));
        let q = query(&p).unwrap();
        let r = q.respond(directory());
        assert_eq!(r.total_results, 8);
        seen.extend(ids(&r).into_iter().map(str::to_string));
        match r.next_cursor {
            Some(c) => cursor = c,
            None => break,
        }
    }
    // userName descending: user9 (key 1) … user1 (key 9), without key 5.
    assert_eq!(seen, ["1", "2", "3", "4", "6", "7", "8", "9"]);
    // The cursor belongs to this query: another filter refuses it.
    let first = query(&[
        ("filter", "active eq true"),
        ("sortBy", "userName"),
        ("sortOrder", "descending"),
        ("count", "3"),
        ("cursor", ""),
    ])
    .unwrap()
    .respond(directory())
    .next_cursor
    .unwrap();
    let err = query(&[
        ("filter", "active eq false"),
        ("sortBy", "userName"),
        ("sortOrder", "descending"),
        ("cursor", &first),
    ])
    .unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidCursor"));
    let err = query(&[
        ("filter", "active eq true"),
        ("sortBy", "userName"),
        ("cursor", &first),
    ])
    .unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidCursor"));
}

#[rstest]
#[case(&[("filter", "nope eq 1")], "invalidFilter")]
#[case(&[("filter", "userName eq")], "invalidFilter")]
#[case(&[("sortBy", "nope")], "invalidValue")]
#[case(&[("count", "x")], "invalidValue")]
#[case(&[("attributes", "a..b")], "invalidValue")]
#[case(&[("cursor", "x")], "invalidCursor")]
fn bad_queries(#[case] pairs: &[(&str, &str)], #[case] scim_type: &str) {
    assert_eq!(query(pairs).unwrap_err().scim_type(), Some(scim_type));
}

#[test]
fn okta_and_entra_requests() {
    // Test connection.
    let q = query(&[("startIndex", "1"), ("count", "2")]).unwrap();
    assert!(q.pages_in_store());
    assert_eq!(q.plan, QueryPlan::all());
    let r = q.respond(directory());
    assert_eq!((r.total_results, ids(&r)), (9, vec!["1", "2"]));
    // Lookups.
    for (filter, index) in [
        (
            "userName eq \"user1@example.com\"",
            IndexTerm::Email(vec!["user1@example.com".into()]),
        ),
        (
            "externalId eq \"abc\"",
            IndexTerm::SourceId(vec!["abc".into()]),
        ),
    ] {
        let q = query(&[("filter", filter), ("startIndex", "1"), ("count", "100")]).unwrap();
        assert_eq!(q.plan.index, IndexQuery::Term(index));
        assert!(q.pages_in_store());
    }
    let q = query(&[(
        "filter",
        "emails[type eq \"work\"].value eq \"user1@example.com\"",
    )])
    .unwrap();
    assert!(q.pages_in_store());
    // Group by displayName, without members.
    let p = provider();
    let req = SearchRequest::from_query([
        ("filter", "displayName eq \"Sales\""),
        ("excludedAttributes", "members"),
    ]);
    let q = p.query(ResourceType::Group, &req).unwrap();
    assert!(!q.projection.wants("members"));
    assert!(!q.pages_in_store());
    let group = json!({"schemas": [], "id": "g1", "displayName": "sales", "members": [{"value": "1"}], "meta": {"resourceType": "Group"}});
    let r = q.respond(vec![group, json!({"id": "g2", "displayName": "Ops"})]);
    assert_eq!(ids(&r), ["g1"]);
    assert!(r.resources[0].get("members").is_none());
}
