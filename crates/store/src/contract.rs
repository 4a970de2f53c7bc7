//! The contract every [`Store`] adapter passes.
//!
//! Each test is a public async function taking a fresh, empty store and panicking
//! with a clear message when the store breaks the contract. An adapter runs all of
//! them, each as its own `#[tokio::test]`, with [`store_contract_tests!`]:
//!
//! ```text
//! roster_store::store_contract_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SqliteStore::open(dir.path().join("t.db").to_str().unwrap()).await.unwrap();
//!     (store, dir) // the second value is kept alive for the test's duration
//! });
//! ```
//!
//! What the suite pins down beyond the trait's signatures:
//! - `directory` and `employees` return employees in key order; creates get keys in
//!   entry order.
//! - An empty `Employee::email` means "no email": any number of employees may have
//!   none, and `find_employee("")` finds nobody.
//! - Uniqueness of employee ID and (case-insensitive) email is per account, checked
//!   after the whole changeset is applied (two employees may swap them).
//! - Operations naming another account's rows see nothing: reads are empty,
//!   `save_integration`, `lock_sync`, `mark_delivered` and writes touching them fail
//!   with `NotFound`, `delete_integration` returns `false`, `unlock_sync` does nothing.
//! - `outbox` lists undelivered messages oldest first; a message's `created_at` is the
//!   `finished_at` of the changeset that queued it.
//! - `IntegrationUpdate` fields that are `None` leave the stored value as it is.
//! - `import` returns, for applied entries, `after` as the employee is now in the
//!   directory (exactly what was written while nothing changed it since); for entries
//!   that were not applied, `after` as recorded.

// The contract is a test suite compiled into the library (the adapters' tests call it):
// like any test, it panics with `unwrap()` on what must not fail.
#![allow(clippy::unwrap_used)]

mod access;
mod jobs;

pub use access::*;
pub use jobs::*;

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use roster_core::employee::{DeactivationReason, Employee, EmployeeKey, diff};
use roster_core::guard::Trigger;
use roster_core::member::SourceField;
use roster_core::plan::{Action, Change, Counts, Rule};
use roster_core::rollback::{RecordedChange, plan_rollback};
use roster_core::settings::{FieldKind, MappedField, Settings};
use serde_json::json;

use crate::{
    AccountId, Changeset, EmployeeQuery, EntryRecord, Fence, HistoryEntry, ImportId, ImportKind,
    ImportRecord, ImportStatus, ImportSummary, IntegrationKind, IntegrationState,
    IntegrationUpdate, NewIntegration, Notification, Store, StoreError,
};

/// Expands to one `#[tokio::test]` per contract test. `$make` is a closure returning
/// a future of `(store, guard)`: the store under test, fresh and empty, and anything
/// that must live as long as the test (a temporary directory; `()` if nothing).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::__store_contract_tests!(
            $make;
            accounts_are_isolated,
            integration_round_trips_every_field,
            delete_integration_keeps_imports_and_directory,
            write_round_trips_every_employee_field,
            outline_and_rows_by_key,
            empty_email_means_no_email,
            find_employee_by_id_or_email,
            employees_query_filters_and_pages,
            swap_emails_and_ids_in_one_changeset,
            failing_changeset_changes_nothing,
            unapplied_entries_are_recorded_but_not_applied,
            employee_history_is_newest_first,
            merged_records_bring_their_history,
            import_changes_support_rollback,
            rolls_back_marks_the_old_import,
            integration_update_is_applied_with_the_write,
            outbox_receives_notifications,
            lock_sync_excludes_other_holders,
            expired_lock_is_taken_over,
            lock_generation_fences_writes,
            imports_list_newest_first_with_counts,
            key_check_is_written_once,
            encrypted_samples_span_accounts,
            jobs_claim_lease_and_expiry,
            jobs_lease_is_renewed,
            jobs_paused_disabled_and_postponed,
            jobs_and_channels_are_scoped_by_account,
            outbox_delivery_state,
            access_tokens_round_trip,
            access_users_and_sessions,
            access_reviews_close_once,
            access_reviews_reserved_once,
            access_oauth_state_taken_once,
            access_is_scoped_by_account,
            closing_ends_the_store,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_tests {
    ($make:expr; $($name:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $name() {
                let (store, _guard) = ($make)().await;
                $crate::contract::$name(&store).await;
            }
        )+
    };
}

// ---------------------------------------------------------------------------
// Closing

/// `close` succeeds on a store with data, again when repeated, and ends the store:
/// later calls fail rather than reopen.
pub async fn closing_ends_the_store(store: &dyn Store) {
    let a = store.ensure_account("acme").await.unwrap();
    store
        .write(
            a,
            changeset(ImportKind::Sync, at(0), vec![create_entry(minimal("C1"))]),
        )
        .await
        .unwrap();
    store.close().await.expect("close");
    store.close().await.expect("closing twice is harmless");
    assert!(
        store.directory(a).await.is_err(),
        "a closed store refuses calls"
    );
}

// ---------------------------------------------------------------------------
// Fixtures

/// A fixed instant with nanoseconds, plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    Timestamp::new(1_772_000_000 + secs, 123_456_789).expect("valid timestamp")
}

fn from_now(secs: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_secs(secs)
}

/// An employee with every field set, non-ASCII text included.
pub fn full_employee(id: &str, email: &str) -> Employee {
    Employee {
        key: 0,
        employee_id: id.to_string(),
        source_id: Some(format!("mbr_{id}")),
        email: email.to_string(),
        secondary_email: Some(format!("{}@home.example", id.to_lowercase())),
        first_name: Some("Zoë".into()),
        last_name: Some("Ångström-Núñez".into()),
        preferred_name: Some("Zo 🚀".into()),
        date_of_birth: Some(date(1990, 12, 10)),
        start_date: Some(date(2018, 1, 2)),
        latest_rehire_date: Some(date(2021, 3, 15)),
        hire_date: Some(date(2021, 3, 15)),
        end_date: Some(date(2030, 6, 30)),
        manager_email: Some("boss@acme.example".into()),
        phone: Some("+1 212 555 0100".into()),
        demographics: [
            ("Département", "Ingénierie — R&D"),
            ("Office", "東京"),
            ("quote\"d", "line\nbreak, 'single' \\ back"),
            ("empty", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        active: true,
        deactivation_reason: None,
        is_manager: true,
        excluded: false,
        email_edited: true,
        merged_into: None,
    }
}

/// An active employee with a name and an email.
pub fn person(id: &str, email: &str, first: &str, last: &str) -> Employee {
    Employee {
        employee_id: id.to_string(),
        source_id: Some(format!("mbr_{id}")),
        email: email.to_string(),
        first_name: Some(first.to_string()),
        last_name: Some(last.to_string()),
        active: true,
        ..Default::default()
    }
}

/// An active employee with nothing but an ID.
pub fn minimal(id: &str) -> Employee {
    Employee {
        employee_id: id.to_string(),
        active: true,
        ..Default::default()
    }
}

/// An applied create.
pub fn create_entry(after: Employee) -> EntryRecord {
    EntryRecord {
        action: Action::Create,
        key: None,
        employee_id: after.employee_id.clone(),
        changes: Vec::new(),
        after,
        applied: true,
        held: false,
        privacy: false,
    }
}

/// An applied change of `before` into `after`, every field under `rule`.
pub fn change_entry(
    action: Action,
    before: &Employee,
    mut after: Employee,
    rule: Rule,
) -> EntryRecord {
    after.key = before.key;
    let changes = diff(before, &after)
        .into_iter()
        .map(|(field, old, new)| Change {
            field,
            old,
            new,
            rule,
        })
        .collect();
    EntryRecord {
        action,
        key: Some(before.key),
        employee_id: after.employee_id.clone(),
        changes,
        after,
        applied: true,
        held: false,
        privacy: false,
    }
}

/// An applied changeset of `kind`, finished at `finished`, counts derived from the entries.
pub fn changeset(kind: ImportKind, finished: Timestamp, entries: Vec<EntryRecord>) -> Changeset {
    let mut counts = Counts::default();
    for e in entries.iter().filter(|e| e.applied) {
        match e.action {
            Action::Create => counts.created += 1,
            Action::Deactivate => counts.deactivated += 1,
            Action::Reactivate => counts.reactivated += 1,
            Action::Update => counts.updated += 1,
        }
    }
    Changeset {
        integration_id: None,
        kind,
        trigger: Trigger::Manual,
        status: ImportStatus::Applied,
        started_at: finished - SignedDuration::from_secs(3),
        finished_at: finished,
        counts,
        details: json!({}),
        entries,
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    }
}

pub fn new_integration(account: AccountId, kind: IntegrationKind) -> NewIntegration {
    NewIntegration {
        account_id: account,
        kind,
        name: format!("{kind} of account {account}"),
        config: json!({"base_url": "https://api.example", "scopes": ["member.basic:read"]}),
        credentials: Some(vec![0, 1, 2, 0xff, 0x80, 0]),
        settings: Settings::default(),
    }
}

fn notification(event: &str, n: i64) -> Notification {
    Notification {
        event: event.to_string(),
        payload: json!({"n": n, "text": "Zoë → 東京"}),
    }
}

fn all() -> EmployeeQuery {
    EmployeeQuery {
        include_inactive: true,
        ..Default::default()
    }
}

fn by_id(dir: &[Employee], id: &str) -> Employee {
    dir.iter()
        .find(|e| e.employee_id == id)
        .cloned()
        .unwrap_or_else(|| panic!("employee {id} is not in the directory"))
}

fn ids(list: &[Employee]) -> Vec<&str> {
    list.iter().map(|e| e.employee_id.as_str()).collect()
}

async fn account(store: &dyn Store, name: &str) -> AccountId {
    store.ensure_account(name).await.expect("ensure_account")
}

async fn write(store: &dyn Store, account: AccountId, cs: Changeset) -> ImportId {
    store
        .write(account, cs)
        .await
        .unwrap_or_else(|e| panic!("write failed: {e}"))
}

async fn directory(store: &dyn Store, account: AccountId) -> Vec<Employee> {
    store.directory(account).await.expect("directory")
}

/// Create `employees` in one applied import; the directory afterwards.
async fn seed(
    store: &dyn Store,
    account: AccountId,
    employees: Vec<Employee>,
) -> (ImportId, Vec<Employee>) {
    let cs = changeset(
        ImportKind::Sync,
        at(0),
        employees.into_iter().map(create_entry).collect(),
    );
    let id = write(store, account, cs).await;
    (id, directory(store, account).await)
}

fn is_not_found<T: std::fmt::Debug>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

// ---------------------------------------------------------------------------
// Accounts

/// Every method scoped by account sees only that account's rows.
pub async fn accounts_are_isolated(store: &dyn Store) {
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

    // Reads from B see nothing of A.
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

    // Writes from B cannot touch A.
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
        vec![change_entry(Action::Update, &e1, renamed, Rule::Source)],
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

    // A is as it was.
    assert_eq!(directory(store, a).await, dir_a, "A's directory changed");
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
        store.outbox(a, 100).await.unwrap(),
        outbox_a,
        "A's outbox changed"
    );

    // The same employee ID and email may exist in another account.
    let (_, dir_b) = seed(
        store,
        b,
        vec![person("E1", "ADA@acme.example", "Other", "Ada")],
    )
    .await;
    assert_eq!(dir_b.len(), 1);
    assert_eq!(
        directory(store, a).await,
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

// ---------------------------------------------------------------------------
// Integrations

/// Create, read, save and list keep every field, settings and credential bytes included.
pub async fn integration_round_trips_every_field(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut settings = Settings::default();
    for (k, v) in [
        ("on_missing", "deactivate"),
        ("timezone", "America/New_York"),
        ("redact_fields", "date_of_birth,phone"),
        (
            "do_not_import",
            "member_type = contractor; department != Sales",
        ),
        ("mass_deactivation_percent", "12.5"),
        ("generated_id_prefix", "EMP-"),
    ] {
        settings.set(k, v).expect("valid setting");
    }
    settings.mapping.push(MappedField {
        source_key: "custom.cost_center".into(),
        demographic: "Kostenstelle (Zürich)".into(),
        kind: FieldKind::Hidden,
    });
    let new = NewIntegration {
        account_id: a,
        kind: IntegrationKind::Justworks,
        name: "Justworks — ACME ✓".into(),
        config: json!({"base_url": "https://api.example/v1", "scopes": ["a", "b"], "nested": {"x": 1.5, "y": null}}),
        credentials: Some((0u8..=255).chain([0, 0, 255]).collect()),
        settings: settings.clone(),
    };
    let created = store
        .create_integration(new.clone())
        .await
        .expect("create_integration");
    assert!(created.id > 0, "integration ids are positive");
    assert_eq!(created.account_id, a);
    assert_eq!(created.kind, new.kind);
    assert_eq!(created.name, new.name);
    assert_eq!(created.config, new.config);
    assert_eq!(
        created.credentials, new.credentials,
        "credential bytes changed"
    );
    assert_eq!(created.settings, settings, "settings changed");
    assert_eq!(
        created.state,
        IntegrationState::Connected,
        "a new integration is connected"
    );
    assert!(created.source_fields.is_empty());
    assert_eq!(
        (created.company_name.as_deref(), created.member_count),
        (None, None)
    );
    assert_eq!((created.last_fetch_at, created.last_sync_at), (None, None));
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(created.clone()),
        "read back differs"
    );

    let mut changed = created.clone();
    changed.name = "Renamed ☃".into();
    changed.state = IntegrationState::NeedsFinalise;
    changed.settings.set("privacy_guard", "false").unwrap();
    changed.settings.set("hold_mode", "hold_records").unwrap();
    changed.settings.exclude_fields =
        BTreeSet::from(["phone".to_string(), "demographic:Office".to_string()]);
    changed.config = json!({"client_id": "abc", "list": [1, 2, 3]});
    changed.credentials = Some(vec![9, 8, 7, 0, 0xfe]);
    changed.source_fields = vec![
        SourceField {
            key: "department.name".into(),
            label: "Department".into(),
            sample: Some("Ingénierie".into()),
        },
        SourceField {
            key: "custom.x".into(),
            label: "X".into(),
            sample: None,
        },
    ];
    changed.company_name = Some("Acme, Inc. ™".into());
    changed.member_count = Some(1234);
    changed.last_fetch_at = Some(at(1));
    changed.last_sync_at = Some(at(2));
    store
        .save_integration(&changed)
        .await
        .expect("save_integration");
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(changed.clone()),
        "saved fields differ"
    );

    changed.credentials = None;
    changed.company_name = None;
    changed.member_count = None;
    changed.last_fetch_at = None;
    store
        .save_integration(&changed)
        .await
        .expect("save_integration");
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(changed.clone()),
        "cleared fields differ"
    );

    let mut csv = new_integration(a, IntegrationKind::Csv);
    csv.credentials = None;
    csv.config = json!({});
    let csv = store
        .create_integration(csv)
        .await
        .expect("create_integration");
    assert_ne!(csv.id, changed.id);
    assert_eq!(
        store.integrations(a).await.unwrap(),
        vec![changed, csv.clone()],
        "integrations() in creation order"
    );

    let mut ghost = csv.clone();
    ghost.id = csv.id + 1000;
    assert!(
        is_not_found(&store.save_integration(&ghost).await),
        "saving an unknown integration"
    );
    assert_eq!(store.integration(a, ghost.id).await.unwrap(), None);
}

/// Deleting an integration removes it and its lock; the directory and imports stay.
pub async fn delete_integration_keeps_imports_and_directory(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let other = store
        .create_integration(new_integration(a, IntegrationKind::Csv))
        .await
        .unwrap();
    let mut cs = changeset(
        ImportKind::Sync,
        at(0),
        vec![create_entry(full_employee("E1", "ada@acme.example"))],
    );
    cs.integration_id = Some(int.id);
    let imp = write(store, a, cs).await;
    let dir = directory(store, a).await;
    store
        .lock_sync(a, int.id, "worker", from_now(3600))
        .await
        .unwrap();

    assert!(
        store.delete_integration(a, int.id).await.unwrap(),
        "delete_integration of an existing one"
    );
    assert_eq!(
        store.integration(a, int.id).await.unwrap(),
        None,
        "deleted integration still readable"
    );
    assert_eq!(
        store.integrations(a).await.unwrap(),
        vec![other],
        "the other integration went too"
    );
    assert_eq!(
        directory(store, a).await,
        dir,
        "deleting an integration changed the directory"
    );
    let imports = store.imports(a, 10).await.unwrap();
    assert_eq!(
        imports.len(),
        1,
        "deleting an integration removed its imports"
    );
    assert_eq!(imports[0].id, imp);
    assert_eq!(
        imports[0].integration_id,
        Some(int.id),
        "the import lost its integration id"
    );
    let record = store.import(a, imp).await.unwrap().expect("import kept");
    assert_eq!(record.entries.len(), 1);
    assert_eq!(
        store.employee_history(a, dir[0].key).await.unwrap().len(),
        1,
        "history lost"
    );
    assert!(
        !store.delete_integration(a, int.id).await.unwrap(),
        "deleting twice reports a deletion"
    );
    assert!(
        is_not_found(&store.lock_sync(a, int.id, "worker-2", from_now(60)).await),
        "a deleted integration can still be locked"
    );
}

// ---------------------------------------------------------------------------
// The directory

/// Creates, updates and deactivations land in the directory exactly as `after`.
pub async fn outline_and_rows_by_key(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let created = vec![
        full_employee("E1", "Zoë.Ångström@Acme.Example"),
        person("E2", "bob@acme.example", "Bob", "Byte"),
        minimal("E3"),
    ];
    let (_, dir) = seed(store, a, created).await;
    seed(
        store,
        other,
        vec![person("X1", "x@other.example", "X", "Y")],
    )
    .await;
    let outline = store.directory_outline(a).await.unwrap();
    let want: Vec<Employee> = dir.iter().map(Employee::outline).collect();
    assert_eq!(
        outline, want,
        "directory_outline() is the outline of directory()"
    );
    let keys = [dir[2].key, dir[0].key, dir[2].key, 999_999];
    let got = store.employees_by_key(a, &keys).await.unwrap();
    assert_eq!(
        got,
        vec![dir[0].clone(), dir[2].clone()],
        "employees_by_key() gives full rows in key order, each once, unknown keys left out"
    );
    let theirs = store.directory(other).await.unwrap();
    assert!(
        store
            .employees_by_key(a, &[theirs[0].key])
            .await
            .unwrap()
            .is_empty(),
        "another account's key gives nothing"
    );
    assert!(store.employees_by_key(a, &[]).await.unwrap().is_empty());
}

pub async fn write_round_trips_every_employee_field(store: &dyn Store) {
    let a = account(store, "acme").await;
    let created = vec![
        full_employee("E1", "Zoë.Ångström@Acme.Example"),
        person("E2", "bob@acme.example", "Bob", "Byte"),
        minimal("E3"),
        person("E4", "dee@acme.example", "Dee", "Dot"),
    ];
    let (imp, dir) = seed(store, a, created.clone()).await;
    assert!(imp > 0, "import ids are positive");
    assert_eq!(
        ids(&dir),
        ["E1", "E2", "E3", "E4"],
        "directory() is in key order, creates keyed in entry order"
    );
    let keys: BTreeSet<EmployeeKey> = dir.iter().map(|e| e.key).collect();
    assert_eq!(keys.len(), 4, "keys are distinct");
    assert!(dir.iter().all(|e| e.key > 0), "keys are positive");
    for (want, got) in created.iter().zip(&dir) {
        let mut want = want.clone();
        want.key = got.key;
        assert_eq!(
            got, &want,
            "employee {} read back differs from what was written",
            want.employee_id
        );
        assert_eq!(
            store.employee(a, got.key).await.unwrap().as_ref(),
            Some(&want),
            "employee() differs"
        );
    }

    let (e1, e2, e3, e4) = (
        dir[0].clone(),
        dir[1].clone(),
        dir[2].clone(),
        dir[3].clone(),
    );
    let mut n1 = e1.clone();
    n1.employee_id = "E1-NEW".into();
    n1.source_id = None;
    n1.email = "zoe@acme.example".into();
    n1.secondary_email = None;
    n1.first_name = Some("Zoe".into());
    n1.last_name = None;
    n1.preferred_name = None;
    n1.date_of_birth = Some(date(1991, 1, 31));
    n1.start_date = None;
    n1.latest_rehire_date = None;
    n1.hire_date = Some(date(2018, 1, 2));
    n1.end_date = None;
    n1.manager_email = None;
    n1.phone = None;
    n1.demographics.remove("Office");
    n1.demographics
        .insert("Département".into(), "Ventes".into());
    n1.demographics.insert("Neu".into(), "ß".into());
    n1.active = false;
    n1.deactivation_reason = Some(DeactivationReason::Merged);
    n1.is_manager = false;
    n1.excluded = true;
    n1.email_edited = false;
    n1.merged_into = Some(e4.key);
    let mut n2 = e2.clone();
    n2.active = false;
    n2.deactivation_reason = Some(DeactivationReason::EndDate);
    n2.end_date = Some(date(2026, 2, 28));
    let mut n3 = e3.clone();
    n3.email = "e3@acme.example".into();
    n3.demographics.insert("Team".into(), "Ops".into());
    let mut n4 = e4.clone();
    n4.email = String::new();
    n4.is_manager = true;
    let cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            change_entry(Action::Deactivate, &e1, n1.clone(), Rule::Source),
            change_entry(Action::Deactivate, &e2, n2.clone(), Rule::EndDate),
            change_entry(Action::Update, &e3, n3.clone(), Rule::Source),
            change_entry(Action::Update, &e4, n4.clone(), Rule::Derived),
        ],
    );
    write(store, a, cs).await;
    assert_eq!(
        directory(store, a).await,
        vec![n1.clone(), n2.clone(), n3, n4],
        "updates read back differ"
    );
    assert_eq!(store.count_employees(a, false).await.unwrap(), 4);
    assert_eq!(
        store.count_employees(a, true).await.unwrap(),
        2,
        "active_only counts active employees"
    );

    // Reactivate.
    let mut r2 = n2.clone();
    r2.active = true;
    r2.deactivation_reason = None;
    r2.end_date = None;
    write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(200),
            vec![change_entry(
                Action::Reactivate,
                &n2,
                r2.clone(),
                Rule::Reactivated,
            )],
        ),
    )
    .await;
    assert_eq!(
        store.employee(a, r2.key).await.unwrap(),
        Some(r2),
        "reactivation read back differs"
    );
    assert_eq!(store.count_employees(a, true).await.unwrap(), 3);
}

/// An empty email is "no email": many employees may have none, and it frees the old one.
pub async fn empty_email_means_no_email(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            minimal("E1"),
            minimal("E2"),
            person("E3", "cy@acme.example", "Cy", "Cee"),
        ],
    )
    .await;
    assert_eq!(
        dir.len(),
        3,
        "two employees without email could not coexist"
    );
    assert_eq!(dir[0].email, "", "no email reads back as an empty string");
    assert_eq!(
        store.find_employee(a, "").await.unwrap(),
        None,
        "find_employee(\"\") found someone"
    );
    assert_eq!(
        store.find_employee(a, "   ").await.unwrap(),
        None,
        "find_employee(blank) found someone"
    );

    let e3 = by_id(&dir, "E3");
    let mut n3 = e3.clone();
    n3.email = String::new();
    write(
        store,
        a,
        changeset(
            ImportKind::AdminEdit,
            at(10),
            vec![change_entry(Action::Update, &e3, n3.clone(), Rule::Source)],
        ),
    )
    .await;
    assert_eq!(
        store.employee(a, e3.key).await.unwrap(),
        Some(n3),
        "clearing an email"
    );
    assert_eq!(
        store.find_employee(a, "cy@acme.example").await.unwrap(),
        None,
        "cleared email still found"
    );
    write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(20),
            vec![create_entry(person("E4", "CY@acme.example", "Cy", "Two"))],
        ),
    )
    .await;
    assert_eq!(
        store
            .find_employee(a, "cy@acme.example")
            .await
            .unwrap()
            .map(|e| e.employee_id),
        Some("E4".into()),
        "a cleared email could not be reused"
    );
}

/// By employee ID, or by email regardless of case; deactivated employees too.
pub async fn find_employee_by_id_or_email(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut gone = person("E3", "gone@acme.example", "Gone", "Away");
    gone.active = false;
    gone.deactivation_reason = Some(DeactivationReason::Missing);
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "Ada.Lovelace@Acme.Example", "Ada", "Lovelace"),
            person("E2", "Zoë@Acme.Example", "Zoë", "Z"),
            gone,
            minimal("E4"),
        ],
    )
    .await;
    let key = |id: &str| by_id(&dir, id).key;
    for (query, want) in [
        ("E1", Some("E1")),
        ("Ada.Lovelace@Acme.Example", Some("E1")),
        ("ada.lovelace@acme.example", Some("E1")),
        ("ADA.LOVELACE@ACME.EXAMPLE", Some("E1")),
        ("zoë@acme.example", Some("E2")),
        ("ZOË@ACME.EXAMPLE", Some("E2")),
        ("E3", Some("E3")),
        ("GONE@acme.example", Some("E3")),
        ("E4", Some("E4")),
        ("E5", None),
        ("nobody@acme.example", None),
        ("ada", None),
    ] {
        let found = store.find_employee(a, query).await.expect("find_employee");
        assert_eq!(
            found.as_ref().map(|e| e.key),
            want.map(key),
            "find_employee({query:?}) found {:?}",
            found.as_ref().map(|e| &e.employee_id)
        );
        if let (Some(found), Some(id)) = (found, want) {
            assert_eq!(
                found,
                by_id(&dir, id),
                "find_employee returns the whole employee"
            );
        }
    }
}

/// Search, the inactive filter, limit and offset.
pub async fn employees_query_filters_and_pages(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut grace = person("A-300", "grace.hopper@acme.example", "Grace", "Hopper");
    grace.active = false;
    grace.deactivation_reason = Some(DeactivationReason::Missing);
    let mut elodie = person("A-400", "e.durand@acme.example", "Élodie", "Durand");
    elodie.preferred_name = Some("Lodie".into());
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("A-100", "ada.lovelace@acme.example", "Ada", "Lovelace"),
            person("A-200", "alan@acme.example", "Alan", "Turing"),
            grace,
            elodie,
            person("B_500", "bob@other.example", "Bob", "Byte"),
            minimal("A-600"),
        ],
    )
    .await;
    let q = |search: Option<&str>, include_inactive: bool, limit: Option<usize>, offset: usize| {
        EmployeeQuery {
            search: search.map(str::to_string),
            include_inactive,
            limit,
            offset,
            after: None,
        }
    };
    let cases: Vec<(EmployeeQuery, Vec<&str>)> = vec![
        (
            q(None, false, None, 0),
            vec!["A-100", "A-200", "A-400", "B_500", "A-600"],
        ),
        (
            q(None, true, None, 0),
            vec!["A-100", "A-200", "A-300", "A-400", "B_500", "A-600"],
        ),
        (q(Some("ada"), false, None, 0), vec!["A-100"]),
        (q(Some("TURING"), false, None, 0), vec!["A-200"]),
        (q(Some("hopper"), false, None, 0), vec![]),
        (q(Some("hopper"), true, None, 0), vec!["A-300"]),
        (q(Some("ÉLODIE"), false, None, 0), vec!["A-400"]),
        (q(Some("lodie"), false, None, 0), vec!["A-400"]),
        (
            q(Some("@ACME.example"), false, None, 0),
            vec!["A-100", "A-200", "A-400"],
        ),
        (q(Some("a-6"), false, None, 0), vec!["A-600"]),
        (q(Some("_"), true, None, 0), vec!["B_500"]),
        (q(Some("%"), true, None, 0), vec![]),
        (q(Some("nobody"), true, None, 0), vec![]),
        (q(None, true, Some(2), 0), vec!["A-100", "A-200"]),
        (q(None, true, Some(2), 2), vec!["A-300", "A-400"]),
        (q(None, true, Some(10), 5), vec!["A-600"]),
        (q(None, true, None, 4), vec!["B_500", "A-600"]),
        (q(None, true, Some(10), 100), vec![]),
        (q(None, true, Some(0), 0), vec![]),
        (q(None, false, Some(2), 1), vec!["A-200", "A-400"]),
        (q(Some("acme"), true, Some(1), 2), vec!["A-300"]),
    ];
    // Keyset paging: after a key, alone and with a filter, a limit or an offset.
    let key_of = |id: &str| by_id(&dir, id).key;
    let after = |mut query: EmployeeQuery, id: &str| {
        query.after = Some(key_of(id));
        query
    };
    let cases: Vec<(EmployeeQuery, Vec<&str>)> = cases
        .into_iter()
        .chain([
            (
                after(q(None, true, Some(2), 0), "A-200"),
                vec!["A-300", "A-400"],
            ),
            (
                after(q(None, false, None, 0), "A-200"),
                vec!["A-400", "B_500", "A-600"],
            ),
            (
                after(q(Some("acme"), true, Some(1), 1), "A-100"),
                vec!["A-300"],
            ),
            (after(q(None, true, None, 0), "A-600"), vec![]),
        ])
        .collect();
    for (query, want) in cases {
        let got = store.employees(a, &query).await.expect("employees");
        assert_eq!(ids(&got), want, "employees({query:?})");
        for e in &got {
            assert_eq!(
                e,
                &by_id(&dir, &e.employee_id),
                "employees() returns whole employees"
            );
        }
    }
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

// ---------------------------------------------------------------------------
// History and rollback

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
    n1.demographics
        .insert("Département".into(), "Ventes".into());
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

// ---------------------------------------------------------------------------
// Sync locks

/// A live lock keeps other holders out; its holder may renew it; unlock frees it.
pub async fn lock_sync_excludes_other_holders(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let other = store
        .create_integration(new_integration(a, IntegrationKind::Csv))
        .await
        .unwrap();
    store
        .lock_sync(a, int.id, "worker-1", from_now(600))
        .await
        .expect("first lock");
    match store.lock_sync(a, int.id, "worker-2", from_now(600)).await {
        Err(StoreError::SyncRunning(id)) => {
            assert_eq!(id, int.id, "SyncRunning names the integration")
        }
        other => panic!("a second holder got {other:?}, not SyncRunning"),
    }
    store
        .lock_sync(a, int.id, "worker-1", from_now(1200))
        .await
        .expect("the holder renews its lock");
    store
        .lock_sync(a, other.id, "worker-2", from_now(600))
        .await
        .expect("locks are per integration");

    store
        .unlock_sync(a, int.id, "worker-2")
        .await
        .expect("unlock by a non-holder is a no-op");
    assert!(
        matches!(
            store.lock_sync(a, int.id, "worker-3", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "a non-holder's unlock released the lock"
    );
    store
        .unlock_sync(a, int.id, "worker-1")
        .await
        .expect("unlock");
    store
        .lock_sync(a, int.id, "worker-3", from_now(600))
        .await
        .expect("lock after unlock");
    store.unlock_sync(a, int.id, "worker-3").await.unwrap();
    store
        .unlock_sync(a, int.id, "worker-3")
        .await
        .expect("unlocking twice is fine");
    assert!(
        is_not_found(
            &store
                .lock_sync(a, int.id + 1000, "worker-1", from_now(600))
                .await
        ),
        "locking an unknown integration"
    );
}

/// An expired lock is taken over by anyone.
pub async fn expired_lock_is_taken_over(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    store
        .lock_sync(a, int.id, "crashed", from_now(-1))
        .await
        .expect("lock");
    store
        .lock_sync(a, int.id, "worker-2", from_now(600))
        .await
        .expect("an expired lock is taken over");
    assert!(
        matches!(
            store.lock_sync(a, int.id, "crashed", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "the old holder took back a lock taken over"
    );
    store.unlock_sync(a, int.id, "crashed").await.unwrap();
    assert!(
        matches!(
            store.lock_sync(a, int.id, "worker-3", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "the old holder's unlock released the new holder's lock"
    );
}

/// Every take of a lock raises its generation (a renewal keeps it, a release keeps
/// the row so it never goes back); a fenced write commits only while the lock is
/// still the writer's, at its generation, and writes nothing otherwise; a renewal
/// and a break check the generation too.
pub async fn lock_generation_fences_writes(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let fence = |holder: &str, generation: i64| Fence {
        integration: int.id,
        holder: holder.into(),
        generation,
        job: None,
    };
    let cs = |id: &str| {
        let mut c = changeset(ImportKind::Sync, at(1), vec![create_entry(minimal(id))]);
        c.integration_id = Some(int.id);
        c
    };
    assert_eq!(
        store.sync_lock(a, int.id).await.unwrap(),
        None,
        "no lock yet"
    );
    let g1 = store
        .lock_sync(a, int.id, "w1", from_now(600))
        .await
        .unwrap();
    assert_eq!(
        store
            .lock_sync(a, int.id, "w1", from_now(900))
            .await
            .unwrap(),
        g1,
        "a renewal by the holder keeps the generation"
    );
    let info = store.sync_lock(a, int.id).await.unwrap().expect("held");
    assert_eq!((info.holder.as_str(), info.generation), ("w1", g1));
    assert!(
        store
            .renew_sync(a, int.id, "w1", g1, from_now(600))
            .await
            .unwrap()
    );
    store
        .write_fenced(a, cs("E1"), &fence("w1", g1))
        .await
        .expect("the holder's fenced write commits");

    // w1 stalls; its lock is broken (as after its lease ran out) and w2 takes it.
    assert!(
        !store
            .break_sync_lock(a, int.id, "w1", g1 + 7)
            .await
            .unwrap(),
        "a break of another generation does nothing"
    );
    assert!(store.break_sync_lock(a, int.id, "w1", g1).await.unwrap());
    assert_eq!(store.sync_lock(a, int.id).await.unwrap(), None, "released");
    let g2 = store
        .lock_sync(a, int.id, "w2", from_now(600))
        .await
        .unwrap();
    assert!(g2 > g1, "a take raises the generation ({g1} then {g2})");
    assert!(
        !store
            .renew_sync(a, int.id, "w1", g1, from_now(600))
            .await
            .unwrap(),
        "the old holder cannot renew a lock taken over"
    );
    match store.write_fenced(a, cs("E2"), &fence("w1", g1)).await {
        Err(StoreError::Fenced(_)) => {}
        other => panic!("the old holder's write got {other:?}, not Fenced"),
    }
    let dir = directory(store, a).await;
    assert_eq!(ids(&dir), ["E1"], "the fenced write wrote nothing");
    assert_eq!(
        store.imports(a, 10).await.unwrap().len(),
        1,
        "the fenced write recorded no import"
    );

    // Released and taken again by the same name: still a new generation, and the
    // old fence of that name does not hold.
    store.unlock_sync(a, int.id, "w2").await.unwrap();
    let g3 = store
        .lock_sync(a, int.id, "w2", from_now(600))
        .await
        .unwrap();
    assert!(g3 > g2, "taking a released lock raises the generation");
    assert!(matches!(
        store.write_fenced(a, cs("E3"), &fence("w2", g2)).await,
        Err(StoreError::Fenced(_))
    ));
    store
        .write_fenced(a, cs("E3"), &fence("w2", g3))
        .await
        .expect("the current fence holds");
    store.unlock_sync(a, int.id, "w2").await.unwrap();
}

// ---------------------------------------------------------------------------
// Imports

/// Imports are listed newest first; summaries, counts and details read back exactly.
pub async fn imports_list_newest_first_with_counts(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let mut summaries = Vec::new();
    let mut records = Vec::new();
    let specs = [
        (
            ImportKind::Sync,
            Trigger::Automatic,
            ImportStatus::Applied,
            true,
        ),
        (
            ImportKind::CsvImport,
            Trigger::Manual,
            ImportStatus::Blocked,
            false,
        ),
        (
            ImportKind::Sync,
            Trigger::Automatic,
            ImportStatus::Failed,
            false,
        ),
        (
            ImportKind::Tick,
            Trigger::Automatic,
            ImportStatus::Applied,
            true,
        ),
    ];
    for (i, (kind, trigger, status, applied)) in specs.into_iter().enumerate() {
        let n = i as i64;
        let mut entry = create_entry(person(
            &format!("E{n}"),
            &format!("e{n}@acme.example"),
            "N",
            "Umber",
        ));
        entry.applied = applied;
        let mut cs = changeset(
            kind,
            at(100 * n),
            if status == ImportStatus::Failed {
                Vec::new()
            } else {
                vec![entry]
            },
        );
        cs.integration_id = (kind != ImportKind::CsvImport).then_some(int.id);
        cs.trigger = trigger;
        cs.status = status;
        cs.started_at = Timestamp::new(1_772_000_000 + 100 * n - 7, 1).unwrap();
        cs.counts = Counts {
            created: 1 + i,
            updated: 2 + i,
            deactivated: 3 + i,
            reactivated: 4 + i,
            unchanged: 5 + i,
            skipped: 6 + i,
            privacy: 7 + i,
            errors: 8 + i,
            warnings: 9 + i,
        };
        cs.details = json!({
            "issues": [{"code": "missing_email", "message": "Zoë hat keine E-Mail", "position": n}],
            "file": format!("import-{n}.csv"),
            "nested": {"ok": true, "ratio": 0.25, "none": null},
        });
        let id = write(store, a, cs.clone()).await;
        let summary = ImportSummary {
            id,
            integration_id: cs.integration_id,
            kind,
            trigger: cs.trigger,
            status,
            started_at: cs.started_at,
            finished_at: cs.finished_at,
            counts: cs.counts.clone(),
        };
        let mut entries = cs.entries.clone();
        if applied {
            let e = by_id(&directory(store, a).await, &entries[0].employee_id);
            entries[0].key = Some(e.key);
            entries[0].after.key = e.key;
        }
        records.push(ImportRecord {
            summary: summary.clone(),
            details: cs.details.clone(),
            entries,
        });
        summaries.push(summary);
    }
    assert!(
        summaries.windows(2).all(|w| w[0].id < w[1].id),
        "import ids ascend"
    );
    summaries.reverse();
    assert_eq!(
        store.imports(a, 10).await.unwrap(),
        summaries,
        "imports() newest first"
    );
    assert_eq!(
        store.imports(a, 2).await.unwrap(),
        summaries[..2],
        "imports() limit"
    );
    assert!(store.imports(a, 0).await.unwrap().is_empty(), "imports(0)");
    for record in records {
        assert_eq!(
            store.import(a, record.summary.id).await.unwrap(),
            Some(record),
            "import() read back differs"
        );
    }
    assert_eq!(
        store.import(a, summaries[0].id + 1000).await.unwrap(),
        None,
        "import() of an unknown id"
    );
}

/// The key check value: absent at first, written once (the first writer wins, a
/// second value is not stored), the same for every account.
pub async fn key_check_is_written_once(store: &dyn Store) {
    assert_eq!(store.key_check().await.expect("key_check"), None);
    let first = store
        .init_key_check(&[1, 2, 3, 0, 0xff], at(0))
        .await
        .expect("init_key_check");
    assert_eq!(first, vec![1, 2, 3, 0, 0xff]);
    let second = store
        .init_key_check(&[9, 9], at(1))
        .await
        .expect("init_key_check again");
    assert_eq!(second, first, "the first value stays");
    assert_eq!(store.key_check().await.expect("key_check"), Some(first));
}

/// Encrypted secrets of every account are sampled (credentials first), and only
/// stored ones: an integration without credentials adds nothing.
pub async fn encrypted_samples_span_accounts(store: &dyn Store) {
    assert!(
        store
            .encrypted_samples(10)
            .await
            .expect("samples")
            .is_empty()
    );
    let a = account(store, "a").await;
    let b = account(store, "b").await;
    let mut bare = new_integration(a, IntegrationKind::Justworks);
    bare.credentials = None;
    store.create_integration(bare).await.expect("create");
    let mut with = new_integration(b, IntegrationKind::Justworks);
    with.credentials = Some(vec![7, 7, 7]);
    store.create_integration(with).await.expect("create");
    store
        .add_channel(crate::jobs::NewChannel {
            account_id: a,
            kind: crate::jobs::ChannelKind::Webhook,
            target: "https://hooks.example/x".into(),
            secret: Some(vec![5, 5]),
            events: Vec::new(),
            at: at(0),
        })
        .await
        .expect("add_channel");
    assert_eq!(
        store.encrypted_samples(10).await.expect("samples"),
        vec![vec![7, 7, 7], vec![5, 5]]
    );
    assert_eq!(
        store.encrypted_samples(1).await.expect("samples"),
        vec![vec![7, 7, 7]]
    );
}
