//! SCIM 2.0 at /scim/v2 against a real server on port 0: discovery, Users
//! and Groups lists and reads, paging edge cases, the Okta and Entra request
//! sequences, attribute selection, ETags, refused writes, errors and authentication.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;
mod scim_common;

use common::*;
use reqwest::{Method, StatusCode};
use roster_store::access::Role;
use scim_common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn discovery_endpoints_answer_get_only() {
    let server = TestServer::start().await;
    let viewer = server.token("default", Role::Viewer).await;
    let spc = get_ok(&server, "/ServiceProviderConfig", &viewer).await;
    assert_eq!(spc["patch"]["supported"], false);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    let schemas = get_ok(&server, "/Schemas", &viewer).await;
    assert!(schemas["totalResults"].as_u64().unwrap() >= 3, "{schemas}");
    let user = get_ok(
        &server,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        &viewer,
    )
    .await;
    assert_eq!(user["id"], "urn:ietf:params:scim:schemas:core:2.0:User");
    let types = get_ok(&server, "/ResourceTypes", &viewer).await;
    assert_eq!(types["totalResults"], 2);
    let users = get_ok(&server, "/ResourceTypes/User", &viewer).await;
    assert_eq!(users["endpoint"], "/Users");
    let missing = scim(
        &server,
        Method::GET,
        "/Schemas/urn:nope",
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_error(&missing, 404, None);

    for path in [
        "/ServiceProviderConfig",
        "/Schemas",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        "/ResourceTypes",
        "/ResourceTypes/User",
    ] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let a = scim(
                &server,
                method.clone(),
                path,
                Some(&viewer),
                Some("{}"),
                &[],
            )
            .await;
            assert_error(&a, 405, None);
            assert_eq!(a.allow.as_deref(), Some("GET"), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn authentication_and_accounts() {
    let (server, _sb, _admin, viewer) = directory().await;
    let a = scim(&server, Method::GET, "/Users", None, None, &[]).await;
    assert_error(&a, 401, None);
    let a = scim(&server, Method::GET, "/Users", Some("rst_nope"), None, &[]).await;
    assert_error(&a, 401, None);
    let a = scim(
        &server,
        Method::GET,
        "/ServiceProviderConfig",
        None,
        None,
        &[],
    )
    .await;
    assert_error(&a, 401, None);

    let list = get_ok(&server, "/Users?count=1", &viewer).await;
    let id = list["Resources"][0]["id"].as_str().unwrap().to_string();
    let other = server.token("other", Role::AccountAdmin).await;
    let a = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&other),
        None,
        &[],
    )
    .await;
    assert_error(&a, 404, None);
    let a = scim(
        &server,
        Method::GET,
        "/Users/999999",
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_error(&a, 404, None);
    let empty = get_ok(&server, "/Users", &other).await;
    assert_eq!(empty["totalResults"], 0);
    let a = scim(
        &server,
        Method::GET,
        "/Groups/nope",
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_error(&a, 404, None);
}

#[tokio::test]
async fn users_paging_filters_and_the_okta_and_entra_sequences() {
    let (server, _sb, admin, viewer) = directory().await;
    let all = get_ok(&server, "/Users", &viewer).await;
    let total = all["totalResults"].as_u64().unwrap();
    assert!(total >= 14, "{all}");
    assert_eq!(
        all["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(all["startIndex"], 1);

    // Okta's test connection.
    let page = get_ok(&server, "/Users?startIndex=1&count=2", &viewer).await;
    assert_eq!(page["totalResults"], total);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"].as_array().unwrap().len(), 2);
    // Past the end: an empty page with the total.
    let past = get_ok(
        &server,
        &format!("/Users?startIndex={}", total + 5),
        &viewer,
    )
    .await;
    assert_eq!(past["totalResults"], total);
    assert!(
        past["Resources"].as_array().is_none_or(Vec::is_empty),
        "{past}"
    );
    // count=0: the total only.
    let zero = get_ok(&server, "/Users?count=0", &viewer).await;
    assert_eq!(zero["totalResults"], total);
    assert!(
        zero["Resources"].as_array().is_none_or(Vec::is_empty),
        "{zero}"
    );
    // Over the maximum: clamped.
    let big = get_ok(&server, "/Users?count=1000000", &viewer).await;
    assert_eq!(big["totalResults"], total);
    assert!(big["itemsPerPage"].as_u64().unwrap() <= roster_scim::MAX_COUNT as u64);

    // Cursor paging enumerates everyone once.
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let page = get_ok(
            &server,
            &format!("/Users?count=5&cursor={}", enc(&cursor)),
            &viewer,
        )
        .await;
        for r in page["Resources"].as_array().into_iter().flatten() {
            seen.push(r["id"].as_str().unwrap().to_string());
        }
        next = page["nextCursor"].as_str().map(str::to_string);
        assert!(seen.len() <= total as usize, "{page}");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(seen.len() as u64, total);
    let a = scim(
        &server,
        Method::GET,
        "/Users?cursor=garbage",
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidCursor"));

    // Okta's lookup by userName, case-insensitively.
    let someone = page["Resources"][0].clone();
    let user_name = someone["userName"].as_str().unwrap();
    let filter = enc(&format!("userName eq \"{}\"", user_name.to_uppercase()));
    let found = get_ok(&server, &format!("/Users?filter={filter}"), &viewer).await;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], someone["id"]);
    let none = get_ok(
        &server,
        &format!(
            "/Users?filter={}",
            enc("userName eq \"nobody@example.invalid\"")
        ),
        &viewer,
    )
    .await;
    assert_eq!(none["totalResults"], 0);

    // Entra: by externalId and by the work email.
    let external = someone["externalId"].as_str().expect("externalId");
    let filter = enc(&format!("externalId eq \"{external}\""));
    let found = get_ok(&server, &format!("/Users?filter={filter}"), &viewer).await;
    assert_eq!(found["Resources"][0]["id"], someone["id"]);
    let filter = enc(&format!(
        "emails[type eq \"work\"].value eq \"{user_name}\""
    ));
    let found = get_ok(&server, &format!("/Users?filter={filter}"), &viewer).await;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], someone["id"]);

    // POST /.search takes the same query.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": format!("userName eq \"{user_name}\""),
        "attributes": ["userName"],
    });
    let a = scim(
        &server,
        Method::POST,
        "/Users/.search",
        Some(&viewer),
        Some(&body.to_string()),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["totalResults"], 1);
    assert!(a.body["Resources"][0].get("name").is_none());
    let a = scim(
        &server,
        Method::POST,
        "/Users/.search",
        Some(&viewer),
        Some("{}"),
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidSyntax"));

    // Attribute selection: id and schemas always, the rest as asked.
    let picked = get_ok(
        &server,
        "/Users?count=1&attributes=userName,emails",
        &viewer,
    )
    .await;
    let r = &picked["Resources"][0];
    assert!(
        r["id"].is_string() && r["userName"].is_string() && r["emails"].is_array(),
        "{r}"
    );
    assert!(r.get("name").is_none() && r.get("active").is_none(), "{r}");
    let less = get_ok(
        &server,
        "/Users?count=1&excludedAttributes=emails,name",
        &viewer,
    )
    .await;
    let r = &less["Resources"][0];
    assert!(
        r.get("emails").is_none() && r.get("name").is_none() && r["userName"].is_string(),
        "{r}"
    );

    // Sorting.
    let sorted = get_ok(
        &server,
        "/Users?sortBy=userName&sortOrder=descending",
        &viewer,
    )
    .await;
    let names: Vec<&str> = sorted["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    let mut want = names.clone();
    want.sort_by_key(|s| std::cmp::Reverse(s.to_lowercase()));
    assert_eq!(names, want);

    // Bad filters.
    for bad in [
        "userName eq",
        "nope eq \"x\"",
        "userName zz \"x\"",
        "(userName eq \"x\"",
    ] {
        let a = scim(
            &server,
            Method::GET,
            &format!("/Users?filter={}", enc(bad)),
            Some(&viewer),
            None,
            &[],
        )
        .await;
        assert_error(&a, 400, Some("invalidFilter"));
    }

    // A deactivated employee stays, with active: false.
    let email = someone["userName"].as_str().unwrap().to_string();
    server
        .send(
            Method::POST,
            &format!("/api/v1/users/{email}/exclude"),
            &admin,
            json!(null),
            200,
        )
        .await;
    let id = someone["id"].as_str().unwrap();
    let user = get_ok(&server, &format!("/Users/{id}"), &viewer).await;
    assert_eq!(user["active"], false, "{user}");
    let inactive = get_ok(
        &server,
        &format!("/Users?filter={}", enc("active eq false")),
        &viewer,
    )
    .await;
    assert!(
        inactive["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id)
    );
    let all_again = get_ok(&server, "/Users?count=0", &viewer).await;
    assert_eq!(all_again["totalResults"], total);
}

#[tokio::test]
async fn a_user_has_an_etag_and_answers_304() {
    let (server, _sb, _admin, viewer) = directory().await;
    let list = get_ok(&server, "/Users?count=1", &viewer).await;
    let listed = &list["Resources"][0];
    let id = listed["id"].as_str().unwrap();
    let a = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, SCIM_JSON);
    let etag = a.etag.expect("ETag");
    assert_eq!(a.body["meta"]["version"], etag.as_str());
    assert_eq!(
        listed["meta"]["version"],
        etag.as_str(),
        "same version listed and read"
    );
    assert_eq!(a.body["meta"]["resourceType"], "User");
    let location = a.body["meta"]["location"].as_str().unwrap();
    assert_eq!(location, format!("{}/scim/v2/Users/{id}", server.base));
    let again = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&viewer),
        None,
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.etag.as_deref(), Some(etag.as_str()));
    let changed = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&viewer),
        None,
        &[("if-none-match", "W/\"other\"")],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    // The manager link, when there is one, points at a user of the directory.
    let all = get_ok(&server, "/Users", &viewer).await;
    let ids: Vec<&Value> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let managed: Vec<&Value> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r[ext]["manager"]["value"]
                .as_str()
                .map(|_| &r[ext]["manager"]["value"])
        })
        .collect();
    assert!(!managed.is_empty(), "someone has a manager");
    assert!(managed.iter().all(|m| ids.contains(m)));
}

#[tokio::test]
async fn groups_by_department() {
    let (server, _sb, _admin, viewer) = directory().await;
    let groups = get_ok(&server, "/Groups", &viewer).await;
    let first = groups["Resources"][0].clone();
    assert!(
        first["members"].as_array().is_some_and(|m| !m.is_empty()),
        "{groups}"
    );
    let name = first["displayName"].as_str().unwrap();
    // Okta/Entra: by displayName, without the members.
    let filter = enc(&format!("displayName eq \"{name}\""));
    let found = get_ok(
        &server,
        &format!("/Groups?filter={filter}&excludedAttributes=members"),
        &viewer,
    )
    .await;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], first["id"]);
    assert!(found["Resources"][0].get("members").is_none());
    let id = first["id"].as_str().unwrap();
    let a = scim(
        &server,
        Method::GET,
        &format!("/Groups/{id}?excludedAttributes=members"),
        Some(&viewer),
        None,
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("members").is_none());
    assert_eq!(a.etag.as_deref(), first["meta"]["version"].as_str());
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": format!("displayName eq \"{name}\""),
    });
    let a = scim(
        &server,
        Method::POST,
        "/Groups/.search",
        Some(&viewer),
        Some(&body.to_string()),
        &[],
    )
    .await;
    assert_eq!(a.body["totalResults"], 1, "{}", a.body);
}

#[tokio::test]
async fn writes_are_refused() {
    let (server, _sb, admin, viewer) = directory().await;
    let list = get_ok(&server, "/Users?count=1", &viewer).await;
    let id = list["Resources"][0]["id"].as_str().unwrap().to_string();
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "new@example.com",
    })
    .to_string();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    })
    .to_string();
    let group_patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}],
    })
    .to_string();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "New",
    })
    .to_string();
    for token in [&viewer, &admin] {
        let cases: [(Method, String, &str); 8] = [
            (Method::POST, "/Users".into(), &user),
            (Method::PUT, format!("/Users/{id}"), &user),
            (Method::PATCH, format!("/Users/{id}"), &patch),
            (Method::DELETE, format!("/Users/{id}"), ""),
            (Method::POST, "/Groups".into(), &group),
            (Method::PUT, "/Groups/x".into(), &group),
            (Method::PATCH, "/Groups/x".into(), &group_patch),
            (Method::DELETE, "/Groups/x".into(), ""),
        ];
        for (method, path, body) in cases {
            let a = scim(&server, method.clone(), &path, Some(token), Some(body), &[]).await;
            assert_error(&a, 501, None);
            assert!(
                a.body["detail"].as_str().unwrap().contains("read-only"),
                "{method} {path}"
            );
        }
    }
    let a = scim(
        &server,
        Method::POST,
        "/Users",
        Some(&viewer),
        Some("{not json"),
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidSyntax"));
    let a = scim(
        &server,
        Method::POST,
        "/Users",
        Some(&viewer),
        Some("{\"userName\":\"x\"}"),
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidSyntax"));
    let no_name = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}).to_string();
    let a = scim(
        &server,
        Method::POST,
        "/Users",
        Some(&viewer),
        Some(&no_name),
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidValue"));
    let a = scim(&server, Method::POST, "/Users", None, Some(&user), &[]).await;
    assert_error(&a, 401, None);
    // Nothing was written.
    let after = get_ok(&server, "/Users?count=0", &viewer).await;
    assert_eq!(after["totalResults"], list["totalResults"]);
}

#[tokio::test]
async fn application_json_requests_are_accepted() {
    let (server, _sb, _admin, viewer) = directory().await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "count": 1,
    });
    let res = server
        .http
        .post(format!("{}/scim/v2/Users/.search", server.base))
        .bearer_auth(&viewer)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], SCIM_JSON);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["itemsPerPage"], 1);
}
