//! Export → edit → re-import through the core planner, as the engine runs it.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use jiff::civil::{Date, date};
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::member::{ManagerRef, SourceMember};
use roster_core::plan::{Plan, PlanOptions, Rule, apply, plan};
use roster_core::settings::{FieldKind, MappedField, Settings};
use roster_csv::{ExportOptions, ReadOptions, export, read};

const TODAY: Date = date(2026, 11, 23);

fn member(id: &str, first: &str, last: &str, manager: Option<&str>) -> SourceMember {
    let mut m = SourceMember::new(id, 0);
    m.active = Some(true);
    m.given_name = Some(first.into());
    m.family_name = Some(last.into());
    m.work_email = Some(format!("{}@acme.example", first.to_lowercase()));
    m.personal_email = Some(format!("{}@home.example", first.to_lowercase()));
    m.start_date = Some("2021-06-01".into());
    m.original_start_date = Some("2019-01-07".into());
    m.date_of_birth = Some("1990-05-17".into());
    m.phone = Some("+15550100".into());
    m.fields
        .insert("job_title", format!("{first}'s job, \"quoted\""));
    m.fields.insert("custom:team", "Platform");
    m.fields.insert("custom:secret", "hush");
    if let Some(mgr) = manager {
        m.manager = ManagerRef::Email {
            email: format!("{mgr}@acme.example"),
        };
    }
    m
}

fn settings() -> Settings {
    let mut s = Settings::default();
    s.mapping.push(MappedField {
        source_key: "custom:team".into(),
        demographic: "Team".into(),
        kind: FieldKind::Default,
        privacy: None,
    });
    s.mapping.push(MappedField {
        source_key: "custom:secret".into(),
        demographic: "Secret".into(),
        kind: FieldKind::Hidden,
        privacy: None,
    });
    s
}

/// A directory of three, synced from an API source.
fn directory() -> Vec<Employee> {
    let mut ms = vec![
        member("E1", "Ada", "Lovelace", None),
        member("E2", "Grace", "Hopper", Some("ada")),
        member("E3", "Alan", "Turing", Some("ada")),
    ];
    for (i, m) in ms.iter_mut().enumerate() {
        m.position = i + 1;
    }
    let p = plan(&[], ms, &[], &settings(), TODAY, &full());
    let all: Vec<_> = p.entries.iter().collect();
    apply(&[], &all)
}

fn full() -> PlanOptions {
    PlanOptions {
        complete: true,
        ..PlanOptions::default()
    }
}

fn export_text(dir: &[Employee], include_deactivated: bool) -> String {
    let mut out = Vec::new();
    export(
        &mut out,
        dir,
        &ExportOptions::from_settings(&settings(), include_deactivated),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn import(dir: &[Employee], text: &str, full: bool) -> (Plan, Vec<Employee>) {
    let s = settings();
    let f = read(text.as_bytes(), &s, &ReadOptions::default()).unwrap();
    assert!(f.rejected.is_empty(), "{:?}", f.rejected);
    let p = plan(
        dir,
        f.members,
        &f.rejected,
        &s,
        TODAY,
        &PlanOptions {
            complete: full,
            deactivate_missing: false,
            only_fields: Some(f.layout.fields(full)),
            returning: Default::default(),
        },
    );
    let all: Vec<_> = p.entries.iter().collect();
    let d = apply(dir, &all);
    (p, d)
}

fn by_id<'a>(dir: &'a [Employee], id: &str) -> &'a Employee {
    dir.iter().find(|e| e.employee_id == id).unwrap()
}

/// Replace one cell: the row of `id`, the column `header`.
fn edit(text: &str, id: &str, header: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let col = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == header)
        .unwrap();
    for line in lines.iter_mut().skip(1) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let Some(Ok(rec)) = r.records().next() else {
            continue;
        };
        if rec.get(0) == Some(id) {
            let mut cells: Vec<String> = rec.iter().map(str::to_string).collect();
            cells[col] = value.to_string();
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            w.write_record(&cells).unwrap();
            *line = String::from_utf8(w.into_inner().unwrap())
                .unwrap()
                .trim_end()
                .to_string();
        }
    }
    lines.join("\r\n")
}

#[test]
fn the_export_is_rfc4180_and_reads_back_unchanged() {
    let mut dir = directory();
    // A value a spreadsheet would run as a formula.
    dir[2]
        .demographics
        .insert("Team", "=HYPERLINK(\"http://evil.example\")");
    let text = export_text(&dir, true);
    let header = text.split("\r\n").next().unwrap();
    assert_eq!(
        header,
        "Employee ID,Email,First Name,Last Name,Preferred Name,Secondary Email,Phone,\
         Date of Birth,Start Date,Latest Rehire Date,Hire Date,End Date,Manager Email,\
         Employee Deactivated,Deactivation Reason,Excluded,Is Manager,Source ID,\
         Job Title,Team"
    );
    assert!(
        !text.contains("hush"),
        "hidden demographics are not exported"
    );
    assert!(text.contains("\"Grace's job, \"\"quoted\"\"\""), "{text}");
    assert!(text.ends_with("\r\n"));
    // Written as text for spreadsheets, the phone number left alone…
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{text}"
    );
    assert!(text.contains(",+15550100,"), "{text}");
    // … and read back as it was.
    for mode in [false, true] {
        let (p, _) = import(&dir, &text, mode);
        assert!(p.entries.is_empty(), "{:#?}", p.entries);
        assert_eq!(p.counts.unchanged, 3);
    }
}

#[test]
fn employee_deactivated_true_excludes_and_false_re_includes() {
    let dir = directory();
    let text = edit(
        &export_text(&dir, true),
        "E3",
        "Employee Deactivated",
        "TRUE",
    );
    let (p, dir) = import(&dir, &text, false);
    assert_eq!(p.counts.deactivated, 1);
    let alan = by_id(&dir, "E3");
    assert!(alan.excluded && !alan.active);
    assert_eq!(alan.deactivation_reason, Some(DeactivationReason::Excluded));
    let change = p.entries[0]
        .changes
        .iter()
        .find(|c| c.field == "excluded")
        .unwrap();
    assert_eq!(change.rule, Rule::Excluded);

    // The next API sync keeps the exclusion (sticky).
    let mut again = vec![
        member("E1", "Ada", "Lovelace", None),
        member("E2", "Grace", "Hopper", Some("ada")),
        member("E3", "Alan", "Turing", Some("ada")),
    ];
    for (i, m) in again.iter_mut().enumerate() {
        m.position = i + 1;
    }
    let p = plan(&dir, again, &[], &settings(), TODAY, &full());
    assert!(p.entries.iter().all(|e| e.employee_id() != "E3"), "{p:#?}");

    // The unchanged export of the new state re-imports to nothing.
    let text = export_text(&dir, true);
    assert!(import(&dir, &text, false).0.entries.is_empty());

    // FALSE re-includes.
    let text = edit(&text, "E3", "Employee Deactivated", "FALSE");
    let (p, dir) = import(&dir, &text, false);
    assert_eq!(p.counts.reactivated, 1);
    let alan = by_id(&dir, "E3");
    assert!(!alan.excluded && alan.active);
    assert_eq!(alan.deactivation_reason, None);
}

#[test]
fn partial_imports_update_only_the_columns_present() {
    let dir = directory();
    let text = "Employee ID,End Date,Team\r\nE2,2026-11-01,\r\nE3,2027-01-31,Research\r\n";
    let (p, after) = import(&dir, text, false);
    // Grace: end date passed → deactivated; the blank Team clears hers.
    let grace = by_id(&after, "E2");
    assert!(!grace.active);
    assert_eq!(grace.deactivation_reason, Some(DeactivationReason::EndDate));
    assert_eq!(grace.demographics.get("Team"), None);
    assert_eq!(
        grace.demographics.get("Job Title"),
        by_id(&dir, "E2").demographics.get("Job Title"),
        "a column not in the file is left alone"
    );
    assert_eq!(grace.phone, by_id(&dir, "E2").phone);
    assert_eq!(grace.source_id, by_id(&dir, "E2").source_id);
    // Alan: a future end date is an upcoming deactivation.
    let alan = by_id(&after, "E3");
    assert!(alan.active);
    assert_eq!(alan.demographics.get("Team"), Some("Research"));
    // Ada is missing from the file: untouched.
    assert!(p.entries.iter().all(|e| e.employee_id() != "E1"));
    assert_eq!(p.counts.deactivated, 1);
}

#[test]
fn a_partial_import_without_a_status_column_does_not_reactivate() {
    let dir = directory();
    let text = edit(
        &export_text(&dir, true),
        "E3",
        "Employee Deactivated",
        "TRUE",
    );
    let (_, dir) = import(&dir, &text, false);
    let (p, _) = import(&dir, "Employee ID,Phone\r\nE3,+15550199\r\n", false);
    let e = &p.entries[0];
    assert!(!e.after.active, "still excluded");
    assert_eq!(e.changes.len(), 1, "{:?}", e.changes);
}

#[test]
fn full_imports_follow_on_missing() {
    let dir = directory();
    let text = export_text(&dir, false);
    let without_alan: String = text
        .split("\r\n")
        .filter(|l| !l.starts_with("E3,"))
        .collect::<Vec<_>>()
        .join("\r\n");
    // keep (the default): Alan stays active.
    let (p, _) = import(&dir, &without_alan, true);
    assert!(p.entries.is_empty(), "{:#?}", p.entries);
    // deactivate: Alan is archived.
    let s = {
        let mut s = settings();
        s.set("on_missing", "deactivate").unwrap();
        s
    };
    let f = read(without_alan.as_bytes(), &s, &ReadOptions::default()).unwrap();
    let p = plan(
        &dir,
        f.members,
        &[],
        &s,
        TODAY,
        &PlanOptions {
            complete: true,
            deactivate_missing: false,
            only_fields: Some(f.layout.fields(true)),
            returning: Default::default(),
        },
    );
    let alan = p.entries.iter().find(|e| e.employee_id() == "E3").unwrap();
    assert!(!alan.after.active);
    assert_eq!(
        alan.after.deactivation_reason,
        Some(DeactivationReason::Missing)
    );
    // … and a partial import never does.
    let (p, _) = import(&dir, &without_alan, false);
    assert!(p.entries.is_empty());
}

#[test]
fn rows_without_employee_id_match_by_email_and_create_with_a_generated_id() {
    let dir = directory();
    let text = "Email,Last Name\r\ngrace@acme.example,Murray\r\nnew@acme.example,Newcomer\r\n";
    let (p, after) = import(&dir, text, false);
    assert_eq!(by_id(&after, "E2").last_name.as_deref(), Some("Murray"));
    let created = p.entries.iter().find(|e| e.key.is_none()).unwrap();
    assert_eq!(created.employee_id(), "RST-000001");
    assert_eq!(created.after.source_id, None);
}
