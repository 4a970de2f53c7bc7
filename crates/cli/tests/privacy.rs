//! Personal data through the real `roster` binary (issue #17): a person's export
//! holds their whole history and nothing of anyone else; retention holds.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{DAY1, blocking, ok, roster, users};
use roster_sandbox::SandboxConfig;
use serde_json::Value;

/// A synced sandbox company in a fresh SQLite directory: (sandbox, tempdir, db).
async fn company() -> (roster_sandbox::RunningSandbox, tempfile::TempDir, String) {
    let config = SandboxConfig {
        seed: 17,
        members: 12,
        today: DAY1,
        ..Default::default()
    };
    let sandbox = roster_sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db").to_string_lossy().into_owned();
    let (base, token) = (
        sandbox.base_url(),
        sandbox.mint_token(&roster_sandbox::all_scopes()),
    );
    let db2 = db.clone();
    blocking(move || {
        ok(roster(
            &db2,
            DAY1,
            &[
                "connect",
                "justworks",
                "--base-url",
                &base,
                "--token",
                &token,
            ],
        ));
        ok(roster(&db2, DAY1, &["setup-sync"]));
        ok(roster(&db2, DAY1, &["sync", "--apply", "--yes"]));
    })
    .await;
    (sandbox, dir, db)
}

/// Two active employees with an email, first name and phone, differing in each.
fn two_people(list: &[Value]) -> (Value, Value) {
    let mut people = list.iter().filter(|u| {
        u["active"] == true
            && u["email"].is_string()
            && u["first_name"].is_string()
            && u["last_name"].is_string()
    });
    let a = people.next().unwrap().clone();
    let b = people
        .find(|b| b["first_name"] != a["first_name"] && b["last_name"] != a["last_name"])
        .unwrap()
        .clone();
    (a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persons_export_holds_their_history_and_nobody_elses_data() {
    let (_sandbox, dir, db) = company().await;
    let out_path = dir.path().join("export.json");
    let out = out_path.to_string_lossy().into_owned();
    let (stdout_doc, file_doc, said, mode, a, b) = blocking(move || {
        let (a, b) = two_people(&users(&db, DAY1));
        let (a_id, b_id) = (
            a["employee_id"].as_str().unwrap().to_string(),
            b["employee_id"].as_str().unwrap().to_string(),
        );
        // A's own edit, and B's edit in imports of their own.
        ok(roster(
            &db,
            DAY1,
            &["users", "set-email", &a_id, "a.new@export.example"],
        ));
        ok(roster(&db, DAY1, &["users", "exclude", &b_id]));
        let printed = ok(roster(&db, DAY1, &["users", "export-person", &a_id]));
        let written = ok(roster(
            &db,
            DAY1,
            &[
                "users",
                "export-person",
                "a.new@export.example",
                "--out",
                &out,
            ],
        ));
        let text = std::fs::read_to_string(&out).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        (
            serde_json::from_str::<Value>(&printed.stdout).unwrap(),
            serde_json::from_str::<Value>(&text).unwrap(),
            written.stderr,
            mode,
            a,
            b,
        )
    })
    .await;

    let doc = &stdout_doc;
    assert_eq!(doc["format"], "roster.person_export.v1");
    assert_eq!(doc["employee"]["employee_id"], a["employee_id"]);
    assert_eq!(doc["employee"]["email"], "a.new@export.example");
    assert_eq!(doc["employee"]["first_name"], a["first_name"]);
    // History: the sync's create, then the admin's edit with the old and new email.
    let history = doc["history"].as_array().unwrap();
    let actions: Vec<&str> = history
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"], "{history:?}");
    let edit = &history[1]["changes"];
    assert!(
        edit.as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "email"
                && c["old"] == a["email"]
                && c["new"] == "a.new@export.example"),
        "{edit}"
    );
    // Imports: the sync and the edit, with who ran them; not B's exclusion.
    let imports: Vec<(&str, &str)> = doc["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["trigger"].as_str().unwrap()))
        .collect();
    assert_eq!(imports, [("sync", "manual"), ("admin_edit", "manual")]);
    assert!(doc["imports"][0]["integration"].is_string(), "{doc}");
    // Events: created, then updated (the email), all about A.
    let events = doc["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["employee.created", "employee.updated"],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["employee_key"] == doc["employee"]["key"]),
        "{events:?}"
    );
    // Nothing of B's anywhere in the document.
    let text = doc.to_string();
    for field in ["employee_id", "email", "first_name", "last_name", "phone"] {
        if let Some(v) = b[field].as_str().filter(|v| v.len() > 3) {
            assert!(!text.contains(v), "B's {field} {v:?} is in A's export");
        }
    }

    // --out: the same document (but its time), owner-only, and where it went.
    let strip = |d: &Value| {
        let mut d = d.clone();
        d["generated_at"] = Value::Null;
        d
    };
    assert_eq!(strip(&file_doc), strip(doc));
    assert_eq!(mode, 0o600, "the export file is readable by its owner only");
    assert!(
        said.contains("export.json") && said.contains("2 history entries"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_holds_are_set_listed_and_lifted_with_a_reason() {
    let (_sandbox, _dir, db) = company().await;
    blocking(move || {
        let (a, _) = two_people(&users(&db, DAY1));
        let a_id = a["employee_id"].as_str().unwrap();
        let none = roster(&db, DAY1, &["users", "hold", a_id, "--reason", "  "]);
        assert_eq!(none.code, 1, "a hold needs a reason: {}", none.stderr);
        assert!(none.stderr.contains("reason"), "{}", none.stderr);
        ok(roster(
            &db,
            DAY1,
            &["users", "hold", a_id, "--reason", "legal hold: case 14"],
        ));
        let list = ok(roster(&db, DAY1, &["--json", "users", "holds"]));
        let list: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["employee_id"], a_id);
        assert_eq!(list[0]["reason"], "legal hold: case 14");
        let doc = ok(roster(&db, DAY1, &["users", "export-person", a_id]));
        let doc: Value = serde_json::from_str(&doc.stdout).unwrap();
        assert_eq!(doc["retention_hold"]["reason"], "legal hold: case 14");
        let lifted = ok(roster(&db, DAY1, &["users", "release-hold", a_id]));
        assert!(lifted.stdout.contains("lifted"), "{}", lifted.stdout);
        let again = ok(roster(&db, DAY1, &["users", "release-hold", a_id]));
        assert!(
            again.stdout.contains("had no retention hold"),
            "{}",
            again.stdout
        );
        let unknown = roster(&db, DAY1, &["users", "hold", "nobody", "--reason", "x"]);
        assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    })
    .await;
}
