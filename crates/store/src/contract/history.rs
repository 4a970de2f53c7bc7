//! The contract of history and rollback: an employee's history, merged records,
//! the changes of an import, `rolls_back`, integration updates, the outbox.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use roster_core::employee::{DeactivationReason, Employee, EmployeeKey};
use roster_core::plan::{Action, Change, Rule};
use roster_core::rollback::{RecordedChange, plan_rollback};

use super::fixtures::*;
use crate::{
    EntryRecord, HistoryEntry, ImportId, ImportKind, ImportStatus, IntegrationKind,
    IntegrationState, IntegrationUpdate, Store,
};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_history {
    ($($how:tt)*) => {
        $crate::__contract_section! { history [
            employee_history_is_newest_first,
            merged_records_bring_their_history,
            import_changes_support_rollback,
            rolls_back_marks_the_old_import,
            integration_update_is_applied_with_the_write,
            outbox_receives_notifications,
        ] $($how)* }
    };
}

/// An employee's applied changes, newest first, with import kind, time and rules.
pub async fn employee_history_is_newest_first(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (first, dir) = seed(
        store,
        a,
        vec![
            person("E1", "a@acme.example", "A", "One"),
            person("E2", "b@acme.example", "B", "Two"),
        ],
    )
    .await;
    let (e1, e2) = (dir[0].clone(), dir[1].clone());

    let mut n1 = e1.clone();
    n1.first_name = Some("Ann".into());
    n1.is_manager = true;
    let changes1 = vec![
        Change {
            field: "first_name".into(),
            old: Some("A".into()),
            new: Some("Ann".into()),
            rule: Rule::Source,
        },
        Change {
            field: "is_manager".into(),
            old: Some("false".into()),
            new: Some("true".into()),
            rule: Rule::Derived,
        },
    ];
    let mut entry = change_entry(Action::Update, &e1, n1.clone(), Rule::Source);
    entry.changes = changes1.clone();
    let second = write(store, a, changeset(ImportKind::Sync, at(100), vec![entry])).await;

    let mut d1 = n1.clone();
    (d1.active, d1.excluded, d1.deactivation_reason) =
        (false, true, Some(DeactivationReason::Excluded));
    let third_entry = change_entry(Action::Deactivate, &n1, d1, Rule::Excluded);
    let third = write(
        store,
        a,
        changeset(ImportKind::AdminEdit, at(200), vec![third_entry.clone()]),
    )
    .await;

    let mut n2 = e2.clone();
    n2.phone = Some("+1 555".into());
    let fourth = write(
        store,
        a,
        changeset(
            ImportKind::CsvImport,
            at(300),
            vec![change_entry(Action::Update, &e2, n2, Rule::Source)],
        ),
    )
    .await;

    let h = |import_id, kind, t, action, changes| HistoryEntry {
        import_id,
        kind,
        at: at(t),
        action,
        changes,
        merged_from: None,
    };
    assert_eq!(
        store.employee_history(a, e1.key).await.unwrap(),
        vec![
            h(
                third,
                ImportKind::AdminEdit,
                200,
                Action::Deactivate,
                third_entry.changes
            ),
            h(second, ImportKind::Sync, 100, Action::Update, changes1),
            h(first, ImportKind::Sync, 0, Action::Create, Vec::new()),
        ],
        "history of E1"
    );
    let history2 = store.employee_history(a, e2.key).await.unwrap();
    assert_eq!(
        history2.iter().map(|x| x.import_id).collect::<Vec<_>>(),
        vec![fourth, first],
        "history of E2"
    );
    assert_eq!(history2[0].kind, ImportKind::CsvImport);
    assert!(
        store
            .employee_history(a, e2.key + 100_000)
            .await
            .unwrap()
            .is_empty(),
        "history of nobody"
    );
}

/// DESIGN §6: a record merged into another (`merged_into`) brings its history: the
/// original's history lists the duplicate's applied entries too, marked with the
/// duplicate's employee ID, transitively; the duplicate's own history is unchanged.
pub async fn merged_records_bring_their_history(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (created, dir) = seed(
        store,
        a,
        vec![
            person("ORIG", "orig@acme.example", "O", "Riginal"),
            person("DUP", "dup@acme.example", "D", "Uplicate"),
            person("DUP2", "dup2@acme.example", "E", "Arlier"),
            person("OTHER", "other@acme.example", "X", "Other"),
        ],
    )
    .await;
    let (orig, dup, dup2, other) = (&dir[0], &dir[1], &dir[2], &dir[3]);
    let mut phone = dup.clone();
    phone.phone = Some("+1 555 0101".into());
    let dup_update = write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(100),
            vec![change_entry(
                Action::Update,
                dup,
                phone.clone(),
                Rule::Source,
            )],
        ),
    )
    .await;
    // DUP2 is merged into DUP first, then DUP into ORIG.
    let mut merged2 = dup2.clone();
    (
        merged2.employee_id,
        merged2.email,
        merged2.active,
        merged2.merged_into,
    ) = ("DUP2~merged".into(), String::new(), false, Some(dup.key));
    let first_merge = write(
        store,
        a,
        changeset(
            ImportKind::Merge,
            at(200),
            vec![change_entry(Action::Deactivate, dup2, merged2, Rule::Merge)],
        ),
    )
    .await;
    let mut merged = phone.clone();
    (
        merged.employee_id,
        merged.email,
        merged.active,
        merged.merged_into,
    ) = ("DUP~merged".into(), String::new(), false, Some(orig.key));
    let mut took = orig.clone();
    took.email = "dup@acme.example".into();
    let merge = write(
        store,
        a,
        changeset(
            ImportKind::Merge,
            at(300),
            vec![
                change_entry(Action::Deactivate, &phone, merged, Rule::Merge),
                change_entry(Action::Update, orig, took, Rule::Merge),
            ],
        ),
    )
    .await;

    let history = store.employee_history(a, orig.key).await.unwrap();
    let lines: Vec<(ImportId, Option<&str>)> = history
        .iter()
        .map(|h| (h.import_id, h.merged_from.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (merge, None),
            (merge, Some("DUP~merged")),
            (first_merge, Some("DUP2~merged")),
            (dup_update, Some("DUP~merged")),
            (created, Some("DUP2~merged")),
            (created, Some("DUP~merged")),
            (created, None),
        ],
        "the original's history with the merged records'"
    );
    let own = store.employee_history(a, dup.key).await.unwrap();
    assert!(
        own.iter()
            .all(|h| h.merged_from.as_deref() != Some("DUP~merged")),
        "a record's own lines are not marked: {own:?}"
    );
    assert_eq!(
        store
            .employee_history(a, other.key)
            .await
            .unwrap()
            .iter()
            .map(|h| h.import_id)
            .collect::<Vec<_>>(),
        vec![created],
        "an unrelated employee's history is its own"
    );
}

/// `import_changes` gives what `plan_rollback` needs; the rollback restores the directory.
pub async fn import_changes_support_rollback(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (first, dir) = seed(
        store,
        a,
        vec![
            full_employee("E1", "a@acme.example"),
            person("E2", "b@acme.example", "B", "Two"),
        ],
    )
    .await;
    let (e1, e2) = (dir[0].clone(), dir[1].clone());
    let changes = store.import_changes(a, first).await.unwrap();
    let keys: BTreeSet<EmployeeKey> = changes.iter().map(|c| c.key).collect();
    assert_eq!(
        keys,
        BTreeSet::from([e1.key, e2.key]),
        "every created employee has a recorded change"
    );
    assert!(
        changes.iter().all(|c| c.created),
        "changes of created employees are flagged created"
    );

    let mut n1 = e1.clone();
    n1.first_name = Some("Renamed".into());
    n1.demographics.insert("Département", "Ventes");
    n1.demographics.remove("Office");
    n1.hire_date = None;
    let update = change_entry(Action::Update, &e1, n1.clone(), Rule::Source);
    let mut held = change_entry(
        Action::Update,
        &e2,
        Employee {
            phone: Some("+1".into()),
            ..e2.clone()
        },
        Rule::Source,
    );
    (held.applied, held.held) = (false, true);
    let mut cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            update.clone(),
            create_entry(person("E3", "c@acme.example", "C", "Three")),
            held,
        ],
    );
    cs.status = ImportStatus::PartiallyApplied;
    let second = write(store, a, cs).await;
    let e3 = by_id(&directory(store, a).await, "E3");

    let changes = store.import_changes(a, second).await.unwrap();
    let for_e1: Vec<RecordedChange> = changes
        .iter()
        .filter(|c| c.key == e1.key)
        .cloned()
        .collect();
    let want: Vec<RecordedChange> = update
        .changes
        .iter()
        .map(|c| RecordedChange {
            key: e1.key,
            field: c.field.clone(),
            old: c.old.clone(),
            new: c.new.clone(),
            created: false,
        })
        .collect();
    assert_eq!(for_e1, want, "recorded changes of an updated employee");
    assert!(
        changes.iter().any(|c| c.key == e3.key),
        "a created employee has no recorded change"
    );
    assert!(
        changes
            .iter()
            .filter(|c| c.key == e3.key)
            .all(|c| c.created),
        "a create is not flagged created"
    );
    assert!(
        changes.iter().all(|c| c.key != e2.key),
        "held changes are listed for rollback"
    );
    assert!(
        store
            .import_changes(a, second + 1000)
            .await
            .unwrap()
            .is_empty(),
        "changes of an unknown import"
    );

    // Roll it back through the core's planner.
    let plan = plan_rollback(&changes, &directory(store, a).await);
    assert!(
        plan.conflicts.is_empty(),
        "rollback conflicts: {:?}",
        plan.conflicts
    );
    let entries = plan
        .restore
        .iter()
        // As the engine records a rollback: the plan of its edits.
        .map(|(after, fields)| EntryRecord {
            action: if after.active {
                Action::Update
            } else {
                Action::Deactivate
            },
            key: Some(after.key),
            employee_id: after.employee_id.clone(),
            changes: fields
                .iter()
                .map(|(field, old, new)| Change {
                    field: field.clone(),
                    old: old.clone(),
                    new: new.clone(),
                    rule: Rule::Source,
                })
                .collect(),
            after: after.clone(),
            applied: true,
            held: false,
            privacy: false,
        })
        .collect();
    let mut cs = changeset(ImportKind::Rollback, at(200), entries);
    cs.rolls_back = Some(second);
    write(store, a, cs).await;
    let mut gone = e3.clone();
    (gone.active, gone.deactivation_reason) = (false, Some(DeactivationReason::RolledBack));
    assert_eq!(
        directory(store, a).await,
        vec![e1, e2, gone],
        "directory after the rollback"
    );
    assert_eq!(
        store
            .import(a, second)
            .await
            .unwrap()
            .map(|r| r.summary.status),
        Some(ImportStatus::RolledBack)
    );
}

/// A changeset with `rolls_back` marks that import rolled back, in the same transaction.
pub async fn rolls_back_marks_the_old_import(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (first, _) = seed(store, a, vec![minimal("E1")]).await;
    let mut cs = changeset(ImportKind::Rollback, at(10), Vec::new());
    cs.rolls_back = Some(first + 1000);
    assert!(
        is_not_found(&store.write(a, cs.clone()).await),
        "rolling back an unknown import"
    );
    assert_eq!(
        store.imports(a, 10).await.unwrap().len(),
        1,
        "a failed rollback was recorded"
    );

    cs.rolls_back = Some(first);
    let rollback = write(store, a, cs).await;
    let imports = store.imports(a, 10).await.unwrap();
    let status: BTreeMap<ImportId, ImportStatus> =
        imports.iter().map(|i| (i.id, i.status)).collect();
    assert_eq!(
        status[&first],
        ImportStatus::RolledBack,
        "the old import is not marked rolled back"
    );
    assert_eq!(
        status[&rollback],
        ImportStatus::Applied,
        "the rollback import itself"
    );
    assert_eq!(
        imports.iter().find(|i| i.id == rollback).map(|i| i.kind),
        Some(ImportKind::Rollback)
    );
}

/// `integration_update` lands with the write; `None` fields keep their value.
pub async fn integration_update_is_applied_with_the_write(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let mut cs = changeset(ImportKind::Sync, at(10), vec![create_entry(minimal("E1"))]);
    cs.integration_id = Some(int.id);
    cs.integration_update = Some(IntegrationUpdate {
        state: Some(IntegrationState::NeedsFinalise),
        last_fetch_at: Some(at(1)),
        last_sync_at: Some(at(2)),
    });
    write(store, a, cs.clone()).await;
    let mut want = int.clone();
    (want.state, want.last_fetch_at, want.last_sync_at) =
        (IntegrationState::NeedsFinalise, Some(at(1)), Some(at(2)));
    assert_eq!(
        store.integration(a, int.id).await.unwrap(),
        Some(want.clone()),
        "after the first update"
    );

    cs.entries = Vec::new();
    cs.integration_update = Some(IntegrationUpdate {
        state: Some(IntegrationState::Active),
        last_fetch_at: None,
        last_sync_at: Some(at(3)),
    });
    write(store, a, cs.clone()).await;
    (want.state, want.last_sync_at) = (IntegrationState::Active, Some(at(3)));
    assert_eq!(
        store.integration(a, int.id).await.unwrap(),
        Some(want.clone()),
        "a None field was not kept"
    );

    cs.integration_update = Some(IntegrationUpdate {
        state: None,
        last_fetch_at: Some(at(4)),
        last_sync_at: None,
    });
    write(store, a, cs.clone()).await;
    want.last_fetch_at = Some(at(4));
    assert_eq!(
        store.integration(a, int.id).await.unwrap(),
        Some(want.clone()),
        "a None state was not kept"
    );

    let before = store.imports(a, 100).await.unwrap();
    cs.integration_id = Some(int.id + 1000);
    assert!(
        is_not_found(&store.write(a, cs).await),
        "updating an unknown integration"
    );
    assert_eq!(
        store.imports(a, 100).await.unwrap(),
        before,
        "a failed write was recorded"
    );
    assert_eq!(store.integration(a, int.id).await.unwrap(), Some(want));
}

/// Notifications are queued with their import; delivered ones leave the outbox.
pub async fn outbox_receives_notifications(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut cs = changeset(ImportKind::Sync, at(10), vec![create_entry(minimal("E1"))]);
    cs.notifications = vec![
        notification("sync.applied", 1),
        notification("employees.created", 2),
    ];
    let first = write(store, a, cs).await;
    let mut cs = changeset(ImportKind::Sync, at(20), Vec::new());
    cs.status = ImportStatus::Blocked;
    cs.notifications = vec![notification("sync.blocked", 3)];
    let second = write(store, a, cs).await;
    assert_eq!(
        store.outbox(a, 100).await.unwrap().len(),
        3,
        "every notification is queued"
    );

    let outbox = store.outbox(a, 100).await.unwrap();
    type Seen<'a> = (
        Option<ImportId>,
        &'a str,
        &'a serde_json::Value,
        Timestamp,
        Option<Timestamp>,
    );
    let got: Vec<Seen> = outbox
        .iter()
        .map(|m| {
            (
                m.import_id,
                m.event.as_str(),
                &m.payload,
                m.created_at,
                m.delivered_at,
            )
        })
        .collect();
    let (p1, p2, p3) = (
        notification("", 1).payload,
        notification("", 2).payload,
        notification("", 3).payload,
    );
    assert_eq!(
        got,
        vec![
            (Some(first), "sync.applied", &p1, at(10), None),
            (Some(first), "employees.created", &p2, at(10), None),
            (Some(second), "sync.blocked", &p3, at(20), None),
        ],
        "outbox() lists undelivered messages oldest first"
    );
    assert!(
        outbox.windows(2).all(|w| w[0].id < w[1].id),
        "outbox ids ascend"
    );
    assert_eq!(
        store.outbox(a, 2).await.unwrap(),
        outbox[..2],
        "outbox() limit"
    );

    store
        .mark_delivered(a, outbox[0].id, at(30))
        .await
        .expect("mark_delivered");
    assert_eq!(
        store.outbox(a, 100).await.unwrap(),
        outbox[1..],
        "a delivered message is still listed"
    );
    store
        .mark_delivered(a, outbox[0].id, at(31))
        .await
        .expect("marking delivered twice is fine");
    assert!(
        is_not_found(&store.mark_delivered(a, outbox[2].id + 1000, at(30)).await),
        "marking an unknown message"
    );
}
