//! The generated company: determinism, realism, scale, and fixtures.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use common::*;
use reqwest::StatusCode;
use roster_sandbox::{SandboxConfig, SandboxError, SandboxHandle};
use serde_json::{Value, json};

async fn raw_pages(s: &roster_sandbox::RunningSandbox, token: &str) -> Vec<String> {
    let c = client();
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = c
            .get(format!(
                "{}/v1/members?limit=64&cursor={cursor}",
                s.base_url()
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        out.push(body);
        match v["next_cursor"].as_str() {
            Some(n) => cursor = n.to_owned(),
            None => return out,
        }
    }
}

#[tokio::test]
async fn same_seed_size_and_today_give_identical_json() {
    let a = start(300).await;
    let b = start(300).await;
    let pa = raw_pages(&a, &a.mint_token(ALL)).await;
    let pb = raw_pages(&b, &b.mint_token(ALL)).await;
    assert_eq!(pa, pb, "byte-identical pages");
    assert_eq!(a.handle().company(), b.handle().company());
    let c = start_with(SandboxConfig {
        seed: 8,
        ..config(300)
    })
    .await;
    let pc = raw_pages(&c, &c.mint_token(ALL)).await;
    assert_ne!(pa, pc, "another seed, another company");
    let d = start_with(SandboxConfig {
        today: jiff::civil::date(2024, 1, 1),
        ..config(300)
    })
    .await;
    assert_ne!(a.handle().members(true), d.handle().members(true));
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[test]
fn generated_company_is_realistic() {
    let n = 3000;
    let h = SandboxHandle::new(config(n)).unwrap();
    let members: Vec<Value> = h.members(true).into_iter().map(|m| m.member).collect();
    assert_eq!(members.len(), n);
    let today = today().to_string();
    let by_id: HashMap<&str, &Value> = members.iter().map(|m| (s(m, "id").unwrap(), m)).collect();
    assert_eq!(by_id.len(), n, "unique ids");
    assert!(by_id.keys().all(|id| id.starts_with("mbr_")));

    // Reporting tree: one CEO, everyone else's manager exists, managers have 3–12 reports.
    let roots: Vec<&Value> = members
        .iter()
        .filter(|m| m.get("manager").is_none())
        .collect();
    assert_eq!(roots.len(), 1);
    assert_eq!(s(roots[0], "job_title"), Some("Chief Executive Officer"));
    let mut reports: HashMap<&str, usize> = HashMap::new();
    for m in &members {
        if let Some(mgr) = m["manager"]["id"].as_str() {
            assert!(by_id.contains_key(mgr), "manager {mgr} exists");
            *reports.entry(mgr).or_default() += 1;
        }
    }
    assert!(
        reports.values().all(|&r| (3..=12).contains(&r)),
        "{reports:?}"
    );
    let work_email = |m: &Value| {
        m["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "work")
            .map(|e| e["address"].as_str().unwrap().to_owned())
    };
    assert!(
        reports.keys().any(|id| work_email(by_id[id]).is_none()),
        "a manager without a work email"
    );
    // Emails: ~3% without a work email (personal only), work emails unique.
    let no_work: Vec<&Value> = members.iter().filter(|m| work_email(m).is_none()).collect();
    let share = no_work.len() as f64 / n as f64;
    assert!((0.02..0.05).contains(&share), "{share}");
    assert!(no_work.iter().all(|m| {
        m["emails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "personal")
    }));
    let works: Vec<String> = members.iter().filter_map(work_email).collect();
    assert_eq!(
        works.iter().collect::<HashSet<_>>().len(),
        works.len(),
        "unique work emails"
    );
    assert!(
        works
            .iter()
            .all(|e| e.is_ascii() && e.ends_with(".example"))
    );
    assert!(
        works
            .iter()
            .any(|e| e.split('@').next().unwrap().ends_with(char::is_numeric)),
        "disambiguated"
    );

    // Names: non-ASCII ones, preferred names, several cultures.
    let given: Vec<&str> = members
        .iter()
        .filter_map(|m| s(&m["name"], "given_name"))
        .collect();
    let family: Vec<&str> = members
        .iter()
        .filter_map(|m| s(&m["name"], "family_name"))
        .collect();
    assert!(
        given
            .iter()
            .chain(&family)
            .filter(|x| !x.is_ascii())
            .count()
            > n / 20
    );
    for name in ["José", "Zoë", "Łukasz", "Søren", "Nguyễn"] {
        assert!(given.contains(&name) || family.contains(&name), "{name}");
    }
    let preferred = members
        .iter()
        .filter(|m| m["name"].get("preferred_name").is_some())
        .count();
    assert!(preferred > n / 50 && preferred < n / 5, "{preferred}");

    // Types, countries, state only where it applies.
    let count = |t: &str| members.iter().filter(|m| s(m, "type") == Some(t)).count();
    assert!(count("employee") > n * 3 / 4);
    for t in ["contractor", "international_employee", "employee_eor"] {
        assert!(count(t) > n / 50, "{t}: {}", count(t));
    }
    let mut countries = HashSet::new();
    for m in &members {
        let t = s(m, "type").unwrap();
        for a in m["addresses"].as_array().unwrap() {
            let cc = s(a, "country").unwrap();
            countries.insert(cc.to_owned());
            if t == "international_employee" || t == "employee_eor" {
                assert_ne!(cc, "US", "international members live abroad");
            }
            assert_eq!(
                a.get("state").is_some(),
                !["GB", "DE", "FR"].contains(&cc),
                "{a}"
            );
        }
    }
    for cc in ["US", "GB", "CA", "DE", "FR", "MX", "IN", "AU"] {
        assert!(countries.contains(cc), "{cc}");
    }
    let departments: HashSet<&str> = members
        .iter()
        .filter_map(|m| s(&m["department"], "name"))
        .collect();
    assert!(departments.len() >= 10);

    // Employment: ~5% terminated in the past, ~1% scheduled, ~2% rehires.
    let terminated: Vec<&Value> = members.iter().filter(|m| m["active"] == false).collect();
    let t_share = terminated.len() as f64 / n as f64;
    assert!((0.04..0.06).contains(&t_share), "{t_share}");
    assert!(
        terminated
            .iter()
            .all(|m| s(m, "employment_termination_date").unwrap() < today.as_str())
    );
    let scheduled = members
        .iter()
        .filter(|m| m["active"] == true && m.get("employment_termination_date").is_some())
        .count();
    assert!(scheduled >= n / 200 && scheduled <= n / 50, "{scheduled}");
    let rehires: Vec<&Value> = members
        .iter()
        .filter(|m| m["employment_history"].as_array().unwrap().len() == 2)
        .collect();
    assert!(
        rehires.len() >= n / 100 && rehires.len() <= n / 25,
        "{}",
        rehires.len()
    );
    for m in &rehires {
        let h = m["employment_history"].as_array().unwrap();
        assert!(s(&h[0], "end_date").unwrap() < s(&h[1], "start_date").unwrap());
        assert_eq!(s(&h[1], "start_date"), s(m, "employment_start_date"));
        assert!(s(&h[0], "start_date").unwrap() < s(&h[0], "end_date").unwrap());
        assert_eq!(m["active"], true);
    }
    // Adults, past timestamps.
    let adult = common::today()
        .checked_sub(jiff::Span::new().years(18))
        .unwrap();
    for m in &members {
        let dob: jiff::civil::Date = s(m, "date_of_birth").unwrap().parse().unwrap();
        assert!(dob <= adult, "{dob} is a minor");
        assert!(s(m, "created_at").unwrap() <= s(m, "updated_at").unwrap());
        assert!(s(m, "updated_at").unwrap() < today.as_str());
    }
    // Custom values: some with none, multi-valued languages present.
    let cf: Vec<Value> = members
        .iter()
        .take(400)
        .map(|m| h.custom_field_values(s(m, "id").unwrap()).unwrap())
        .collect();
    assert!(cf.iter().any(|v| v.as_array().unwrap().is_empty()));
    assert!(cf.iter().any(|v| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "cf_languages" && f["values"].as_array().unwrap().len() > 1)
    }));
}

/// One million members in release builds; 200,000 in debug builds, where generation
/// runs about 8x slower (≈35 s for a million) and would dominate the suite.
#[test]
fn large_companies_generate_quickly() {
    let n = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let t = Instant::now();
    let h = SandboxHandle::new(config(n)).unwrap();
    let took = t.elapsed();
    assert_eq!(h.info().members, n);
    let page = h.members_page(false, n - 2, 10);
    assert_eq!(page.len(), 2);
    let last_id = page[1].member["id"].as_str().unwrap().to_owned();
    assert!(h.member(&last_id).is_some(), "the id index covers the end");
    let limit = if cfg!(debug_assertions) { 60 } else { 20 };
    assert!(took.as_secs() < limit, "generation took {took:?}");
}

#[tokio::test]
async fn large_listing_pages_from_the_middle() {
    let s = start(20_000).await;
    let token = s.mint_token(&["member.basic:read"]);
    let (_, first) = get(&s, "/v1/members?limit=100", &token).await;
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut seen = 100;
    for _ in 0..50 {
        let (status, page) = get(
            &s,
            &format!("/v1/members?limit=100&cursor={cursor}"),
            &token,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        seen += page["items"].as_array().unwrap().len();
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(seen, 5100);
}

const FIXTURE: &str = r#"{
  "company": { "id": "cmp_fixture", "display_name": "Fixture & Sons", "created_at": "2020-01-01T00:00:00Z",
               "departments": [ { "id": "dep_a", "name": "Alpha" } ] },
  "custom_fields": [ { "id": "cf_team", "label": "Team", "type": "text", "cardinality": "single" } ],
  "members": [
    { "id": "mbr_boss", "name": { "given_name": "Ada", "family_name": "Lovelace" }, "active": true,
      "type": "employee", "emails": [ { "address": "ada@fixture.example", "type": "work" } ],
      "department": { "id": "dep_a" }, "employment_start_date": "2020-01-02",
      "custom_field_values": [ { "id": "cf_team", "values": ["Core"] } ] },
    { "id": "mbr_gone", "name": { "given_name": "Bo", "family_name": "Ek" },
      "manager": { "id": "mbr_boss" }, "employment_start_date": "2021-01-01",
      "employment_termination_date": "2024-03-31", "hidden": true }
  ]
}"#;

#[tokio::test]
async fn fixture_companies_load_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("company.json");
    std::fs::write(&path, FIXTURE).unwrap();
    let s = start_with(SandboxConfig {
        fixture: Some(path),
        ..config(0)
    })
    .await;
    let token = s.mint_token(ALL);
    let (_, company) = get(&s, "/v1/company", &token).await;
    assert_eq!(company["id"], "cmp_fixture");
    let (items, _) = walk(&s, &token, "").await;
    assert_eq!(
        ids(&items),
        vec!["mbr_boss"],
        "the hidden member is not served"
    );
    assert_eq!(items[0]["company_id"], "cmp_fixture");
    assert_eq!(items[0]["name"]["full_preferred_name"], "Ada Lovelace");
    assert_eq!(
        items[0]["department"],
        json!({"id": "dep_a", "name": "Alpha"})
    );
    let (_, cf) = get(&s, "/v1/members/mbr_boss/custom-field-values", &token).await;
    assert_eq!(cf["items"], json!([{"id": "cf_team", "values": ["Core"]}]));
    let gone = s.handle().member("mbr_gone").unwrap();
    assert!(gone.hidden);
    assert_eq!(gone.member["active"], false);
}

#[test]
fn bad_fixtures_name_the_member_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let cases = [
        (
            FIXTURE.replace("\"2021-01-01\"", "\"2021-02-30\""),
            "members[1].employment_start_date",
        ),
        (
            FIXTURE.replace("\"mbr_boss\" }", "\"mbr_nobody\" }"),
            "members[1].manager.id",
        ),
        (
            FIXTURE.replace("\"values\": [\"Core\"]", "\"values\": [\"Core\", \"Edge\"]"),
            "members[0].custom_field_values[0].values",
        ),
        (
            FIXTURE.replace("\"hidden\": true", "\"hiden\": true"),
            "members[1]",
        ),
        (
            FIXTURE.replace("\"mbr_gone\"", "\"mbr_boss\""),
            "members[1].id",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&path, text).unwrap();
        let err = SandboxHandle::new(SandboxConfig {
            fixture: Some(path.clone()),
            ..config(0)
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, SandboxError::Fixture { .. }), "{msg}");
        assert!(msg.contains(want), "{msg} should name {want}");
    }
    let missing = SandboxHandle::new(SandboxConfig {
        fixture: Some(dir.path().join("nope.json")),
        ..config(0)
    });
    assert!(matches!(missing, Err(SandboxError::FixtureIo { .. })));
}
