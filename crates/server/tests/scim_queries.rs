//! SCIM queries over HTTP against a real server on port 0: every filter operator
//! against what the directory holds, cursor enumeration across a sync that changes
//! the directory, per-employee `meta.lastModified` (and `meta.lastModified gt` as "what
//! changed since"), merged duplicates, and the group setting.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;
mod scim_common;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use scim_common::*;
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn text<'a>(u: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(u, |v, p| v.get(p))?.as_str()
}

fn lower(u: &Value, path: &[&str]) -> String {
    text(u, path).unwrap_or_default().to_lowercase()
}

fn work_email(u: &Value) -> Option<String> {
    u["emails"]
        .as_array()?
        .iter()
        .find(|e| e["type"] == "work")
        .and_then(|e| e["value"].as_str())
        .map(str::to_lowercase)
}

type Check = Box<dyn Fn(&Value) -> bool>;

#[tokio::test]
async fn every_filter_operator_selects_what_the_directory_holds() {
    let c = Company::start(24).await;
    let all = c.get("/Users?count=1000").await;
    let users: Vec<Value> = all["Resources"].as_array().unwrap().clone();
    assert_eq!(users.len() as u64, all["totalResults"].as_u64().unwrap());
    let someone = users[3].clone();
    let name = lower(&someone, &["userName"]);
    let domain = name.split('@').nth(1).unwrap().to_string();
    let first = name[..1].to_string();
    let family = text(&someone, &["name", "familyName"]).unwrap().to_string();
    let number = text(&someone, &[ENTERPRISE, "employeeNumber"])
        .unwrap()
        .to_string();
    let id = someone["id"].as_str().unwrap().to_string();
    let modified = text(&someone, &["meta", "lastModified"])
        .unwrap()
        .to_string();

    let (n, d, f, fam, num, i) = (
        name.clone(),
        domain.clone(),
        first.clone(),
        family.to_lowercase(),
        number.to_lowercase(),
        id.clone(),
    );
    let cases: Vec<(String, Check)> = vec![
        (format!("userName eq \"{}\"", name.to_uppercase()), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) == n)
        }),
        (format!("userName ne \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) != n)
        }),
        (format!("userName co \"{}\"", domain.to_uppercase()), {
            let d = d.clone();
            Box::new(move |u| lower(u, &["userName"]).contains(&d))
        }),
        (format!("userName sw \"{first}\""), {
            let f = f.clone();
            Box::new(move |u| lower(u, &["userName"]).starts_with(&f))
        }),
        (format!("userName ew \"{domain}\""), {
            let d = d.clone();
            Box::new(move |u| lower(u, &["userName"]).ends_with(&d))
        }),
        (
            "title pr".into(),
            Box::new(|u| text(u, &["title"]).is_some()),
        ),
        (format!("userName gt \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) > n)
        }),
        (format!("userName ge \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) >= n)
        }),
        (format!("userName lt \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) < n)
        }),
        (format!("userName le \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| lower(u, &["userName"]) <= n)
        }),
        (
            format!("name.familyName eq \"{}\"", family.to_uppercase()),
            {
                let fam = fam.clone();
                Box::new(move |u| lower(u, &["name", "familyName"]) == fam)
            },
        ),
        (
            format!(
                "{ENTERPRISE}:employeeNumber eq \"{}\"",
                number.to_uppercase()
            ),
            Box::new(move |u| lower(u, &[ENTERPRISE, "employeeNumber"]) == num),
        ),
        (format!("id eq \"{id}\""), {
            let i = i.clone();
            Box::new(move |u| u["id"] == i.as_str())
        }),
        ("id eq \"not-a-key\"".into(), Box::new(|_| false)),
        ("active eq true".into(), Box::new(|u| u["active"] == true)),
        ("active ne true".into(), Box::new(|u| u["active"] != true)),
        (
            format!("meta.lastModified ge \"{modified}\""),
            Box::new(|_| true),
        ),
        (
            format!("meta.lastModified gt \"{modified}\""),
            Box::new(|_| false),
        ),
        (
            format!("meta.lastModified le \"{modified}\""),
            Box::new(|_| true),
        ),
        (
            format!("meta.lastModified lt \"{modified}\""),
            Box::new(|_| false),
        ),
        (
            format!(
                "(userName sw \"{first}\" or userName eq \"{name}\") and not (active eq false)"
            ),
            {
                let (f, n) = (f.clone(), n.clone());
                Box::new(move |u| {
                    let un = lower(u, &["userName"]);
                    (un.starts_with(&f) || un == n) && u["active"] != false
                })
            },
        ),
        (format!("not (userName ew \"{domain}\") or title pr"), {
            let d = d.clone();
            Box::new(move |u| {
                !lower(u, &["userName"]).ends_with(&d) || text(u, &["title"]).is_some()
            })
        }),
        (
            format!("emails[type eq \"work\" and value co \"{domain}\"]"),
            {
                let d = d.clone();
                Box::new(move |u| work_email(u).is_some_and(|e| e.contains(&d)))
            },
        ),
        (format!("emails[type eq \"work\"].value eq \"{name}\""), {
            let n = n.clone();
            Box::new(move |u| work_email(u).is_some_and(|e| e == n))
        }),
        (format!("emails.value ew \"{domain}\""), {
            let d = d.clone();
            Box::new(move |u| {
                u["emails"].as_array().into_iter().flatten().any(|e| {
                    e["value"]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().ends_with(&d))
                })
            })
        }),
    ];
    for (filter, check) in &cases {
        let want: Vec<&str> = users
            .iter()
            .filter(|u| check(u))
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        let path = format!("/Users?count=1000&filter={}", enc(filter));
        let got = c.get(&path).await;
        assert_eq!(ids(&got), want, "{filter}");
        assert_eq!(got["totalResults"], want.len(), "{filter}");
        // As a count only.
        let zero = c
            .get(&format!("/Users?count=0&filter={}", enc(filter)))
            .await;
        assert_eq!(zero["totalResults"], want.len(), "{filter}");
    }
    // Every operator came up, with a match and a non-match somewhere.
    let matched: BTreeSet<usize> = cases
        .iter()
        .map(|(_, check)| users.iter().filter(|u| check(u)).count())
        .collect();
    assert!(
        matched.len() > 3,
        "the cases are not all trivial: {matched:?}"
    );
    // Not filterable: an attribute of a complex value with no sub-attribute.
    let a = scim(
        &c.server,
        Method::GET,
        &format!("/Users?filter={}", enc("name eq \"x\"")),
        Some(&c.viewer),
        None,
        &[],
    )
    .await;
    assert_error(&a, 400, Some("invalidFilter"));
}

/// Every id of a cursor enumeration with pages of `count`, and the pages' count;
/// `between` runs after the page numbered `at`.
async fn enumerate(
    c: &Company,
    count: usize,
    at: usize,
    between: impl AsyncFnOnce(),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    let mut between = Some(between);
    let mut page = 0;
    while let Some(cursor) = next {
        let list = c
            .get(&format!("/Users?count={count}&cursor={}", enc(&cursor)))
            .await;
        seen.extend(ids(&list));
        next = list["nextCursor"].as_str().map(str::to_string);
        page += 1;
        if page == at
            && let Some(f) = between.take()
        {
            f().await;
        }
        assert!(page < 1000, "the enumeration ends");
    }
    seen
}

#[tokio::test]
async fn a_cursor_enumeration_across_a_sync_sees_everyone_once() {
    let c = Company::start(30).await;
    let before = c.ids("/Users?count=1000").await;
    let handle = c.sb.handle();
    let members: Vec<String> = handle.members(false).iter().map(member_id).collect();
    let seen = enumerate(&c, 4, 3, async || {
        // Two hires, one member gone from the source, one renamed.
        handle.hire_random().unwrap();
        handle.hire_random().unwrap();
        handle.hide(&members[20]).unwrap();
        handle
            .set_work_email(&members[25], Some("renamed.person@example.com"))
            .unwrap();
        c.later(60);
        c.sync().await;
    })
    .await;
    let after = c.ids("/Users?count=1000").await;
    assert_eq!(after.len(), before.len() + 2, "two hires");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &seen {
        *counts.entry(id).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "no one twice: {counts:?}");
    for id in &before {
        assert!(counts.contains_key(id.as_str()), "{id} existed throughout");
    }
    // Keys only grow: the hires come after everyone else, and a cursor sees them.
    assert_eq!(seen, after);
}

fn member_id(m: &roster_sandbox::ListedMember) -> String {
    m.member["id"].as_str().expect("member id").to_string()
}

fn without_meta(u: &Value) -> Value {
    let mut u = u.clone();
    u.as_object_mut().unwrap().remove("meta");
    u
}

#[tokio::test]
async fn last_modified_is_each_users_own() {
    let c = Company::start(16).await;
    let first = c.get("/Users?count=1000").await["Resources"].clone();
    let first: Vec<Value> = first.as_array().unwrap().clone();
    let t0 = first[0]["meta"]["lastModified"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.iter().all(
            |u| u["meta"]["created"] == t0.as_str() && u["meta"]["lastModified"] == t0.as_str()
        ),
        "everyone created and last changed by the first sync"
    );
    let handle = c.sb.handle();
    let members = handle.members(false);
    let renamed = member_id(&members[5]);
    handle
        .set_work_email(&renamed, Some("someone.new@example.com"))
        .unwrap();
    c.later(90);
    c.sync().await;
    let second: Vec<Value> = c.get("/Users?count=1000").await["Resources"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(first.len(), second.len());
    let mut changed = Vec::new();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["meta"]["created"], b["meta"]["created"], "created stays");
        if without_meta(a) == without_meta(b) {
            assert_eq!(
                a["meta"], b["meta"],
                "unchanged: same lastModified and version"
            );
        } else {
            assert!(
                b["meta"]["lastModified"].as_str().unwrap() > t0.as_str(),
                "changed later: {b}"
            );
            assert_ne!(a["meta"]["version"], b["meta"]["version"]);
            changed.push(b["id"].as_str().unwrap().to_string());
        }
    }
    let target = second
        .iter()
        .find(|u| u["externalId"] == renamed.as_str())
        .unwrap();
    assert_eq!(target["userName"], "someone.new@example.com");
    assert!(changed.contains(&target["id"].as_str().unwrap().to_string()));
    // What changed since the first read.
    let since = c
        .ids(&format!(
            "/Users?count=1000&filter={}",
            enc(&format!("meta.lastModified gt \"{t0}\""))
        ))
        .await;
    assert_eq!(since, changed);
    // The old ETag no longer matches.
    let id = target["id"].as_str().unwrap();
    let old = first.iter().find(|u| u["id"] == id).unwrap()["meta"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let a = scim(
        &c.server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&c.viewer),
        None,
        &[("if-none-match", &old)],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.etag.as_deref(), target["meta"]["version"].as_str());
}

#[tokio::test]
async fn a_merged_duplicate_is_inactive_and_points_nowhere() {
    let c = Company::start(8).await;
    let users: Vec<Value> = c.get("/Users?count=1000").await["Resources"]
        .as_array()
        .unwrap()
        .clone();
    let (dup, orig) = (&users[6], &users[2]);
    let dup_email = dup["userName"].as_str().unwrap().to_string();
    c.server
        .send(
            Method::POST,
            &format!("/api/v1/users/{dup_email}/merge"),
            &c.admin,
            json!({ "into": orig["userName"] }),
            200,
        )
        .await;
    let id = dup["id"].as_str().unwrap();
    let merged = c.get(&format!("/Users/{id}")).await;
    assert_eq!(merged["active"], false, "{merged}");
    assert_eq!(merged["userName"], format!("roster-{id}"), "{merged}");
    assert!(merged.get("externalId").is_none(), "{merged}");
    assert!(merged[ENTERPRISE].get("manager").is_none(), "{merged}");
    // The original took the duplicate's email and identifiers.
    let found = c
        .ids(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"{dup_email}\""))
        ))
        .await;
    assert_eq!(found, [orig["id"].as_str().unwrap()]);
    let by_fallback = c
        .ids(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"ROSTER-{id}\""))
        ))
        .await;
    assert_eq!(by_fallback, [id]);
    let inactive = c
        .ids(&format!(
            "/Users?count=1000&filter={}",
            enc("active eq false")
        ))
        .await;
    assert!(inactive.contains(&id.to_string()));
}

#[tokio::test]
async fn groups_follow_the_group_setting() {
    let c = Company::start(12).await;
    let settings = format!("/api/v1/integrations/{}/settings", c.integration);
    let groups = c.get("/Groups").await;
    let departments = groups["totalResults"].as_u64().unwrap();
    assert!(departments > 0, "{groups}");
    // An unknown demographic is refused and names the setting.
    let (status, body) = c
        .server
        .call(
            Method::PUT,
            &settings,
            Some(&c.admin),
            Some(json!({ "scim_group_demographics": "Shoe Size" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("scim_group_demographics"),
        "{body}"
    );
    c.server
        .send(
            Method::PUT,
            &settings,
            &c.admin,
            json!({ "scim_group_demographics": "Department,Job Title" }),
            200,
        )
        .await;
    let both = c.get("/Groups?count=1000").await;
    let kinds: BTreeSet<String> = both["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["urn:roster:params:scim:schemas:extension:roster:2.0:Group"]["demographic"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        both["totalResults"].as_u64().unwrap() > departments,
        "{both}"
    );
    assert!(
        kinds.contains("Job Title") && kinds.contains("Department"),
        "{kinds:?}"
    );
    // Each group's members hold its value; displayName eq with members excluded.
    let g = &both["Resources"][0];
    let name = g["displayName"].as_str().unwrap();
    let found = c
        .get(&format!(
            "/Groups?filter={}&excludedAttributes=members",
            enc(&format!("displayName eq \"{name}\""))
        ))
        .await;
    assert!(found["totalResults"].as_u64().unwrap() >= 1);
    assert!(found["Resources"][0].get("members").is_none());
    c.server
        .send(
            Method::PUT,
            &settings,
            &c.admin,
            json!({ "scim_group_demographics": "" }),
            200,
        )
        .await;
    assert_eq!(c.get("/Groups").await["totalResults"], 0, "no groups");
}

#[tokio::test]
async fn the_openapi_document_describes_the_scim_surface() {
    let server = common::TestServer::start().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = &doc["paths"]["/scim/v2/Users"]["get"];
    assert_eq!(users["tags"][0], "scim", "{users}");
    let params: Vec<&str> = users["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["filter", "startIndex", "count", "cursor", "attributes"] {
        assert!(params.contains(&p), "{p} in {params:?}");
    }
    assert!(users["responses"]["200"]["content"]["application/scim+json"].is_object());
    for path in [
        "/scim/v2/Users/{id}",
        "/scim/v2/Groups",
        "/scim/v2/ServiceProviderConfig",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(doc["paths"]["/scim/v2/Users/.search"]["post"].is_object());
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"scim"), "{tags:?}");
}
