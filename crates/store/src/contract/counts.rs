//! The contract of the kept active count (issue #15): `count_employees(a, true)`,
//! which the mass-change guard of every sync reads, is the number of active rows of
//! the account after every kind of write — creates, updates that deactivate,
//! reactivate or leave `active` alone, a changeset that fails, the managers' keys,
//! an anonymisation, a removal — and never counts another account's rows. An
//! account's first write may create only inactive rows.

use roster_core::employee::{DeactivationReason, Employee};
use roster_core::plan::{Action, Rule};

use super::erasure::erase_request;
use super::fixtures::*;
use crate::{ImportKind, Store, ToAnonymise};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_counts {
    ($($how:tt)*) => {
        $crate::__contract_section! { counts [
            the_active_count_follows_every_write,
        ] $($how)* }
    };
}

/// The count the store gives for each account equals its active rows, and `want`.
async fn check(store: &dyn Store, accounts: &[(i64, u64)], after: &str) {
    for &(account, want) in accounts {
        let rows = directory(store, account).await;
        let active = rows.iter().filter(|e| e.active).count() as u64;
        let kept = store.count_employees(account, true).await.unwrap();
        assert_eq!(
            kept, active,
            "after {after}: account {account} counts {kept} active, its rows say {active}"
        );
        assert_eq!(kept, want, "after {after}: account {account}");
        let all = store.count_employees(account, false).await.unwrap();
        assert_eq!(
            all,
            rows.len() as u64,
            "after {after}: every row of {account}"
        );
    }
}

fn deactivated(mut e: Employee, reason: DeactivationReason) -> Employee {
    e.active = false;
    e.deactivation_reason = Some(reason);
    e
}

fn reactivated(e: &Employee) -> Employee {
    let mut back = e.clone();
    (back.active, back.deactivation_reason) = (true, None);
    back
}

fn update(before: &Employee, after: Employee) -> crate::EntryRecord {
    change_entry(Action::Update, before, after, Rule::Source)
}

/// Every kind of write the store offers, each followed by the counts of two accounts.
pub async fn the_active_count_follows_every_write(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "other").await;
    check(store, &[(a, 0), (b, 0)], "creating the accounts").await;

    let mut report = person("E2", "e2@acme.example", "Two", "Report");
    report.manager_email = Some("e1@acme.example".into());
    let left = person("E3", "e3@acme.example", "Three", "Left");
    let left = deactivated(left, DeactivationReason::EndDate);
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "e1@acme.example", "One", "Boss"),
            report,
            left,
            person("E4", "e4@acme.example", "Four", "Four"),
        ],
    )
    .await;
    let away = person("B0", "b0@other.example", "B", "Zero");
    let (_, other) = seed(
        store,
        b,
        vec![deactivated(away, DeactivationReason::EndDate)],
    )
    .await;
    check(
        store,
        &[(a, 3), (b, 0)],
        "creating active and inactive rows",
    )
    .await;
    let b0 = by_id(&other, "B0");
    let cs = changeset(
        ImportKind::Sync,
        at(5),
        vec![
            change_entry(Action::Reactivate, &b0, reactivated(&b0), Rule::Source),
            create_entry(person("B1", "b1@other.example", "B", "One")),
        ],
    );
    write(store, b, cs).await;
    check(
        store,
        &[(a, 3), (b, 2)],
        "reactivating a row created inactive",
    )
    .await;

    let (e1, e2, e3, e4) = (
        by_id(&dir, "E1"),
        by_id(&dir, "E2"),
        by_id(&dir, "E3"),
        by_id(&dir, "E4"),
    );
    let mut renamed = e2.clone();
    renamed.first_name = Some("Renamed".into());
    let back = reactivated(&e3);
    let cs = changeset(
        ImportKind::Sync,
        at(10),
        vec![
            change_entry(
                Action::Deactivate,
                &e4,
                deactivated(e4.clone(), DeactivationReason::Missing),
                Rule::Source,
            ),
            change_entry(Action::Reactivate, &e3, back.clone(), Rule::Source),
            update(&e2, renamed.clone()),
        ],
    );
    write(store, a, cs).await;
    check(
        store,
        &[(a, 3), (b, 2)],
        "deactivating one, reactivating one",
    )
    .await;

    let cs = changeset(
        ImportKind::Sync,
        at(20),
        vec![
            update(
                &back,
                deactivated(back.clone(), DeactivationReason::Excluded),
            ),
            create_entry(person("E5", "e5@acme.example", "Five", "New")),
            create_entry(person("E9", "e9@acme.example", "Nine", "New")),
        ],
    );
    write(store, a, cs).await;
    check(store, &[(a, 4), (b, 2)], "creates beside a deactivation").await;

    let dir = directory(store, a).await;
    let e5 = by_id(&dir, "E5");
    let failing = changeset(
        ImportKind::Sync,
        at(30),
        vec![
            update(&e5, deactivated(e5.clone(), DeactivationReason::Merged)),
            create_entry(person("E6", "e6@acme.example", "Six", "New")),
            create_entry(person("E1", "dup@acme.example", "Dup", "Id")),
        ],
    );
    assert!(
        store.write(a, failing).await.is_err(),
        "a duplicate ID fails"
    );
    check(store, &[(a, 4), (b, 2)], "a changeset that failed").await;

    store.key_manager_emails(a).await.unwrap();
    check(store, &[(a, 4), (b, 2)], "keying the managers' emails").await;

    store.anonymise(a, &erase_request(e1.key)).await.unwrap();
    check(store, &[(a, 4), (b, 2)], "anonymising an active row").await;

    let mut removal = erase_request(e5.key);
    removal.remove = true;
    removal.employees.push(ToAnonymise {
        key: e3.key,
        source_digest: None,
    });
    let done = store.anonymise(a, &removal).await.unwrap();
    assert_eq!(done.removed.len(), 2);
    check(
        store,
        &[(a, 3), (b, 2)],
        "removing an active and an inactive row",
    )
    .await;
}
