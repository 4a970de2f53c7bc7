//! The contract of account scoping: every method scoped by account sees only that
//! account's rows.

use roster_core::plan::{Action, Rule};

use super::fixtures::*;
use roster_core::employee::Employee;

use crate::{
    AccountId, ImportId, ImportKind, ImportStatus, Integration, IntegrationKind, IntegrationState,
    IntegrationUpdate, OutboxMessage, Store, StoreError,
};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_accounts {
    ($($how:tt)*) => {
        $crate::__contract_section! { accounts [
            accounts_are_isolated,
        ] $($how)* }
    };
}

/// Every method scoped by account sees only that account's rows.
pub async fn accounts_are_isolated(store: &dyn Store) {
    let s = two_accounts(store).await;
    reads_from_b_see_nothing_of_a(store, &s).await;
    writes_from_b_cannot_touch_a(store, &s).await;
    a_is_as_it_was(store, &s).await;
}

/// Account A with an integration (locked by `worker-a`), two employees, an import
/// and a queued notification; account B empty.
struct TwoAccounts {
    a: AccountId,
    b: AccountId,
    int_a: Integration,
    imp_a: ImportId,
    dir_a: Vec<Employee>,
    e1: Employee,
    outbox_a: Vec<OutboxMessage>,
}

async fn two_accounts(store: &dyn Store) -> TwoAccounts {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    assert_ne!(a, b, "two accounts got the same id");
    assert_eq!(
        account(store, "acme").await,
        a,
        "ensure_account of an existing name gave a new id"
    );
    assert_eq!(
        store.accounts().await.expect("accounts"),
        vec![(a, "acme".to_string()), (b, "globex".to_string())]
    );

    let int_a = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .expect("create_integration");
    let mut cs = changeset(
        ImportKind::Sync,
        at(0),
        vec![
            create_entry(full_employee("E1", "ada@acme.example")),
            create_entry(person("E2", "bob@acme.example", "Bob", "Byte")),
        ],
    );
    cs.integration_id = Some(int_a.id);
    cs.notifications = vec![notification("sync.applied", 1)];
    let imp_a = write(store, a, cs).await;
    let dir_a = directory(store, a).await;
    let e1 = by_id(&dir_a, "E1");
    store
        .lock_sync(a, int_a.id, "worker-a", from_now(3600))
        .await
        .expect("lock_sync");
    let outbox_a = store.outbox(a, 100).await.expect("outbox");
    assert_eq!(outbox_a.len(), 1, "the notification was not queued");
    TwoAccounts {
        a,
        b,
        int_a,
        imp_a,
        dir_a,
        e1,
        outbox_a,
    }
}

async fn reads_from_b_see_nothing_of_a(store: &dyn Store, s: &TwoAccounts) {
    let TwoAccounts {
        b,
        int_a,
        imp_a,
        e1,
        ..
    } = s;
    let (b, imp_a) = (*b, *imp_a);
    assert_eq!(
        store.integration(b, int_a.id).await.unwrap(),
        None,
        "integration() crosses accounts"
    );
    assert!(
        store.integrations(b).await.unwrap().is_empty(),
        "integrations() crosses accounts"
    );
    assert!(
        directory(store, b).await.is_empty(),
        "directory() crosses accounts"
    );
    assert_eq!(
        store.employee(b, e1.key).await.unwrap(),
        None,
        "employee() crosses accounts"
    );
    assert_eq!(
        store.find_employee(b, "E1").await.unwrap(),
        None,
        "find_employee(id) crosses accounts"
    );
    assert_eq!(
        store.find_employee(b, "ada@acme.example").await.unwrap(),
        None,
        "find_employee(email) crosses accounts"
    );
    assert!(
        store.employees(b, &all()).await.unwrap().is_empty(),
        "employees() crosses accounts"
    );
    assert_eq!(
        store.count_employees(b, false).await.unwrap(),
        0,
        "count_employees() crosses accounts"
    );
    assert!(
        store.imports(b, 100).await.unwrap().is_empty(),
        "imports() crosses accounts"
    );
    assert_eq!(
        store.import(b, imp_a).await.unwrap(),
        None,
        "import() crosses accounts"
    );
    assert!(
        store.import_changes(b, imp_a).await.unwrap().is_empty(),
        "import_changes() crosses accounts"
    );
    assert!(
        store.employee_history(b, e1.key).await.unwrap().is_empty(),
        "employee_history() crosses accounts"
    );
    assert!(
        store.outbox(b, 100).await.unwrap().is_empty(),
        "outbox() crosses accounts"
    );
}

async fn writes_from_b_cannot_touch_a(store: &dyn Store, s: &TwoAccounts) {
    let TwoAccounts {
        a,
        b,
        int_a,
        imp_a,
        e1,
        outbox_a,
        ..
    } = s;
    let (a, b, imp_a) = (*a, *b, *imp_a);
    let mut stolen = int_a.clone();
    stolen.account_id = b;
    stolen.name = "stolen".into();
    assert!(
        is_not_found(&store.save_integration(&stolen).await),
        "save_integration() crosses accounts"
    );
    assert!(
        !store.delete_integration(b, int_a.id).await.unwrap(),
        "delete_integration() crosses accounts"
    );
    assert!(
        is_not_found(&store.mark_delivered(b, outbox_a[0].id, at(5)).await),
        "mark_delivered() crosses accounts"
    );
    assert!(
        is_not_found(
            &store
                .lock_sync(b, int_a.id, "worker-b", from_now(3600))
                .await
        ),
        "lock_sync() crosses accounts"
    );
    store
        .unlock_sync(b, int_a.id, "worker-a")
        .await
        .expect("unlock_sync of a foreign lock is a no-op");
    assert!(
        matches!(
            store
                .lock_sync(a, int_a.id, "worker-c", from_now(3600))
                .await,
            Err(StoreError::SyncRunning(_))
        ),
        "unlock_sync() from another account released the lock"
    );

    let mut renamed = e1.clone();
    renamed.first_name = Some("Mallory".into());
    let cs = changeset(
        ImportKind::AdminEdit,
        at(10),
        vec![change_entry(Action::Update, e1, renamed, Rule::Source)],
    );
    assert!(
        store.write(b, cs).await.is_err(),
        "write() updated another account's employee"
    );
    let mut cs = changeset(ImportKind::Rollback, at(11), Vec::new());
    cs.rolls_back = Some(imp_a);
    assert!(
        store.write(b, cs).await.is_err(),
        "write() rolled back another account's import"
    );
    let mut cs = changeset(ImportKind::Sync, at(12), Vec::new());
    cs.integration_id = Some(int_a.id);
    cs.integration_update = Some(IntegrationUpdate {
        state: Some(IntegrationState::Active),
        last_fetch_at: None,
        last_sync_at: Some(at(12)),
    });
    assert!(
        store.write(b, cs).await.is_err(),
        "write() updated another account's integration"
    );
    assert!(
        store.imports(b, 100).await.unwrap().is_empty(),
        "a failed write left an import behind"
    );
}

/// A is as it was; the same employee ID and email may exist in another account.
async fn a_is_as_it_was(store: &dyn Store, s: &TwoAccounts) {
    let TwoAccounts {
        a,
        b,
        int_a,
        dir_a,
        e1,
        outbox_a,
        ..
    } = s;
    let (a, b) = (*a, *b);
    assert_eq!(&directory(store, a).await, dir_a, "A's directory changed");
    assert_eq!(
        store.integration(a, int_a.id).await.unwrap(),
        Some(int_a.clone()),
        "A's integration changed"
    );
    let imports = store.imports(a, 100).await.unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(
        imports[0].status,
        ImportStatus::Applied,
        "A's import was marked rolled back"
    );
    assert_eq!(
        &store.outbox(a, 100).await.unwrap(),
        outbox_a,
        "A's outbox changed"
    );
    let (_, dir_b) = seed(
        store,
        b,
        vec![person("E1", "ADA@acme.example", "Other", "Ada")],
    )
    .await;
    assert_eq!(dir_b.len(), 1);
    assert_eq!(
        &directory(store, a).await,
        dir_a,
        "a write to B changed A's directory"
    );
    assert_eq!(
        store.find_employee(a, "E1").await.unwrap().map(|e| e.key),
        Some(e1.key)
    );
    assert_eq!(
        store
            .find_employee(b, "ada@acme.example")
            .await
            .unwrap()
            .map(|e| e.key),
        Some(dir_b[0].key)
    );
    assert_eq!(store.count_employees(a, false).await.unwrap(), 2);
    assert_eq!(store.count_employees(b, false).await.unwrap(), 1);
}
