//! Access: the whole matrix of endpoint × role × (allowed, forbidden,
//! unauthenticated); accounts isolated from each other; bad input refused with the
//! field named and nothing stored.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::BTreeSet;

use common::{TestServer, connect_static, sandbox};
use reqwest::{Method, StatusCode};
use roster_store::access::Role;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Read,
    Edit,
    Admin,
}

fn allowed(need: Need, role: Role) -> bool {
    let level = match role {
        Role::Viewer => Need::Read,
        Role::EmployeeDataAdmin => Need::Edit,
        Role::AccountAdmin => Need::Admin,
    };
    need <= level
}

/// `method path` with `body` is refused as invalid (422), naming `field`.
async fn assert_invalid(
    server: &TestServer,
    (method, path): (Method, &str),
    token: &str,
    body: Value,
    field: &str,
) {
    let (s, v) = server.call(method, path, Some(token), Some(body)).await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some(field)),
        "{v}"
    );
}

/// Endpoints without credentials.
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/integrations/justworks/callback"),
    ("post", "/api/v1/session"),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_by_every_role() {
    let server = TestServer::start().await;
    let sb = sandbox(15).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let id = connect_static(&server, &admin, &sb).await;
    let review = server.sync(&admin, id).await;
    let rid = review["id"].as_i64().expect("review");
    let applied = server.apply(&admin, rid, json!({}), 200).await;
    let import = applied["import_id"].as_i64().expect("import");
    let users = server.get("/api/v1/users?limit=1", &admin).await;
    let eid = users["items"][0]["employee_id"]
        .as_str()
        .expect("employee")
        .to_string();
    let token_body = sb.mint_token(&roster_sandbox::all_scopes());

    let n = 999_999;
    let table: Vec<(Method, String, Option<Value>, Need)> = vec![
        (Method::GET, "/api/v1/integrations".into(), None, Need::Read),
        (
            Method::GET,
            format!("/api/v1/integrations/{id}"),
            None,
            Need::Read,
        ),
        (
            Method::DELETE,
            format!("/api/v1/integrations/{n}"),
            None,
            Need::Admin,
        ),
        (
            Method::GET,
            format!("/api/v1/integrations/{id}/lock"),
            None,
            Need::Read,
        ),
        (
            Method::DELETE,
            format!("/api/v1/integrations/{n}/lock"),
            Some(json!({ "generation": 1 })),
            Need::Admin,
        ),
        (
            Method::POST,
            "/api/v1/integrations/justworks".into(),
            Some(json!({ "base_url": sb.base_url(), "token": token_body })),
            Need::Admin,
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{id}/setup-sync"),
            None,
            Need::Edit,
        ),
        (
            Method::GET,
            format!("/api/v1/integrations/{id}/mapping"),
            None,
            Need::Read,
        ),
        (
            Method::PUT,
            format!("/api/v1/integrations/{id}/mapping/job_title"),
            Some(json!({ "demographic": "Job Title" })),
            Need::Edit,
        ),
        (
            Method::DELETE,
            format!("/api/v1/integrations/{id}/mapping/no_such_field"),
            None,
            Need::Edit,
        ),
        (
            Method::GET,
            format!("/api/v1/integrations/{id}/settings"),
            None,
            Need::Read,
        ),
        (
            Method::PUT,
            format!("/api/v1/integrations/{id}/settings"),
            Some(json!({})),
            Need::Admin,
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{id}/syncs"),
            Some(json!({})),
            Need::Edit,
        ),
        (
            Method::GET,
            format!("/api/v1/reviews/{rid}"),
            None,
            Need::Read,
        ),
        (
            Method::GET,
            format!("/api/v1/reviews/{rid}/entries"),
            None,
            Need::Read,
        ),
        (
            Method::GET,
            format!("/api/v1/reviews/{rid}/preview.csv"),
            None,
            Need::Read,
        ),
        (
            Method::POST,
            format!("/api/v1/reviews/{n}/apply"),
            Some(json!({})),
            Need::Edit,
        ),
        (
            Method::POST,
            format!("/api/v1/reviews/{n}/discard"),
            None,
            Need::Edit,
        ),
        (Method::GET, "/api/v1/imports".into(), None, Need::Read),
        (
            Method::GET,
            format!("/api/v1/imports/{import}"),
            None,
            Need::Read,
        ),
        (
            Method::POST,
            format!("/api/v1/imports/{n}/rollback"),
            None,
            Need::Edit,
        ),
        (
            Method::POST,
            "/api/v1/imports/csv?mode=partial".into(),
            None,
            Need::Edit,
        ),
        (Method::GET, "/api/v1/users".into(), None, Need::Read),
        (
            Method::GET,
            format!("/api/v1/users/{eid}"),
            None,
            Need::Read,
        ),
        (
            Method::GET,
            format!("/api/v1/users/{eid}/export"),
            None,
            Need::Edit,
        ),
        (
            Method::PUT,
            "/api/v1/users/nobody/email".into(),
            Some(json!({ "email": "x@example.com" })),
            Need::Edit,
        ),
        (
            Method::POST,
            "/api/v1/users/nobody/exclude".into(),
            None,
            Need::Edit,
        ),
        (
            Method::POST,
            "/api/v1/users/nobody/include".into(),
            None,
            Need::Edit,
        ),
        (
            Method::POST,
            "/api/v1/users/nobody/merge".into(),
            Some(json!({ "into": "nobody-else" })),
            Need::Edit,
        ),
        (
            Method::POST,
            "/api/v1/users/nobody/erase".into(),
            None,
            Need::Admin,
        ),
        (
            Method::POST,
            "/api/v1/users/nobody/erase?remove=true".into(),
            None,
            Need::Admin,
        ),
        (
            Method::PUT,
            "/api/v1/users/nobody/hold".into(),
            Some(json!({ "reason": "legal hold" })),
            Need::Admin,
        ),
        (
            Method::DELETE,
            "/api/v1/users/nobody/hold".into(),
            None,
            Need::Admin,
        ),
        (Method::GET, "/api/v1/retention".into(), None, Need::Edit),
        (
            Method::GET,
            "/api/v1/retention/holds".into(),
            None,
            Need::Admin,
        ),
        (
            Method::POST,
            "/api/v1/retention/apply".into(),
            None,
            Need::Admin,
        ),
        (Method::GET, "/api/v1/upcoming".into(), None, Need::Read),
        (Method::GET, "/api/v1/events".into(), None, Need::Read),
        (
            Method::GET,
            format!("/api/v1/employees/{n}/events"),
            None,
            Need::Read,
        ),
        (Method::GET, "/api/v1/milestones".into(), None, Need::Read),
        (
            Method::GET,
            "/api/v1/exports/users.csv".into(),
            None,
            Need::Read,
        ),
        (Method::GET, "/api/v1/tokens".into(), None, Need::Admin),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({ "name": "ci", "role": "viewer" })),
            Need::Admin,
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{n}"),
            None,
            Need::Admin,
        ),
        (Method::GET, "/api/v1/web-users".into(), None, Need::Admin),
        (
            Method::POST,
            "/api/v1/web-users".into(),
            Some(
                json!({ "email": "someone@acme.example", "role": "viewer", "password": "long enough password" }),
            ),
            Need::Admin,
        ),
        (
            Method::DELETE,
            format!("/api/v1/web-users/{n}"),
            None,
            Need::Admin,
        ),
        (Method::GET, "/api/v1/session".into(), None, Need::Read),
        (Method::DELETE, "/api/v1/session".into(), None, Need::Read),
    ];

    // The table covers every documented endpoint.
    let doc: Value = serde_json::from_str(&roster_server::openapi_json()).expect("openapi");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let templated = |p: &str| {
        p.replace(&format!("/{id}/"), "/{id}/")
            .replace(&format!("/{n}/"), "/{id}/")
            .replace(&format!("/{rid}/"), "/{id}/")
            .replace(&format!("/{rid}"), "/{id}")
            .replace(&format!("/{import}"), "/{id}")
            .replace(&format!("/{n}"), "/{id}")
            .replace(&format!("integrations/{id}"), "integrations/{id}")
            .replace("/mapping/job_title", "/mapping/{source_key}")
            .replace("/mapping/no_such_field", "/mapping/{source_key}")
            .replace(&format!("/users/{eid}"), "/users/{who}")
            .replace("/users/nobody", "/users/{who}")
    };
    let mut covered: BTreeSet<(String, String)> = table
        .iter()
        .map(|(m, p, _, _)| {
            let p = p.split('?').next().unwrap_or_default();
            (m.as_str().to_lowercase(), templated(p))
        })
        .collect();
    covered.extend(PUBLIC.iter().map(|(m, p)| (m.to_string(), p.to_string())));
    // SCIM reads answer SCIM error bodies: checked by `scim_reads_by_every_role`.
    covered.extend(SCIM.iter().map(|(m, p, _)| (m.to_string(), p.to_string())));
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "endpoints missing from the matrix: {missing:?}"
    );

    let tokens = [
        (Role::Viewer, server.token("default", Role::Viewer).await),
        (
            Role::EmployeeDataAdmin,
            server.token("default", Role::EmployeeDataAdmin).await,
        ),
        (Role::AccountAdmin, admin.clone()),
    ];
    for (method, path, body, need) in &table {
        let (s, v) = server.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} unauthenticated: {v}"
        );
        assert_eq!(v["error"]["code"], "unauthenticated");
        let (s, _) = server
            .call(method.clone(), path, Some("rst_not-a-token"), body.clone())
            .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with a bad token"
        );
        for (role, token) in &tokens {
            let (s, v) = server
                .call(method.clone(), path, Some(token), body.clone())
                .await;
            if allowed(*need, *role) {
                assert!(
                    s != StatusCode::UNAUTHORIZED
                        && s != StatusCode::FORBIDDEN
                        && !s.is_server_error(),
                    "{method} {path} as {role:?} should be allowed: {s} {v}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path} as {role:?}: {v}");
                assert_eq!(v["error"]["code"], "forbidden");
            }
        }
    }
}

/// The SCIM reads (documented path, path requested): any role reads them.
const SCIM: &[(&str, &str, &str)] = &[
    (
        "get",
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/ServiceProviderConfig",
    ),
    ("get", "/scim/v2/Schemas", "/scim/v2/Schemas"),
    ("get", "/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes"),
    ("get", "/scim/v2/Users", "/scim/v2/Users"),
    ("get", "/scim/v2/Users/{id}", "/scim/v2/Users/1"),
    ("post", "/scim/v2/Users/.search", "/scim/v2/Users/.search"),
    ("get", "/scim/v2/Groups", "/scim/v2/Groups"),
    ("get", "/scim/v2/Groups/{id}", "/scim/v2/Groups/nope"),
    ("post", "/scim/v2/Groups/.search", "/scim/v2/Groups/.search"),
];

#[tokio::test(flavor = "multi_thread")]
async fn scim_reads_by_every_role() {
    let server = TestServer::start().await;
    let search = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"] });
    let mut tokens = vec![None, Some("rst_not-a-token".to_string())];
    for role in [Role::Viewer, Role::EmployeeDataAdmin, Role::AccountAdmin] {
        tokens.push(Some(server.token("default", role).await));
    }
    for (method, _, path) in SCIM {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = (method == Method::POST).then(|| search.clone());
        for (i, token) in tokens.iter().enumerate() {
            let (s, v) = server
                .call(method.clone(), path, token.as_deref(), body.clone())
                .await;
            if i < 2 {
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}: {v}");
                assert_eq!(v["status"], "401", "a SCIM error body: {v}");
            } else {
                assert!(
                    s == StatusCode::OK || s == StatusCode::NOT_FOUND,
                    "{method} {path} as token {i}: {s} {v}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_account_sees_nothing() {
    let server = TestServer::start().await;
    let sb = sandbox(12).await;
    let a = server.token("acme", Role::AccountAdmin).await;
    let b = server.token("globex", Role::AccountAdmin).await;
    let id = connect_static(&server, &a, &sb).await;
    let review = server.sync(&a, id).await;
    let rid = review["id"].as_i64().expect("review");
    let users_before = server.get("/api/v1/users", &a).await["items"]
        .as_array()
        .map(Vec::len);
    let created = server.apply(&a, rid, json!({}), 200).await;
    let import = created["import_id"].as_i64().expect("import");
    let users = server.get("/api/v1/users", &a).await;
    assert_ne!(users["items"].as_array().map(Vec::len), users_before);
    let eid = users["items"][0]["employee_id"]
        .as_str()
        .expect("employee")
        .to_string();
    let tok = server
        .send(
            Method::POST,
            "/api/v1/tokens",
            &a,
            json!({ "name": "x", "role": "viewer" }),
            201,
        )
        .await;
    let tid = tok["id"].as_i64().expect("token id");

    for (method, path, body) in [
        (Method::GET, format!("/api/v1/integrations/{id}"), None),
        (Method::GET, format!("/api/v1/integrations/{id}/lock"), None),
        (
            Method::DELETE,
            format!("/api/v1/integrations/{id}/lock"),
            Some(json!({ "generation": 1 })),
        ),
        (
            Method::GET,
            format!("/api/v1/integrations/{id}/settings"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/integrations/{id}/settings"),
            Some(json!({ "on_missing": "deactivate" })),
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{id}/syncs"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/api/v1/integrations/{id}"), None),
        (Method::GET, format!("/api/v1/reviews/{rid}"), None),
        (Method::POST, format!("/api/v1/reviews/{rid}/discard"), None),
        (Method::GET, format!("/api/v1/imports/{import}"), None),
        (
            Method::POST,
            format!("/api/v1/imports/{import}/rollback"),
            None,
        ),
        (Method::GET, format!("/api/v1/users/{eid}"), None),
        (Method::GET, format!("/api/v1/users/{eid}/export"), None),
        (Method::POST, format!("/api/v1/users/{eid}/exclude"), None),
        (Method::POST, format!("/api/v1/users/{eid}/erase"), None),
        (
            Method::PUT,
            format!("/api/v1/users/{eid}/hold"),
            Some(json!({ "reason": "legal hold" })),
        ),
        (Method::DELETE, format!("/api/v1/users/{eid}/hold"), None),
        (Method::DELETE, format!("/api/v1/tokens/{tid}"), None),
    ] {
        let (s, v) = server.call(method.clone(), &path, Some(&b), body).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{method} {path} from another account: {v}"
        );
    }
    for path in ["/api/v1/integrations", "/api/v1/imports", "/api/v1/tokens"] {
        let v = server.get(path, &b).await;
        let mine = v.as_array().map(|a| {
            a.iter()
                .filter(|x| {
                    x["id"] == json!(id) || x["id"] == json!(import) || x["id"] == json!(tid)
                })
                .count()
        });
        assert!(
            mine.is_none_or(|n| n == 0) && v.as_array().is_some_and(|a| a.len() <= 1),
            "{path}: {v}"
        );
    }
    let v = server
        .get("/api/v1/users?include_deactivated=true", &b)
        .await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    // Nothing of A changed.
    let i = server.get(&format!("/api/v1/integrations/{id}"), &a).await;
    assert_eq!(i["state"], "active");
    let s = server
        .get(&format!("/api/v1/integrations/{id}/settings"), &a)
        .await;
    assert_eq!(s["settings"]["on_missing"]["value"], "keep");
    let u = server.get(&format!("/api/v1/users/{eid}"), &a).await;
    assert_eq!(u["employee"]["active"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_names_the_field_and_stores_nothing() {
    let server = TestServer::start().await;
    let sb = sandbox(8).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let id = connect_static(&server, &admin, &sb).await;
    let url = |p: &str| format!("{}{p}", server.base);

    // Malformed JSON.
    let res = server
        .http
        .post(url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["error"]["code"], "bad_request");

    // Not JSON at all.
    let res = server
        .http
        .post(url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .body("name=x")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Unknown field, wrong type, bad enum: the field is named.
    let (s, v) = server
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({ "name": "x", "role": "viewer", "rolle": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("rolle")),
        "{v}"
    );
    let (s, v) = server
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({ "name": "x", "role": "superuser" })),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("role")),
        "{v}"
    );
    let (s, v) = server
        .call(
            Method::POST,
            &format!("/api/v1/integrations/{id}/syncs"),
            Some(&admin),
            Some(json!({ "incremental": "yes" })),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("incremental")),
        "{v}"
    );
    let tokens = server.get("/api/v1/tokens", &admin).await;
    assert_eq!(
        tokens.as_array().map(Vec::len),
        Some(1),
        "nothing stored: {tokens}"
    );

    // Bad ids in the path and the query.
    let (s, v) = server
        .call(Method::GET, "/api/v1/imports/abc", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("id")),
        "{v}"
    );
    let (s, v) = server
        .call(Method::GET, "/api/v1/users?limit=many", Some(&admin), None)
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit")),
        "{v}"
    );
    let (s, v) = server
        .call(Method::GET, "/api/v1/imports/42", Some(&admin), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );

    // A bad setting changes nothing, not even the good one beside it.
    let settings_path = format!("/api/v1/integrations/{id}/settings");
    for (body, field) in [
        (
            json!({ "on_missing": "deactivate", "mass_deactivation_percent": "150" }),
            "mass_deactivation_percent",
        ),
        (json!({ "no_such": "x" }), "no_such"),
    ] {
        assert_invalid(&server, (Method::PUT, &settings_path), &admin, body, field).await;
    }
    let settings = server
        .get(&format!("/api/v1/integrations/{id}/settings"), &admin)
        .await;
    assert_eq!(settings["settings"]["on_missing"]["value"], "keep");

    // Invalid values the rules refuse.
    for (body, field) in [
        (
            json!({ "email": "not-an-email", "role": "viewer", "password": "long enough password" }),
            "email",
        ),
        (
            json!({ "email": "a@acme.example", "role": "viewer", "password": "short" }),
            "password",
        ),
    ] {
        let web_users = (Method::POST, "/api/v1/web-users");
        assert_invalid(&server, web_users, &admin, body, field).await;
    }
    assert_eq!(
        server
            .get("/api/v1/web-users", &admin)
            .await
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_invalid(
        &server,
        (Method::POST, "/api/v1/integrations/justworks"),
        &admin,
        json!({ "base_url": "ftp://x" }),
        "base_url",
    )
    .await;
    assert_eq!(
        server
            .get("/api/v1/integrations", &admin)
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Unknown endpoint: JSON 404.
    let (s, v) = server
        .call(Method::GET, "/api/v1/nope", Some(&admin), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}
