use jiff::civil::date;
use roster_core::Employee;
use roster_core::plan::{Action, Counts, MassChange};
use roster_core::settings::Settings;
use rstest::rstest;

use super::*;
use crate::outcome::{held, review_status};

fn integration(kind: &str, state: IntegrationState) -> Integration {
    Integration {
        id: 7,
        account_id: 1,
        // A sync run's integration is a Justworks one.
        kind: match kind {
            "csv" => IntegrationKind::Csv,
            _ => IntegrationKind::Justworks,
        },
        name: "test".into(),
        state,
        settings: Settings::default(),
        config: json!({}),
        credentials: None,
        source_fields: Vec::new(),
        company_name: None,
        member_count: None,
        last_fetch_at: None,
        last_sync_at: None,
        created_at: Timestamp::UNIX_EPOCH,
    }
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn entry(id: &str, action: Action, privacy: bool) -> Entry {
    Entry {
        action,
        key: Some(1),
        changes: Vec::new(),
        after: Employee {
            employee_id: id.into(),
            ..Employee::default()
        },
        privacy,
        id_change: false,
        possible_duplicate_of: None,
    }
}

/// Two entries, the second privacy-guarded; the mass-change guard fired.
fn plan() -> Plan {
    Plan {
        today: date(2026, 6, 1),
        complete: true,
        counts: Counts {
            updated: 1,
            deactivated: 1,
            privacy: 1,
            ..Counts::default()
        },
        entries: vec![
            entry("A", Action::Deactivate, false),
            entry("B", Action::Update, true),
        ],
        issues: Vec::new(),
        mass_change: MassChange {
            deactivations: 1,
            active_before: 2,
            deactivation_triggered: true,
            ..MassChange::default()
        },
    }
}

const COLUMNS: &Value = &Value::Null;

fn run<'a>(kind: &str, integration: &'a Integration, columns: &'a Value) -> Run<'a> {
    let kind = match kind {
        "sync" => RunKind::Sync {
            incremental: false,
            members_fetched: 40,
            fetch_marker: at(50),
        },
        _ => RunKind::CsvImport(FileRun {
            file_name: "users.csv",
            rows: 2,
            full: true,
            columns,
            bad_rows: &[],
            skip_bad_rows: false,
        }),
    };
    Run {
        integration,
        trigger: Trigger::Manual,
        started_at: at(100),
        finished_at: at(200),
        today: date(2026, 6, 1),
        diagnostics: &[],
        kind,
    }
}

fn apply_all() -> Decision {
    Decision::Apply {
        apply: vec![0, 1],
        held: vec![],
    }
}

fn hold_privacy() -> Decision {
    Decision::Apply {
        apply: vec![0],
        held: vec![1],
    }
}

fn blocked() -> Decision {
    Decision::Blocked {
        reasons: vec![BlockReason::Privacy, BlockReason::MassChange],
    }
}

#[rstest]
#[case::sync_applied("sync", apply_all(), ImportStatus::Applied, SyncStatus::Applied, &["sync.applied"], &[(true, false), (true, false)])]
#[case::sync_held("sync", hold_privacy(), ImportStatus::PartiallyApplied, SyncStatus::PartiallyApplied, &["sync.applied", "sync.held"], &[(true, false), (false, true)])]
#[case::sync_blocked("sync", blocked(), ImportStatus::Blocked, SyncStatus::Blocked, &["sync.blocked"], &[(false, false), (false, true)])]
#[case::sync_needs_confirmation("sync", Decision::NeedsConfirmation, ImportStatus::Blocked, SyncStatus::NeedsConfirmation, &["sync.blocked"], &[(false, false), (false, false)])]
#[case::csv_applied("csv", apply_all(), ImportStatus::Applied, SyncStatus::Applied, &["csv_import.applied"], &[(true, false), (true, false)])]
#[case::csv_held("csv", hold_privacy(), ImportStatus::PartiallyApplied, SyncStatus::PartiallyApplied, &["csv_import.applied", "csv_import.held"], &[(true, false), (false, true)])]
#[case::csv_blocked("csv", blocked(), ImportStatus::Blocked, SyncStatus::Blocked, &["csv_import.blocked"], &[(false, false), (false, true)])]
#[case::csv_needs_confirmation("csv", Decision::NeedsConfirmation, ImportStatus::Blocked, SyncStatus::NeedsConfirmation, &["csv_import.blocked"], &[(false, false), (false, false)])]
fn a_decision_is_recorded_per_run_kind(
    #[case] kind: &str,
    #[case] decision: Decision,
    #[case] import_status: ImportStatus,
    #[case] status: SyncStatus,
    #[case] events: &[&str],
    #[case] entries: &[(bool, bool)],
) {
    let i = integration(kind, IntegrationState::NeedsFinalise);
    let plan = plan();
    let r = record(&run(kind, &i, COLUMNS), &plan, &decision);
    let cs = &r.changeset;
    assert_eq!((cs.status, r.status), (import_status, status));
    let expected_kind = if kind == "sync" {
        ImportKind::Sync
    } else {
        ImportKind::CsvImport
    };
    assert_eq!(cs.kind, expected_kind);
    assert_eq!(
        (cs.integration_id, cs.trigger.as_str()),
        (Some(7), "manual")
    );
    assert_eq!((cs.started_at, cs.finished_at), (at(100), at(200)));
    assert_eq!(cs.counts, plan.counts);
    let got: Vec<&str> = cs.notifications.iter().map(|n| n.event.as_str()).collect();
    assert_eq!(got, events);
    let flags: Vec<(bool, bool)> = cs.entries.iter().map(|e| (e.applied, e.held)).collect();
    assert_eq!(flags, entries);
    assert_eq!(r.held, held(&decision));
    assert_eq!(cs.details["extra"]["held"], json!(r.held));
    let applied_any = matches!(
        import_status,
        ImportStatus::Applied | ImportStatus::PartiallyApplied
    );
    assert_eq!(r.applied.is_empty(), !applied_any);
    // A manual run that applied finalises the integration (a CSV one: only a CSV
    // integration); a sync moves the incremental marker.
    let update = cs.integration_update.as_ref();
    assert_eq!(update.is_some(), applied_any, "{update:?}");
    if let Some(u) = update {
        assert_eq!(u.state, Some(IntegrationState::Active));
        assert_eq!(u.last_sync_at, Some(at(200)));
        assert_eq!(u.last_fetch_at, (kind == "sync").then(|| at(50)));
    }
    match kind {
        "sync" => assert_eq!(cs.details["members_fetched"], 40),
        _ => {
            assert_eq!(cs.details["file"], "users.csv");
            assert_eq!(cs.details["members_fetched"], 2);
            assert_eq!(cs.details["mode"], "full");
        }
    }
}

#[rstest]
#[case::blocked(blocked(), json!(["privacy", "mass_change"]), Some(1))]
#[case::needs_confirmation(Decision::NeedsConfirmation, json!(["mass_change"]), None)]
fn a_block_names_its_reasons(
    #[case] decision: Decision,
    #[case] reasons: Value,
    #[case] privacy: Option<u64>,
) {
    let i = integration("justworks", IntegrationState::Active);
    let cs = record(&run("sync", &i, COLUMNS), &plan(), &decision).changeset;
    let p = &cs.notifications[0].payload;
    assert_eq!(p["reasons"], reasons);
    assert_eq!(p["privacy_employees"].as_u64(), privacy);
    assert_eq!(p["mass_change"], "would deactivate 1 of 2 active employees");
    assert_eq!(p["integration_id"], 7);
}

#[rstest]
#[case::automatic_keeps_the_state(Trigger::Automatic, IntegrationState::NeedsFinalise, None)]
#[case::active_stays(Trigger::Manual, IntegrationState::Active, None)]
#[case::manual_finalises(
    Trigger::Manual,
    IntegrationState::NeedsFinalise,
    Some(IntegrationState::Active)
)]
fn only_a_manual_run_finalises(
    #[case] trigger: Trigger,
    #[case] state: IntegrationState,
    #[case] becomes: Option<IntegrationState>,
) {
    let i = integration("justworks", state);
    let run = Run {
        trigger,
        ..run("sync", &i, COLUMNS)
    };
    let cs = record(&run, &plan(), &apply_all()).changeset;
    assert_eq!(cs.trigger, trigger);
    assert_eq!(cs.integration_update.and_then(|u| u.state), becomes);
}

#[test]
fn a_csv_import_into_another_integration_leaves_its_marks() {
    let i = integration("justworks", IntegrationState::NeedsFinalise);
    let cs = record(&run("csv", &i, COLUMNS), &plan(), &apply_all()).changeset;
    assert_eq!(cs.status, ImportStatus::Applied);
    assert_eq!(cs.integration_update, None);
}

#[test]
fn reviews_failures_and_refusals() {
    assert_eq!(review_status(&apply_all()), SyncStatus::Reviewed);
    assert_eq!(review_status(&blocked()), SyncStatus::Blocked);
    assert_eq!(
        review_status(&Decision::NeedsConfirmation),
        SyncStatus::NeedsConfirmation
    );
    assert_eq!(held(&hold_privacy()), [1]);

    let failed = sync_failure(7, Trigger::Automatic, at(1), at(2), "timed out");
    assert_eq!(
        (failed.kind, failed.status, failed.trigger.as_str()),
        (ImportKind::Sync, ImportStatus::Failed, "automatic")
    );
    assert_eq!(failed.details, json!({ "error": "timed out" }));
    assert_eq!(failed.notifications[0].event, "sync.failed");
    assert_eq!(
        failed.notifications[0].payload,
        json!({ "integration_id": 7, "error": "timed out" })
    );

    let i = integration("csv", IntegrationState::Active);
    let plan = plan();
    let refused = refusal(&run("csv", &i, COLUMNS), &plan, "2 rows in error");
    assert_eq!(refused.status, ImportStatus::Failed);
    assert_eq!(refused.counts, plan.counts);
    assert!(refused.entries.is_empty() && refused.notifications.is_empty());
    assert_eq!(refused.details["extra"]["error"], "2 rows in error");
    assert_eq!(refused.integration_update, None);

    let file = file_failure(7, "users.csv", "the file is empty", at(3));
    assert_eq!(
        (file.kind, file.status),
        (ImportKind::CsvImport, ImportStatus::Failed)
    );
    assert_eq!(
        file.details,
        json!({ "file": "users.csv", "error": "the file is empty" })
    );
}

#[rstest]
#[case::sync(None, ImportKind::Sync)]
#[case::users_file(Some(("users.csv", &[3_usize][..])), ImportKind::CsvImport)]
fn a_discard_records_the_plan_unapplied(
    #[case] file: Option<(&str, &[usize])>,
    #[case] kind: ImportKind,
) {
    let plan = plan();
    let cs = discard(
        &Discard {
            integration: 7,
            trigger: Trigger::Manual,
            plan: &plan,
            diagnostics: &[],
            members_fetched: 2,
            file,
        },
        at(9),
    );
    assert_eq!((cs.kind, cs.status), (kind, ImportStatus::Discarded));
    assert_eq!((cs.started_at, cs.finished_at), (at(9), at(9)));
    assert!(cs.entries.iter().all(|e| !e.applied && !e.held));
    assert_eq!(cs.entries.len(), 2);
    assert!(cs.notifications.is_empty());
    assert_eq!(cs.details["members_fetched"], 2);
    assert_eq!(cs.details.get("file").is_some(), file.is_some());
}

#[test]
fn edits_are_applied_whole_and_an_empty_one_is_not_recorded() {
    let plan = plan();
    let cs = edits(ImportKind::Merge, &plan, json!({}), None, at(5)).unwrap();
    assert_eq!(
        (cs.integration_id, cs.status),
        (None, ImportStatus::Applied)
    );
    assert!(cs.entries.iter().all(|e| e.applied && !e.held));
    assert_eq!(cs.notifications[0].event, "merge.applied");
    let empty = Plan {
        entries: Vec::new(),
        ..plan
    };
    assert_eq!(
        edits(ImportKind::Tick, &empty, json!({}), None, at(5)),
        None
    );
    let rollback = edits(ImportKind::Rollback, &empty, json!({}), Some(3), at(5)).unwrap();
    assert_eq!(rollback.rolls_back, Some(3));
}

#[test]
fn an_unlock_names_the_holder_and_whether_its_lease_ran_out() {
    let lock = SyncLockInfo {
        holder: "host-a:42:9000:abc".into(),
        generation: 3,
        until: at(100),
    };
    let cs = unlock(7, &lock, at(50), at(150));
    assert_eq!(
        (cs.kind, cs.status),
        (ImportKind::Unlock, ImportStatus::Applied)
    );
    let released = &cs.details["released_lock"];
    assert_eq!(released["host"], "host-a");
    assert_eq!(released["pid"], 42);
    assert_eq!(released["generation"], 3);
    assert_eq!(released["lease_expired"], true);
    assert_eq!(
        unlock(7, &lock, at(50), at(99)).details["released_lock"]["lease_expired"],
        false
    );
}
