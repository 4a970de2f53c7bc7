//! The admin web UI over real HTTP: a server on port 0, a browser-like client with a
//! cookie store, forms posted as a browser posts them.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{TestServer, connect_static, sandbox};
use reqwest::{Method, StatusCode};
use roster_store::access::Role;
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// A web user of `role` in the default account.
async fn web_user(server: &TestServer, email: &str, role: &str) {
    let admin = server.token("default", Role::AccountAdmin).await;
    server
        .send(
            Method::POST,
            "/api/v1/web-users",
            &admin,
            json!({ "email": email, "role": role, "password": PASSWORD }),
            201,
        )
        .await;
}

/// A browser: keeps cookies, follows redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

struct Page {
    status: StatusCode,
    path: String,
    html: String,
}

impl Page {
    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let key = "name=\"csrf_token\" value=\"";
        let start = self.html.find(key).expect("a form with a CSRF token") + key.len();
        let end = self.html[start..].find('"').expect("end") + start;
        self.html[start..end].to_string()
    }
}

async fn read(res: reqwest::Response) -> Page {
    let status = res.status();
    let path = res.url().path().to_string();
    let html = res.text().await.expect("body");
    Page { status, path, html }
}

async fn get(b: &reqwest::Client, server: &TestServer, path: &str) -> Page {
    read(
        b.get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("get"),
    )
    .await
}

async fn post(b: &reqwest::Client, server: &TestServer, path: &str, form: &[(&str, &str)]) -> Page {
    read(
        b.post(format!("{}{path}", server.base))
            .form(form)
            .send()
            .await
            .expect("post"),
    )
    .await
}

/// Posts a form as the page's own form does: the CSRF token first, then `form`.
async fn submit(
    b: &reqwest::Client,
    server: &TestServer,
    csrf: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Page {
    let mut all = vec![("csrf_token", csrf)];
    all.extend_from_slice(form);
    post(b, server, path, &all).await
}

async fn sign_in(server: &TestServer, email: &str) -> (reqwest::Client, String) {
    let b = browser();
    let page = post(
        &b,
        server,
        "/login",
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.path, "/");
    let csrf = page.csrf();
    (b, csrf)
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_csrf_and_roles() {
    let server = TestServer::start().await;
    let sb = sandbox(10).await;
    web_user(&server, "admin@acme.example", "account_admin").await;
    web_user(&server, "viewer@acme.example", "viewer").await;

    // Not signed in: to the sign-in page.
    let b = browser();
    let page = get(&b, &server, "/integrations").await;
    assert_eq!(page.path, "/login");
    assert!(page.html.contains("Sign in to Roster"));
    // A wrong password is refused on the page.
    let page = post(
        &b,
        &server,
        "/login",
        &[
            ("email", "admin@acme.example"),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.html.contains("Wrong email or password"));

    let (admin, csrf) = sign_in(&server, "admin@acme.example").await;
    let page = get(&admin, &server, "/integrations").await;
    assert!(page.html.contains("Connect Justworks"), "{}", page.html);
    assert!(page.html.contains("admin@acme.example"));
    // The SCIM base URL, for pointing an identity provider at Roster.
    assert!(
        page.html.contains(&format!(
            "<code id=\"scim-base-url\">{}/scim/v2</code>",
            server.base
        )),
        "{}",
        page.html
    );

    // A form without the CSRF token, or with another one, is refused.
    let token = sb.mint_token(&roster_sandbox::all_scopes());
    let base = sb.base_url();
    let connect = [
        ("method", "token"),
        ("base_url", base.as_str()),
        ("token", token.as_str()),
    ];
    let page = post(&admin, &server, "/integrations/connect", &connect).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.html.contains("The form has expired"), "{}", page.html);
    let mut forged = connect.to_vec();
    forged.push(("csrf_token", "0000"));
    let page = post(&admin, &server, "/integrations/connect", &forged).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        get(&admin, &server, "/integrations")
            .await
            .html
            .contains("No integration yet")
    );
    // With it, the integration is connected and shows its state.
    let mut good = connect.to_vec();
    good.push(("csrf_token", csrf.as_str()));
    let page = post(&admin, &server, "/integrations/connect", &good).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.path, "/integrations");
    assert!(
        page.html.contains("Justworks is connected"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("data-state=\"Connected\""),
        "{}",
        page.html
    );
    let page = submit(&admin, &server, &csrf, "/integrations/1/setup-sync", &[]).await;
    assert!(
        page.html.contains("data-state=\"Needs finalise\""),
        "{}",
        page.html
    );

    // A viewer reads, and cannot post.
    let (viewer, vcsrf) = sign_in(&server, "viewer@acme.example").await;
    let page = get(&viewer, &server, "/integrations").await;
    assert!(page.html.contains("data-state=\"Needs finalise\""));
    assert!(!page.html.contains("Connect Justworks"));
    assert!(!page.html.contains("/integrations/1/sync\""));
    for path in [
        "/integrations/1/sync",
        "/integrations/1/setup-sync",
        "/integrations/1/delete",
    ] {
        let page = post(
            &viewer,
            &server,
            path,
            &[("csrf_token", &vcsrf), ("confirm", "yes")],
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let page = submit(
        &viewer,
        &server,
        &vcsrf,
        "/integrations/1/settings",
        &[("on_missing", "deactivate")],
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Settings are validated and name the setting at fault.
    let page = submit(
        &admin,
        &server,
        &csrf,
        "/integrations/1/settings",
        &[("on_missing", "sometimes")],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("on_missing"), "{}", page.html);
    let page = submit(
        &admin,
        &server,
        &csrf,
        "/integrations/1/settings",
        &[("on_missing", "deactivate")],
    )
    .await;
    assert!(page.html.contains("Settings saved"), "{}", page.html);
    assert!(page.html.contains("value=\"deactivate\""));

    // Delete asks first.
    let page = get(&admin, &server, "/integrations/1/delete").await;
    assert!(page.html.contains("cannot be undone"));

    // Sign out ends the session.
    let page = submit(&admin, &server, &csrf, "/logout", &[]).await;
    assert_eq!(page.path, "/login");
    assert!(page.html.contains("You are signed out"));
    assert_eq!(get(&admin, &server, "/users").await.path, "/login");
}

#[tokio::test(flavor = "multi_thread")]
async fn review_lists_diffs_and_import_applies() {
    let server = TestServer::start().await;
    let sb = sandbox(30).await;
    web_user(&server, "hr@acme.example", "employee_data_admin").await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let id = connect_static(&server, &admin, &sb).await;
    let (b, csrf) = sign_in(&server, "hr@acme.example").await;
    submit(
        &b,
        &server,
        &csrf,
        &format!("/integrations/{id}/setup-sync"),
        &[],
    )
    .await;

    // Start the first sync: its review.
    let page = submit(&b, &server, &csrf, &format!("/integrations/{id}/sync"), &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.path.starts_with("/reviews/"), "{}", page.path);
    let review = page.path.clone();
    assert!(
        page.html.contains("data-count=\"created\">30<"),
        "{}",
        page.html
    );
    assert!(page.html.contains("1–25 of 30"), "{}", page.html);
    assert!(page.html.contains("class=\"entry\""));
    assert!(page.html.contains("first_name"));
    assert!(page.html.contains("→"));
    assert!(page.html.contains("id=\"import-button\""));
    // Paging and filters.
    let next = get(&b, &server, &format!("{review}?page=2")).await;
    assert!(next.html.contains("26–30 of 30"), "{}", next.html);
    let none = get(&b, &server, &format!("{review}?action=deactivate")).await;
    assert!(none.html.contains("0–0 of 0"), "{}", none.html);
    let users = sb.handle().members(false);
    let someone = users[0].member["id"].as_str().expect("id").to_string();
    let one = get(&b, &server, &format!("{review}?search={someone}")).await;
    assert!(one.html.contains("1–1 of 1"), "{}", one.html);
    assert!(one.html.contains(&someone));
    // The user file preview: the directory as the review would leave it.
    assert!(page.html.contains("id=\"preview-link\""));
    let preview = get(&b, &server, &format!("/api/v1{review}/preview.csv")).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.html);
    let mut rows = preview.html.lines();
    let header = rows.next().expect("a header row");
    assert!(header.contains("Employee Deactivated"), "{header}");
    assert_eq!(rows.count(), 30, "one row per employee the review creates");
    assert!(preview.html.contains(&someone));

    // Import applies it.
    let page = submit(&b, &server, &csrf, &format!("{review}/import"), &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.path.starts_with("/imports/"), "{}", page.path);
    assert!(page.html.contains("Imported."));
    assert!(
        page.html.contains("id=\"import-status\">applied<"),
        "{}",
        page.html
    );
    let users = server.get("/api/v1/users?limit=1", &admin).await;
    let active = users["total"].as_u64().expect("total") as usize;
    assert!(active > 20, "{users}");
    let page = get(&b, &server, "/integrations").await;
    assert!(page.html.contains("data-state=\"Active\""), "{}", page.html);
    // The review is closed: no second import.
    let page = get(&b, &server, &review).await;
    assert!(page.html.contains("id=\"review-status\">imported<"));
    assert!(!page.html.contains("id=\"import-button\""));
    let again = submit(&b, &server, &csrf, &format!("{review}/import"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // History, users and a profile.
    let page = get(&b, &server, "/imports").await;
    assert!(page.html.contains("data-status=\"applied\""));
    let page = get(&b, &server, &format!("/users?search={someone}")).await;
    assert!(page.html.contains(&someone), "{}", page.html);
    let page = get(&b, &server, &format!("/users/{someone}")).await;
    assert!(page.html.contains("Change history"));
    assert!(page.html.contains("/imports/"), "{}", page.html);

    // Edit the email; a bad one is refused on the page.
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{someone}/email"),
        &[("email", "not an email")],
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{someone}/email"),
        &[("email", "new.address@acme.example")],
    )
    .await;
    assert!(page.html.contains("The email is changed"), "{}", page.html);
    assert!(
        page.html
            .contains("id=\"user-email\">new.address@acme.example<"),
        "{}",
        page.html
    );

    // The Users page and a profile as of a date: nobody yet the day before the
    // first import; today's profile without the edit forms; a bad date is refused.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let yesterday = today.yesterday().expect("a date");
    let page = get(&b, &server, &format!("/users?as_of={yesterday}")).await;
    assert!(page.html.contains("No one found."), "{}", page.html);
    assert!(page.html.contains(&format!("as of the end of {yesterday}")));
    let page = get(&b, &server, &format!("/users/{someone}?as_of={today}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html
            .contains("id=\"user-email\">new.address@acme.example<")
    );
    assert!(
        !page.html.contains("id=\"email-form\""),
        "no edits of the past"
    );
    let page = get(&b, &server, "/users?as_of=soon").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);

    // Exclude, and include again.
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{someone}/exclude"),
        &[],
    )
    .await;
    assert!(
        page.html.contains("id=\"user-status\">excluded<"),
        "{}",
        page.html
    );
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{someone}/include"),
        &[],
    )
    .await;
    assert!(page.html.contains("Included again"), "{}", page.html);

    // Merge a duplicate into the original: the original takes its identifiers.
    let list = server.get("/api/v1/users?limit=3", &admin).await;
    let dup = list["items"][1]["employee_id"]
        .as_str()
        .expect("id")
        .to_string();
    let orig = list["items"][2]["employee_id"]
        .as_str()
        .expect("id")
        .to_string();
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{dup}/merge"),
        &[("into", &dup)],
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    assert!(
        page.html.contains("cannot be merged into itself"),
        "{}",
        page.html
    );
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("/users/{dup}/merge"),
        &[("into", &orig)],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("Merged: the duplicate is deactivated"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("id=\"user-status\">active<"),
        "{}",
        page.html
    );
    // The original (now under the duplicate's ID) lists the duplicate's history,
    // marked; the merged record has no email (null, not "").
    assert!(
        page.html.contains(&format!("(merged record {dup}~merged")),
        "{}",
        page.html
    );
    let shown = server.get(&format!("/api/v1/users/{dup}"), &admin).await;
    let from_merged: Vec<&serde_json::Value> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| {
            h["merged_from"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("{dup}~merged")))
        })
        .collect();
    assert!(
        from_merged.iter().any(|h| h["action"] == "create"),
        "the duplicate's first import is in the original's history: {shown}"
    );
    let merged = server
        .get(
            &format!("/api/v1/users?include_deactivated=true&search={dup}~merged"),
            &admin,
        )
        .await;
    assert_eq!(
        merged["items"].as_array().map(Vec::len),
        Some(1),
        "{merged}"
    );
    assert!(merged["items"][0]["email"].is_null(), "{merged}");

    // The other pages render.
    for path in [
        "/upcoming",
        "/demographics",
        "/notifications",
        "/files",
        &format!("/integrations/{id}/mapping"),
        &format!("/integrations/{id}/settings"),
    ] {
        let page = get(&b, &server, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    }
    let csv = b
        .get(format!("{}/files/users.csv", server.base))
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.expect("csv");
    assert!(text.contains("Employee Deactivated"));
    // The header and every active employee (the merged duplicate is deactivated).
    assert_eq!(text.lines().count(), active);

    // Upload it back (multipart, as a browser sends a file): reviewed, nothing to do.
    let upload_with = async |csrf: Option<&str>, text: &str, extra: &[(&str, &str)]| {
        let boundary = "roster-test-boundary";
        let mut body = String::new();
        let mut part = |name: &str, extra: &str, value: &str| {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n"
            ));
        };
        if let Some(t) = csrf {
            part("csrf_token", "", t);
        }
        part("mode", "", "partial");
        for (name, value) in extra {
            part(name, "", value);
        }
        part("file", "; filename=\"users.csv\"", text);
        body.push_str(&format!("--{boundary}--\r\n"));
        read(
            b.post(format!("{}/files/import", server.base))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await
                .expect("upload"),
        )
        .await
    };
    let upload = async |csrf: Option<&str>| upload_with(csrf, &text, &[]).await;
    assert_eq!(upload(None).await.status, StatusCode::FORBIDDEN);
    // The review opens on the review page, as a sync's does.
    let page = upload(Some(&csrf)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.path.starts_with("/reviews/"), "{}", page.path);
    assert!(
        page.html.contains("Review of the users file users.csv"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("data-count=\"created\">0<"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("data-count=\"updated\">0<"),
        "{}",
        page.html
    );
    // A semicolon file with its own headers, with the separator and a column
    // mapping given on the form.
    let first_id = text
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .expect("a row")
        .to_string();
    let own = format!("Staff No;Known As\r\n{first_id};Zed\r\n");
    let page = upload_with(
        Some(&csrf),
        &own,
        &[
            ("delimiter", ";"),
            ("map", "Staff No=employee_id\r\nKnown As=preferred_name"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("data-count=\"updated\">1<"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Zed"), "{}", page.html);
    // Import it from the review: the kept file is applied.
    let review = page.path.clone();
    let done = submit(&b, &server, &csrf, &format!("{review}/import"), &[]).await;
    assert!(
        done.path.starts_with("/imports/"),
        "{}: {}",
        done.path,
        done.html
    );
    assert!(done.html.contains("Imported."), "{}", done.html);
    let user = get(&b, &server, &format!("/users/{first_id}")).await;
    assert!(user.html.contains("Zed"), "{}", user.html);
    // The review is closed.
    let again = get(&b, &server, &review).await;
    assert!(again.html.contains("imported"), "{}", again.html);
    assert!(
        !again.html.contains("id=\"import-button\""),
        "{}",
        again.html
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn privacy_held_employees_need_the_confirm_checkbox() {
    let server = TestServer::start().await;
    let sb = sandbox(12).await;
    web_user(&server, "hr@acme.example", "employee_data_admin").await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let id = connect_static(&server, &admin, &sb).await;
    let (b, csrf) = sign_in(&server, "hr@acme.example").await;
    let sync = async || submit(&b, &server, &csrf, &format!("/integrations/{id}/sync"), &[]).await;
    let first = sync().await;
    submit(&b, &server, &csrf, &format!("{}/import", first.path), &[]).await;
    let users = server.get("/api/v1/users?limit=1", &admin).await;
    let eid = users["items"][0]["employee_id"]
        .as_str()
        .expect("id")
        .to_string();
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

    // Without the checkbox the guarded employee is held.
    let review = sync().await;
    assert!(
        review.html.contains("Privacy-held employees (1)"),
        "{}",
        review.html
    );
    assert!(review.html.contains("id=\"confirm_privacy\""));
    assert!(review.html.contains("Okonkwo-Smith"));
    let page = submit(&b, &server, &csrf, &format!("{}/import", review.path), &[]).await;
    assert!(
        page.html
            .contains("id=\"import-status\">partially_applied<"),
        "{}",
        page.html
    );
    let user = server.get(&format!("/api/v1/users/{eid}"), &admin).await;
    assert_ne!(user["employee"]["last_name"], "Okonkwo-Smith");

    // With it, they go through.
    let review = sync().await;
    let page = submit(
        &b,
        &server,
        &csrf,
        &format!("{}/import", review.path),
        &[("confirm_privacy", "yes")],
    )
    .await;
    assert!(
        page.html.contains("id=\"import-status\">applied<"),
        "{}",
        page.html
    );
    let user = server.get(&format!("/api/v1/users/{eid}"), &admin).await;
    assert_eq!(user["employee"]["last_name"], "Okonkwo-Smith");

    // Discard records the review and imports nothing.
    sb.handle()
        .set_name_and_dob(
            &eid,
            &roster_sandbox::NameChange {
                family_name: Some("Okonkwo".into()),
                ..roster_sandbox::NameChange::default()
            },
        )
        .expect("change");
    let review = sync().await;
    let page = submit(&b, &server, &csrf, &format!("{}/discard", review.path), &[]).await;
    assert!(
        page.html.contains("id=\"import-status\">discarded<"),
        "{}",
        page.html
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_refuses_other_sites_and_slows_guessing() {
    // Two attempts a minute per email: the third within a minute waits.
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 2).await;
    web_user(&server, "admin@acme.example", "account_admin").await;
    web_user(&server, "hr@acme.example", "employee_data_admin").await;

    // A sign-in form posted from another site is refused before the password is
    // checked, whether the browser says so with Sec-Fetch-Site or only with Origin.
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
        ("origin", "null"),
    ] {
        let res = browser()
            .post(format!("{}/login", server.base))
            .header(name, value)
            .form(&[("email", "admin@acme.example"), ("password", PASSWORD)])
            .send()
            .await
            .expect("post");
        let page = read(res).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(
            page.html.contains("sent from another site"),
            "{}",
            page.html
        );
    }
    // The same form from this server's own page signs in.
    let own_origin = server.base.clone();
    let res = browser()
        .post(format!("{}/login", server.base))
        .header("origin", own_origin.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", "admin@acme.example"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(read(res).await.path, "/");

    // Guessing: after a wrong password (the second attempt), even the right one
    // waits…
    let b = browser();
    let page = post(
        &b,
        &server,
        "/login",
        &[("email", "admin@acme.example"), ("password", "guess")],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let res = b
        .post(format!("{}/login", server.base))
        .form(&[("email", "Admin@Acme.example "), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let page = read(res).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.html.contains("Too many sign-in attempts"),
        "{}",
        page.html
    );
    // … and so does the API's session endpoint, with the catalogue's code.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "email": "admin@acme.example", "password": PASSWORD }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    // Another email is not held up.
    let (_, csrf) = sign_in(&server, "hr@acme.example").await;
    assert!(!csrf.is_empty());
}
