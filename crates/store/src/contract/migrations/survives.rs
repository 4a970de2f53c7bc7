//! What [`old_rows_survive`](super::old_rows_survive) checks after the
//! migration to the newest schema, version by version: each old row reads back through
//! the [`Store`], the columns added since hold their defaults, and the store writes on.

use jiff::Timestamp;
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::guard::Trigger;
use roster_core::plan::{Action, Rule};
use roster_core::settings::Settings;

use super::super::fixtures::{change_entry, changeset, create_entry, minimal};
use super::{ACME, CSV, GLOBEX, JUSTWORKS, LONG_AGO, at, schedule};
use crate::Store;
use crate::access::{ReviewStatus, Role};
use crate::jobs::{ChannelKind, JobKind};
use crate::selection::{EmployeeFilter as F, KeyPage};
use crate::{ImportKind, ImportStatus, IntegrationKind, IntegrationState};

/// Migration 0008 (`account`'s rows): `created` is the earliest applied import
/// entry's import (else the row's last change); identifiers are folded, those beyond
/// ASCII when the store opens.
pub(super) async fn times_and_folds(
    store: &dyn Store,
    account: i64,
    times: &[(i64, i64)],
    f: &[F],
) {
    let rows = store.select_employees(account, &F::All, KeyPage::default());
    let got: Vec<_> = rows
        .await
        .unwrap()
        .iter()
        .map(|d| (d.created, d.modified))
        .collect();
    let want: Vec<_> = times.iter().map(|&(c, m)| (at(c), at(m))).collect();
    assert_eq!(got, want, "times of account {account}");
    for f in f {
        assert_eq!(store.count_selected(account, f).await.unwrap(), 1, "{f:?}");
    }
}

/// 0009: the history written before the change feed existed gets its events when
/// the store opens, as the history gives them (the creates with the values they had
/// then: E1 was created as "A", renamed "Ada" by import 402).
pub(super) async fn feed_filled(store: &dyn Store) {
    use roster_core::feed::EventType::*;
    let q = crate::EventQuery {
        limit: 1000,
        ..crate::EventQuery::default()
    };
    let events = store.events(ACME, &q).await.expect("events");
    assert_eq!(events, store.events_from_history(ACME).await.unwrap());
    let head: Vec<_> = events
        .iter()
        .take(5)
        .map(|e| (e.event_type, e.import_id, e.employee_id.as_deref()))
        .collect();
    assert_eq!(
        head,
        [
            (Created, 401, Some("E1")),
            (Created, 401, Some("E2")),
            (ImportApplied, 401, None),
            (Updated, 402, Some("E1")),
            (ImportApplied, 402, None),
        ]
    );
    let first_name = |i: usize| {
        events[i]
            .changes
            .iter()
            .find(|c| c.field == "first_name")
            .map(|c| (c.before.clone(), c.after.clone()))
    };
    assert_eq!(first_name(0), Some((None, Some("A".into()))));
    assert_eq!(first_name(3), Some((Some("A".into()), Some("Ada".into()))));
}

pub(super) async fn v1_survives(store: &dyn Store) {
    assert!(
        store
            .accounts()
            .await
            .unwrap()
            .contains(&(ACME, "acme".to_string()))
    );
    let i = store
        .integration(ACME, JUSTWORKS)
        .await
        .unwrap()
        .expect("integration 201");
    assert_eq!(
        (i.kind, i.state, i.company_name.as_deref(), i.member_count),
        (
            IntegrationKind::Justworks,
            IntegrationState::Active,
            Some("Acme Inc"),
            Some(2)
        )
    );
    assert_eq!(
        (i.last_fetch_at, i.last_sync_at),
        (Some(at(10)), Some(at(11)))
    );
    assert_eq!(i.settings, Settings::default());
    let dir = store.directory(ACME).await.unwrap();
    let ada = Employee {
        key: 301,
        employee_id: "E1".into(),
        source_id: Some("mbr_1".into()),
        email: "Ada@acme.example".into(),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        date_of_birth: Some(jiff::civil::date(1990, 12, 10)),
        start_date: Some(jiff::civil::date(2020, 1, 2)),
        hire_date: Some(jiff::civil::date(2020, 1, 2)),
        phone: Some("+1 555".into()),
        demographics: [("Office".to_string(), "Paris".to_string())].into(),
        active: true,
        is_manager: true,
        ..Employee::default()
    };
    let left = Employee {
        key: 302,
        employee_id: "E2".into(),
        end_date: Some(jiff::civil::date(2026, 1, 31)),
        manager_email: Some("ada@acme.example".into()),
        deactivation_reason: Some(DeactivationReason::EndDate),
        ..Employee::default()
    };
    assert_eq!(dir, vec![ada.clone(), left]);
    assert_eq!(
        store.find_employee(ACME, "ADA@acme.example").await.unwrap(),
        Some(ada)
    );
    let imports = store.imports(ACME, 10).await.unwrap();
    let kinds: Vec<_> = imports.iter().map(|i| (i.id, i.kind, i.trigger)).collect();
    assert_eq!(
        kinds,
        [
            (402, ImportKind::AdminEdit, Trigger::Manual),
            (401, ImportKind::Sync, Trigger::Manual)
        ],
        "an import of kind 'manual' reads as an admin edit"
    );
    let history = store.employee_history(ACME, 301).await.unwrap();
    let lines: Vec<_> = history.iter().map(|h| (h.import_id, h.action)).collect();
    assert_eq!(lines, [(402, Action::Update), (401, Action::Create)]);
    assert_eq!(history[0].changes[0].rule, Rule::Source);
    let record = store.import(ACME, 401).await.unwrap().expect("import 401");
    assert_eq!(record.summary.status, ImportStatus::Applied);
    assert_eq!(record.entries.len(), 2);
    let outbox = store.outbox(ACME, 10).await.unwrap();
    assert_eq!(outbox[0].id, 501);
    assert_eq!(outbox[0].event, "sync.applied");
    let lock = store
        .sync_lock(ACME, JUSTWORKS)
        .await
        .unwrap()
        .expect("lock");
    assert_eq!(
        (lock.holder.as_str(), lock.generation, lock.until),
        ("worker-1", 0, at(-LONG_AGO)),
        "a lock from before generations has generation 0"
    );
}

pub(super) async fn v2_survives(store: &dyn Store, upto: i64) {
    let token = store
        .api_token_by_digest("digest-1")
        .await
        .unwrap()
        .expect("token");
    assert_eq!((token.id, token.role), (601, Role::Viewer));
    let user = store
        .user_by_email("hr@acme.example")
        .await
        .unwrap()
        .expect("user");
    assert_eq!(
        (user.user.id, user.user.role, user.password_hash.as_str()),
        (701, Role::AccountAdmin, "hash")
    );
    let session = store
        .session_by_digest("session-1", at(100))
        .await
        .unwrap()
        .expect("a session kept through the users rebuild");
    assert_eq!(session.user.id, 701);
    let review = store.review(ACME, 801).await.unwrap().expect("review 801");
    assert_eq!(
        (review.status, review.reserved_by, review.reserved_at),
        (ReviewStatus::Pending, None, None)
    );
    if upto < 6 {
        assert_eq!(store.key_check().await.unwrap(), None);
    }
    assert_eq!(
        store.take_oauth_state("state-1", at(100)).await.unwrap(),
        Some((ACME, vec![0, 0xff, 1]))
    );
}

pub(super) async fn v3_survives(store: &dyn Store) {
    let jobs = store.jobs(ACME).await.unwrap();
    let job = jobs.iter().find(|j| j.id == 901).expect("job 901");
    assert_eq!(
        (
            job.kind,
            job.integration_id,
            job.enabled,
            job.paused,
            job.runs
        ),
        (JobKind::Sync, Some(JUSTWORKS), true, false, 3)
    );
    assert_eq!(job.schedule, schedule());
    assert_eq!(job.postponed, None, "a job from before postponements");
    let channels = store.channels(ACME).await.unwrap();
    assert_eq!(
        channels.iter().map(|c| (c.id, c.kind)).collect::<Vec<_>>(),
        [(1001, ChannelKind::Webhook)]
    );
    let deliveries = store.deliveries(ACME, 502).await.unwrap();
    assert_eq!(deliveries[0].last_error.as_deref(), Some("HTTP 500"));
    let states = store.notifications(ACME, 10).await.unwrap();
    let first = states.iter().find(|s| s.message.id == 501).expect("501");
    assert_eq!(
        (first.attempts, first.next_attempt_at, first.failed_at),
        (0, None, None),
        "a message from before delivery rounds"
    );
}

pub(super) async fn v5_survives(store: &dyn Store) {
    let lock = store.sync_lock(ACME, CSV).await.unwrap().expect("lock");
    assert_eq!((lock.holder.as_str(), lock.generation), ("worker-2", 3));
    let tick = store
        .job(ACME, JobKind::Tick, None)
        .await
        .unwrap()
        .expect("tick job");
    assert_eq!(tick.postponed.as_deref(), Some("another sync ran"));
}

/// The store writes on after the migration: a new employee gets a key of its own, a
/// lock of before generations is taken over with the next one.
pub(super) async fn writes_on(store: &dyn Store) {
    let mut cs = changeset(ImportKind::Sync, at(500), vec![create_entry(minimal("E3"))]);
    cs.integration_id = Some(JUSTWORKS);
    store.write(ACME, cs).await.expect("write after migrating");
    let dir = store.directory(ACME).await.unwrap();
    let keys: Vec<i64> = dir.iter().map(|e| e.key).collect();
    assert_eq!(dir.len(), 3, "{keys:?}");
    let generation = store
        .lock_sync(
            ACME,
            JUSTWORKS,
            "worker-9",
            Timestamp::now() + jiff::SignedDuration::from_secs(60),
        )
        .await
        .expect("an expired lock is taken over");
    assert_eq!(generation, 1);
}

/// Migration 0017 links each employee's old entries into its history chain: the
/// history reads them, newest first, and a write after it links on.
pub(super) async fn history_chained(store: &dyn Store) {
    let ids = |h: Vec<crate::HistoryEntry>| h.iter().map(|e| e.import_id).collect::<Vec<_>>();
    let history = |key| async move { ids(store.employee_history(ACME, key).await.unwrap()) };
    assert_eq!(history(301).await, [402, 401]);
    assert_eq!(history(302).await, [401]);
    let dir = store.directory(ACME).await.unwrap();
    let ada = dir.iter().find(|e| e.key == 301).expect("301").clone();
    let mut renamed = ada.clone();
    renamed.first_name = Some("Augusta".into());
    let mut cs = changeset(
        ImportKind::Sync,
        at(600),
        vec![change_entry(Action::Update, &ada, renamed, Rule::Source)],
    );
    cs.integration_id = Some(JUSTWORKS);
    let id = store.write(ACME, cs).await.expect("write after migrating");
    // (The history is in import id order: PostgreSQL's next id here is 2, as the
    // old rows' ids were given.)
    let mut ids = history(301).await;
    ids.sort();
    let mut want = vec![id, 402, 401];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(history(302).await, [401]);
}

/// Migration 0010 keys the ASCII manager emails; the store keys the others.
pub(super) async fn reports_survive(store: &dyn Store) {
    let keys = [
        "boss@globex.example".to_string(),
        "zoë@globex.example".to_string(),
    ];
    let counts = store.active_report_counts(GLOBEX, &keys).await.unwrap();
    assert_eq!(counts, [("boss@globex.example".to_string(), 1)]);
    assert_eq!(store.key_manager_emails(GLOBEX).await.unwrap(), 1);
    assert_eq!(store.key_manager_emails(GLOBEX).await.unwrap(), 0);
    let counts = store.active_report_counts(GLOBEX, &keys).await.unwrap();
    assert_eq!(
        counts,
        [
            ("boss@globex.example".to_string(), 1),
            ("zoë@globex.example".to_string(), 1)
        ]
    );
}

/// Migration 0015 counts each account's active rows (and the triggers keep the
/// count): the store's count is the active rows'.
pub(super) async fn active_counts_match(store: &dyn Store) {
    for account in [ACME, GLOBEX] {
        let rows = store.directory(account).await.unwrap();
        let active = rows.iter().filter(|e| e.active).count() as u64;
        let kept = store.count_employees(account, true).await.unwrap();
        assert_eq!(kept, active, "account {account}: the kept active count");
    }
}
