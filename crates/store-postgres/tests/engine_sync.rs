//! End to end on PostgreSQL: the real engine syncs an in-memory source into a
//! `PgStore` (an import, the next day's sync, a rollback), and the directory is
//! checked after each step. The same pattern as `crates/engine/tests/engine.rs`.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::sync::{Arc, Mutex};

use jiff::civil::date;
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::member::{ManagerRef, SourceMember};
use roster_engine::testing::{Members, ada_grace_alan, apply, person as member};
use roster_engine::{Cipher, Engine, FixedClock, SyncOptions, SyncStatus};
use roster_store::{ImportKind, ImportStatus, Store};
use roster_store_postgres::testing::TestDb;

fn reports_to(mut m: SourceMember, boss_id: &str, boss_email: &str) -> SourceMember {
    m.manager = ManagerRef::Resolved {
        source_id: boss_id.into(),
        email: boss_email.into(),
    };
    m
}

/// What the test checks of each employee, in key order.
type Row = (
    String,
    String,
    Option<String>,
    bool,
    Option<DeactivationReason>,
    Option<String>,
    bool,
);

fn rows(dir: &[Employee]) -> Vec<Row> {
    dir.iter()
        .map(|e| {
            (
                e.employee_id.clone(),
                e.email.clone(),
                e.last_name.clone(),
                e.active,
                e.deactivation_reason,
                e.manager_email.clone(),
                e.is_manager,
            )
        })
        .collect()
}

fn row(
    id: &str,
    email: &str,
    last: &str,
    active: Option<DeactivationReason>,
    manager: Option<&str>,
    is_manager: bool,
) -> Row {
    (
        id.into(),
        email.into(),
        Some(last.into()),
        active.is_none(),
        active,
        manager.map(str::to_string),
        is_manager,
    )
}

#[tokio::test]
async fn import_next_day_sync_and_rollback_on_postgres() {
    let db = TestDb::create().await;
    let store: Arc<dyn Store> = Arc::new(db.store().await);
    let clock = Arc::new(FixedClock::on(date(2026, 11, 23)));
    let engine = Engine::open(
        store.clone(),
        clock.clone(),
        Cipher::from_base64(&Cipher::generate_base64()).unwrap(),
        "acme",
    )
    .await
    .expect("engine on PostgreSQL");
    let account = engine.account();
    let source = Members(Mutex::new(ada_grace_alan()));
    let integration = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            "test",
            serde_json::json!({}),
            Some(b"secret"),
        )
        .await
        .unwrap();
    assert_eq!(
        engine.credentials(&integration).unwrap().as_deref(),
        Some(&b"secret"[..]),
        "credentials round-trip through PostgreSQL"
    );

    // 1. The first import.
    let first = engine.sync(integration.id, &source, apply()).await.unwrap();
    assert_eq!(first.status, SyncStatus::Applied);
    assert_eq!(first.plan.counts.created, 3);
    let after_import = store.directory(account).await.unwrap();
    assert_eq!(
        rows(&after_import),
        vec![
            row("m1", "ada@acme.example", "Example", None, None, true),
            row(
                "m2",
                "grace@acme.example",
                "Example",
                None,
                Some("ada@acme.example"),
                false
            ),
            row("m3", "alan@acme.example", "Example", None, None, false),
        ],
        "the directory after the import"
    );

    // 2. The next day: Ada is renamed, Alan's last day is today, Linus joins under
    //    Alan, and Grace changes email.
    clock.set_date(date(2026, 11, 24));
    {
        let mut members = source.0.lock().unwrap();
        members[0].family_name = Some("Lovelace".into());
        members[1].work_email = Some("grace.hopper@acme.example".into());
        members[2].end_date = Some("2026-11-24".into());
        members.push(reports_to(
            member("m4", "Linus", "linus@acme.example"),
            "m3",
            "alan@acme.example",
        ));
    }
    let second = engine.sync(integration.id, &source, apply()).await.unwrap();
    assert_eq!(second.status, SyncStatus::Applied);
    let second_id = second.import_id.expect("the second sync was recorded");
    let after_sync = store.directory(account).await.unwrap();
    assert_eq!(
        rows(&after_sync),
        vec![
            row("m1", "ada@acme.example", "Lovelace", None, None, true),
            row(
                "m2",
                "grace.hopper@acme.example",
                "Example",
                None,
                Some("ada@acme.example"),
                false
            ),
            row(
                "m3",
                "alan@acme.example",
                "Example",
                Some(DeactivationReason::EndDate),
                None,
                false
            ),
            row(
                "m4",
                "linus@acme.example",
                "Example",
                None,
                Some("alan@acme.example"),
                false
            ),
        ],
        "the directory after the next day's sync"
    );
    assert_eq!(
        after_sync[..3].iter().map(|e| e.key).collect::<Vec<_>>(),
        after_import.iter().map(|e| e.key).collect::<Vec<_>>(),
        "employees kept their keys"
    );
    let history = store
        .employee_history(account, after_sync[0].key)
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "Ada's history: created, renamed");
    assert_eq!(history[0].import_id, second_id);
    assert!(
        history[0]
            .changes
            .iter()
            .any(|c| c.field == "last_name" && c.new.as_deref() == Some("Lovelace")),
        "{:?}",
        history[0].changes
    );

    // 3. Roll the second sync back.
    let rollback = engine.rollback(second_id).await.unwrap();
    assert!(rollback.conflicts.is_empty(), "{:?}", rollback.conflicts);
    let after_rollback = store.directory(account).await.unwrap();
    let mut want = rows(&after_import);
    want.push(row(
        "m4",
        "linus@acme.example",
        "Example",
        Some(DeactivationReason::RolledBack),
        Some("alan@acme.example"),
        false,
    ));
    assert_eq!(
        rows(&after_rollback),
        want,
        "the directory after the rollback"
    );
    assert_eq!(
        after_rollback[..3],
        after_import[..],
        "rolled back employees are exactly as after the import"
    );
    let imports = store.imports(account, 10).await.unwrap();
    assert_eq!(
        imports
            .iter()
            .map(|i| (i.kind, i.status))
            .collect::<Vec<_>>(),
        vec![
            (ImportKind::Rollback, ImportStatus::Applied),
            (ImportKind::Sync, ImportStatus::RolledBack),
            (ImportKind::Sync, ImportStatus::Applied),
        ],
        "the import history, newest first"
    );
    assert!(
        engine.rollback(second_id).await.is_err(),
        "a sync is rolled back only once"
    );

    // 4. An incremental sync plans over the outline (`directory_outline`) and loads
    //    full rows by key (`employees_by_key`). The source is back to the first
    //    day, but Grace goes by Gracie now: that alone changes.
    {
        let mut members = source.0.lock().unwrap();
        members.truncate(3);
        members[0].family_name = Some("Example".into());
        members[1].work_email = Some("grace@acme.example".into());
        members[1].given_name = Some("Gracie".into());
        members[2].end_date = None;
    }
    let incremental = SyncOptions {
        incremental: true,
        ..apply()
    };
    let fourth = engine
        .sync(integration.id, &source, incremental)
        .await
        .unwrap();
    assert_eq!(fourth.status, SyncStatus::Applied);
    assert_eq!(fourth.plan.counts.updated, 1, "{:?}", fourth.plan.counts);
    let mut want = after_rollback.clone();
    want[1].first_name = Some("Gracie".into());
    assert_eq!(
        store.directory(account).await.unwrap(),
        want,
        "the directory after the incremental sync"
    );
}

/// Fencing (issue #18) on PostgreSQL: a holder stalled past its lease applies
/// nothing once its lock or its job was taken over; exactly one import applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_holder_applies_nothing_on_postgres() {
    let db = TestDb::create().await;
    let store: Arc<dyn Store> = Arc::new(db.store().await);
    roster_engine::testing::a_stalled_holder_applies_nothing(store).await;
}
