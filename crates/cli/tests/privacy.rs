//! Personal data through the real `roster` binary (issue #17): a person's export
//! holds their whole history and nothing of anyone else; retention holds;
//! retention over several days. Each runs on an SQLite file and on a PostgreSQL
//! database of its own (`ROSTER_TEST_POSTGRES_URL`; `.ci/run` starts the server).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{Backend, DAY1, Place, blocking, fresh_db, ok, roster, users};
use roster_sandbox::SandboxConfig;
use serde_json::Value;

/// A synced sandbox company in a fresh directory on `backend`: (sandbox, the
/// directory's place, a temporary directory for files, db).
async fn company(
    backend: Backend,
) -> (
    roster_sandbox::RunningSandbox,
    Place,
    tempfile::TempDir,
    String,
) {
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
    let (place, db) = fresh_db(backend).await;
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
    (sandbox, place, dir, db)
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
    a_persons_export(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persons_export_holds_their_history_and_nobody_elses_data_on_postgres() {
    a_persons_export(Backend::Postgres).await;
}

async fn a_persons_export(backend: Backend) {
    let (_sandbox, _place, dir, db) = company(backend).await;
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
    retention_holds(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_holds_are_set_listed_and_lifted_with_a_reason_on_postgres() {
    retention_holds(Backend::Postgres).await;
}

async fn retention_holds(backend: Backend) {
    let (_sandbox, _place, _dir, db) = company(backend).await;
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

/// Retention over several days with the injected clock (`--today`), through the
/// binary: not yet due, due (a dry run changes nothing, --apply anonymises), held,
/// re-activated meanwhile, and not anonymised twice.
#[tokio::test(flavor = "multi_thread")]
async fn retention_anonymises_former_employees_on_their_day_only() {
    retention_over_days(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_anonymises_former_employees_on_their_day_only_on_postgres() {
    retention_over_days(Backend::Postgres).await;
}

async fn retention_over_days(backend: Backend) {
    let (_place, db) = fresh_db(backend).await;
    blocking(move || retention_days_of(db)).await;
}

fn retention_days_of(db: String) {
    use jiff::civil::date;
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let first = file(
        "a.csv",
        "Employee ID,Email,First Name,Last Name,Phone,Date of Birth,Start Date,End Date\n\
         P1,p1@ret.example,Paula,Early,+1 555 0101,1980-01-01,2020-01-01,2026-01-01\n\
         P2,p2@ret.example,Peter,Later,+1 555 0102,1981-01-01,2020-01-01,2026-01-20\n\
         P3,p3@ret.example,Quinn,Returns,+1 555 0103,1982-01-01,2020-01-01,2026-01-01\n\
         P4,p4@ret.example,Hilda,Held,+1 555 0104,1983-01-01,2020-01-01,2026-01-01\n\
         P5,p5@ret.example,Stay,Active,+1 555 0105,1984-01-01,2020-01-01,\n",
    );
    let back = file(
        "b.csv",
        "Employee ID,Email,First Name,Last Name,End Date\nP3,p3@ret.example,Quinn,Returns,\n",
    );
    let day = |d| {
        date(2026, 1, 1)
            .checked_add(jiff::Span::new().days(d))
            .unwrap()
    };
    let json = |today, args: &[&str]| -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(roster(&db, today, &all)).stdout).unwrap()
    };
    let names = |today| -> Vec<String> {
        users(&db, today)
            .iter()
            .map(|u| format!("{} {}", u["employee_id"], u["first_name"]))
            .collect()
    };

    // Day 20: five people, four of whom left; retention on (30 days); P4 on hold.
    ok(roster(
        &db,
        day(20),
        &["import", &first, "--mode", "partial", "--apply", "--yes"],
    ));
    let off = json(day(20), &["retention"]);
    assert_eq!(off["retention_days"], Value::Null, "off by default: {off}");
    ok(roster(
        &db,
        day(20),
        &["settings", "set", "retention_days", "30"],
    ));
    ok(roster(
        &db,
        day(20),
        &["users", "hold", "P4", "--reason", "legal hold"],
    ));
    // Day 21: P3 comes back (a full file with their row and no end date).
    ok(roster(
        &db,
        day(21),
        &["import", &back, "--mode", "full", "--apply", "--yes"],
    ));

    // Day 29 (2026-01-30): nobody due yet; upcoming shows P1 on the 31st, P2 later.
    let dry = json(day(29), &["retention"]);
    assert_eq!(dry["due"], serde_json::json!([]), "{dry}");
    let coming: Vec<(String, String)> = json(day(29), &["upcoming", "--days", "30"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["kind"] == "anonymisation")
        .map(|u| (u["date"].to_string(), u["employee_id"].to_string()))
        .collect();
    assert_eq!(
        coming,
        [
            ("\"2026-01-31\"".into(), "\"P1\"".into()),
            ("\"2026-02-19\"".into(), "\"P2\"".into())
        ]
    );

    // Day 30 (2026-01-31): P1 is due. The dry run names the fields, changes nothing.
    let before = names(day(30));
    let dry = json(day(30), &["retention"]);
    let due = dry["due"].as_array().unwrap();
    assert_eq!(due.len(), 1, "{dry}");
    assert_eq!(due[0][0]["employee_id"], "P1");
    let fields = due[0][1].to_string();
    for f in ["first_name", "last_name", "email", "phone", "date_of_birth"] {
        assert!(fields.contains(f), "{f} in {fields}");
    }
    assert_eq!(dry["import_id"], Value::Null);
    assert_eq!(names(day(30)), before, "a dry run changes nothing");
    let refused = roster(&db, day(30), &["--json", "retention", "--apply"]);
    assert_eq!(
        refused.code, 2,
        "--apply asks, and needs --yes without a terminal"
    );
    let done = json(day(30), &["retention", "--apply", "--yes"]);
    let import = done["import_id"].as_i64().expect("a retention import");
    let after = names(day(30));
    assert!(!after.iter().any(|n| n.contains("Paula")), "{after:?}");
    assert!(
        after.iter().any(|n| n.contains("Peter")),
        "P2 is not due yet: {after:?}"
    );
    let recorded = json(day(30), &["imports", "show", &import.to_string()]);
    let text = recorded.to_string();
    assert!(text.contains("retention"), "{text}");
    assert!(
        !text.contains("Paula") && !text.contains("p1@ret.example"),
        "{text}"
    );

    // Day 49 (2026-02-19): P2 is due; P3 (back) and P4 (held) never are.
    let done = json(day(49), &["retention", "--apply", "--yes"]);
    let due: Vec<&str> = done["due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[0]["employee_id"].as_str().unwrap())
        .collect();
    assert_eq!(due, ["P2"], "{done}");
    let after = names(day(49));
    for kept in ["Quinn", "Hilda", "Stay"] {
        assert!(after.iter().any(|n| n.contains(kept)), "{kept}: {after:?}");
    }
    for gone in ["Paula", "Peter"] {
        assert!(!after.iter().any(|n| n.contains(gone)), "{gone}: {after:?}");
    }
    // A year later: nobody is anonymised twice; lifting the hold makes P4 due.
    let later = json(day(400), &["retention"]);
    assert_eq!(later["due"], serde_json::json!([]), "{later}");
    ok(roster(&db, day(400), &["users", "release-hold", "P4"]));
    let later = json(day(400), &["retention"]);
    assert_eq!(later["due"][0][0]["employee_id"], "P4", "{later}");
}
