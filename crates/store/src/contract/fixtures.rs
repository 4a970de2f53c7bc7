//! What the contract tests build on: timestamps, employees, entries, changesets,
//! integrations, and short ways to write and read. Public ones serve adapters' own
//! tests and benchmarks too.

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use roster_core::employee::{Employee, diff};
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Change, Counts, Rule};
use roster_core::settings::Settings;
use serde_json::json;

use crate::{
    AccountId, Changeset, EmployeeQuery, EntryRecord, ImportId, ImportKind, ImportStatus,
    IntegrationKind, NewIntegration, Notification, Store, StoreError,
};

/// A fixed instant with nanoseconds, plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    Timestamp::new(1_772_000_000 + secs, 123_456_789).expect("valid timestamp")
}

pub(super) fn from_now(secs: i64) -> Timestamp {
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
            Action::Update | Action::Remove => counts.updated += 1,
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

pub(super) fn notification(event: &str, n: i64) -> Notification {
    Notification {
        event: event.to_string(),
        payload: json!({"n": n, "text": "Zoë → 東京"}),
    }
}

pub(super) fn all() -> EmployeeQuery {
    EmployeeQuery {
        include_inactive: true,
        ..Default::default()
    }
}

pub(super) fn by_id(dir: &[Employee], id: &str) -> Employee {
    dir.iter()
        .find(|e| e.employee_id == id)
        .cloned()
        .unwrap_or_else(|| panic!("employee {id} is not in the directory"))
}

pub(super) fn ids(list: &[Employee]) -> Vec<&str> {
    list.iter().map(|e| e.employee_id.as_str()).collect()
}

pub(super) async fn account(store: &dyn Store, name: &str) -> AccountId {
    store.ensure_account(name).await.expect("ensure_account")
}

pub(super) async fn write(store: &dyn Store, account: AccountId, cs: Changeset) -> ImportId {
    store
        .write(account, cs)
        .await
        .unwrap_or_else(|e| panic!("write failed: {e}"))
}

pub(super) async fn directory(store: &dyn Store, account: AccountId) -> Vec<Employee> {
    store.directory(account).await.expect("directory")
}

/// Create `employees` in one applied import; the directory afterwards.
pub(super) async fn seed(
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

pub(super) fn is_not_found<T: std::fmt::Debug>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}
