//! The engine over the real SQLite store, with an in-memory `Source` standing in for
//! a file of members (the Justworks path is covered end to end in the CLI tests).
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::civil::date;
use roster_core::guard::Trigger;
use roster_core::member::{ManagerRef, SourceMember};
use roster_engine::testing::{Members, ada_grace_alan, apply, person as member};
use roster_engine::{
    Cipher, Engine, EngineError, FixedClock, SyncOptions, SyncOutcome, SyncStatus,
};
use roster_source::{CompanyInfo, FetchRequest, Snapshot, Source, SourceError};
use roster_store::{ImportStatus, StoreError};

async fn setup() -> (Engine, Arc<FixedClock>, Members, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::on(date(2026, 11, 23)));
    let engine = Engine::open(
        Arc::new(store),
        clock.clone(),
        Cipher::from_base64(&Cipher::generate_base64()).unwrap(),
        "t",
    )
    .await
    .unwrap();
    let source = Members(Mutex::new(ada_grace_alan()));
    engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            "test",
            serde_json::json!({}),
            Some(b"secret"),
        )
        .await
        .unwrap();
    (engine, clock, source, dir)
}

#[tokio::test]
async fn a_second_sync_while_one_runs_is_refused() {
    let (engine, _, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    let until = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(5))
        .unwrap();
    engine
        .store()
        .lock_sync(engine.account(), i.id, "someone-else", until)
        .await
        .unwrap();
    let err = engine.sync(i.id, &source, apply()).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Store(StoreError::SyncRunning(_))),
        "{err}"
    );
    assert!(err.to_string().contains("already running"));
    // A review needs no lock.
    assert_eq!(
        engine
            .sync(i.id, &source, SyncOptions::default())
            .await
            .unwrap()
            .status,
        SyncStatus::Reviewed
    );
    engine
        .store()
        .unlock_sync(engine.account(), i.id, "someone-else")
        .await
        .unwrap();
    assert_eq!(
        engine.sync(i.id, &source, apply()).await.unwrap().status,
        SyncStatus::Applied
    );
}

#[tokio::test]
async fn automatic_sync_is_refused_before_the_first_manual_one() {
    let (engine, _, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    let auto = SyncOptions {
        trigger: Some(Trigger::Automatic),
        ..apply()
    };
    assert!(matches!(
        engine.sync(i.id, &source, auto.clone()).await,
        Err(EngineError::NeedsFinalise(_))
    ));
    engine.sync(i.id, &source, apply()).await.unwrap();
    assert_eq!(
        engine.sync(i.id, &source, auto).await.unwrap().status,
        SyncStatus::Applied
    );
}

#[tokio::test]
async fn credentials_are_encrypted_at_rest() {
    let (engine, _, _, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    let stored = i.credentials.clone().unwrap();
    assert!(!stored.windows(6).any(|w| w == b"secret"));
    assert_eq!(engine.credentials(&i).unwrap().unwrap(), b"secret");
}

#[tokio::test]
async fn set_email_survives_syncs_when_override_emails_is_off_and_reports_follow() {
    let (engine, _, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    engine
        .update_settings(i.id, |s| {
            s.set("override_emails", "false").map_err(|e| e.to_string())
        })
        .await
        .unwrap();
    engine
        .set_email("m1", "ada.lovelace@acme.example")
        .await
        .unwrap();
    assert_eq!(
        engine.find("m2").await.unwrap().manager_email.as_deref(),
        Some("ada.lovelace@acme.example")
    );
    engine.sync(i.id, &source, apply()).await.unwrap();
    assert_eq!(
        engine.find("m1").await.unwrap().email,
        "ada.lovelace@acme.example"
    );
    assert!(engine.set_email("m1", "not an email").await.is_err());
    assert!(
        engine
            .set_email("m1", "alan@acme.example")
            .await
            .unwrap_err()
            .to_string()
            .contains("m3")
    );
}

/// A set email is recorded with its `email_edited` mark, so rolling the edit back
/// clears the mark too (it used to stay set: no history recorded it), and the
/// change feed carries it.
#[tokio::test]
async fn rolling_back_a_set_email_clears_its_mark() {
    let (engine, _, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    let before = engine.find("m1").await.unwrap();
    assert!(!before.email_edited);
    let set = engine
        .set_email("m1", "ada.lovelace@acme.example")
        .await
        .unwrap();
    assert!(engine.find("m1").await.unwrap().email_edited);
    engine.rollback(set.import_id.unwrap()).await.unwrap();
    let after = engine.find("m1").await.unwrap();
    assert_eq!(after.email, before.email);
    assert!(!after.email_edited, "the rollback cleared the mark");
    let q = roster_store::EventQuery {
        limit: 1000,
        ..Default::default()
    };
    let events = engine.store().events(engine.account(), &q).await.unwrap();
    let marks: Vec<(Option<String>, Option<String>)> = events
        .iter()
        .flat_map(|e| &e.changes)
        .filter(|c| c.field == "email_edited")
        .map(|c| (c.before.clone(), c.after.clone()))
        .collect();
    let t = |s: &str| Some(s.to_string());
    assert_eq!(marks, [(t("false"), t("true")), (t("true"), t("false"))]);
}

#[tokio::test]
async fn merging_a_duplicate_moves_identifiers_to_the_original() {
    let (engine, _, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    // Both identifiers of m3 change in the source: a duplicate is created.
    source.0.lock().unwrap()[2] = member("m3-new", "Alan", "alan.t@acme.example");
    let o = engine.sync(i.id, &source, apply()).await.unwrap();
    assert_eq!(o.plan.counts.created, 1);
    assert_eq!(
        o.plan
            .entries
            .iter()
            .find(|e| e.employee_id() == "m3-new")
            .unwrap()
            .possible_duplicate_of
            .as_deref(),
        Some("m3")
    );
    engine.merge("m3-new", "m3").await.unwrap();
    let merged = engine.find("alan.t@acme.example").await.unwrap();
    assert_eq!(merged.employee_id, "m3-new");
    assert!(merged.active);
    // The next sync matches the original and changes nothing.
    let again = engine.sync(i.id, &source, apply()).await.unwrap();
    assert!(again.plan.entries.is_empty(), "{:?}", again.plan.entries);
    let active = engine
        .store()
        .count_employees(engine.account(), true)
        .await
        .unwrap();
    assert_eq!(active, 3);
}

#[tokio::test]
async fn tick_applies_future_end_dates_on_their_day_and_rollback_reverts() {
    let (engine, clock, source, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    source.0.lock().unwrap()[2].end_date = Some("2026-11-30".into());
    engine.sync(i.id, &source, apply()).await.unwrap();
    assert_eq!(engine.upcoming(30).await.unwrap().len(), 1);
    assert!(
        engine.tick().await.unwrap().import_id.is_none(),
        "nothing due yet"
    );
    clock.set_date(date(2026, 11, 30));
    let due = engine.upcoming(30).await.unwrap();
    assert_eq!(
        due.iter().map(|u| u.kind.as_str()).collect::<Vec<_>>(),
        ["deactivation"],
        "due today and not applied yet: still listed"
    );
    let t = engine.tick().await.unwrap();
    assert!(!engine.find("m3").await.unwrap().active);
    assert!(
        engine.upcoming(30).await.unwrap().is_empty(),
        "applied: no longer upcoming"
    );
    let rb = engine.rollback(t.import_id.unwrap()).await.unwrap();
    assert!(rb.conflicts.is_empty());
    assert!(engine.find("m3").await.unwrap().active);
    let history = engine.store().imports(engine.account(), 10).await.unwrap();
    assert_eq!(
        history
            .iter()
            .find(|s| Some(s.id) == t.import_id)
            .unwrap()
            .status,
        ImportStatus::RolledBack
    );
    assert!(
        engine.rollback(t.import_id.unwrap()).await.is_err(),
        "only once"
    );
}

/// [`setup`], and a review of the sync (nothing applied).
async fn reviewed() -> (Engine, Members, tempfile::TempDir, i64, SyncOutcome) {
    let (engine, _, source, d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    let review = engine
        .sync(i.id, &source, SyncOptions::default())
        .await
        .unwrap();
    (engine, source, d, i.id, review)
}

#[tokio::test]
async fn a_declined_review_is_recorded_as_discarded_and_changes_nothing() {
    let (engine, _source, _d, _, review) = reviewed().await;
    assert_eq!(review.status, SyncStatus::Reviewed);
    let id = engine.discard(&review, Trigger::Manual).await.unwrap();
    let record = engine
        .store()
        .import(engine.account(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.summary.status, ImportStatus::Discarded);
    assert_eq!(record.summary.counts.created, 3);
    assert_eq!(record.entries.len(), 3);
    assert!(record.entries.iter().all(|e| !e.applied));
    assert_eq!(
        engine
            .store()
            .count_employees(engine.account(), false)
            .await
            .unwrap(),
        0
    );
    assert!(
        engine.rollback(id).await.is_err(),
        "a discarded import cannot be rolled back"
    );
}

/// An incremental sync plans over the directory's outline; an employee it changes
/// only by derivation (a manager losing their last report) must keep every other
/// field, and the plan must be the one a full-directory plan gives.
#[tokio::test]
async fn incremental_sync_keeps_whole_rows_it_changes_by_derivation() {
    let (engine, _, source, _d) = setup().await;
    {
        let mut ms = source.0.lock().unwrap();
        ms[0].phone = Some("+1 555 0100".into());
        ms[0].fields.insert("job_title", "CEO");
        ms[0].fields.insert("department", "Office");
        ms[0].end_date = Some("2030-01-01".into());
    }
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    let ada = engine.find("ada@acme.example").await.unwrap();
    assert!(ada.is_manager);
    assert_eq!(ada.phone.as_deref(), Some("+1 555 0100"));
    assert_eq!(ada.demographics.len(), 2, "{:?}", ada.demographics);

    // The next day only Grace is read, now without a manager.
    {
        let mut ms = source.0.lock().unwrap();
        let mut grace = ms[1].clone();
        grace.manager = ManagerRef::None;
        *ms = vec![grace];
    }
    let review = engine
        .sync(
            i.id,
            &source,
            SyncOptions {
                incremental: true,
                ..SyncOptions::default()
            },
        )
        .await
        .unwrap();
    let fields: Vec<(String, String)> = review
        .plan
        .entries
        .iter()
        .flat_map(|e| {
            e.changes
                .iter()
                .map(move |c| (e.employee_id().to_string(), c.field.clone()))
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("m1".to_string(), "is_manager".to_string()),
            ("m2".to_string(), "manager_email".to_string())
        ],
        "only the derived flag and Grace's manager change"
    );
    assert_eq!(
        review.plan.counts.deactivated, 0,
        "unread members are not missing"
    );
    let out = engine
        .sync(
            i.id,
            &source,
            SyncOptions {
                incremental: true,
                ..apply()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.status, SyncStatus::Applied);
    let after = engine.find("ada@acme.example").await.unwrap();
    let mut want = ada.clone();
    want.is_manager = false;
    assert_eq!(after, want, "Ada's row is whole: only is_manager changed");
    assert!(engine.find("alan@acme.example").await.unwrap().active);
}

/// An incremental sync reads only the part of the directory its members need (by
/// indexed look-ups in the real store); its plan is the one planning over the whole
/// directory gives: a manager change, an email change, a new hire who looks like an
/// existing employee, a leaver whose manager loses the last report, and a member
/// whose new email a report already names.
#[tokio::test]
async fn incremental_sync_over_a_part_plans_as_the_whole_directory() {
    let (engine, _, source, _d) = setup().await;
    let email = |i: usize| format!("p{i}@acme.example");
    let company: Vec<SourceMember> = (0..40)
        .map(|i| {
            let mut m = member(&format!("m{i}"), &format!("P{i}"), &email(i));
            m.date_of_birth = Some(format!("1980-01-{:02}", i % 28 + 1));
            if i > 0 {
                let b = (i - 1) / 3;
                m.manager = ManagerRef::Resolved {
                    source_id: format!("m{b}"),
                    email: email(b).to_uppercase(),
                };
            }
            if i == 39 {
                // Names a manager by an email nobody has yet.
                m.manager = ManagerRef::Resolved {
                    source_id: "m38".into(),
                    email: "new.boss@acme.example".into(),
                };
            }
            m
        })
        .collect();
    *source.0.lock().unwrap() = company.clone();
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    let resolved = |b: usize| ManagerRef::Resolved {
        source_id: format!("m{b}"),
        email: email(b),
    };
    let mut changed = vec![
        company[5].clone(),
        company[38].clone(),
        company[13].clone(),
        company[30].clone(),
    ];
    changed[0].manager = resolved(20);
    changed[1].work_email = Some("New.Boss@acme.example".into());
    changed[2].active = Some(false);
    changed[2].end_date = Some("2026-11-01".into());
    changed[3].manager = ManagerRef::None;
    let mut twin = member("m99", "P7", "twin@acme.example");
    twin.date_of_birth = company[7].date_of_birth.clone();
    twin.family_name = company[7].family_name.clone();
    twin.manager = resolved(2);
    changed.push(twin);
    let (review, whole) = incremental_beside_whole(&engine, &source, &i, changed).await;
    assert!(review.plan.counts.created == 1 && review.plan.counts.updated >= 4);
    assert!(
        review
            .plan
            .entries
            .iter()
            .any(|e| e.possible_duplicate_of.is_some()),
        "the twin is flagged"
    );
    assert_eq!(
        serde_json::to_string(&review.plan).unwrap(),
        serde_json::to_string(&whole).unwrap()
    );
}

/// An incremental sync whose members keep every link (a leaver whose manager loses
/// the last report, another member's job title) reads no reporting chain above the
/// rows they name, and still plans as the whole directory.
#[tokio::test]
async fn incremental_sync_that_keeps_every_link_plans_as_the_whole_directory() {
    let (engine, _, source, _d) = setup().await;
    let email = |i: usize| format!("p{i}@acme.example");
    // A tree three wide: m12 manages m37 alone, m3 and m0 are above it.
    let company: Vec<SourceMember> = (0..38)
        .map(|i| {
            let mut m = member(&format!("m{i}"), &format!("P{i}"), &email(i));
            if i > 0 {
                let b = (i - 1) / 3;
                m.manager = ManagerRef::Resolved {
                    source_id: format!("m{b}"),
                    email: email(b),
                };
            }
            m
        })
        .collect();
    *source.0.lock().unwrap() = company.clone();
    let i = engine.integration(None).await.unwrap();
    engine.sync(i.id, &source, apply()).await.unwrap();
    let mut changed = vec![company[37].clone(), company[20].clone()];
    changed[0].active = Some(false);
    changed[0].end_date = Some("2026-11-01".into());
    changed[1].fields.insert("job_title", "Chef");
    let (review, whole) = incremental_beside_whole(&engine, &source, &i, changed).await;
    let mut changed: Vec<&str> = review
        .plan
        .entries
        .iter()
        .map(|e| e.employee_id())
        .collect();
    changed.sort_unstable();
    assert_eq!(changed, ["m12", "m20", "m37"], "m12 is no longer a manager");
    assert_eq!(
        serde_json::to_string(&review.plan).unwrap(),
        serde_json::to_string(&whole).unwrap()
    );
}

/// An incremental sync (a dry run) of `changed` from `source`, and the plan the same
/// members give over the whole directory.
async fn incremental_beside_whole(
    engine: &Engine,
    source: &Members,
    i: &roster_store::Integration,
    changed: Vec<SourceMember>,
) -> (SyncOutcome, roster_core::Plan) {
    *source.0.lock().unwrap() = changed.clone();
    let incremental = SyncOptions {
        incremental: true,
        ..SyncOptions::default()
    };
    let review = engine.sync(i.id, source, incremental).await.unwrap();
    let whole = roster_core::plan::plan(
        &engine.directory().await.unwrap(),
        changed,
        &[],
        &i.settings,
        date(2026, 11, 23),
        &roster_core::PlanOptions::default(),
    );
    (review, whole)
}

/// A source whose fetch takes a while, for lock tests.
struct Slow(Members, std::time::Duration);

#[async_trait]
impl Source for Slow {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        self.0.company().await
    }
    async fn fetch(&self, r: FetchRequest) -> Result<Snapshot, SourceError> {
        tokio::time::sleep(self.1).await;
        self.0.fetch(r).await
    }
}

/// A running sync renews its lease, so it keeps the lock for longer than one lease;
/// the lock is free again when it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_sync_renews_its_lock_and_releases_it() {
    let (engine, _, source, _d) = setup().await;
    let engine = Arc::new(engine.with_lease(jiff::SignedDuration::from_millis(600)));
    let slow = Arc::new(Slow(source, std::time::Duration::from_millis(1500)));
    let i = engine.integration(None).await.unwrap();
    let running = {
        let (engine, slow) = (engine.clone(), slow.clone());
        tokio::spawn(async move { engine.sync(i.id, &*slow, apply()).await })
    };
    // Two and a half leases in, the first sync still holds the lock.
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let until = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(1))
        .unwrap();
    let err = engine
        .store()
        .lock_sync(engine.account(), i.id, "intruder", until)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SyncRunning(_)), "{err}");
    let out = running.await.unwrap().unwrap();
    assert_eq!(out.status, SyncStatus::Applied);
    engine
        .store()
        .lock_sync(engine.account(), i.id, "next", until)
        .await
        .expect("the lock is free once the sync has ended");
}

/// Fencing (issue #18): a holder stalled past its lease applies nothing once the
/// lock (or its job) was taken over. The same scenario runs on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_holder_applies_nothing_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = roster_store_sqlite::SqliteStore::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    roster_engine::testing::a_stalled_holder_applies_nothing(Arc::new(store)).await;
}

/// A sync for a review that shows one entry keeps only that one in its outcome
/// (the others are moved into the write, not copied) and records and applies what
/// the whole plan says: the same counts, every entry in plan order, every employee.
#[tokio::test]
async fn a_sync_showing_one_entry_applies_and_records_them_all() {
    let (engine, source, _d, id, review) = reviewed().await;
    assert_eq!(review.plan.entries.len(), 3);
    let applied = engine.sync_showing(id, &source, apply(), 1).await.unwrap();
    assert_eq!(applied.status, SyncStatus::Applied);
    assert_eq!(applied.plan.entries, review.plan.entries[..1]);
    assert_eq!(applied.omitted, 2);
    assert_eq!(applied.plan.counts, review.plan.counts);
    assert_eq!(applied.applied, [0, 1, 2]);
    let record = engine
        .import(applied.import_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<&str> = record
        .entries
        .iter()
        .map(|e| e.employee_id.as_str())
        .collect();
    let planned: Vec<&str> = review
        .plan
        .entries
        .iter()
        .map(|e| e.employee_id())
        .collect();
    assert_eq!(ids, planned);
    assert!(record.entries.iter().all(|e| e.applied && !e.held));
    let mut written: Vec<_> = engine
        .directory()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.employee_id, e.first_name, e.email, e.manager_email))
        .collect();
    written.sort();
    let mut planned: Vec<_> = review
        .plan
        .entries
        .into_iter()
        .map(|e| {
            (
                e.after.employee_id,
                e.after.first_name,
                e.after.email,
                e.after.manager_email,
            )
        })
        .collect();
    planned.sort();
    assert_eq!(written, planned);
    // The next sync finds nothing to do: the whole plan was applied.
    let again = engine
        .sync(id, &source, SyncOptions::default())
        .await
        .unwrap();
    assert!(again.plan.entries.is_empty(), "{:?}", again.plan.entries);
}

/// Gives its members whole; on an incremental fetch, first asks what the directory
/// knows of the source ids in `ask` and keeps the answer.
struct Asking {
    members: Vec<SourceMember>,
    ask: Vec<String>,
    known: Mutex<Option<HashMap<String, Option<String>>>>,
}

#[async_trait]
impl Source for Asking {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn company(&self) -> Result<CompanyInfo, SourceError> {
        Ok(roster_engine::testing::acme())
    }
    async fn fetch(&self, request: FetchRequest) -> Result<Snapshot, SourceError> {
        if let Some(known) = &request.known {
            let answer = known.work_emails(&self.ask).await?;
            *self.known.lock().unwrap() = Some(answer);
        }
        Ok(Snapshot {
            members: self.members.clone(),
            complete: request.known.is_none(),
            ..Snapshot::default()
        })
    }
}

/// What the directory tells of the four members and an unknown id on an incremental
/// sync after a full one of four members (both emails; the work email only; the
/// personal email only; an email an admin then edited), the fallback to the personal
/// email as given for the import and then for the incremental sync.
async fn known_after_import(fallback: bool, fallback_then: bool) -> Vec<(String, Option<String>)> {
    let (engine, _, _, _d) = setup().await;
    let i = engine.integration(None).await.unwrap();
    let set_fallback = |on: bool| {
        engine.update_settings(i.id, move |s| {
            s.email_fallback_personal = on;
            Ok(())
        })
    };
    set_fallback(fallback).await.unwrap();
    let mut both = member("m1", "Ada", "ada@acme.example");
    both.personal_email = Some("ada@home.example".into());
    let work_only = member("m2", "Grace", "grace@acme.example");
    let mut personal_only = member("m3", "Alan", "x@acme.example");
    personal_only.work_email = None;
    personal_only.personal_email = Some("alan@home.example".into());
    let mut edited = member("m4", "Edsger", "edsger@acme.example");
    edited.personal_email = Some("edsger@home.example".into());
    let asking = |ask: &[&str]| Asking {
        members: vec![
            both.clone(),
            work_only.clone(),
            personal_only.clone(),
            edited.clone(),
        ],
        ask: ask.iter().map(|s| s.to_string()).collect(),
        known: Mutex::new(None),
    };
    engine.sync(i.id, &asking(&[]), apply()).await.unwrap();
    engine.set_email("m4", "e.d@acme.example").await.unwrap();
    set_fallback(fallback_then).await.unwrap();
    let source = asking(&["m1", "m2", "m3", "m4", "nobody"]);
    let incremental = SyncOptions {
        incremental: true,
        ..SyncOptions::default()
    };
    engine.sync(i.id, &source, incremental).await.unwrap();
    let mut known: Vec<(String, Option<String>)> = source
        .known
        .lock()
        .unwrap()
        .take()
        .expect("asked on the incremental fetch")
        .into_iter()
        .collect();
    known.sort();
    known
}

/// A row tells its member's work email when its email came from the source and
/// cannot be a personal one standing in for a missing work email: a secondary email
/// is kept beside it. Whatever the fallback to the personal email: with it off, a
/// row written while it was on may hold the personal email (m3's row holds
/// alan@home.example), which a full sync would no longer take as m3's work email.
/// An email an admin edited, a row without an email and an unknown id tell nothing.
#[tokio::test]
async fn a_row_tells_a_work_email_only_when_it_cannot_be_another() {
    let told = vec![("m1".to_string(), Some("ada@acme.example".to_string()))];
    for (fallback, then) in [(true, true), (false, false), (true, false), (false, true)] {
        assert_eq!(
            known_after_import(fallback, then).await,
            told,
            "fallback {fallback} at the import, {then} at the incremental sync"
        );
    }
}
