//! The contract of writing changesets: swaps in one changeset, updates move every
//! look-up, a failing changeset changes nothing, entries not applied are recorded
//! but not applied.

use jiff::civil::date;
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::plan::{Action, Lookups, Rule};
use serde_json::json;

use super::fixtures::*;
use crate::{
    EmployeeFilter, EntryRecord, ImportKind, ImportStatus, IntegrationKind, IntegrationState,
    IntegrationUpdate, Store,
};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_writes {
    ($($how:tt)*) => {
        $crate::__contract_section! { writes [
            swap_emails_and_ids_in_one_changeset,
            failing_changeset_changes_nothing,
            unapplied_entries_are_recorded_but_not_applied,
            updates_move_every_lookup,
        ] $($how)* }
    };
}

/// Two employees swap emails and IDs in one changeset; a create takes a freed email.
pub async fn swap_emails_and_ids_in_one_changeset(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "a@acme.example", "A", "One"),
            person("E2", "b@acme.example", "B", "Two"),
            person("E3", "c@acme.example", "C", "Three"),
        ],
    )
    .await;
    let (e1, e2, e3) = (dir[0].clone(), dir[1].clone(), dir[2].clone());
    let mut n1 = e1.clone();
    (n1.employee_id, n1.email) = ("E2".into(), "B@acme.example".into());
    let mut n2 = e2.clone();
    (n2.employee_id, n2.email) = ("E1".into(), "a@acme.example".into());
    let mut n3 = e3.clone();
    n3.email = "C@ACME.EXAMPLE".into();
    let cs = changeset(
        ImportKind::Sync,
        at(10),
        vec![
            change_entry(Action::Update, &e1, n1.clone(), Rule::Source),
            change_entry(Action::Update, &e2, n2.clone(), Rule::Source),
            change_entry(Action::Update, &e3, n3.clone(), Rule::Source),
        ],
    );
    write(store, a, cs).await;
    assert_eq!(
        directory(store, a).await,
        vec![n1.clone(), n2.clone(), n3.clone()],
        "after the swap"
    );
    assert_eq!(
        store.find_employee(a, "E1").await.unwrap().map(|e| e.key),
        Some(e2.key)
    );
    assert_eq!(
        store
            .find_employee(a, "b@acme.example")
            .await
            .unwrap()
            .map(|e| e.key),
        Some(e1.key)
    );

    // A three-way rotation of emails, while one moves to a new email and a new
    // employee takes the email it left.
    let mut m1 = n1.clone();
    m1.email = n2.email.clone();
    let mut m2 = n2.clone();
    m2.email = n3.email.clone();
    let mut m3 = n3.clone();
    m3.email = "c.new@acme.example".into();
    m3.employee_id = "E3-NEW".into();
    let mut fresh = person("E3", "B@ACME.example", "New", "Hire");
    let cs = changeset(
        ImportKind::Sync,
        at(20),
        vec![
            change_entry(Action::Update, &n1, m1.clone(), Rule::Source),
            change_entry(Action::Update, &n2, m2.clone(), Rule::Source),
            change_entry(Action::Update, &n3, m3.clone(), Rule::Source),
            create_entry(fresh.clone()),
        ],
    );
    write(store, a, cs).await;
    let dir = directory(store, a).await;
    fresh.key = dir[3].key;
    assert_eq!(dir, vec![m1, m2, m3, fresh], "after the rotation");
}

/// Each indexed field changed on its own, none, and all at once, in one changeset:
/// every row reads back as written and every look-up finds it by its new values
/// only (the SQLite adapter sets an indexed column only where its value differs).
pub async fn updates_move_every_lookup(store: &dyn Store) {
    let a = account(store, "acme").await;
    let people = (0..9)
        .map(|i| full_employee(&format!("U{i}"), &format!("u{i}@acme.example")))
        .collect();
    let (_, dir) = seed(store, a, people).await;
    let mut after = dir.clone();
    after[0].first_name = Some("Changed".into());
    after[0].phone = None;
    after[1].employee_id = "U1-NEW".into();
    after[2].email = "U2.New@Acme.example".into();
    after[3].source_id = Some("mbr_new3".into());
    after[4].date_of_birth = Some(date(1971, 1, 1));
    after[5].manager_email = Some("Other.Boss@acme.example".into());
    after[6].active = false;
    after[6].deactivation_reason = Some(DeactivationReason::EndDate);
    after[7].secondary_email = Some("U7.Else@Home.example".into());
    let all = &mut after[8];
    all.employee_id = "U8-NEW".into();
    all.email = "u8.new@acme.example".into();
    all.source_id = None;
    all.date_of_birth = None;
    all.manager_email = None;
    all.active = false;
    all.deactivation_reason = Some(DeactivationReason::Missing);
    all.secondary_email = None;
    all.demographics.clear();
    let entries = dir
        .iter()
        .zip(&after)
        .map(|(b, e)| change_entry(Action::Update, b, e.clone(), Rule::Source))
        .collect();
    write(store, a, changeset(ImportKind::Sync, at(10), entries)).await;
    assert_eq!(directory(store, a).await, after);

    let keys = |rows: Vec<Employee>| rows.into_iter().map(|e| e.key).collect::<Vec<_>>();
    let find = async |lookups: Lookups| keys(store.employees_matching(a, &lookups).await.unwrap());
    // An identifier that stays is still found when the other one moves (a write
    // that clears both first must set back the one that stays).
    let by_id = Lookups {
        employee_ids: ["U1", "U1-NEW", "U2", "U8", "U8-NEW"]
            .map(Into::into)
            .to_vec(),
        ..Lookups::default()
    };
    assert_eq!(
        find(by_id).await,
        [after[1].key, after[2].key, after[8].key]
    );
    let by_email = Lookups {
        emails: ["u1@acme.example", "u2@acme.example", "u2.new@acme.example"]
            .map(Into::into)
            .to_vec(),
        ..Lookups::default()
    };
    assert_eq!(find(by_email).await, [after[1].key, after[2].key]);
    let by_source = Lookups {
        source_ids: vec!["mbr_U3".into(), "mbr_new3".into(), "mbr_U8".into()],
        ..Lookups::default()
    };
    assert_eq!(find(by_source).await, [after[3].key]);
    let by_birth = Lookups {
        dates_of_birth: vec![date(1971, 1, 1)],
        ..Lookups::default()
    };
    assert_eq!(find(by_birth).await, [after[4].key]);
    let bosses = ["boss@acme.example".into(), "other.boss@acme.example".into()];
    assert_eq!(
        store.active_report_counts(a, &bosses).await.unwrap(),
        [(bosses[0].clone(), 6), (bosses[1].clone(), 1)]
    );
    assert_eq!(store.count_employees(a, true).await.unwrap(), 7);
    let count = async |f: EmployeeFilter| store.count_selected(a, &f).await.unwrap();
    let secondary = |e: &str| EmployeeFilter::SecondaryEmails(vec![e.into()]);
    assert_eq!(count(secondary("u7.else@home.example")).await, 1);
    assert_eq!(count(secondary("u7@home.example")).await, 0);
    let ids = |e: &str| EmployeeFilter::EmployeeIds(vec![e.into()]);
    assert_eq!(count(ids("u1-new")).await, 1);
    assert_eq!(count(ids("u1")).await, 0);
}

/// A changeset that fails part-way leaves everything exactly as before.
pub async fn failing_changeset_changes_nothing(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let mut cs = changeset(
        ImportKind::Sync,
        at(0),
        vec![
            create_entry(person("E1", "a@acme.example", "A", "One")),
            create_entry(person("E2", "b@acme.example", "B", "Two")),
        ],
    );
    cs.integration_id = Some(int.id);
    cs.notifications = vec![notification("sync.applied", 1)];
    let first = write(store, a, cs).await;

    let snapshot = || async {
        (
            directory(store, a).await,
            store.imports(a, 100).await.unwrap(),
            store.import(a, first).await.unwrap(),
            store.outbox(a, 100).await.unwrap(),
            store.integration(a, int.id).await.unwrap(),
            store.count_employees(a, false).await.unwrap(),
        )
    };
    let before = snapshot().await;
    let e1 = by_id(&before.0, "E1");
    let mut renamed = e1.clone();
    renamed.first_name = Some("Changed".into());
    renamed.email = "moved@acme.example".into();

    let failing: Vec<(&str, Vec<EntryRecord>)> = vec![
        (
            "last entry duplicates an untouched employee's ID",
            vec![
                change_entry(Action::Update, &e1, renamed.clone(), Rule::Source),
                create_entry(person("E9", "new@acme.example", "New", "Nine")),
                create_entry(person("E2", "other@acme.example", "Dup", "Id")),
            ],
        ),
        (
            "last entry duplicates an untouched employee's email (other case)",
            vec![
                change_entry(Action::Update, &e1, renamed.clone(), Rule::Source),
                create_entry(person("E9", "new@acme.example", "New", "Nine")),
                create_entry(person("E10", "B@ACME.EXAMPLE", "Dup", "Email")),
            ],
        ),
        (
            "two creates with the same ID",
            vec![
                create_entry(person("E9", "new@acme.example", "New", "Nine")),
                create_entry(person("E9", "new2@acme.example", "New", "Nine")),
            ],
        ),
        (
            "an update of a key that does not exist",
            vec![
                change_entry(Action::Update, &e1, renamed.clone(), Rule::Source),
                {
                    let ghost = Employee {
                        key: e1.key + 100_000,
                        ..minimal("GHOST")
                    };
                    change_entry(Action::Update, &ghost, minimal("GHOST2"), Rule::Source)
                },
            ],
        ),
    ];
    for (what, entries) in failing {
        let mut cs = changeset(ImportKind::Sync, at(50), entries);
        cs.integration_id = Some(int.id);
        cs.rolls_back = Some(first);
        cs.notifications = vec![notification("sync.applied", 2)];
        cs.integration_update = Some(IntegrationUpdate {
            state: Some(IntegrationState::Active),
            last_fetch_at: Some(at(40)),
            last_sync_at: Some(at(50)),
        });
        assert!(
            store.write(a, cs).await.is_err(),
            "a changeset whose {what} was written"
        );
        assert_eq!(
            snapshot().await,
            before,
            "a failed changeset ({what}) changed something"
        );
    }

    // The store still works afterwards.
    let cs = changeset(
        ImportKind::AdminEdit,
        at(60),
        vec![change_entry(
            Action::Update,
            &e1,
            renamed.clone(),
            Rule::Source,
        )],
    );
    write(store, a, cs).await;
    assert_eq!(store.employee(a, e1.key).await.unwrap(), Some(renamed));
}

/// Blocked and held entries are recorded with their `after`, and the directory is untouched.
pub async fn unapplied_entries_are_recorded_but_not_applied(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (_, dir) = seed(
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
    n1.last_name = Some("Blocked".into());
    let mut blocked_create = create_entry(full_employee("E3", "c@acme.example"));
    blocked_create.applied = false;
    let mut blocked_update = change_entry(Action::Update, &e1, n1.clone(), Rule::Source);
    blocked_update.applied = false;
    let mut cs = changeset(
        ImportKind::Sync,
        at(10),
        vec![blocked_update.clone(), blocked_create.clone()],
    );
    cs.status = ImportStatus::Blocked;
    cs.details = json!({"guard": "mass_change", "message": "would deactivate 9 of 10"});
    let blocked = write(store, a, cs.clone()).await;
    assert_eq!(
        directory(store, a).await,
        dir,
        "a blocked import changed the directory"
    );
    let record = store
        .import(a, blocked)
        .await
        .unwrap()
        .expect("blocked import recorded");
    assert_eq!(
        record.entries, cs.entries,
        "blocked entries read back differ"
    );
    assert_eq!(record.summary.status, ImportStatus::Blocked);
    assert_eq!(record.details, cs.details);
    assert!(
        store.import_changes(a, blocked).await.unwrap().is_empty(),
        "a blocked import has changes to roll back"
    );

    // Partially applied: E1 applied, E2 held for approval.
    let mut n2 = e2.clone();
    n2.first_name = Some("Held".into());
    n2.date_of_birth = Some(date(1970, 1, 1));
    n2.email = "held@acme.example".into();
    let mut held = change_entry(Action::Update, &e2, n2, Rule::Source);
    (held.applied, held.held, held.privacy) = (false, true, true);
    let applied = change_entry(Action::Update, &e1, n1.clone(), Rule::Source);
    let mut cs = changeset(
        ImportKind::Sync,
        at(20),
        vec![applied.clone(), held.clone()],
    );
    cs.status = ImportStatus::PartiallyApplied;
    let partial = write(store, a, cs.clone()).await;
    assert_eq!(
        directory(store, a).await,
        vec![n1, e2.clone()],
        "held entry was applied or applied one was not"
    );
    let record = store
        .import(a, partial)
        .await
        .unwrap()
        .expect("partial import recorded");
    assert_eq!(
        record.entries,
        vec![applied.clone(), held],
        "partially applied entries read back differ"
    );
    let changes = store.import_changes(a, partial).await.unwrap();
    assert!(
        changes.iter().all(|c| c.key == e1.key),
        "held entries have no changes to roll back"
    );
    assert_eq!(changes.len(), applied.changes.len());

    let history = store.employee_history(a, e2.key).await.unwrap();
    assert_eq!(
        history.len(),
        1,
        "held or blocked entries show in the history"
    );
    assert_eq!(history[0].action, Action::Create);
    let history = store.employee_history(a, e1.key).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.import_id).collect::<Vec<_>>()[..1],
        [partial]
    );
    assert_eq!(history.len(), 2, "blocked entries show in the history");
}

/// A changeset of `n` new employees (more than one statement's worth on the adapter
/// under test), then one in which every one swaps its email with its neighbour (so
/// that some pairs are split between statements): keys follow entry order, the
/// swap lands, and the import reads back whole. Not in the suite: each adapter
/// picks `n` for its own statement sizes.
pub async fn large_changeset_round_trip(store: &dyn Store, n: usize) {
    let a = store.ensure_account("acme").await.unwrap();
    let entries = (0..n).map(|i| {
        create_entry(full_employee(
            &format!("E{i:05}"),
            &format!("e{i}@x.example"),
        ))
    });
    store
        .write(a, changeset(ImportKind::Sync, at(0), entries.collect()))
        .await
        .expect("write");
    let dir = store.directory(a).await.unwrap();
    assert_eq!(dir.len(), n);
    assert!(
        dir.iter()
            .enumerate()
            .all(|(i, e)| e.employee_id == format!("E{i:05}")),
        "keys follow entry order"
    );

    // Every one of them swaps its email with its neighbour, in one changeset whose
    // chunks split some pairs.
    let entries = dir
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut after = e.clone();
            after.email = match dir.get(i ^ 1) {
                Some(neighbour) => neighbour.email.clone(),
                None => "odd-one-out@x.example".to_string(),
            };
            change_entry(Action::Update, e, after, Rule::Source)
        })
        .collect();
    let second = store
        .write(a, changeset(ImportKind::Sync, at(10), entries))
        .await
        .expect("swap write");
    let after = store.directory(a).await.unwrap();
    assert_eq!(after[0].email, dir[1].email);
    assert_eq!(after[1].email, dir[0].email);
    assert_eq!(after[n - 1].email, "odd-one-out@x.example");
    let record = store.import(a, second).await.unwrap().expect("import 2");
    assert_eq!(record.entries.len(), n);
    assert_eq!(store.import_changes(a, second).await.unwrap().len(), n);
}
