//! The whole story over HTTP: connect Justworks through the sandbox's consent page,
//! setup sync, review, apply, users, imports, rollback; web sessions with CSRF.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{TestServer, form_fields, sandbox};
use reqwest::{Method, StatusCode};
use roster_store::access::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn connect_review_apply_edit_and_roll_back() {
    let server = TestServer::start().await;
    let sb = sandbox(40).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let editor = server.token("default", Role::EmployeeDataAdmin).await;
    let viewer = server.token("default", Role::Viewer).await;

    // Connect through the real OAuth redirect: the API gives the consent page…
    let cfg = sb.handle().config().clone();
    let started = server
        .send(
            Method::POST,
            "/api/v1/integrations/justworks",
            &admin,
            json!({ "base_url": sb.base_url(), "client_id": cfg.client_id, "client_secret": cfg.client_secret }),
            202,
        )
        .await;
    let authorize = started["authorize_url"].as_str().expect("authorize_url");
    // … a browser opens it, ticks the date-of-birth box and authorizes …
    let browser = reqwest::Client::new();
    let page = browser.get(authorize).send().await.expect("consent page");
    assert!(page.status().is_success());
    let mut form = form_fields(&page.text().await.expect("html"));
    form.push(("decision".into(), "authorize".into()));
    form.push(("share_sensitive".into(), "yes".into()));
    let action = url::Url::parse(authorize)
        .expect("url")
        .join("authorize")
        .expect("action");
    // … and the redirect lands on our callback, which finishes the connection.
    let done = browser
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("authorize");
    assert_eq!(done.status(), StatusCode::CREATED, "callback");
    let integration: serde_json::Value = done.json().await.expect("json");
    let id = integration["id"].as_i64().expect("id");
    assert_eq!(integration["state"], "connected");
    assert_eq!(integration["mode"], "oauth");
    // The state is single-use.
    let replay = browser
        .get(format!(
            "{}/api/v1/integrations/justworks/callback?code=x&state={}",
            server.base,
            form.iter()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        ))
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    // A browser landing there is sent on to the Integrations page with a notice.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = no_redirects
        .get(format!(
            "{}/api/v1/integrations/justworks/callback?code=x&state=gone",
            server.base
        ))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("browser replay");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/integrations?notice=oauth_failed"
    );

    // Setup sync, mapping, settings.
    let setup = server
        .send(
            Method::POST,
            &format!("/api/v1/integrations/{id}/setup-sync"),
            &editor,
            json!(null),
            200,
        )
        .await;
    assert_eq!(setup["member_count"], 40);
    let i = server
        .get(&format!("/api/v1/integrations/{id}"), &viewer)
        .await;
    assert_eq!(i["state"], "needs_finalise");
    let mapping = server
        .get(&format!("/api/v1/integrations/{id}/mapping"), &viewer)
        .await;
    assert!(
        mapping["core_fields"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let settings = server
        .send(
            Method::PUT,
            &format!("/api/v1/integrations/{id}/settings"),
            &admin,
            json!({ "on_missing": "deactivate" }),
            200,
        )
        .await;
    assert_eq!(settings["settings"]["on_missing"]["value"], "deactivate");

    // Review: counts, paged and filtered entries, kept between requests.
    let review = server.sync(&editor, id).await;
    let rid = review["id"].as_i64().expect("review id");
    assert_eq!(review["status"], "pending");
    let created = review["counts"]["created"].as_u64().expect("created");
    assert!(created > 0 && created <= 40, "{created}");
    assert_eq!(review["entries"]["total"].as_u64(), Some(created));
    let page = server
        .get(
            &format!("/api/v1/reviews/{rid}/entries?action=create&limit=5&offset=5"),
            &viewer,
        )
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(5));
    assert_eq!(page["items"][0]["index"], 5);
    assert!(
        page["items"][0]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    let none = server
        .get(
            &format!("/api/v1/reviews/{rid}/entries?action=deactivate"),
            &viewer,
        )
        .await;
    assert_eq!(none["total"], 0);
    let again = server.get(&format!("/api/v1/reviews/{rid}"), &viewer).await;
    assert_eq!(again["counts"], review["counts"]);

    // Apply.
    let applied = server.apply(&editor, rid, json!({}), 200).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(applied["plan_changed"], false);
    let import_id = applied["import_id"].as_i64().expect("import id");
    let twice = server.apply(&editor, rid, json!({}), 409).await;
    assert_eq!(twice["error"]["code"], "conflict");
    let i = server
        .get(&format!("/api/v1/integrations/{id}"), &viewer)
        .await;
    assert_eq!(i["state"], "active");

    // The setup sync, the review and its apply built their Justworks sources on one
    // shared HTTP client.
    assert_eq!(server.state.http.len(), 1);

    // Users: list with paging, search, show with history, edit.
    let users = server
        .get("/api/v1/users?limit=10&include_deactivated=true", &viewer)
        .await;
    assert_eq!(users["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(users["total"].as_u64(), Some(created));
    assert_eq!(users["next_offset"], 10);
    // Keyset paging walks the same listing as offsets do.
    let last_key = users["items"][9]["key"].as_i64().expect("key");
    assert_eq!(users["next_after"], last_key);
    let by_offset = server
        .get(
            "/api/v1/users?limit=10&offset=10&include_deactivated=true",
            &viewer,
        )
        .await;
    let by_key = server
        .get(
            &format!("/api/v1/users?limit=10&after={last_key}&include_deactivated=true"),
            &viewer,
        )
        .await;
    assert_eq!(by_key["items"], by_offset["items"]);
    assert!(
        by_key["items"][0]["key"].as_i64().expect("key") > last_key,
        "{by_key}"
    );
    let first = users["items"][0].clone();
    let eid = first["employee_id"]
        .as_str()
        .expect("employee id")
        .to_string();
    let found = server
        .get(&format!("/api/v1/users?search={eid}"), &viewer)
        .await;
    assert!(
        found["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|u| u["employee_id"] == eid.as_str()))
    );
    let shown = server.get(&format!("/api/v1/users/{eid}"), &viewer).await;
    assert_eq!(shown["history"][0]["import_id"], import_id);
    let edited = server
        .send(
            Method::PUT,
            &format!("/api/v1/users/{eid}/email"),
            &editor,
            json!({ "email": "new.address@example.com" }),
            200,
        )
        .await;
    let edit_import = edited["import_id"].as_i64().expect("edit import");
    let shown = server
        .get("/api/v1/users/new.address@example.com", &viewer)
        .await;
    assert_eq!(shown["employee"]["employee_id"], eid.as_str());
    server
        .send(
            Method::POST,
            &format!("/api/v1/users/{eid}/exclude"),
            &editor,
            json!(null),
            200,
        )
        .await;
    let shown = server.get(&format!("/api/v1/users/{eid}"), &viewer).await;
    assert_eq!(shown["employee"]["active"], false);
    server
        .send(
            Method::POST,
            &format!("/api/v1/users/{eid}/include"),
            &editor,
            json!(null),
            200,
        )
        .await;

    // Imports and rollback.
    let imports = server.get("/api/v1/imports", &viewer).await;
    assert!(imports.as_array().is_some_and(|a| a.len() >= 4));
    let detail = server
        .get(&format!("/api/v1/imports/{import_id}?limit=3"), &viewer)
        .await;
    assert_eq!(detail["summary"]["status"], "applied");
    assert_eq!(detail["entries"].as_array().map(Vec::len), Some(3));
    assert_eq!(detail["entries_total"].as_u64(), Some(created));
    let rolled = server
        .send(
            Method::POST,
            &format!("/api/v1/imports/{edit_import}/rollback"),
            &editor,
            json!(null),
            200,
        )
        .await;
    assert!(rolled["import_id"].as_i64().is_some(), "{rolled}");
    let shown = server.get(&format!("/api/v1/users/{eid}"), &viewer).await;
    assert_eq!(shown["employee"]["email"], first["email"]);

    // A second review discarded is recorded as a discarded import.
    let review = server.sync(&editor, id).await;
    let rid = review["id"].as_i64().expect("review id");
    let discarded = server
        .send(
            Method::POST,
            &format!("/api/v1/reviews/{rid}/discard"),
            &editor,
            json!(null),
            200,
        )
        .await;
    let did = discarded["import_id"].as_i64().expect("import");
    let d = server.get(&format!("/api/v1/imports/{did}"), &viewer).await;
    assert_eq!(d["summary"]["status"], "discarded");

    // Upcoming, milestones, export, metrics.
    server.get("/api/v1/upcoming?days=365", &viewer).await;
    let m = server.get("/api/v1/milestones?days=366", &viewer).await;
    assert!(
        m.as_array()
            .is_some_and(|a| a.iter().any(|x| x["kind"] == "work_anniversary")),
        "{m}"
    );
    let (s, csv) = server
        .call(
            Method::GET,
            "/api/v1/exports/users.csv",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        csv.as_str().is_some_and(|t| t.contains("Employee ID")),
        "{csv}"
    );
    // The export reads back to nothing to change.
    let res = server
        .http
        .post(format!(
            "{}/api/v1/imports/csv?mode=partial&file_name=users.csv",
            server.base
        ))
        .bearer_auth(&editor)
        .header("content-type", "text/csv")
        .body(csv.as_str().unwrap_or_default().to_string())
        .send()
        .await
        .expect("import");
    assert_eq!(res.status(), StatusCode::OK);
    let imported: serde_json::Value = res.json().await.expect("json");
    assert_eq!(imported["status"], "reviewed", "{imported}");
    assert_eq!(imported["counts"]["updated"], 0, "{imported}");
    assert_eq!(imported["counts"]["created"], 0, "{imported}");
    // A semicolon file with its own header names, mapped (`map` repeats).
    let some = server.get("/api/v1/users?limit=1", &viewer).await;
    let eid = some["items"][0]["employee_id"].as_str().expect("id");
    let semicolons = format!("Staff No;Badge;Known As\r\n{eid};B-7;Zed\r\n");
    let send = async |query: &str| {
        let res = server
            .http
            .post(format!("{}/api/v1/imports/csv?{query}", server.base))
            .bearer_auth(&editor)
            .header("content-type", "text/csv")
            .body(semicolons.clone())
            .send()
            .await
            .expect("import");
        let status = res.status();
        (status, res.json::<serde_json::Value>().await.expect("json"))
    };
    let (s, mapped) = send(
        "mode=partial&delimiter=%3B&map=Staff%20No%3Demployee_id&map=Known%20As%3Dpreferred_name&map=Badge%3D",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{mapped}");
    assert_eq!(mapped["rows"], 1, "{mapped}");
    assert_eq!(mapped["counts"]["updated"], 1, "{mapped}");
    let change = &mapped["entries"][0];
    assert_eq!(change["employee_id"], eid, "{mapped}");
    assert!(change.to_string().contains("Zed"), "{mapped}");
    // The review is kept with the file, like a sync's; discarding it records a
    // discarded users-file import.
    let rid = mapped["review_id"].as_i64().expect("the review is kept");
    let review = server.get(&format!("/api/v1/reviews/{rid}"), &viewer).await;
    assert_eq!(review["file"]["file_name"], "upload.csv", "{review}");
    assert_eq!(review["file"]["rows"], 1, "{review}");
    assert_eq!(review["status"], "pending", "{review}");
    let discarded = server
        .send(
            Method::POST,
            &format!("/api/v1/reviews/{rid}/discard"),
            &editor,
            json!({}),
            200,
        )
        .await;
    let imp = server
        .get(
            &format!("/api/v1/imports/{}", discarded["import_id"]),
            &viewer,
        )
        .await;
    assert_eq!(imp["summary"]["kind"], "csv_import", "{imp}");
    assert_eq!(imp["summary"]["status"], "discarded", "{imp}");
    // A file with a row in error: reviewed with the line named; applying refuses
    // until the admin says to skip the bad rows.
    let two = server.get("/api/v1/users?limit=2", &viewer).await;
    let other = two["items"][1]["employee_id"].as_str().expect("id");
    let res = server
        .http
        .post(format!(
            "{}/api/v1/imports/csv?mode=partial&file_name=fix.csv",
            server.base
        ))
        .bearer_auth(&editor)
        .header("content-type", "text/csv")
        .body(format!(
            "Employee ID,Preferred Name,Start Date\r\n{eid},Zed,\r\n{other},Why,31/12/2020\r\n"
        ))
        .send()
        .await
        .expect("import");
    let reviewed: serde_json::Value = res.json().await.expect("json");
    assert_eq!(reviewed["status"], "reviewed", "{reviewed}");
    assert_eq!(reviewed["bad_rows"], json!([3]), "{reviewed}");
    let rid = reviewed["review_id"].as_i64().expect("kept");
    let review = server.get(&format!("/api/v1/reviews/{rid}"), &viewer).await;
    assert!(
        review["file"]["messages"].to_string().contains("line 3"),
        "{review}"
    );
    let refused = server.apply(&editor, rid, json!({}), 409).await;
    assert!(refused.to_string().contains("skip_bad_rows"), "{refused}");
    let applied = server
        .apply(&editor, rid, json!({ "skip_bad_rows": true }), 200)
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(applied["counts"]["updated"], 1, "{applied}");
    let zed = server.get(&format!("/api/v1/users/{eid}"), &viewer).await;
    assert!(zed.to_string().contains("Zed"), "{zed}");
    server
        .apply(&editor, rid, json!({ "skip_bad_rows": true }), 409)
        .await;
    // Without the mapping the key column is unknown: the file fails as a whole.
    let (s, unmapped) = send("mode=partial&delimiter=%3B").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{unmapped}");
    // A bad mapping or separator names the parameter.
    let (s, bad) = send("mode=partial&map=Staff%20No").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "map", "{bad}");
    let (s, bad) = send("mode=partial&delimiter=%3B%3B").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "delimiter", "{bad}");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("roster_syncs_total"), "{metrics}");
    assert!(metrics.contains("roster_http_requests_total"), "{metrics}");
    let (s, _) = server.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn web_sessions_need_the_csrf_token_for_changes() {
    let server = TestServer::start().await;
    let admin = server.token("default", Role::AccountAdmin).await;
    server
        .send(
            Method::POST,
            "/api/v1/web-users",
            &admin,
            json!({ "email": "hr@acme.example", "role": "employee_data_admin", "password": "a long enough password" }),
            201,
        )
        .await;
    let (s, v) = server
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({ "email": "hr@acme.example", "password": "wrong password here" })),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (401, Some("bad_login"))
    );

    let res = server
        .http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "email": "HR@acme.example", "password": "a long enough password" }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("pair").to_string();
    let body: serde_json::Value = res.json().await.expect("json");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(body["role"], "employee_data_admin");

    let with_cookie = |m: Method, path: &str| {
        server
            .http
            .request(m, format!("{}{path}", server.base))
            .header("cookie", session.clone())
    };
    let me = with_cookie(Method::GET, "/api/v1/session")
        .send()
        .await
        .expect("whoami");
    assert_eq!(me.status(), StatusCode::OK);
    // A change without the CSRF token is refused; with it, it goes through.
    let no = with_cookie(Method::POST, "/api/v1/users/nobody/exclude")
        .send()
        .await
        .expect("post");
    assert_eq!(no.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = no.json().await.expect("json");
    assert_eq!(v["error"]["code"], "csrf_failed");
    let yes = with_cookie(Method::POST, "/api/v1/users/nobody/exclude")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("post");
    assert_eq!(
        yes.status(),
        StatusCode::NOT_FOUND,
        "passes auth, no such user"
    );
    // Sign out ends the session.
    let out = with_cookie(Method::DELETE, "/api/v1/session")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let me = with_cookie(Method::GET, "/api/v1/session")
        .send()
        .await
        .expect("whoami");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn privacy_held_employees_go_through_when_confirmed() {
    let server = TestServer::start().await;
    let sb = sandbox(20).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let id = common::connect_static(&server, &admin, &sb).await;
    let path = format!("/api/v1/integrations/{id}/syncs");
    let start = async |server: &TestServer| {
        server
            .send(Method::POST, &path, &admin, json!({}), 201)
            .await
    };
    let first = start(&server).await;
    let rid = first["id"].as_i64().expect("review");
    server.apply(&admin, rid, json!({}), 200).await;
    let users = server.get("/api/v1/users?limit=1", &admin).await;
    let eid = users["items"][0]["employee_id"]
        .as_str()
        .expect("employee")
        .to_string();

    // Name and date of birth change at once: privacy-guarded.
    sb.handle()
        .set_name_and_dob(
            &eid,
            &roster_sandbox::NameChange {
                family_name: Some("Okonkwo-Smith".into()),
                date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
                ..roster_sandbox::NameChange::default()
            },
        )
        .expect("change");
    let review = start(&server).await;
    assert_eq!(review["privacy_held"], json!([eid]), "{review}");
    let rid = review["id"].as_i64().expect("review");
    let guarded = server
        .get(
            &format!("/api/v1/reviews/{rid}/entries?privacy=true"),
            &admin,
        )
        .await;
    assert_eq!(guarded["total"], 1);
    assert_eq!(guarded["items"][0]["held"], true);
    let held = server.apply(&admin, rid, json!({}), 200).await;
    assert_eq!(held["status"], "partially_applied", "{held}");
    assert_eq!(held["held"], json!([eid]));
    let user = server.get(&format!("/api/v1/users/{eid}"), &admin).await;
    assert_ne!(user["employee"]["last_name"], "Okonkwo-Smith");

    // The admin confirms: a new review applied with confirm_privacy.
    let review = start(&server).await;
    let rid = review["id"].as_i64().expect("review");
    let done = server
        .apply(&admin, rid, json!({ "confirm_privacy": true }), 200)
        .await;
    assert_eq!(done["status"], "applied", "{done}");
    let user = server.get(&format!("/api/v1/users/{eid}"), &admin).await;
    assert_eq!(user["employee"]["last_name"], "Okonkwo-Smith");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("roster_guard_blocks_total"), "{metrics}");
}

/// A base URL at the cloud metadata address (or any link-local, multicast or
/// unspecified one) is refused before anything is stored: issue #11.9.
#[tokio::test(flavor = "multi_thread")]
async fn connect_refuses_a_metadata_base_url() {
    let server = TestServer::start().await;
    let admin = server.token("default", Role::AccountAdmin).await;
    for base in ["http://169.254.169.254/latest/", "http://0.0.0.0:8899/"] {
        let v = server
            .send(
                Method::POST,
                "/api/v1/integrations/justworks",
                &admin,
                json!({ "base_url": base, "token": "t-123" }),
                422,
            )
            .await;
        let text = v.to_string();
        assert!(text.contains("base_url"), "{text}");
        assert!(text.contains("the source address is not allowed"), "{text}");
        assert!(!text.contains("t-123"), "{text}");
    }
    let list = server.get("/api/v1/integrations", &admin).await;
    assert_eq!(list, json!([]), "nothing stored");
}

/// Web-user emails are unique per account (issue #18.6): another customer can add a
/// user with an email one already has (a 409 would tell them it exists), and sign-in
/// asks for the account only when the email and password open several.
#[tokio::test(flavor = "multi_thread")]
async fn one_email_in_two_accounts_signs_in_to_the_one_named() {
    let server = TestServer::start().await;
    let acme = server.token("acme", Role::AccountAdmin).await;
    let globex = server.token("globex", Role::AccountAdmin).await;
    let user = |password: &str| json!({ "email": "hr@shared.example", "role": "viewer", "password": password });
    let same = "the same long password";
    server
        .send(Method::POST, "/api/v1/web-users", &acme, user(same), 201)
        .await;
    server
        .send(Method::POST, "/api/v1/web-users", &globex, user(same), 201)
        .await;
    // Still unique within one account.
    server
        .send(Method::POST, "/api/v1/web-users", &globex, user(same), 409)
        .await;

    let login = |body: serde_json::Value| {
        let server = &server;
        async move {
            server
                .call(Method::POST, "/api/v1/session", None, Some(body))
                .await
        }
    };
    let (s, v) = login(json!({ "email": "hr@shared.example", "password": same })).await;
    assert_eq!(s.as_u16(), 422, "{v}");
    assert_eq!(v["error"]["field"], "account", "{v}");
    // A wrong password learns nothing about accounts.
    let (s, v) =
        login(json!({ "email": "hr@shared.example", "password": "wrong wrong wrong" })).await;
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (401, Some("bad_login"))
    );

    let accounts = server.store.accounts().await.unwrap();
    let id = |name: &str| accounts.iter().find(|(_, n)| n == name).unwrap().0;
    let (s, v) =
        login(json!({ "email": "HR@shared.example", "password": same, "account": "globex" })).await;
    assert_eq!(s.as_u16(), 201, "{v}");
    assert_eq!(v["account_id"], id("globex"));
    let (s, v) =
        login(json!({ "email": "hr@shared.example", "password": same, "account": "acme" })).await;
    assert_eq!(s.as_u16(), 201, "{v}");
    assert_eq!(v["account_id"], id("acme"));
    let (s, _) =
        login(json!({ "email": "hr@shared.example", "password": same, "account": "initech" }))
            .await;
    assert_eq!(s.as_u16(), 401);

    // The sign-in page asks for the account.
    let page = server
        .http
        .post(format!("{}/login", server.base))
        .form(&[("email", "hr@shared.example"), ("password", same)])
        .send()
        .await
        .expect("form");
    assert_eq!(page.status().as_u16(), 422);
    let html = page.text().await.expect("html");
    assert!(html.contains("name=\"account\""), "{html}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = no_redirects
        .post(format!("{}/login", server.base))
        .form(&[
            ("email", "hr@shared.example"),
            ("password", same),
            ("account", "acme"),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(signed_in.status().as_u16(), 303);
    assert!(signed_in.headers().get("set-cookie").is_some());
}
