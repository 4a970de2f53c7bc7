//! The `/_sandbox` control API over HTTP, and the same operations on the handle.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::*;
use jiff::Timestamp;
use reqwest::StatusCode;
use roster_sandbox::{NameChange, RunningSandbox};
use serde_json::{Value, json};

async fn call(
    s: &RunningSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/_sandbox{path}", s.base_url());
    let c = client();
    let req = match method {
        "GET" => c.get(url),
        "POST" => c.post(url),
        "PUT" => c.put(url),
        "PATCH" => c.patch(url),
        _ => unreachable!("test helper"),
    };
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// POST `/members`: a hire.
async fn hire(s: &RunningSandbox, body: Value) -> (StatusCode, Value) {
    call(s, "POST", "/members", Some(body)).await
}

/// POST `/members/{id}/{action}` with `body` (none when `Null`).
async fn post(s: &RunningSandbox, id: &str, action: &str, body: Value) -> (StatusCode, Value) {
    on_member(s, "POST", id, action, body).await
}

/// PUT `/members/{id}/{action}` with `body`.
async fn put(s: &RunningSandbox, id: &str, action: &str, body: Value) -> (StatusCode, Value) {
    on_member(s, "PUT", id, action, body).await
}

async fn on_member(
    s: &RunningSandbox,
    method: &str,
    id: &str,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    let body = (!body.is_null()).then_some(body);
    call(s, method, &format!("/members/{id}/{action}"), body).await
}

fn ts(v: &Value) -> Timestamp {
    v["updated_at"].as_str().unwrap().parse().unwrap()
}

/// An active member with a manager and a work email, from the in-process list.
fn some_member(s: &RunningSandbox) -> Value {
    s.handle()
        .members(false)
        .into_iter()
        .map(|m| m.member)
        .find(|m| {
            m["active"] == true
                && m.get("manager").is_some()
                && m.get("employment_termination_date").is_none()
                && m["emails"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["type"] == "work")
        })
        .unwrap()
}

#[tokio::test]
async fn hire_returns_the_member_with_a_new_id_listed_last() {
    let s = start(30).await;
    let token = s.mint_token(ALL);
    let manager = some_member(&s)["id"].as_str().unwrap().to_owned();
    let (status, hired) = hire(
        &s,
        json!({
            "name": {"given_name": "Zoë", "family_name": "Nguyễn", "preferred_name": "Zo"},
            "emails": [{"address": "zoe.nguyen@new.example", "type": "work"}],
            "job_title": "Designer",
            "department": {"id": "dep_design"},
            "manager": {"id": manager},
            "date_of_birth": "1994-02-03",
            "custom_field_values": [{"id": "cf_languages", "values": ["English", "Vietnamese"]}]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hired}");
    let id = hired["id"].as_str().unwrap();
    assert!(id.starts_with("mbr_"));
    assert_eq!(hired["name"]["full_preferred_name"], "Zo Nguyễn");
    assert_eq!(hired["department"]["name"], "Design");
    assert_eq!(hired["active"], true);
    assert_eq!(hired["type"], "employee");
    assert_eq!(hired["employment_start_date"], today().to_string());
    assert!(hired["work_id"].as_str().unwrap().starts_with('E'));
    let (items, _) = walk(&s, &token, "").await;
    assert_eq!(items.len(), 31);
    assert_eq!(items.last().unwrap()["id"], id);
    let (_, cf) = get(&s, &format!("/v1/members/{id}/custom-field-values"), &token).await;
    assert_eq!(
        cf["items"],
        json!([{"id": "cf_languages", "values": ["English", "Vietnamese"]}])
    );

    // Bad hires name the field.
    let (status, body) = hire(&s, json!({"date_of_birth": "1994-13-01"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_message(&body).starts_with("date_of_birth"), "{body}");
    let (status, body) = hire(&s, json!({"manager": {"id": "mbr_ghost"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_message(&body).contains("manager.id"), "{body}");
    let (status, _) = hire(&s, json!({"id": id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "ids are unique");
    assert_eq!(s.handle().members(true).len(), 31);
}

#[tokio::test]
async fn terminate_cancel_and_rehire() {
    let s = start(40).await;
    let token = s.mint_token(ALL);
    let m = some_member(&s);
    let id = m["id"].as_str().unwrap();
    let start = m["employment_start_date"].as_str().unwrap().to_owned();

    // A scheduled termination keeps the member active.
    let future = "2025-07-15";
    let (status, v) = post(&s, id, "terminate", json!({"date": future})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            v["active"].as_bool(),
            v["employment_termination_date"].as_str()
        ),
        (Some(true), Some(future))
    );

    let (status, v) = post(&s, id, "cancel-termination", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["active"], true);
    assert!(v.get("employment_termination_date").is_none());
    assert!(
        v["employment_history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("end_date").is_none())
    );
    let (status, _) = post(&s, id, "cancel-termination", Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nothing to cancel");

    // A past date makes the member inactive and shows under status=terminated.
    let (_, v) = post(&s, id, "terminate", json!({"date": "2025-05-30"})).await;
    assert_eq!(v["active"], false);
    assert_eq!(
        v["employment_history"].as_array().unwrap().last().unwrap()["end_date"],
        "2025-05-30"
    );
    let (terminated, _) = walk(&s, &token, "status=terminated").await;
    assert!(ids(&terminated).contains(&id.to_owned()));

    // Rehire: history keeps the old period, the start date moves, active again.
    let (status, v) = post(&s, id, "rehire", json!({"start_date": "2025-06-16"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["active"], true);
    assert_eq!(v["employment_start_date"], "2025-06-16");
    assert!(v.get("employment_termination_date").is_none());
    let history = v["employment_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        history[0],
        json!({"start_date": start, "end_date": "2025-05-30"})
    );
    assert_eq!(history[1], json!({"start_date": "2025-06-16"}));

    let (status, _) = post(&s, id, "rehire", json!({"start_date": "2025-07-01"})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an active member cannot be rehired"
    );
    let (status, _) = post(&s, id, "terminate", json!({"date": "1990-01-01"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "before the start date");
    let (status, _) = call(
        &s,
        "POST",
        "/members/mbr_ghost/terminate",
        Some(json!({"date": "2025-01-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn manager_email_name_and_dob() {
    let s = start(40).await;
    let m = some_member(&s);
    let id = m["id"].as_str().unwrap();
    let ceo = s
        .handle()
        .members(false)
        .into_iter()
        .find(|m| m.member.get("manager").is_none())
        .unwrap();
    let other = ceo.member["id"].as_str().unwrap().to_owned();
    assert_ne!(other, id);

    let (status, v) = put(&s, id, "manager", json!({"manager_id": other})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["manager"]["id"], other);
    let (status, _) = put(&s, id, "manager", json!({"manager_id": "mbr_ghost"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, v) = put(&s, id, "manager", json!({"manager_id": null})).await;
    assert!(v.get("manager").is_none());

    let (_, v) = put(&s, id, "work-email", json!({"work_email": "new@x.example"})).await;
    let work: Vec<&Value> = v["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "work")
        .collect();
    assert_eq!(
        work,
        vec![&json!({"address": "new@x.example", "type": "work"})]
    );
    let (_, v) = put(&s, id, "work-email", json!({"work_email": null})).await;
    assert!(
        v["emails"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] != "work")
    );
    let (status, _) = put(&s, id, "work-email", json!({"work_email": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, v) = put(
        &s,
        id,
        "name-dob",
        json!({"given_name": "Łukasz", "family_name": "Søren", "preferred_name": "", "date_of_birth": "1980-01-31"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["name"]["given_name"], "Łukasz");
    assert_eq!(v["name"]["full_preferred_name"], "Łukasz Søren");
    assert!(v["name"].get("preferred_name").is_none());
    assert_eq!(v["date_of_birth"], "1980-01-31");
    // The same through the handle.
    let v = s
        .handle()
        .set_name_and_dob(
            id,
            &NameChange {
                preferred_name: Some("Luke".into()),
                ..NameChange::default()
            },
        )
        .unwrap();
    assert_eq!(v["name"]["full_preferred_name"], "Luke Søren");
    assert_eq!(v["date_of_birth"], "1980-01-31", "unchanged when absent");
}

#[tokio::test]
async fn hidden_members_vanish_from_the_api_but_not_the_control_list() {
    let s = start(20).await;
    let token = s.mint_token(ALL);
    let id = some_member(&s)["id"].as_str().unwrap().to_owned();
    let (status, _) = post(&s, &id, "hide", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&s, &format!("/v1/members/{id}"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (items, _) = walk(&s, &token, "").await;
    assert_eq!(items.len(), 19);
    assert!(!ids(&items).contains(&id));
    let (_, listed) = call(&s, "GET", "/members?include_hidden=true", None).await;
    let listed = listed["items"].as_array().unwrap();
    assert_eq!(listed.len(), 20);
    let entry = listed
        .iter()
        .find(|e| e["member"]["id"] == id.as_str())
        .unwrap();
    assert_eq!(entry["hidden"], true);
    assert!(entry["member"].get("employment_termination_date").is_none());
    let (_, visible) = call(&s, "GET", "/members", None).await;
    assert_eq!(visible["items"].as_array().unwrap().len(), 19);
    assert_eq!(visible["total"], 19);
    let (_, slice) = call(
        &s,
        "GET",
        "/members?include_hidden=true&offset=18&limit=5",
        None,
    )
    .await;
    assert_eq!(slice["items"].as_array().unwrap().len(), 2);
    assert_eq!(slice["total"], 20);
    let (_, one) = call(&s, "GET", &format!("/members/{id}"), None).await;
    assert_eq!(one["hidden"], true);
    post(&s, &id, "unhide", Value::Null).await;
    let (status, _) = get(&s, &format!("/v1/members/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn merge_patch_edits_any_field() {
    let s = start(20).await;
    let m = some_member(&s);
    let id = m["id"].as_str().unwrap();
    let (status, v) = call(
        &s,
        "PATCH",
        &format!("/members/{id}"),
        Some(json!({
            "job_title": "Chief Tea Officer",
            "name": {"given_name": "Renée"},
            "addresses": [{"type": "home", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}],
            "sex_assigned_at_birth": null,
            "office": null,
            "custom_field_values": [{"id": "cf_tshirt_size", "values": ["XL"]}]
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["job_title"], "Chief Tea Officer");
    assert_eq!(v["name"]["given_name"], "Renée");
    assert_eq!(
        v["name"]["family_name"], m["name"]["family_name"],
        "untouched parts stay"
    );
    let expected_full = format!(
        "{} {}",
        m["name"]
            .get("preferred_name")
            .and_then(Value::as_str)
            .unwrap_or("Renée"),
        m["name"]["family_name"].as_str().unwrap()
    );
    assert_eq!(v["name"]["full_preferred_name"], expected_full.as_str());
    assert_eq!(v["addresses"][0]["city"], "Paris");
    assert!(v["addresses"][0].get("state").is_none());
    assert!(v.get("sex_assigned_at_birth").is_none());
    assert!(v.get("office").is_none());
    assert_eq!(v["created_at"], m["created_at"]);
    assert!(ts(&v) > ts(&m));
    let cf = s.handle().custom_field_values(id).unwrap();
    assert_eq!(cf, json!([{"id": "cf_tshirt_size", "values": ["XL"]}]));
    // Terminating through a patch: `active` follows the date.
    let (_, v) = call(
        &s,
        "PATCH",
        &format!("/members/{id}"),
        Some(json!({"employment_termination_date": "2025-01-31"})),
    )
    .await;
    assert_eq!(v["active"], false);

    for bad in [
        json!({"id": "mbr_other"}),
        json!({"date_of_birth": "yesterday"}),
        json!({"custom_field_values": [{"id": "cf_tshirt_size", "values": ["XXXL"]}]}),
        json!({"department": {"id": "dep_new"}}),
        json!({"unknown_field": 1}),
        json!([1, 2]),
    ] {
        let (status, body) = call(&s, "PATCH", &format!("/members/{id}"), Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert_eq!(error_code(&body), "bad_request");
    }
    let (status, _) = call(&s, "PATCH", "/members/mbr_ghost", Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_change_gets_a_strictly_later_updated_at() {
    let s = start(20).await;
    let h = s.handle();
    let id = some_member(&s)["id"].as_str().unwrap().to_owned();
    let max_before = h.members(true).iter().map(|m| ts(&m.member)).max().unwrap();
    let mut stamps = vec![max_before];
    stamps.push(ts(&h
        .patch_member(&id, &json!({"job_title": "A"}))
        .unwrap()));
    stamps.push(ts(&h
        .patch_member(&id, &json!({"job_title": "B"}))
        .unwrap()));
    stamps.push(ts(&h.hide(&id).unwrap()));
    stamps.push(ts(&h.unhide(&id).unwrap()));
    stamps.push(ts(&h.set_work_email(&id, Some("a@b.example")).unwrap()));
    stamps.push(ts(&h.hire(json!({"name": {"given_name": "New"}})).unwrap()));
    stamps.push(ts(&h.terminate(&id, today()).unwrap()));
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
}

#[tokio::test]
async fn set_today_ends_scheduled_terminations() {
    let s = start(20).await;
    let h = s.handle();
    let id = some_member(&s)["id"].as_str().unwrap().to_owned();
    let v = h.terminate(&id, today().tomorrow().unwrap()).unwrap();
    assert_eq!(v["active"], true);
    let before = ts(&v);
    let (status, body) = call(&s, "PUT", "/today", Some(json!({"today": "2025-06-04"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["changed"].as_u64().unwrap() >= 1);
    let (_, got) = call(&s, "GET", "/today", None).await;
    assert_eq!(got["today"], "2025-06-04");
    let now = h.member(&id).unwrap().member;
    assert_eq!(now["active"], false);
    assert!(ts(&now) > before);
    // Back again: the scheduled termination is in the future once more.
    h.set_today(today());
    assert_eq!(h.member(&id).unwrap().member["active"], true);
}

#[tokio::test]
async fn mint_tokens_info_and_reset() {
    let s = start(25).await;
    let (status, minted) = call(
        &s,
        "POST",
        "/tokens",
        Some(json!({"scopes": ["member.basic:read"], "ttl_seconds": 60})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(minted["expires_in"], 60);
    assert_eq!(minted["scope"], "member.basic:read");
    let token = minted["access_token"].as_str().unwrap();
    let (status, _) = get(&s, "/v1/members", token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&s, "/v1/company", token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &s,
        "POST",
        "/tokens",
        Some(json!({"scopes": ["member.everything"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_message(&body).contains("member.everything"));
    let (status, index) = call(&s, "GET", "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(index["endpoints"].as_array().unwrap().len() >= 15);
    let (_, all) = call(&s, "POST", "/tokens", None).await;
    assert!(all["scope"].as_str().unwrap().contains("member.dob:read"));

    let before = s.handle().members(true);
    s.handle()
        .hire(json!({"name": {"given_name": "Temp"}}))
        .unwrap();
    let id = before[3].member["id"].as_str().unwrap();
    s.handle().hide(id).unwrap();
    let (_, info) = call(&s, "GET", "/info", None).await;
    assert_eq!(
        (info["members"].as_u64(), info["hidden"].as_u64()),
        (Some(26), Some(1))
    );
    let (status, info) = call(&s, "POST", "/reset", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["members"].as_u64(), info["hidden"].as_u64()),
        (Some(25), Some(0))
    );
    assert_eq!(
        s.handle().members(true),
        before,
        "reset restores the generated company"
    );
    let (status, _) = get(&s, "/v1/members", token).await;
    assert_eq!(status, StatusCode::OK, "tokens survive a reset");
    let (status, _) = call(&s, "GET", "/members/mbr_ghost", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
