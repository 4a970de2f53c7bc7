//! The contract of what the store holds about one person (`person_record`: their
//! row, records merged into them, every entry and import about them, nobody
//! else's) and of retention holds.

use std::collections::{BTreeMap, BTreeSet};

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::plan::{Action, Rule};

use super::fixtures::*;
use crate::privacy::RetentionHold;
use crate::{AccountId, ImportId, ImportKind, ImportStatus, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_privacy {
    ($($how:tt)*) => {
        $crate::__contract_section! { privacy [
            person_record_holds_the_person_and_records_merged_into_them,
            the_history_chain_finds_every_entry_about_an_employee,
            retention_holds_are_kept_per_employee,
        ] $($how)* }
    };
}

/// ORIG, DUP and OTHER created; OTHER changed alone and next to ORIG's held rename;
/// DUP merged into ORIG. The directory and the imports: (created, only OTHER's,
/// shared, merge).
async fn story(store: &dyn Store, a: AccountId) -> (Vec<Employee>, [ImportId; 4]) {
    let (created, dir) = seed(
        store,
        a,
        vec![
            person("ORIG", "orig@acme.example", "Olga", "Riginal"),
            person("DUP", "dup@acme.example", "Olga", "Dupe"),
            person("OTHER", "other@acme.example", "Xavier", "Other"),
        ],
    )
    .await;
    let (orig, dup, other) = (&dir[0], &dir[1], &dir[2]);

    // OTHER's change, in an import of its own and in one shared with ORIG.
    let mut other_phone = other.clone();
    other_phone.phone = Some("+1 555 0199".into());
    let only_other = write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(50),
            vec![change_entry(
                Action::Update,
                other,
                other_phone.clone(),
                Rule::Source,
            )],
        ),
    )
    .await;
    // ORIG's rename and birth date held by the privacy guard (not applied), next to
    // an applied change of OTHER.
    let mut renamed = orig.clone();
    renamed.last_name = Some("Newname".into());
    renamed.date_of_birth = Some(jiff::civil::date(1980, 2, 3));
    let mut held = change_entry(Action::Update, orig, renamed.clone(), Rule::Source);
    (held.applied, held.held, held.privacy) = (false, true, true);
    let mut other_again = other_phone.clone();
    other_again.phone = Some("+1 555 0200".into());
    let mut cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            held,
            change_entry(Action::Update, &other_phone, other_again, Rule::Source),
        ],
    );
    cs.status = ImportStatus::PartiallyApplied;
    let shared = write(store, a, cs).await;
    // DUP merged into ORIG.
    let mut merged = dup.clone();
    (
        merged.employee_id,
        merged.email,
        merged.active,
        merged.merged_into,
    ) = ("DUP~merged".into(), String::new(), false, Some(orig.key));
    let merge = write(
        store,
        a,
        changeset(
            ImportKind::Merge,
            at(200),
            vec![change_entry(Action::Deactivate, dup, merged, Rule::Merge)],
        ),
    )
    .await;

    (dir, [created, only_other, shared, merge])
}

/// The person's row, the duplicate merged into them, every entry about either
/// (applied, and held with the values it carried), the imports of those entries —
/// and nothing of anyone else, nor from another account.
pub async fn person_record_holds_the_person_and_records_merged_into_them(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other_account = account(store, "globex").await;
    let (dir, [created, only_other, shared, merge]) = story(store, a).await;
    let (orig, dup) = (&dir[0], &dir[1]);
    let record = store
        .person_record(a, orig.key)
        .await
        .unwrap()
        .expect("ORIG's record");
    assert_eq!(record.employee, *orig, "the directory row");
    assert_eq!(
        record
            .merged
            .iter()
            .map(|e| (e.key, e.employee_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(dup.key, "DUP~merged")],
        "the record merged into ORIG"
    );
    assert_eq!(record.keys(), vec![orig.key, dup.key]);
    let lines: Vec<_> = record
        .entries
        .iter()
        .map(|e| (e.import_id, e.employee_key, e.action, e.applied, e.held))
        .collect();
    assert_eq!(
        lines,
        vec![
            (created, orig.key, Action::Create, true, false),
            (created, dup.key, Action::Create, true, false),
            (shared, orig.key, Action::Update, false, true),
            (merge, dup.key, Action::Deactivate, true, false),
        ],
        "every entry about ORIG or DUP, oldest first; none about OTHER"
    );
    let held = &record.entries[2];
    assert!(held.privacy);
    assert_eq!(
        held.after.as_ref().map(|e| e.last_name.as_deref()),
        Some(Some("Newname")),
        "a held entry carries the values it would have written"
    );
    assert!(
        held.changes
            .iter()
            .any(|c| c.field == "date_of_birth" && c.new.as_deref() == Some("1980-02-03")),
        "{:?}",
        held.changes
    );
    assert!(
        record
            .entries
            .iter()
            .all(|e| e.applied == e.after.is_none()),
        "only entries not applied carry `after`"
    );
    assert_eq!(
        record
            .imports
            .iter()
            .map(|i| (i.id, i.kind, i.status))
            .collect::<Vec<_>>(),
        vec![
            (created, ImportKind::Sync, ImportStatus::Applied),
            (shared, ImportKind::Sync, ImportStatus::PartiallyApplied),
            (merge, ImportKind::Merge, ImportStatus::Applied),
        ],
        "the imports that touched ORIG or DUP (not {only_other}, OTHER's alone)"
    );
    let text = serde_json::to_string(&record).unwrap();
    for theirs in ["Xavier", "other@acme.example", "555 0199", "555 0200"] {
        assert!(
            !text.contains(theirs),
            "OTHER's {theirs:?} in ORIG's record"
        );
    }

    let dups = store.person_record(a, dup.key).await.unwrap().unwrap();
    assert!(dups.merged.is_empty(), "nothing was merged into DUP");
    assert!(
        !serde_json::to_string(&dups).unwrap().contains("Riginal"),
        "the record merged away does not hold its original's data"
    );
    assert_eq!(
        store.person_record(other_account, orig.key).await.unwrap(),
        None,
        "another account sees nobody"
    );
    assert_eq!(store.person_record(a, i64::MAX).await.unwrap(), None);
}

/// A hold per employee, with its reason and time; setting it again changes the
/// reason and keeps the time; lifting it twice finds none the second time; an
/// unknown employee or another account's is `NotFound`.
pub async fn retention_holds_are_kept_per_employee(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "e1@acme.example", "A", "One"),
            person("E2", "e2@acme.example", "B", "Two"),
        ],
    )
    .await;
    let keys: Vec<i64> = dir.iter().map(|e: &Employee| e.key).collect();
    assert!(store.retention_holds(a).await.unwrap().is_empty());
    let hold = |k: i64, reason: &str, t: i64| RetentionHold {
        employee_key: k,
        reason: reason.into(),
        since: at(t),
    };
    store
        .hold_retention(a, hold(keys[1], "legal hold: case 14", 10))
        .await
        .unwrap();
    store
        .hold_retention(a, hold(keys[0], "audit", 20))
        .await
        .unwrap();
    store
        .hold_retention(a, hold(keys[1], "legal hold: case 14 and 15", 30))
        .await
        .unwrap();
    assert_eq!(
        store.retention_holds(a).await.unwrap(),
        vec![
            hold(keys[0], "audit", 20),
            hold(keys[1], "legal hold: case 14 and 15", 10),
        ],
        "by key; a second hold changes the reason, not the time"
    );
    assert!(store.retention_holds(b).await.unwrap().is_empty());
    assert!(is_not_found(
        &store.hold_retention(b, hold(keys[0], "x", 0)).await
    ));
    assert!(is_not_found(
        &store.hold_retention(a, hold(i64::MAX, "x", 0)).await
    ));
    assert!(!store.release_retention(b, keys[0]).await.unwrap());
    assert!(store.release_retention(a, keys[0]).await.unwrap());
    assert!(!store.release_retention(a, keys[0]).await.unwrap());
    assert_eq!(
        store.retention_holds(a).await.unwrap(),
        vec![hold(keys[1], "legal hold: case 14 and 15", 10)]
    );
}

/// Each employee's entries, found through the history chain (migration 0017), are
/// those of every import about it: after creates, updates, an entry held, an import
/// with an applied and an unapplied entry about one employee, a merge and an erasure
/// (whose entry the anonymisation writes itself); and its imports are theirs.
pub async fn the_history_chain_finds_every_entry_about_an_employee(store: &dyn Store) {
    let (a, q, report) = super::erasure::story_beside_another_account(store).await;
    let (_, dir) = seed(
        store,
        a,
        vec![person("D1", "dup@acme.example", "Rita", "Report")],
    )
    .await;
    let dup = by_id(&dir, "D1");
    // An update of the report applied, and another held, in one import.
    let mut renamed = report.clone();
    renamed.first_name = Some("Rhoda".into());
    let mut held = change_entry(Action::Update, &report, report.clone(), Rule::Source);
    held.applied = false;
    held.held = true;
    let cs = changeset(
        ImportKind::Sync,
        at(300),
        vec![
            change_entry(Action::Update, &report, renamed, Rule::Source),
            held,
        ],
    );
    write(store, a, cs).await;
    let mut merged = dup.clone();
    merged.merged_into = Some(report.key);
    merged.active = false;
    let cs = changeset(
        ImportKind::Merge,
        at(400),
        vec![change_entry(Action::Update, &dup, merged, Rule::Merge)],
    );
    write(store, a, cs).await;
    store
        .anonymise(a, &super::erasure::erase_request(q.key))
        .await
        .unwrap();

    // Every import's entries, by the employee they are about.
    let mut about: BTreeMap<EmployeeKey, Vec<(ImportId, Action, bool)>> = BTreeMap::new();
    let mut summaries = store.imports(a, 1000).await.unwrap();
    summaries.sort_by_key(|s| s.id);
    for summary in &summaries {
        let record = store.import(a, summary.id).await.unwrap().expect("import");
        for entry in record.entries {
            if let Some(k) = entry.key {
                about
                    .entry(k)
                    .or_default()
                    .push((summary.id, entry.action, entry.applied));
            }
        }
    }
    assert_eq!(about.len(), 3, "Q, the report and the duplicate: {about:?}");
    assert_eq!(
        about[&report.key].len(),
        3,
        "its create, then two in one import"
    );
    for (key, want) in &about {
        let record = store.person_record(a, *key).await.unwrap().expect("person");
        let got: Vec<(ImportId, Action, bool)> = record
            .entries
            .iter()
            .filter(|e| e.employee_key == *key)
            .map(|e| (e.import_id, e.action, e.applied))
            .collect();
        assert_eq!(&got, want, "the entries about {key}");
        let family: BTreeSet<ImportId> = record.entries.iter().map(|e| e.import_id).collect();
        let imports: BTreeSet<ImportId> = record.imports.iter().map(|i| i.id).collect();
        assert_eq!(imports, family, "the imports of {key}'s entries");
        let applied: Vec<ImportId> = want
            .iter()
            .rev()
            .filter(|(_, _, applied)| *applied)
            .map(|(id, _, _)| *id)
            .collect();
        let history: Vec<ImportId> = store
            .employee_history(a, *key)
            .await
            .unwrap()
            .iter()
            .filter(|h| h.merged_from.is_none())
            .map(|h| h.import_id)
            .collect();
        assert_eq!(history, applied, "{key}'s history, newest first");
    }
    let report_record = store.person_record(a, report.key).await.unwrap().unwrap();
    assert!(
        report_record
            .entries
            .iter()
            .any(|e| e.employee_key == dup.key),
        "the merged duplicate's entries come with the report's"
    );
}
