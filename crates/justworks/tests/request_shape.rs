//! Every path, query parameter, form field and scope the connector sends must be one
//! the Partner API declares. The declaration is the project's own fixture,
//! `tests/fixtures/partner_api_operations.json`, extracted from the third-party
//! OpenAPI profile of the API; `scripts/check_upstream_api.py` compares the fixture
//! with those upstream files (kept outside the repository). A recording server stands
//! in for Justworks.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use roster_justworks::{
    Credentials, DEFAULT_SCOPES, JustworksSource, OAuthClient, TokenKind, TokenSet,
};
use roster_source::Source;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
struct Recorded {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partner_api_operations.json")
}

fn load_fixture() -> Value {
    let path = fixture_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the API fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The operations of the fixture: (method, path template) → operation, in the
/// OpenAPI shape (`parameters` resolved; a form body as `form.properties`/`required`).
fn load_spec() -> HashMap<(String, String), Value> {
    let fixture = load_fixture();
    let mut operations = HashMap::new();
    for op in fixture["operations"].as_array().expect("operations") {
        let method = op["method"].as_str().expect("method").to_owned();
        let path = op["path"].as_str().expect("path").to_owned();
        let mut op = op.clone();
        if op.get("form").is_some() {
            op["requestBody"] = json!({"content": {"application/x-www-form-urlencoded": {
                "schema": {"properties": op["form"]["properties"], "required": op["form"]["required"]}
            }}});
        }
        operations.insert((method, path), op);
    }
    assert!(
        operations.contains_key(&("GET".to_owned(), "/v1/members".to_owned())),
        "the fixture must describe GET /v1/members"
    );
    operations
}

/// The scopes the fixture declares.
fn declared_scopes() -> BTreeSet<String> {
    load_fixture()["scopes"]
        .as_object()
        .expect("scopes")
        .keys()
        .cloned()
        .collect()
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

fn member(id: &str, manager: Option<&str>) -> Value {
    let mut m = json!({
        "id": id, "name": {"given_name": "G", "family_name": "F"}, "active": true, "type": "employee",
        "emails": [{"address": format!("{id}@acme.example"), "type": "work"}],
        "date_of_birth": "1990-01-01", "employment_history": [], "phones": [],
    });
    if let Some(manager) = manager {
        m["manager"] = json!({"id": manager});
    }
    m
}

fn token_answer() -> Value {
    json!({
        "token_type": "bearer", "access_token": "new-access", "expires_in": 86400,
        "expires_at": "2099-01-01T00:00:00Z", "refresh_token": "new-refresh",
        "refresh_token_expires_at": "2099-01-30T00:00:00Z",
        "scope": "member.detail:read member.dob:read company.detail:read",
    })
}

async fn recording_server() -> (url::Url, Arc<Mutex<Vec<Recorded>>>) {
    let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let sink = Arc::clone(&log);
    let router = Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
        let sink = Arc::clone(&sink);
        async move {
            let query: Vec<(String, String)> = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
            let path = uri.path().to_owned();
            sink.lock().unwrap().push(Recorded { method: method.clone(), path: path.clone(), query: query.clone(), form });
            let cursor = query.iter().find(|(k, _)| k == "cursor").map(|(_, v)| v.as_str());
            let body = match (method.as_str(), path.as_str()) {
                ("GET", "/v1/members") => match cursor {
                    None => json!({"items": [member("m1", Some("m9")), member("m2", Some("m1"))], "next_cursor": "c2"}),
                    Some(_) => json!({"items": [member("m3", None)]}),
                },
                ("GET", "/v1/members/m9") => member("m9", None),
                ("GET", p) if p.ends_with("/custom-field-values") => {
                    json!({"items": [{"id": "cf_1", "values": ["M"]}]})
                }
                ("GET", "/v1/company") => json!({"id": "cmp_1", "display_name": "Acme"}),
                ("GET", "/v1/company/custom-fields") => {
                    json!({"items": [{"id": "cf_1", "label": "T-shirt size", "type": "select"}]})
                }
                ("POST", "/oauth/token") => token_answer(),
                ("POST", "/v1/oauth/revoke") => json!({}),
                _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
            };
            Response::from(axum::Json(body).into_response())
        }
    });
    (common::serve(router).await, log)
}

#[tokio::test]
async fn every_request_matches_the_partner_api_fixture() {
    let spec = load_spec();
    let (base, log) = recording_server().await;
    let mut config = common::config(&base);
    config.client_id = "cid".into();
    config.client_secret = "secret".to_owned().into();
    config.redirect_uri = Some("http://127.0.0.1:1/callback".parse().unwrap());

    // The OAuth flow.
    let oauth = OAuthClient::new(&config).unwrap();
    let (authorize, verifier) = oauth.authorize_url("state-1", true);
    let tokens = oauth.exchange_code("code-1", verifier).await.unwrap();
    let tokens = oauth.refresh(&tokens).await.unwrap();
    oauth
        .revoke(&tokens.access_token, TokenKind::Access)
        .await
        .unwrap();

    // Reads: company, a full fetch with custom fields, an incremental fetch by status.
    let mut oauth_tokens = TokenSet::access_only("access");
    oauth_tokens.scopes = Some(vec![
        "member.detail:read".into(),
        "company.detail:read".into(),
    ]);
    let source = JustworksSource::new(config.clone(), Credentials::OAuth(oauth_tokens)).unwrap();
    source.company().await.unwrap();
    let full = source.fetch(common::with_custom_fields()).await.unwrap();
    assert_eq!(full.members.len(), 3);
    config.split_by_status = true;
    let source =
        JustworksSource::new(config, Credentials::Static("access".to_owned().into())).unwrap();
    let since: jiff::Timestamp = "2024-05-01T09:30:00Z".parse().unwrap();
    let partial = source.fetch(common::updated_since(since)).await.unwrap();
    assert!(!partial.complete);

    let log = log.lock().unwrap().clone();
    let mut seen_query: BTreeSet<String> = BTreeSet::new();
    let mut seen_paths: BTreeSet<String> = BTreeSet::new();
    for request in &log {
        let (template, op) = spec
            .iter()
            .find(|((m, t), _)| *m == request.method.as_str() && template_matches(t, &request.path))
            .map(|((_, t), op)| (t.clone(), op))
            .unwrap_or_else(|| {
                panic!(
                    "{} {} is not in the Partner API fixture",
                    request.method, request.path
                )
            });
        seen_paths.insert(format!("{} {template}", request.method));
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for (name, value) in &request.query {
            seen_query.insert(name.clone());
            let declared = params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name.as_str());
            let declared = match declared {
                Some(p) => *p,
                None => {
                    // `updated_at_gte`: the spec declares `updated_at` and says an operator
                    // suffix (_gt, _gte, _lt, _lte, _ne) is appended to compare.
                    let (base_name, suffix) = name.rsplit_once('_').expect("an operator suffix");
                    let p = params
                        .iter()
                        .find(|p| p["in"] == "query" && p["name"] == base_name)
                        .unwrap_or_else(|| {
                            panic!("query parameter {name} is not declared for {template}")
                        });
                    let description = p["description"].as_str().unwrap_or_default();
                    assert!(
                        description.contains(&format!("_{suffix}")),
                        "{name}: the description of {base_name} does not list the _{suffix} suffix"
                    );
                    p
                }
            };
            let schema = &declared["schema"];
            if let Some(values) = schema["enum"].as_array() {
                assert!(
                    values.iter().any(|v| v == value.as_str()),
                    "{name}={value} is not one of {values:?}"
                );
            }
            if schema["type"] == "integer" {
                let n: i64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={value} is not an integer"));
                if let Some(min) = schema["minimum"].as_i64() {
                    assert!(n >= min, "{name}={n} < {min}");
                }
                if let Some(max) = schema["maximum"].as_i64() {
                    assert!(n <= max, "{name}={n} > {max}");
                }
            }
            if schema["format"] == "date-time" {
                value
                    .parse::<jiff::Timestamp>()
                    .unwrap_or_else(|e| panic!("{name}={value} is not RFC 3339: {e}"));
            }
        }
        if request.method == Method::POST {
            let schema =
                &op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
            let properties = schema["properties"].as_object().expect("a form schema");
            for (name, _) in &request.form {
                // PKCE (RFC 7636) is not in the third-party spec; the sandbox accepts it.
                if name == "code_verifier" {
                    continue;
                }
                assert!(
                    properties.contains_key(name),
                    "form field {name} is not declared for {template}"
                );
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(
                    request.form.iter().any(|(n, _)| n == required),
                    "required form field {required} missing from {template}"
                );
            }
            if let Some(grants) = properties
                .get("grant_type")
                .and_then(|g| g["enum"].as_array())
            {
                let grant = request
                    .form
                    .iter()
                    .find(|(n, _)| n == "grant_type")
                    .map(|(_, v)| v.as_str())
                    .unwrap();
                assert!(grants.iter().any(|g| g == grant), "grant_type={grant}");
            }
            // Client credentials travel in the body, never as Basic auth.
            assert!(request.form.iter().any(|(n, _)| n == "client_secret"));
        }
    }
    for path in [
        "GET /v1/members",
        "GET /v1/members/{member_id}",
        "GET /v1/members/{member_id}/custom-field-values",
        "GET /v1/company",
        "GET /v1/company/custom-fields",
        "POST /oauth/token",
        "POST /v1/oauth/revoke",
    ] {
        assert!(
            seen_paths.contains(path),
            "{path} was not exercised: {seen_paths:?}"
        );
    }
    for name in ["cursor", "limit", "status", "updated_at_gte"] {
        assert!(
            seen_query.contains(name),
            "{name} was not exercised: {seen_query:?}"
        );
    }
    // The consent URL goes to the path the spec's authorizationUrl names, and asks
    // only for declared scopes.
    let fixture = load_fixture();
    let authorization_url: url::Url = fixture["oauth"]["authorizationUrl"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(authorize.path(), authorization_url.path());
    let declared = declared_scopes();
    let asked: Vec<String> = authorize
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.split(' ').map(str::to_owned).collect())
        .expect("the consent URL names scopes");
    assert!(!asked.is_empty());
    for scope in &asked {
        assert!(
            declared.contains(scope),
            "the consent URL asks for {scope}, which the API does not declare"
        );
    }
    // The token endpoint is the spec's tokenUrl path.
    let token_url: url::Url = fixture["oauth"]["tokenUrl"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(log.iter().any(|r| r.path == token_url.path()));
}

#[test]
fn every_scope_the_connector_asks_for_is_declared() {
    let declared = declared_scopes();
    assert!(declared.len() >= DEFAULT_SCOPES.len());
    for scope in DEFAULT_SCOPES {
        assert!(
            declared.contains(*scope),
            "{scope} is not a Partner API scope"
        );
    }
}

/// No test of the workspace reads files next to the checkout (a clone of the
/// repository on its own must pass): no path climbs out of the workspace root.
#[test]
fn no_test_reads_files_outside_the_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Written in pieces so that this file does not match itself.
    let climbs_out = [
        ["\"../../", "../"].concat(),
        ["\"../", "shared"].concat(),
        ["/work/", "shared"].concat(),
    ];
    let mut offenders = Vec::new();
    let mut stack = vec![root.join("crates")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if climbs_out.iter().any(|p| line.contains(p.as_str())) {
                        offenders.push(format!("{}:{}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(files > 50, "the workspace's sources were not found");
    assert!(
        offenders.is_empty(),
        "paths outside the repository: {offenders:?}"
    );
}

#[test]
fn the_spec_says_updated_at_takes_operator_suffixes() {
    let spec = load_spec();
    let op = &spec[&("GET".to_owned(), "/v1/members".to_owned())];
    let updated_at = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "updated_at")
        .expect("updated_at is declared");
    assert_eq!(updated_at["schema"]["format"], "date-time");
    let description = updated_at["description"].as_str().unwrap();
    for suffix in ["_gt", "_gte", "_lt", "_lte", "_ne"] {
        assert!(
            description.contains(suffix),
            "{suffix} missing from {description:?}"
        );
    }
    let limit = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(
        limit["schema"]["maximum"], 100,
        "the connector's page limit default (100) is the spec's maximum"
    );
}
