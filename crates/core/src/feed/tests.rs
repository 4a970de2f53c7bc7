use jiff::Timestamp;
use jiff::civil::date;
use rstest::rstest;

use super::*;
use crate::edits;
use crate::employee::{DeactivationReason, Employee};
use crate::import::ImportKind;
use crate::plan::{Action, Change, Entry, Rule, edits as plan_edits};

fn import(kind: ImportKind) -> ImportMeta {
    ImportMeta {
        id: 7,
        kind,
        at: Timestamp::from_second(1_790_000_000).unwrap(),
        day: date(2026, 11, 23),
    }
}

fn emp(key: i64, id: &str) -> Employee {
    Employee {
        key,
        employee_id: id.into(),
        email: format!("{}@x.example", id.to_lowercase()),
        first_name: Some("Ada".into()),
        start_date: Some(date(2020, 1, 6)),
        active: true,
        ..Employee::default()
    }
}

fn types(events: &[Event]) -> Vec<(Option<i64>, EventType)> {
    events
        .iter()
        .map(|e| (e.employee_key, e.event_type))
        .collect()
}

/// The entries of admin edits over `directory`, with their keys.
fn edit_events(directory: &[Employee], changed: Vec<Employee>, kind: ImportKind) -> Vec<Event> {
    let plan = plan_edits(directory, changed, Rule::AdminEdit, date(2026, 11, 23));
    let written: Vec<Written> = plan
        .entries
        .iter()
        .map(|e| Written::entry(e.key.unwrap(), e))
        .collect();
    derive_events(&import(kind), &written, 100)
}

#[rstest]
#[case(EventType::Created, "employee.created")]
#[case(EventType::Updated, "employee.updated")]
#[case(EventType::Deactivated, "employee.deactivated")]
#[case(EventType::Reactivated, "employee.reactivated")]
#[case(EventType::Merged, "employee.merged")]
#[case(EventType::DeactivationScheduled, "employee.deactivation_scheduled")]
#[case(EventType::StartScheduled, "employee.start_scheduled")]
#[case(EventType::ImportApplied, "import.applied")]
fn event_type_names(#[case] t: EventType, #[case] name: &str) {
    assert_eq!((t.as_str(), t.to_string()), (name, name.to_string()));
    assert_eq!(EventType::parse(name), Some(t));
    assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(name));
}

#[test]
fn a_create_carries_every_field_and_a_future_start_is_scheduled() {
    let mut after = emp(0, "E1");
    after.start_date = Some(date(2026, 12, 1));
    after.demographics.insert("Team", "Blue");
    let entry = Entry {
        action: Action::Create,
        key: None,
        changes: Vec::new(),
        after,
        privacy: false,
        id_change: false,
        possible_duplicate_of: None,
    };
    let events = derive_events(&import(ImportKind::Sync), &[Written::entry(5, &entry)], 40);
    assert_eq!(
        types(&events),
        [
            (Some(5), EventType::Created),
            (Some(5), EventType::StartScheduled),
            (None, EventType::ImportApplied)
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.cursor).collect::<Vec<_>>(),
        [40, 41, 42]
    );
    let fields: Vec<&str> = events[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "employee_id",
            "email",
            "first_name",
            "start_date",
            "active",
            "demographic:Team"
        ]
    );
    assert_eq!(events[1].changes[0].after.as_deref(), Some("2026-12-01"));
    let rebuilt = replay(&events).unwrap();
    assert_eq!(
        rebuilt[&5],
        Employee {
            key: 5,
            ..entry.after
        }
    );
}

#[rstest]
#[case::plain(emp(0, "E1"))]
#[case::future_start(Employee { start_date: Some(date(2027, 2, 1)), ..emp(0, "E2") })]
#[case::future_end(Employee { end_date: Some(date(2027, 2, 1)), ..emp(0, "E3") })]
#[case::future_end_inactive(Employee { end_date: Some(date(2027, 2, 1)), active: false, ..emp(0, "E4") })]
#[case::no_employee_id(Employee { employee_id: String::new(), ..emp(0, "E5") })]
#[case::nothing(Employee::default())]
fn a_create_stored_as_its_employee_reads_as_its_spelled_out_changes(#[case] after: Employee) {
    let spelled = Change::created(&after);
    let meta = import(ImportKind::Sync);
    let expected = derive_events(
        &meta,
        &[Written::new(5, Action::Create, &spelled, &after)],
        1,
    );
    let stored = derive_stored(&meta, &[Written::new(5, Action::Create, &[], &after)], 1);
    let created: Vec<bool> = stored.iter().map(|s| s.created.is_some()).collect();
    let kept = expected[0].event_type == EventType::Created;
    assert_eq!(created[0], kept, "{created:?}");
    assert!(
        stored
            .iter()
            .all(|s| s.created.is_none() || s.event.changes.is_empty())
    );
    let read: Vec<Event> = stored.into_iter().map(Stored::into_event).collect();
    assert_eq!(read, expected);
    // An employee without a field gives no event of its own.
    assert_eq!(read.len() == 1, spelled.is_empty());
}

#[rstest]
#[case::future_end_date(Some(date(2027, 1, 31)), true)]
#[case::end_date_today(Some(date(2026, 11, 23)), false)]
#[case::end_date_removed(None, false)]
fn a_future_end_date_on_an_active_employee_is_scheduled(
    #[case] end: Option<jiff::civil::Date>,
    #[case] scheduled: bool,
) {
    let mut before = emp(1, "E1");
    before.end_date = Some(date(2026, 12, 31));
    let after = Employee {
        end_date: end,
        ..before.clone()
    };
    let events = edit_events(&[before], vec![after], ImportKind::CsvImport);
    let mut expected = vec![(Some(1), EventType::Updated)];
    if scheduled {
        expected.push((Some(1), EventType::DeactivationScheduled));
    }
    expected.push((None, EventType::ImportApplied));
    assert_eq!(types(&events), expected);
}

#[test]
fn no_deactivation_is_scheduled_for_an_inactive_employee() {
    let before = edits::exclude(&emp(1, "E1"));
    let after = Employee {
        end_date: Some(date(2027, 1, 31)),
        ..before.clone()
    };
    let events = edit_events(&[before], vec![after], ImportKind::Sync);
    assert_eq!(
        types(&events),
        [
            (Some(1), EventType::Updated),
            (None, EventType::ImportApplied)
        ]
    );
}

#[test]
fn a_merge_gives_merged_for_the_duplicate_and_updated_for_the_original() {
    let (dup, orig) = (emp(2, "NEW"), emp(1, "OLD"));
    let merged = edits::merge(&dup, &orig).unwrap();
    let directory = vec![orig, dup];
    let events = edit_events(&directory, merged.into_vec(), ImportKind::Merge);
    assert_eq!(
        types(&events),
        [
            (Some(2), EventType::Merged),
            (Some(1), EventType::Updated),
            (None, EventType::ImportApplied)
        ]
    );
    assert_eq!(events[0].employee_id.as_deref(), Some("NEW~merged-2"));
    assert!(events.iter().all(|e| e.import_kind == ImportKind::Merge));
}

#[test]
fn status_changes_come_from_the_changes_not_the_recorded_action() {
    // A rollback records every entry as `update`: the one that deactivates a created
    // employee and the one that reactivates an excluded one.
    let created = emp(1, "E1");
    let excluded = edits::exclude(&emp(2, "E2"));
    let mut rolled_back = created.clone();
    rolled_back.active = false;
    rolled_back.deactivation_reason = Some(DeactivationReason::RolledBack);
    let included = edits::include(&excluded, date(2026, 11, 23));
    let plan = plan_edits(
        &[created, excluded],
        vec![rolled_back, included],
        Rule::Rollback,
        date(2026, 11, 23),
    );
    let written: Vec<Written> = plan
        .entries
        .iter()
        .map(|e| Written::new(e.key.unwrap(), Action::Update, &e.changes, &e.after))
        .collect();
    let events = derive_events(&import(ImportKind::Rollback), &written, 1);
    let mut got = types(&events);
    got.sort();
    assert_eq!(
        got,
        [
            (None, EventType::ImportApplied),
            (Some(1), EventType::Deactivated),
            (Some(2), EventType::Reactivated),
        ]
    );
}

#[test]
fn an_import_that_changed_nobody_still_closes() {
    let unchanged = emp(1, "E1");
    let written = [Written::new(1, Action::Update, &[], &unchanged)];
    let events = derive_events(&import(ImportKind::Tick), &written, 9);
    assert_eq!(types(&events), [(None, EventType::ImportApplied)]);
    assert_eq!(events[0].cursor, 9);
    assert!(replay(&events).unwrap().is_empty());
}

#[test]
fn replay_refuses_gaps_and_reordering() {
    let before = emp(1, "E1");
    let after = Employee {
        phone: Some("555".into()),
        ..before.clone()
    };
    let update = edit_events(&[before], vec![after], ImportKind::AdminEdit);
    assert_eq!(
        replay(&update),
        Err(ReplayError::Unknown {
            cursor: 100,
            key: 1
        })
    );
    let mut directory = Directory::new();
    directory.insert(
        1,
        Employee {
            phone: Some("444".into()),
            ..emp(1, "E1")
        },
    );
    let err = apply_event(&mut directory, &update[0]).unwrap_err();
    assert!(matches!(err, ReplayError::Diverged { ref field, .. } if field == "phone"));
    let reversed: Vec<&Event> = update.iter().rev().collect();
    assert!(matches!(
        replay(reversed),
        Err(ReplayError::OutOfOrder {
            cursor: 100,
            previous: 101
        })
    ));
    let created = Change {
        field: "employee_id".into(),
        old: Some(String::new()),
        new: Some("E1".into()),
        rule: Rule::Source,
    };
    let mut create = update[0].clone();
    create.event_type = EventType::Created;
    create.changes = vec![FieldDelta::from(&created)];
    let mut twice = create.clone();
    twice.cursor += 1;
    assert_eq!(
        replay([&create, &twice]),
        Err(ReplayError::Exists {
            cursor: 101,
            key: 1
        })
    );
}

#[test]
fn events_serialize_with_type_and_without_empty_parts() {
    let events = derive_events(&import(ImportKind::Sync), &[], 3);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "cursor": 3,
            "type": "import.applied",
            "at": "2026-09-21T14:13:20Z",
            "import_id": 7,
            "import_kind": "sync",
        })
    );
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), events[0]);
}
