//! The contract of anonymisation (issue #17): one transaction replaces an
//! employee's personal values in the directory, in every history entry, event and
//! payload that holds them, records it as an import of its own kind (field names,
//! no values) with events, and keeps the source id's digest.

use roster_core::employee::Employee;
use roster_core::feed;
use roster_core::plan::{Action, Rule};
use serde_json::json;

use super::fixtures::*;
use crate::{
    AccountId, Anonymisation, EventQuery, ImportKind, Notification, Store, ToAnonymise, Trigger,
};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_erasure {
    ($($how:tt)*) => {
        $crate::__contract_section! { erasure [
            anonymise_leaves_no_erased_value_in_any_read,
            anonymise_of_an_unknown_employee_writes_nothing,
            remove_deletes_the_row_and_keeps_the_feed_whole,
        ] $($how)* }
    };
}

/// The values the tests erase: distinctive, so that a find is the person's.
pub const ERASED: &[&str] = &[
    "Quintessa",
    "Vandermolen",
    "Quinny",
    "quintessa.v@acme.example",
    "qv.private@home.example",
    "+1 212 555 0177",
    "+1 212 555 0188",
    "1971-02-03",
    "Zzyzxville",
    "mbr_Q1",
];

/// The person the tests erase (key 0: the seed gives it one).
pub fn quintessa() -> Employee {
    let mut e = person(
        "mbr_Q1",
        "quintessa.v@acme.example",
        "Quintessa",
        "Vandermolen",
    );
    e.source_id = Some("mbr_Q1".into());
    e.preferred_name = Some("Quinny".into());
    e.secondary_email = Some("qv.private@home.example".into());
    e.phone = Some("+1 212 555 0188".into());
    e.date_of_birth = Some("1971-02-03".parse().unwrap());
    e.start_date = Some("2015-04-01".parse().unwrap());
    e.demographics = [("Home City", "Zzyzxville"), ("Department", "Sales")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e.is_manager = true;
    e
}

/// The request erasing `key`.
pub fn erase_request(key: i64) -> Anonymisation {
    Anonymisation {
        kind: ImportKind::Erasure,
        rule: Rule::Erasure,
        trigger: Trigger::Manual,
        at: at(500),
        by: "admin@acme.example".into(),
        reason: "on request".into(),
        personal_demographics: vec!["Home City".into()],
        id_prefix: "RST-".into(),
        employees: vec![ToAnonymise {
            key,
            source_digest: Some("digest-of-the-source-id".into()),
        }],
        remove: false,
    }
}

/// Everything the store's reads give of account `a`, as text.
async fn every_read(store: &dyn Store, a: i64) -> String {
    let mut out = String::new();
    out.push_str(&format!("{:?}", directory(store, a).await));
    for summary in store.imports(a, 1000).await.unwrap() {
        let record = store.import(a, summary.id).await.unwrap();
        out.push_str(&format!("{record:?}"));
    }
    let events = store
        .events(
            a,
            &EventQuery {
                limit: usize::MAX,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    out.push_str(&format!("{events:?}"));
    out.push_str(&format!("{:?}", store.outbox(a, 1000).await.unwrap()));
    out
}

/// The person with a report, a history of changes (old and new values), an entry
/// held (its row kept in the history) and a notification quoting them.
pub async fn story(store: &dyn Store, a: i64) -> (Employee, Employee) {
    let mut report = person("E2", "report@acme.example", "Rita", "Report");
    report.manager_email = Some("quintessa.v@acme.example".into());
    let (_, dir) = seed(store, a, vec![quintessa(), report]).await;
    let q = by_id(&dir, "mbr_Q1");
    let mut renamed = q.clone();
    renamed.phone = Some("+1 212 555 0177".into());
    renamed.demographics.insert("Department", "Support");
    let mut cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![change_entry(
            Action::Update,
            &q,
            renamed.clone(),
            Rule::Source,
        )],
    );
    cs.notifications.push(Notification {
        event: "sync.applied".into(),
        payload: json!({"text": "Quintessa Vandermolen <quintessa.v@acme.example> changed"}),
    });
    write(store, a, cs).await;
    let mut held = change_entry(Action::Update, &renamed, q.clone(), Rule::Source);
    held.applied = false;
    held.held = true;
    let mut cs = changeset(ImportKind::Sync, at(200), vec![held]);
    cs.status = crate::ImportStatus::PartiallyApplied;
    cs.details = json!({"issues": [{"message": "Quintessa Vandermolen born 1971-02-03 may be a duplicate"}]});
    write(store, a, cs).await;
    let dir = directory(store, a).await;
    (by_id(&dir, "mbr_Q1"), by_id(&dir, "E2"))
}

/// [`story`] in account "acme", beside an account with one person of its own (whom
/// no read of "acme" may find): the account, the person and the report.
pub(super) async fn story_beside_another_account(
    store: &dyn Store,
) -> (AccountId, Employee, Employee) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let (q, report) = story(store, a).await;
    seed(
        store,
        other,
        vec![person("X1", "x@other.example", "X", "X")],
    )
    .await;
    (a, q, report)
}

/// After the anonymisation no read holds an erased value; the person stays as an
/// anonymous record with the reporting fields, the report points at the neutral
/// email, the feed and the history agree with the directory, and the record holds
/// field names only.
pub async fn anonymise_leaves_no_erased_value_in_any_read(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (q, _) = story(store, a).await;
    let before = every_read(store, a).await;
    for v in ERASED {
        assert!(before.contains(v), "the story holds {v}");
    }
    let done = store.anonymise(a, &erase_request(q.key)).await.unwrap();
    let after = every_read(store, a).await;
    for v in ERASED {
        assert!(!after.contains(v), "{v} is still readable: {after}");
    }
    let dir = directory(store, a).await;
    let anon = dir.iter().find(|e| e.key == q.key).unwrap();
    assert_eq!(anon.employee_id, format!("RST-E{}", q.key));
    assert_eq!(
        anon.display_name(),
        format!("Former employee RST-E{}", q.key)
    );
    assert_eq!(anon.start_date, q.start_date);
    assert_eq!(anon.demographics.get("Department"), Some("Support"));
    let report = dir.iter().find(|e| e.employee_id == "E2").unwrap();
    assert_eq!(report.manager_email.as_deref(), Some(anon.email.as_str()));
    assert_eq!(done.employees.len(), 1);
    assert!(
        done.employees[0]
            .fields
            .contains(&"date_of_birth".to_string())
    );
    assert!(
        done.employees[0]
            .fields
            .contains(&"demographic:Home City".to_string())
    );
    let record = store.import(a, done.import_id).await.unwrap().unwrap();
    assert_eq!(record.summary.kind, ImportKind::Erasure);
    assert_eq!(record.details["anonymisation"]["by"], "admin@acme.example");
    for c in &record.entries[0].changes {
        assert_eq!(c.rule, Rule::Erasure);
        assert_eq!(
            c.old,
            if ["employee_id", "email"].contains(&c.field.as_str()) {
                c.new.clone()
            } else {
                None
            }
        );
    }
    let erasures = store.erasures(a).await.unwrap();
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].key, q.key);
    assert_eq!(
        erasures[0].source_digest.as_deref(),
        Some("digest-of-the-source-id")
    );
    let events = store
        .events(
            a,
            &EventQuery {
                limit: usize::MAX,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    let last = &events[events.len() - 2];
    assert_eq!(last.import_kind, ImportKind::Erasure);
    assert_eq!(last.employee_key, Some(q.key));
    assert_eq!(
        store.events_from_history(a).await.unwrap(),
        events,
        "the rewritten events are what the rewritten history gives"
    );
    let replayed = feed::replay(&events).expect("the feed replays");
    let by_key: feed::Directory = dir.iter().map(|e| (e.key, e.clone())).collect();
    assert_eq!(replayed, by_key);
}

/// An unknown employee: `NotFound`, and no import is recorded.
pub async fn anonymise_of_an_unknown_employee_writes_nothing(store: &dyn Store) {
    let a = account(store, "acme").await;
    story(store, a).await;
    let imports = store.imports(a, 100).await.unwrap().len();
    let r = store.anonymise(a, &erase_request(987_654)).await;
    assert!(is_not_found(&r), "{r:?}");
    assert_eq!(store.imports(a, 100).await.unwrap().len(), imports);
    assert!(store.erasures(a).await.unwrap().is_empty());
}

/// `--remove`: the row is gone, its reports follow its manager, no erased value is
/// readable anywhere, the history and the feed agree (an `employee.removed`
/// tombstone, the anonymised record as its `before`s), rewinding the feed to before
/// the removal gives the anonymised record back, and the digest stays.
pub async fn remove_deletes_the_row_and_keeps_the_feed_whole(store: &dyn Store) {
    let a = account(store, "acme").await;
    let boss = person("E0", "boss@acme.example", "Bea", "Boss");
    let mut q = quintessa();
    q.manager_email = Some("boss@acme.example".into());
    let mut report = person("E2", "report@acme.example", "Rita", "Report");
    report.manager_email = Some("Quintessa.V@acme.example".into());
    let (_, dir) = seed(store, a, vec![boss, q, report]).await;
    let q = by_id(&dir, "mbr_Q1");
    let mut renamed = q.clone();
    renamed.phone = Some("+1 212 555 0177".into());
    let cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![change_entry(Action::Update, &q, renamed, Rule::Source)],
    );
    write(store, a, cs).await;
    let all = EventQuery {
        limit: usize::MAX,
        ..EventQuery::default()
    };
    let before_removal = store.events(a, &all).await.unwrap();
    let mut request = erase_request(q.key);
    request.remove = true;
    let done = store.anonymise(a, &request).await.unwrap();
    assert_eq!(done.removed.len(), 1);
    let dir = directory(store, a).await;
    assert!(dir.iter().all(|e| e.key != q.key), "the row is gone");
    let boss = by_id(&dir, "E0");
    let report = by_id(&dir, "E2");
    assert_eq!(report.manager_email.as_deref(), Some("boss@acme.example"));
    assert!(boss.is_manager);
    assert_eq!(done.removed[0].key, q.key);
    assert_eq!(done.removed[0].reports_moved.len(), 1);
    assert_eq!(done.removed[0].reports_moved[0].key, report.key);
    assert_eq!(done.removed[0].reports_moved[0].manager_key, Some(boss.key));
    let after = every_read(store, a).await;
    for v in ERASED {
        assert!(!after.contains(v), "{v} is still readable: {after}");
    }
    let erasures = store.erasures(a).await.unwrap();
    assert_eq!(erasures.len(), 1, "the digest stays");
    let record = store.import(a, done.import_id).await.unwrap().unwrap();
    assert_eq!(
        record.details["anonymisation"]["removed"][0]["key"],
        json!(q.key)
    );
    let last = record.entries.last().unwrap();
    assert_eq!(last.action, Action::Remove);
    assert_eq!(last.key, Some(q.key));

    let events = store.events(a, &all).await.unwrap();
    let removed: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == feed::EventType::Removed)
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].employee_key, Some(q.key));
    assert!(
        events
            .iter()
            .any(|e| e.event_type == feed::EventType::Updated
                && e.employee_key == Some(report.key)
                && e.import_id == done.import_id)
    );
    assert_eq!(
        store.events_from_history(a).await.unwrap(),
        events,
        "the feed is what the history gives"
    );
    let replayed = feed::replay(&events).expect("the feed replays");
    let by_key: feed::Directory = dir.iter().map(|e| (e.key, e.clone())).collect();
    assert_eq!(replayed, by_key);
    // Before the removal (as of then): the record as the rewritten history has it —
    // the neutral ID and email, no personal value, the reporting fields.
    let mut past = by_key.clone();
    feed::rewind(&mut past, &events[before_removal.len()..]).unwrap();
    let then = past.get(&q.key).expect("the record as it stood");
    assert_eq!(then.employee_id, format!("RST-E{}", q.key));
    assert_eq!(then.email, format!("erased-{}@erased.invalid", q.key));
    assert_eq!(then.first_name, None);
    assert_eq!(then.phone, None);
    assert_eq!(then.start_date, q.start_date);
    assert_eq!(
        past.get(&report.key).unwrap().manager_email.as_deref(),
        Some(format!("erased-{}@erased.invalid", q.key).as_str())
    );
}
