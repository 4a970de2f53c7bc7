//! `/v1/members`, `/v1/company` and friends over real HTTP.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn pagination_walks_every_member_exactly_once_in_order() {
    let s = start(250).await;
    let token = s.mint_token(&["member.basic:read"]);
    let (items, pages) = walk(&s, &token, "limit=7").await;
    assert_eq!(items.len(), 250);
    assert_eq!(pages, 250usize.div_ceil(7));
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 250);
    // Order: created_at, then id.
    let keys: Vec<(jiff::Timestamp, String)> = items
        .iter()
        .map(|m| {
            (
                m["created_at"].as_str().unwrap().parse().unwrap(),
                m["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "list order");
    let in_process: HashSet<String> = s
        .handle()
        .members(false)
        .iter()
        .map(|m| m.member["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(unique, in_process);
}

#[tokio::test]
async fn limit_bounds_and_default() {
    let s = start(250).await;
    let token = s.mint_token(&["member.basic:read"]);
    for bad in ["0", "101", "-1", "ten"] {
        let (status, body) = get(&s, &format!("/v1/members?limit={bad}"), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_eq!(error_code(&body), "bad_request");
    }
    let (status, body) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 100);
    assert!(body["next_cursor"].is_string());
    let (_, body) = get(&s, "/v1/members?limit=100", &token).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 100);
    let (_, body) = get(&s, "/v1/members?limit=1", &token).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn last_page_has_no_next_cursor() {
    let s = start(30).await;
    let token = s.mint_token(&["member.basic:read"]);
    let (_, body) = get(&s, "/v1/members?limit=30", &token).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 30);
    assert!(body.get("next_cursor").is_none(), "{body}");
}

#[tokio::test]
async fn bad_cursor_is_400() {
    let s = start(20).await;
    let token = s.mint_token(&["member.basic:read"]);
    // "garbage" is not base64url of a cursor; the second is base64url of "hello".
    for cursor in ["garbage!", "aGVsbG8", "YzEueC55Lno"] {
        let (status, body) = get(&s, &format!("/v1/members?cursor={cursor}"), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "cursor={cursor}");
        assert_eq!(error_code(&body), "bad_request");
    }
}

#[tokio::test]
async fn status_filter_splits_active_and_terminated() {
    let s = start(400).await;
    let token = s.mint_token(&["member.basic:read"]);
    let (active, _) = walk(&s, &token, "status=active").await;
    let (terminated, _) = walk(&s, &token, "status=terminated").await;
    let (all, _) = walk(&s, &token, "").await;
    assert!(!terminated.is_empty());
    assert_eq!(active.len() + terminated.len(), all.len());
    assert!(active.iter().all(|m| m["active"] == true));
    let today = today().to_string();
    for m in &terminated {
        assert_eq!(m["active"], false);
        let end = m["employment_termination_date"].as_str().unwrap();
        assert!(end < today.as_str(), "terminated in the past: {end}");
    }
    let (status, _) = get(&s, "/v1/members?status=gone", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn updated_at_filters_return_exactly_the_edited_members() {
    let s = start(300).await;
    let h = s.handle();
    let token = s.mint_token(&["member.basic:read"]);
    let (all, _) = walk(&s, &token, "").await;
    let watermark = all
        .iter()
        .map(|m| {
            m["updated_at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
        .max()
        .unwrap();
    // Edit two members well apart in list order.
    let a = all[10]["id"].as_str().unwrap().to_owned();
    let b = all[250]["id"].as_str().unwrap().to_owned();
    let ea = h
        .patch_member(&a, &json!({"job_title": "Principal Engineer"}))
        .unwrap();
    let eb = h.set_work_email(&b, Some("renamed@example.com")).unwrap();

    let (changed, _) = walk(&s, &token, &format!("updated_at_gt={watermark}")).await;
    assert_eq!(ids(&changed), vec![a.clone(), b.clone()]);
    assert_eq!(changed[0]["job_title"], "Principal Engineer");

    // gte on the first edit's stamp: both; gt on it: only the second.
    let ta = ea["updated_at"].as_str().unwrap();
    let tb = eb["updated_at"].as_str().unwrap();
    assert!(
        tb.parse::<jiff::Timestamp>().unwrap() > ta.parse::<jiff::Timestamp>().unwrap(),
        "each change gets a later stamp"
    );
    // Paging with limit=1 resumes the filtered scan from the cursor.
    let (gte, pages) = walk(&s, &token, &format!("limit=1&updated_at_gte={ta}")).await;
    assert_eq!(ids(&gte), vec![a.clone(), b.clone()]);
    assert_eq!(pages, 2);
    let (gt, _) = walk(&s, &token, &format!("updated_at_gt={ta}")).await;
    assert_eq!(ids(&gt), vec![b.clone()]);
    let (eq, _) = walk(&s, &token, &format!("updated_at={tb}")).await;
    assert_eq!(ids(&eq), vec![b.clone()]);
    let (lte, _) = walk(&s, &token, &format!("updated_at_lte={watermark}")).await;
    assert_eq!(lte.len(), all.len() - 2);
    let (ne, _) = walk(&s, &token, &format!("updated_at_ne={ta}")).await;
    assert_eq!(ne.len(), all.len() - 1);
    let (lt, _) = walk(
        &s,
        &token,
        &format!("updated_at_lt={ta}&updated_at_gt={watermark}"),
    )
    .await;
    assert!(lt.is_empty());
    // An offset with `+` (encoded) parses too.
    let (plus, _) = walk(
        &s,
        &token,
        &format!(
            "updated_at_gt={}",
            watermark
                .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)))
                .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                .to_string()
                .replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(plus.len(), 2);
    let (status, _) = get(&s, "/v1/members?updated_at_gte=yesterday", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn get_member_by_id_and_404s() {
    let s = start(50).await;
    let token = s.mint_token(ALL);
    let (_, page) = get(&s, "/v1/members?limit=3", &token).await;
    let first = &page["items"][0];
    let id = first["id"].as_str().unwrap();
    let (status, one) = get(&s, &format!("/v1/members/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one, first);
    let (status, body) = get(&s, "/v1/members/mbr_nobody", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    for path in [
        "/v1/payrolls",
        "/v1/company/bank-account",
        "/v1",
        "/v1/members/x/y/z",
    ] {
        let (status, body) = get(&s, path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "not_found", "{path}");
    }
}

fn assert_no_null_or_empty(v: &Value, path: &str) {
    match v {
        Value::Null => panic!("null at {path}"),
        Value::String(s) => assert!(!s.is_empty(), "empty string at {path}"),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_no_null_or_empty(x, &format!("{path}[{i}]"));
            }
        }
        Value::Object(o) => {
            assert!(!o.is_empty() || path.is_empty(), "empty object at {path}");
            for (k, x) in o {
                assert_no_null_or_empty(x, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn empty_value_rules_hold_for_every_member() {
    let s = start(600).await;
    let token = s.mint_token(ALL);
    let (items, _) = walk(&s, &token, "").await;
    let today = today().to_string();
    let mut without_phone = 0;
    for m in &items {
        assert_no_null_or_empty(m, "");
        for key in ["emails", "phones", "addresses", "employment_history"] {
            assert!(m[key].is_array(), "{key} present as an array in {m}");
        }
        assert!(m["name"]["additional_names"].is_array());
        if m["phones"].as_array().unwrap().is_empty() {
            without_phone += 1;
        }
        let end = m.get("employment_termination_date").and_then(Value::as_str);
        if m["active"] == true {
            if let Some(end) = end {
                assert!(
                    end >= today.as_str(),
                    "active member ended in the past: {m}"
                );
            }
        } else {
            assert!(end.is_some(), "inactive member without an end date: {m}");
        }
        for a in m["addresses"].as_array().unwrap() {
            if ["GB", "DE", "FR"].contains(&a["country"].as_str().unwrap()) {
                assert!(a.get("state").is_none(), "no state in {a}");
            }
        }
    }
    assert!(without_phone > 0, "some members have `phones: []`");
    let active_without_end = items
        .iter()
        .filter(|m| m["active"] == true && m.get("employment_termination_date").is_none())
        .count();
    assert!(active_without_end > items.len() / 2);
}

#[tokio::test]
async fn fields_are_omitted_without_their_scope() {
    let s = start(200).await;
    let basic = s.mint_token(&["member.basic:read"]);
    let (items, _) = walk(&s, &basic, "").await;
    for m in &items {
        for key in [
            "date_of_birth",
            "sex_assigned_at_birth",
            "phones",
            "addresses",
            "current_employment",
            "employment_history",
        ] {
            assert!(m.get(key).is_none(), "{key} leaked to a basic token");
        }
        for e in m["emails"].as_array().unwrap() {
            assert_ne!(e["type"], "personal", "personal email leaked");
        }
    }
    let dob = s.mint_token(&["member.basic:read", "member.dob:read"]);
    let (items, _) = walk(&s, &dob, "").await;
    assert!(items.iter().all(|m| m["date_of_birth"].is_string()));
    assert!(
        items
            .iter()
            .all(|m| m.get("sex_assigned_at_birth").is_none())
    );
    let detail = s.mint_token(&["member.detail:read", "member.employment:read"]);
    let (items, _) = walk(&s, &detail, "").await;
    assert!(
        items
            .iter()
            .all(|m| m["phones"].is_array() && m["addresses"].is_array())
    );
    assert!(items.iter().all(|m| m["employment_history"].is_array()));
    assert!(
        items
            .iter()
            .any(|m| m["current_employment"]["US"]["employment_type"].is_string())
    );
    assert!(items.iter().any(|m| {
        m["emails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "personal")
    }));
    assert!(items.iter().all(|m| m.get("date_of_birth").is_none()));
}

#[tokio::test]
async fn endpoint_scopes_give_403() {
    let s = start(20).await;
    let member_basic = s.mint_token(&["member.basic:read"]);
    let company_basic = s.mint_token(&["company.basic:read"]);
    let company_detail = s.mint_token(&["company.detail:read"]);
    let id = s.handle().members(false)[0].member["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: Vec<(String, &str, StatusCode)> = vec![
        ("/v1/members".into(), &company_basic, StatusCode::FORBIDDEN),
        (
            format!("/v1/members/{id}"),
            &company_basic,
            StatusCode::FORBIDDEN,
        ),
        ("/v1/company".into(), &member_basic, StatusCode::FORBIDDEN),
        ("/v1/company".into(), &company_basic, StatusCode::OK),
        ("/v1/company".into(), &company_detail, StatusCode::OK),
        (
            "/v1/company/custom-fields".into(),
            &company_basic,
            StatusCode::FORBIDDEN,
        ),
        (
            "/v1/company/custom-fields".into(),
            &company_detail,
            StatusCode::OK,
        ),
        (
            format!("/v1/members/{id}/custom-field-values"),
            &member_basic,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/v1/members/{id}/tax-id"),
            &member_basic,
            StatusCode::FORBIDDEN,
        ),
    ];
    for (path, token, want) in cases {
        let (status, body) = get(&s, &path, token).await;
        assert_eq!(status, want, "{path}");
        if want == StatusCode::FORBIDDEN {
            assert_eq!(error_code(&body), "forbidden");
        }
    }
}

#[tokio::test]
async fn company_and_custom_fields() {
    let s = start(300).await;
    let token = s.mint_token(ALL);
    let (_, company) = get(&s, "/v1/company", &token).await;
    assert!(company["id"].as_str().unwrap().starts_with("cmp_"));
    assert!(company["display_name"].is_string());
    assert!(company["departments"].as_array().unwrap().len() >= 10);
    assert!(!company["offices"].as_array().unwrap().is_empty());
    let (_, fields) = get(&s, "/v1/company/custom-fields", &token).await;
    let fields = fields["items"].as_array().unwrap();
    let find = |label: &str| fields.iter().find(|f| f["label"] == label).unwrap().clone();
    let tshirt = find("T-shirt size");
    assert_eq!(
        (tshirt["type"].as_str(), tshirt["cardinality"].as_str()),
        (Some("select"), Some("single"))
    );
    assert_eq!(find("Pronouns")["type"], "text");
    let langs = find("Languages");
    assert_eq!(
        (langs["type"].as_str(), langs["cardinality"].as_str()),
        (Some("select"), Some("multiple"))
    );
    assert_eq!(find("Last review")["type"], "date");

    // Values: some members have none, some have several languages.
    let (items, _) = walk(&s, &token, "").await;
    let mut none = 0;
    let mut multi = 0;
    for m in items.iter().take(120) {
        let id = m["id"].as_str().unwrap();
        let (status, v) = get(&s, &format!("/v1/members/{id}/custom-field-values"), &token).await;
        assert_eq!(status, StatusCode::OK);
        let vals = v["items"].as_array().unwrap();
        if vals.is_empty() {
            none += 1;
        }
        for item in vals {
            let def = fields
                .iter()
                .find(|f| f["id"] == item["id"])
                .expect("defined field");
            let values = item["values"].as_array().unwrap();
            assert!(!values.is_empty());
            if def["cardinality"] == "single" {
                assert_eq!(values.len(), 1);
            } else if values.len() > 1 {
                multi += 1;
            }
            if def["type"] == "select" {
                for x in values {
                    assert!(def["options"].as_array().unwrap().contains(x));
                }
            }
        }
    }
    assert!(none > 0, "some members have no custom values");
    assert!(multi > 0, "some members speak several languages");
}

#[tokio::test]
async fn tax_id_rules_by_member_type() {
    let s = start(10).await;
    let h = s.handle();
    let token = s.mint_token(&["member.tax_id:read"]);
    let hire = |kind: &str, country: &str| {
        h.hire(json!({
            "name": {"given_name": "Tax", "family_name": kind},
            "type": kind,
            "addresses": [{"type": "home", "city": "X", "country": country}],
        }))
        .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let employee = hire("employee", "US");
    let contractor = hire("contractor", "US");
    let intl_contractor = hire("contractor", "DE");
    let eor = hire("employee_eor", "FR");
    let intl = hire("international_employee", "GB");
    let (status, body) = get(&s, &format!("/v1/members/{employee}/tax-id"), &token).await;
    assert_eq!(status, StatusCode::OK);
    let ssn = body["US"]["ssn"].as_str().unwrap();
    assert_eq!(ssn.len(), 9);
    assert!(ssn.bytes().all(|b| b.is_ascii_digit()));
    let (status, again) = get(&s, &format!("/v1/members/{employee}/tax-id"), &token).await;
    assert_eq!((status, again), (StatusCode::OK, body));
    let (status, _) = get(&s, &format!("/v1/members/{contractor}/tax-id"), &token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&s, &format!("/v1/members/{intl_contractor}/tax-id"), &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for id in [eor, intl] {
        let (status, _) = get(&s, &format!("/v1/members/{id}/tax-id"), &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = get(&s, "/v1/members/mbr_nobody/tax-id", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The members with `updated_at` after `since` that `/v1/members` lists (not hidden),
/// in list order, as the control API sees them (read from the records, not from the
/// filtered list's index of change stamps).
fn changed_after(h: &roster_sandbox::SandboxHandle, since: jiff::Timestamp) -> Vec<String> {
    h.members(true)
        .into_iter()
        .filter(|l| !l.hidden)
        .filter(|l| {
            let at: jiff::Timestamp = l.member["updated_at"].as_str().unwrap().parse().unwrap();
            at > since
        })
        .map(|l| l.member["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_filtered_list_follows_every_kind_of_change() {
    let s = start(400).await;
    let h = s.handle();
    let token = s.mint_token(&["member.basic:read"]);
    let stamp =
        |v: &Value| -> jiff::Timestamp { v["updated_at"].as_str().unwrap().parse().unwrap() };
    let (all, _) = walk(&s, &token, "").await;
    let watermark = all.iter().map(stamp).max().unwrap();
    let id = |k: usize| all[k]["id"].as_str().unwrap().to_owned();

    // A termination scheduled for tomorrow (a change), then the day moving past it
    // (another: the member turns inactive with a later stamp).
    let scheduled = h.terminate(&id(30), today().tomorrow().unwrap()).unwrap();
    let after_schedule = stamp(&scheduled);
    assert!(h.set_today(today().tomorrow().unwrap().tomorrow().unwrap()) >= 1);
    // A hire (listed last), a hidden member and one hidden and shown again.
    let hired = h
        .hire(json!({"name": {"given_name": "Ada", "family_name": "Byron"}}))
        .unwrap();
    h.hide(&id(60)).unwrap();
    h.hide(&id(90)).unwrap();
    h.unhide(&id(90)).unwrap();
    let patched = h
        .patch_member(&id(200), &json!({"job_title": "Cartographer"}))
        .unwrap();

    for (since, query) in [
        (watermark, format!("limit=3&updated_at_gt={watermark}")),
        (
            after_schedule,
            format!("limit=2&updated_at_gt={after_schedule}"),
        ),
    ] {
        let expected = changed_after(&h, since);
        let (listed, _) = walk(&s, &token, &query).await;
        assert_eq!(ids(&listed), expected, "{query}");
    }
    let since = changed_after(&h, after_schedule);
    assert!(since.contains(&id(30)), "the day's termination is a change");
    assert!(since.contains(&id(90)) && !since.contains(&id(60)));
    assert_eq!(since.last().map(String::as_str), hired["id"].as_str());
    // gte on a change's own stamp includes it; lt excludes it.
    let (gte, _) = walk(&s, &token, &format!("updated_at_gte={}", stamp(&patched))).await;
    assert!(ids(&gte).contains(&id(200)));
    let (lt, _) = walk(&s, &token, &format!("updated_at_lt={}", stamp(&patched))).await;
    assert!(!ids(&lt).contains(&id(200)));
    // Each listed member once: the 400, one hidden, one hired.
    assert_eq!(lt.len() + gte.len(), all.len());
}
