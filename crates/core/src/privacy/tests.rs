use crate::fields::FieldMap;

use super::*;

fn jane() -> Employee {
    Employee {
        key: 42,
        employee_id: "m-jane".into(),
        source_id: Some("m-jane".into()),
        email: "Jane.Doe@example.com".into(),
        secondary_email: Some("jane@home.example".into()),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        preferred_name: Some("Janie".into()),
        date_of_birth: Some("1990-05-01".parse().unwrap()),
        start_date: Some("2020-01-06".parse().unwrap()),
        end_date: Some("2024-03-31".parse().unwrap()),
        manager_email: Some("boss@example.com".into()),
        phone: Some("+1 555 0100".into()),
        demographics: FieldMap::from([("Department", "Sales"), ("Home City", "Springfield")]),
        ..Employee::default()
    }
}

fn personal() -> Vec<String> {
    vec!["Home City".to_string()]
}

#[test]
fn anonymise_replaces_personal_fields_and_keeps_reporting_ones() {
    let a = anonymise(&jane(), &personal(), "RST-", Rule::Erasure);
    let e = &a.after;
    assert_eq!(e.employee_id, "RST-E42");
    assert_eq!(e.source_id, None);
    assert_eq!(e.email, "erased-42@erased.invalid");
    assert_eq!(e.display_name(), "Former employee RST-E42");
    assert_eq!(
        (
            e.secondary_email.clone(),
            e.preferred_name.clone(),
            e.phone.clone(),
            e.date_of_birth
        ),
        (None, None, None, None)
    );
    assert_eq!(e.demographics.get("Department"), Some("Sales"));
    assert!(!e.demographics.contains_key("Home City"));
    assert_eq!(e.start_date, jane().start_date);
    assert_eq!(e.end_date, jane().end_date);
    assert_eq!(e.manager_email, jane().manager_email);
    assert!(a.fields.contains(&"demographic:Home City".to_string()));
    assert!(a.fields.contains(&"date_of_birth".to_string()));
    // The record holds field names and neutral values, never an erased one.
    let text = format!("{:?}", a.changes);
    for erased in ["Jane", "Doe", "1990-05-01", "555", "Springfield", "m-jane"] {
        assert!(!text.contains(erased), "{erased} in {text}");
    }
}

#[test]
fn a_generated_id_is_kept() {
    let mut e = jane();
    e.employee_id = "RST-000042".into();
    let a = anonymise(&e, &personal(), "RST-", Rule::Erasure);
    assert_eq!(a.after.employee_id, "RST-000042");
    assert!(!a.fields.contains(&"employee_id".to_string()));
}

#[test]
fn neutral_values_do_not_depend_on_the_erased_ones() {
    let mut other = jane();
    other.first_name = Some("Someone".into());
    other.email = "else@example.com".into();
    let (a, b) = (
        anonymise(&jane(), &personal(), "RST-", Rule::Erasure),
        anonymise(&other, &personal(), "RST-", Rule::Erasure),
    );
    assert_eq!(a.after, b.after);
}

#[test]
fn scrub_rewrites_own_history_and_references() {
    let j = jane();
    let plan = anonymise(&j, &personal(), "RST-", Rule::Erasure);
    let mut s = Scrub::new(&j, &plan, &personal());
    s.learn("first_name", Some("Janet"));
    let mut own = vec![
        Change {
            field: "first_name".into(),
            old: Some("Janet".into()),
            new: Some("Jane".into()),
            rule: Rule::Source,
        },
        Change {
            field: "email".into(),
            old: None,
            new: Some("jane.doe@example.com".into()),
            rule: Rule::Source,
        },
        Change {
            field: "demographic:Department".into(),
            old: None,
            new: Some("Sales".into()),
            rule: Rule::Source,
        },
    ];
    assert!(s.changes(&mut own, true));
    assert_eq!((own[0].old.clone(), own[0].new.clone()), (None, None));
    assert_eq!(own[1].new.as_deref(), Some("erased-42@erased.invalid"));
    assert_eq!(own[2].new.as_deref(), Some("Sales"));
    let mut report = vec![Change {
        field: "manager_email".into(),
        old: None,
        new: Some("JANE.DOE@example.com".into()),
        rule: Rule::Source,
    }];
    assert!(s.changes(&mut report, false));
    assert_eq!(report[0].new.as_deref(), Some("erased-42@erased.invalid"));
}

#[test]
fn scrub_rewrites_free_text_and_json() {
    let j = jane();
    let plan = anonymise(&j, &personal(), "RST-", Rule::Erasure);
    let s = Scrub::new(&j, &plan, &personal());
    assert_eq!(
        s.text("Jane Doe (jane.doe@example.com) born 1990-05-01")
            .as_deref(),
        Some("[erased] [erased] (erased-42@erased.invalid) born [erased]")
    );
    // Whole words only: "Janeway" and "Doerr" are somebody else.
    assert_eq!(s.text("Janeway and Doerr"), None);
    let mut doc = serde_json::json!({
        "entries": [{"after": {"key": 42, "first_name": "Jane", "date_of_birth": "1990-05-01",
                     "demographics": {"Home City": "Springfield", "Department": "Sales"}}},
                    {"after": {"key": 7, "first_name": "Bob", "start_date": "1990-05-01",
                     "demographics": {"Home City": "Springfield"}}}],
        "message": "Jane Doe has no manager"
    });
    assert!(s.json(&mut doc));
    let text = doc.to_string();
    for erased in ["Jane", "Doe"] {
        assert!(!text.contains(erased), "{text}");
    }
    assert_eq!(doc["entries"][0]["after"]["date_of_birth"], Value::Null);
    assert_eq!(
        doc["entries"][0]["after"]["demographics"]["Department"],
        "Sales"
    );
    assert!(
        doc["entries"][0]["after"]["demographics"]
            .get("Home City")
            .is_none()
    );
    // Another employee's start date equal to the birth date and home city stay.
    assert_eq!(doc["entries"][1]["after"]["start_date"], "1990-05-01");
    assert_eq!(
        doc["entries"][1]["after"]["demographics"]["Home City"],
        "Springfield"
    );
}

#[test]
fn needles_are_lower_case_and_cover_the_history() {
    let j = jane();
    let plan = anonymise(&j, &personal(), "RST-", Rule::Erasure);
    let mut s = Scrub::new(&j, &plan, &personal());
    s.learn("phone", Some("+1 555 0199"));
    let n = s.needles();
    assert!(n.contains(&"jane.doe@example.com".to_string()));
    assert!(n.contains(&"+1 555 0199".to_string()));
    assert!(n.contains(&"springfield".to_string()));
    assert!(!n.iter().any(|x| x.contains("erased")));
}

#[test]
fn privacy_settings_mark_demographics() {
    let mut s = crate::settings::Settings::default();
    assert_eq!(
        s.get("personal_demographics").unwrap(),
        "Home City,Home State,Home Country"
    );
    s.set("personal_demographics", "Home City, Job Title")
        .unwrap();
    assert_eq!(s.personal_demographics(), ["Job Title", "Home City"]);
    assert!(s.get("keep_demographics").unwrap().contains("Home State"));
    let err = s
        .set("keep_demographics", "Salary")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("keep_demographics") && err.contains("Salary"),
        "{err}"
    );
    s.set("keep_demographics", "").unwrap();
    assert!(s.personal_demographics().len() == s.mapping.len());
}

#[test]
fn rollback_after_erasure_reports_erased_fields_and_restores_the_rest() {
    use crate::rollback::{RecordedChange, plan_rollback, plan_rollback_after_erasure};
    let j = jane();
    let plan = anonymise(&j, &personal(), "RST-", Rule::Erasure);
    let now = plan.after.clone();
    // The older import changed the (now erased) first name and the department;
    // the history now holds no values for the first name.
    let changes = vec![
        RecordedChange {
            key: 42,
            field: "first_name".into(),
            old: None,
            new: None,
            created: false,
        },
        RecordedChange {
            key: 42,
            field: "demographic:Department".into(),
            old: Some("Support".into()),
            new: Some("Sales".into()),
            created: false,
        },
    ];
    // Without knowing of the erasure, the first name looks changed since: a conflict.
    assert_eq!(
        plan_rollback(&changes, std::slice::from_ref(&now))
            .conflicts
            .len(),
        1
    );
    let erased = std::collections::HashMap::from([(
        42,
        plan.fields
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
    )]);
    let rb = plan_rollback_after_erasure(&changes, std::slice::from_ref(&now), &erased);
    assert!(rb.conflicts.is_empty(), "{rb:?}");
    assert_eq!(rb.erased[0].fields, ["first_name"]);
    let (restored, _) = &rb.restore[0];
    assert_eq!(restored.first_name.as_deref(), Some(NEUTRAL_FIRST_NAME));
    assert_eq!(restored.demographics.get("Department"), Some("Support"));
}
