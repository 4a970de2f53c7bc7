#![allow(clippy::field_reassign_with_default)]
//! Case tables for DESIGN §3–§7, one seed scenario each.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::*;
use jiff::civil::date;
use roster_core::employee::DeactivationReason;
use roster_core::guard::{BlockReason, Confirmations, Decision, Trigger};
use roster_core::member::ManagerRef;
use roster_core::plan::{Action, PlanOptions, Rule, plan};
use roster_core::settings::{FieldKind, MappedField, Settings};
use rstest::rstest;

fn base() -> Vec<roster_core::SourceMember> {
    let ceo = member("m1", "Ada", "Lovelace");
    let a = reports_to(member("m2", "Grace", "Hopper"), &ceo);
    let b = reports_to(member("m3", "Alan", "Turing"), &ceo);
    vec![ceo, a, b]
}

#[test]
fn first_sync_creates_everyone_and_derives_managers() {
    let (p, dir) = sync(&[], base(), &Settings::default());
    assert_eq!(p.counts.created, 3);
    assert_eq!(dir.len(), 3);
    let ceo = by_id(&dir, "m1");
    assert!(ceo.is_manager && ceo.active);
    assert!(!by_id(&dir, "m2").is_manager);
    assert_eq!(
        by_id(&dir, "m2").manager_email.as_deref(),
        Some("ada.lovelace@acme.example")
    );
    assert_eq!(
        by_id(&dir, "m2").demographics.get("Member Type"),
        Some("employee")
    );
    // Re-planning the same source changes nothing.
    let again = run(&dir, base(), &Settings::default());
    assert!(again.entries.is_empty(), "{:?}", again.entries);
    assert_eq!(again.counts.unchanged, 3);
}

#[rstest]
#[case::past("2026-11-01", false, Some(DeactivationReason::EndDate))]
#[case::today("2026-11-23", false, Some(DeactivationReason::EndDate))]
#[case::future("2026-12-31", true, None)]
fn end_date_deactivates_on_or_before_today(
    #[case] end: &str,
    #[case] active: bool,
    #[case] reason: Option<DeactivationReason>,
) {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[2].end_date = Some(end.into());
    let (p, dir) = sync(&dir, ms, &Settings::default());
    let e = by_id(&dir, "m3");
    assert_eq!(e.active, active);
    assert_eq!(e.deactivation_reason, reason);
    assert_eq!(e.end_date, Some(end.parse().unwrap()));
    let entry = p.entries.iter().find(|e| e.employee_id() == "m3").unwrap();
    if active {
        assert_eq!(entry.action, Action::Update);
    } else {
        assert_eq!(entry.action, Action::Deactivate);
        let c = entry.changes.iter().find(|c| c.field == "active").unwrap();
        assert_eq!(c.rule, Rule::EndDate);
    }
}

#[test]
fn a_future_end_date_takes_effect_on_its_day_without_a_source_change() {
    let mut ms = base();
    ms[2].end_date = Some("2026-11-25".into());
    let (_, dir) = sync(&[], ms.clone(), &Settings::default());
    assert!(by_id(&dir, "m3").active);
    let later = plan(
        &dir,
        positions(ms),
        &[],
        &Settings::default(),
        date(2026, 11, 25),
        &full(),
    );
    let e = later
        .entries
        .iter()
        .find(|e| e.employee_id() == "m3")
        .unwrap();
    assert_eq!(e.action, Action::Deactivate);
}

#[rstest]
#[case::keep("keep", false, true)]
#[case::deactivate("deactivate", false, false)]
#[case::keep_but_manual_pass("keep", true, false)]
fn removed_without_end_date(
    #[case] on_missing: &str,
    #[case] once: bool,
    #[case] stays_active: bool,
) {
    let mut s = Settings::default();
    s.set("on_missing", on_missing).unwrap();
    let (_, dir) = sync(&[], base(), &s);
    let mut ms = base();
    ms.pop();
    let opts = PlanOptions {
        complete: true,
        deactivate_missing: once,
        only_fields: None,
        returning: Default::default(),
    };
    let p = plan(&dir, positions(ms), &[], &s, TODAY, &opts);
    let entry = p.entries.iter().find(|e| e.employee_id() == "m3");
    assert_eq!(entry.is_none(), stays_active);
    if let Some(e) = entry {
        assert_eq!(e.action, Action::Deactivate);
        assert_eq!(
            e.after.deactivation_reason,
            Some(DeactivationReason::Missing)
        );
        let rule = e.changes.iter().find(|c| c.field == "active").unwrap().rule;
        assert_eq!(
            rule,
            if once {
                Rule::DeactivateMissing
            } else {
                Rule::OnMissing
            }
        );
    }
}

#[test]
fn an_incremental_sync_never_treats_unread_members_as_missing() {
    let mut s = Settings::default();
    s.set("on_missing", "deactivate").unwrap();
    let (_, dir) = sync(&[], base(), &s);
    let only_one = vec![base().remove(0)];
    let p = plan(
        &dir,
        positions(only_one),
        &[],
        &s,
        TODAY,
        &PlanOptions::default(),
    );
    assert!(p.entries.is_empty());
}

#[test]
fn inactive_in_source_without_end_date_follows_on_missing() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].active = Some(false);
    assert!(
        run(&dir, ms.clone(), &Settings::default())
            .entries
            .is_empty()
    );
    let mut s = Settings::default();
    s.set("on_missing", "deactivate").unwrap();
    let p = run(&dir, ms, &s);
    assert_eq!(
        p.entries
            .iter()
            .filter(|e| e.action == Action::Deactivate)
            .count(),
        1
    );
}

#[rstest]
#[case::original("original", "2018-02-01")]
#[case::latest("latest", "2026-10-01")]
fn rehire_restores_and_sets_latest_rehire_date(#[case] priority: &str, #[case] hire: &str) {
    let mut s = Settings::default();
    s.set("hire_date_priority", priority).unwrap();
    let mut ms = base();
    ms[2].start_date = Some("2018-02-01".into());
    ms[2].end_date = Some("2024-03-31".into());
    ms[2].active = Some(false);
    let (_, dir) = sync(&[], ms.clone(), &s);
    assert!(!by_id(&dir, "m3").active);
    // Rehired: a new period starts, the old one moves to history.
    ms[2].active = Some(true);
    ms[2].end_date = None;
    ms[2].start_date = Some("2026-10-01".into());
    ms[2].original_start_date = Some("2018-02-01".into());
    let (p, dir) = sync(&dir, ms, &s);
    let e = by_id(&dir, "m3");
    assert!(e.active);
    assert_eq!(e.start_date, Some(date(2018, 2, 1)));
    assert_eq!(e.latest_rehire_date, Some(date(2026, 10, 1)));
    assert_eq!(e.hire_date, Some(hire.parse().unwrap()));
    assert_eq!(e.end_date, None);
    let entry = p.entries.iter().find(|e| e.employee_id() == "m3").unwrap();
    assert_eq!(entry.action, Action::Reactivate);
}

#[rstest]
#[case::override_on(true, "2020-01-06", "2021-07-01")]
#[case::override_off(false, "2020-01-06", "2020-01-06")]
fn override_hire_date(#[case] on: bool, #[case] first: &str, #[case] expect: &str) {
    let mut s = Settings::default();
    s.override_hire_date = on;
    let (_, dir) = sync(&[], base(), &s);
    assert_eq!(by_id(&dir, "m2").start_date, Some(first.parse().unwrap()));
    let mut ms = base();
    ms[1].start_date = Some("2021-07-01".into());
    let (p, dir) = sync(&dir, ms, &s);
    assert_eq!(by_id(&dir, "m2").start_date, Some(expect.parse().unwrap()));
    assert_eq!(codes(&p).contains(&"hire_date_kept"), !on);
}

#[test]
fn both_identifiers_changed_creates_a_new_employee_flagged_as_possible_duplicate() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].source_id = "m2-new".into();
    ms[1].work_email = Some("grace@new.example".into());
    let p = run(&dir, ms, &Settings::default());
    let created: Vec<_> = p
        .entries
        .iter()
        .filter(|e| e.action == Action::Create)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].possible_duplicate_of.as_deref(), Some("m2"));
    assert!(codes(&p).contains(&"possible_duplicate"));
}

#[test]
fn id_matching_one_employee_and_email_another_is_a_conflict_and_skipped() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].work_email = ms[2].work_email.clone(); // m2's ID, m3's email
    ms.pop();
    let p = run(&dir, ms, &Settings::default());
    let issue = p
        .issues
        .iter()
        .find(|i| i.code.as_str() == "identifier_conflict")
        .unwrap();
    assert_eq!(issue.source_id.as_deref(), Some("m2"));
    assert!(
        issue.message.contains("m2") && issue.message.contains("m3"),
        "{}",
        issue.message
    );
    assert!(
        !issue.message.contains('@'),
        "no emails in messages: {}",
        issue.message
    );
    assert!(p.entries.iter().all(|e| e.employee_id() != "m2"));
    assert_eq!(p.counts.skipped, 1);
}

/// Matching's look-ups run split over the cores for large syncs: at 10,000 members
/// (several shares) every conflict, released email and create is still the one the
/// rules give each member, wherever it falls.
#[test]
fn matching_at_scale_gives_each_member_its_rule() {
    let n = 10_000;
    let company: Vec<_> = (0..n)
        .map(|i| member(&format!("m{i}"), &format!("First{i}"), &format!("Last{i}")))
        .collect();
    let (_, dir) = sync(&[], company.clone(), &Settings::default());
    assert_eq!(dir.len(), n);
    // Conflicts: member i keeps its ID and takes the email of member i + 1, who left
    // the source (with both listed the email would be a duplicate instead).
    let conflicts: Vec<usize> = (0..n - 1).filter(|i| i % 97 == 5).collect();
    // Moves: a new email, the old one released and taken by a new member.
    let moves: Vec<usize> = (0..n)
        .filter(|i| i % 89 == 7)
        .filter(|i| !conflicts.iter().any(|c| *c == *i || c + 1 == *i))
        .collect();
    let mut ms = company.clone();
    for &i in &conflicts {
        ms[i].work_email = company[i + 1].work_email.clone();
    }
    for &i in &moves {
        ms[i].work_email = Some(format!("moved{i}@acme.example"));
        let mut newcomer = member(&format!("new{i}"), &format!("New{i}"), "Person");
        newcomer.work_email = company[i].work_email.clone();
        ms.push(newcomer);
    }
    let left: Vec<String> = conflicts.iter().map(|i| format!("m{}", i + 1)).collect();
    ms.retain(|m| !left.contains(&m.source_id));
    let p = run(&dir, ms, &Settings::default());
    let mut conflicted: Vec<String> = p
        .issues
        .iter()
        .filter(|i| i.code.as_str() == "identifier_conflict")
        .filter_map(|i| i.source_id.clone())
        .collect();
    conflicted.sort();
    let mut want: Vec<String> = conflicts.iter().map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(conflicted, want);
    assert_eq!(p.counts.skipped, conflicts.len());
    // The members who left keep their rows as they are (missing members are not
    // deactivated by default), and none was taken by the conflicting email.
    assert!(
        p.entries
            .iter()
            .all(|e| !left.iter().any(|l| l == e.employee_id()))
    );
    assert_eq!(p.counts.updated, moves.len());
    assert_eq!(p.counts.created, moves.len());
    for &i in &moves {
        let update = p
            .entries
            .iter()
            .find(|e| e.employee_id() == format!("m{i}"));
        assert_eq!(update.map(|e| e.action), Some(Action::Update), "m{i}");
        let create = p
            .entries
            .iter()
            .find(|e| e.employee_id() == format!("new{i}"));
        assert_eq!(create.map(|e| e.action), Some(Action::Create), "new{i}");
    }
}

#[test]
fn only_one_identifier_matching_updates_the_other() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].work_email = Some("grace.h@acme.example".into());
    let (p, dir2) = sync(&dir, ms, &Settings::default());
    assert_eq!(by_id(&dir2, "m2").email, "grace.h@acme.example");
    assert_eq!(p.counts.updated, 1);
    // The employee ID changes while the email matches (generate ↔ source switch, or CSV).
    let mut ms = base();
    ms[2].source_id = "m3b".into();
    let p = run(&dir, ms, &Settings::default());
    let e = p.entries.iter().find(|e| e.employee_id() == "m3b").unwrap();
    assert_eq!(e.action, Action::Update);
    assert!(e.id_change);
}

#[test]
fn manager_without_work_email_is_a_warning_and_not_linked() {
    let mut ms = base();
    ms[0].work_email = None;
    ms[0].personal_email = Some("ada@home.example".into());
    let boss = ms[0].clone();
    ms[1] = reports_to(ms[1].clone(), &boss);
    let (p, dir) = sync(&[], ms, &Settings::default());
    assert!(codes(&p).contains(&"manager_no_work_email"));
    assert_eq!(by_id(&dir, "m2").manager_email, None);
    assert_eq!(
        by_id(&dir, "m1").email,
        "ada@home.example",
        "personal email fallback"
    );
}

#[test]
fn manager_outside_the_sync_is_a_warning() {
    let mut ms = base();
    ms[1].manager = ManagerRef::NotInSnapshot {
        source_id: "m99".into(),
    };
    ms[2].manager = ManagerRef::Resolved {
        source_id: "m98".into(),
        email: "gone@acme.example".into(),
    };
    let (p, _) = sync(&[], ms, &Settings::default());
    let warn: Vec<_> = p
        .issues
        .iter()
        .filter(|i| i.code.as_str() == "manager_not_in_sync")
        .collect();
    assert_eq!(warn.len(), 2, "{warn:?}");
    assert!(
        warn.iter()
            .all(|i| i.severity == roster_core::issue::Severity::Warning)
    );
}

#[test]
fn a_manager_cycle_drops_the_closing_link_and_self_manager_is_dropped() {
    let mut ms = base();
    let m2 = ms[1].clone();
    ms[0] = reports_to(ms[0].clone(), &m2); // m1 → m2 → m1
    let m3 = ms[2].clone();
    ms[2] = reports_to(ms[2].clone(), &m3); // self
    let (p, dir) = sync(&[], ms, &Settings::default());
    assert!(codes(&p).contains(&"manager_cycle"));
    assert!(codes(&p).contains(&"self_manager"));
    let links = dir.iter().filter(|e| e.manager_email.is_some()).count();
    assert_eq!(links, 1, "one link of the two-cycle stays");
    assert_eq!(by_id(&dir, "m3").manager_email, None);
}

fn privacy_change(ms: &mut [roster_core::SourceMember]) {
    ms[1].family_name = Some("Murray".into());
    ms[1].work_email = Some("grace.murray@acme.example".into());
}

#[rstest]
#[case::auto_block("block_sync", Trigger::Automatic, false, "blocked")]
#[case::auto_hold("hold_records", Trigger::Automatic, false, "held")]
#[case::manual_unconfirmed("block_sync", Trigger::Manual, false, "held")]
#[case::manual_confirmed("block_sync", Trigger::Manual, true, "applied")]
fn privacy_guard(
    #[case] hold_mode: &str,
    #[case] trigger: Trigger,
    #[case] confirm: bool,
    #[case] expect: &str,
) {
    let mut s = Settings::default();
    s.set("hold_mode", hold_mode).unwrap();
    let (_, dir) = sync(&[], base(), &s);
    let mut ms = base();
    privacy_change(&mut ms);
    ms[2].job_title_for_test();
    let (p, d, after) = sync_as(
        &dir,
        ms,
        &s,
        trigger,
        Confirmations {
            privacy: confirm,
            mass_change: false,
        },
    );
    assert_eq!(p.counts.privacy, 1);
    let grace = by_id(&after, "m2");
    let alan = by_id(&after, "m3");
    match expect {
        "blocked" => {
            assert_eq!(
                d,
                Decision::Blocked {
                    reasons: vec![BlockReason::Privacy]
                }
            );
            assert_eq!(after, dir);
        }
        "held" => {
            assert!(matches!(&d, Decision::Apply { held, .. } if held.len() == 1));
            assert_eq!(
                grace.last_name.as_deref(),
                Some("Hopper"),
                "held, not applied"
            );
            assert_eq!(alan.demographics.get("Job Title"), Some("Engineer"));
        }
        _ => {
            assert_eq!(grace.last_name.as_deref(), Some("Murray"));
        }
    }
}

trait TestExt {
    fn job_title_for_test(&mut self);
}
impl TestExt for roster_core::SourceMember {
    fn job_title_for_test(&mut self) {
        self.fields.insert("job_title", "Engineer");
    }
}

#[rstest]
#[case::name_and_dob(true, true, false, true)]
#[case::name_and_email(true, false, true, true)]
#[case::dob_and_email(false, true, true, true)]
#[case::name_only(true, false, false, false)]
#[case::email_only(false, false, true, false)]
fn privacy_guard_needs_two_of_name_dob_email(
    #[case] name: bool,
    #[case] dob: bool,
    #[case] email: bool,
    #[case] guarded: bool,
) {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    if name {
        ms[1].given_name = Some("Amazing".into());
    }
    if dob {
        ms[1].date_of_birth = Some("1991-01-01".into());
    }
    if email {
        ms[1].work_email = Some("amazing@acme.example".into());
    }
    let p = run(&dir, ms, &Settings::default());
    assert_eq!(p.entries[0].privacy, guarded);
}

#[test]
fn a_preferred_name_change_alone_is_not_guarded() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].preferred_name = Some("Amazing Grace".into());
    ms[1].date_of_birth = Some("1991-01-01".into());
    let p = run(&dir, ms, &Settings::default());
    assert!(!p.entries[0].privacy);
}

fn company(n: usize) -> Vec<roster_core::SourceMember> {
    (0..n)
        .map(|i| {
            member(
                &format!("e{i:03}"),
                &format!("First{i}"),
                &format!("Last{i}"),
            )
        })
        .collect()
}

#[rstest]
#[case::under_threshold(9, false)]
#[case::over_percent_but_under_min(10, true)]
fn mass_deactivation_guard(#[case] leavers: usize, #[case] triggered: bool) {
    let mut s = Settings::default();
    s.set("on_missing", "deactivate").unwrap();
    let (_, dir) = sync(&[], company(40), &s);
    let ms: Vec<_> = company(40).into_iter().skip(leavers).collect();
    let (p, d, after) = sync_as(
        &dir,
        ms.clone(),
        &s,
        Trigger::Automatic,
        Confirmations::default(),
    );
    assert_eq!(p.mass_change.deactivations, leavers);
    assert_eq!(p.mass_change.triggered(), triggered);
    if triggered {
        assert_eq!(
            d,
            Decision::Blocked {
                reasons: vec![BlockReason::MassChange]
            }
        );
        assert_eq!(after, dir);
        let (_, manual, _) = sync_as(
            &dir,
            ms.clone(),
            &s,
            Trigger::Manual,
            Confirmations::default(),
        );
        assert_eq!(manual, Decision::NeedsConfirmation);
        let (_, ok, _) = sync_as(
            &dir,
            ms,
            &s,
            Trigger::Manual,
            Confirmations {
                privacy: false,
                mass_change: true,
            },
        );
        assert!(matches!(ok, Decision::Apply { .. }));
    } else {
        assert!(matches!(d, Decision::Apply { .. }));
    }
}

#[test]
fn mass_id_change_guard() {
    let s = Settings::default();
    let (_, dir) = sync(&[], company(40), &s);
    let ms: Vec<_> = company(40)
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            if i < 3 {
                m.source_id = format!("x{i}");
            }
            m
        })
        .collect();
    let p = run(&dir, ms, &s);
    assert_eq!(p.mass_change.id_changes, 3);
    assert!(p.mass_change.id_change_triggered, "3 of 40 is over 5 %");
}

#[test]
fn exclusion_is_sticky() {
    let (_, mut dir) = sync(&[], base(), &Settings::default());
    for e in dir.iter_mut().filter(|e| e.employee_id == "m3") {
        e.excluded = true;
        e.active = false;
        e.deactivation_reason = Some(DeactivationReason::Excluded);
    }
    let p = run(&dir, base(), &Settings::default());
    assert!(
        p.entries
            .iter()
            .all(|e| e.employee_id() != "m3" || !e.after.active)
    );
    assert!(codes(&p).contains(&"excluded_stays_deactivated"));
}

#[rstest]
#[case::override_on(true, "grace.new@acme.example")]
#[case::override_off(false, "grace@admin.example")]
fn override_emails(#[case] on: bool, #[case] expect: &str) {
    let mut s = Settings::default();
    s.override_emails = on;
    let (_, mut dir) = sync(&[], base(), &s);
    for e in dir.iter_mut().filter(|e| e.employee_id == "m2") {
        e.email = "grace@admin.example".into();
        e.email_edited = true;
    }
    let mut ms = base();
    ms[1].work_email = Some("grace.new@acme.example".into());
    let (_, dir) = sync(&dir, ms, &s);
    assert_eq!(by_id(&dir, "m2").email, expect);
}

#[test]
fn generated_employee_ids_are_stable_and_match_by_source_id() {
    let mut s = Settings::default();
    s.set("employee_ids", "generate").unwrap();
    let (p, dir) = sync(&[], base(), &s);
    let mut ids: Vec<_> = dir.iter().map(|e| e.employee_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["RST-000001", "RST-000002", "RST-000003"]);
    assert!(
        p.entries[0]
            .all_changes()
            .iter()
            .any(|c| c.rule == Rule::GeneratedId)
    );
    // Next sync: the same members keep their IDs, a new one continues the sequence.
    let mut ms = base();
    ms.push(member("m4", "Katherine", "Johnson"));
    let (_, dir) = sync(&dir, ms, &s);
    assert_eq!(
        dir.iter()
            .find(|e| e.source_id.as_deref() == Some("m4"))
            .unwrap()
            .employee_id,
        "RST-000004"
    );
    assert_eq!(dir.len(), 4);
}

#[rstest]
#[case::international("international_employee")]
#[case::eor("employee_eor")]
#[case::unknown_type("vendor_partner")]
fn international_and_eor_members_are_imported(#[case] kind: &str) {
    let mut ms = base();
    ms[2].member_type = Some(kind.into());
    ms[2].fields.insert("member_type", kind);
    ms[2].fields.insert("home_country", "DE");
    let (_, dir) = sync(&[], ms, &Settings::default());
    let e = by_id(&dir, "m3");
    assert!(e.active);
    assert_eq!(e.demographics.get("Member Type"), Some(kind));
    assert_eq!(e.demographics.get("Home Country"), Some("DE"));
}

#[rstest]
#[case::malformed_work_email("work_email", "not-an-email", "malformed_email")]
#[case::bad_start_date("start_date", "2020-13-45", "bad_date")]
#[case::us_style_date("start_date", "01/06/2020", "bad_date")]
#[case::dob_in_future("date_of_birth", "2030-01-01", "dob_in_future")]
fn validation_errors_skip_the_member_and_name_the_field(
    #[case] field: &str,
    #[case] value: &str,
    #[case] code: &str,
) {
    let mut ms = base();
    match field {
        "work_email" => ms[2].work_email = Some(value.into()),
        "start_date" => ms[2].start_date = Some(value.into()),
        "date_of_birth" => ms[2].date_of_birth = Some(value.into()),
        _ => unreachable!(),
    }
    let p = run(&[], ms, &Settings::default());
    let i = p.issues.iter().find(|i| i.code.as_str() == code).unwrap();
    assert_eq!(i.position, Some(3));
    assert_eq!(i.source_id.as_deref(), Some("m3"));
    assert_eq!(
        i.field.as_deref(),
        Some(if field == "work_email" {
            "work_email"
        } else {
            field
        })
    );
    assert!(
        !i.message.contains(value),
        "the value is not echoed: {}",
        i.message
    );
    assert_eq!(p.counts.created, 2);
    assert_eq!(p.counts.skipped, 1);
}

#[test]
fn the_same_email_or_id_on_two_members_skips_both() {
    let mut ms = base();
    ms[2].work_email = ms[1].work_email.clone();
    let mut dup = member("m1", "Someone", "Else");
    dup.work_email = Some("someone@acme.example".into());
    ms.push(dup);
    let p = run(&[], ms, &Settings::default());
    assert_eq!(p.counts.created, 0, "{:?}", p.entries);
    assert_eq!(p.counts.skipped, 4);
    let msg = &p
        .issues
        .iter()
        .find(|i| i.code.as_str() == "duplicate_email")
        .unwrap()
        .message;
    assert!(msg.contains("#2") && msg.contains("#3"), "{msg}");
}

#[test]
fn no_email_and_no_id_is_an_error() {
    let mut ms = base();
    ms[2].source_id = String::new();
    ms[2].work_email = None;
    let p = run(&[], ms, &Settings::default());
    assert!(codes(&p).contains(&"no_identifier"));
}

#[test]
fn end_before_start_is_a_warning_only() {
    let mut ms = base();
    ms[2].end_date = Some("2019-01-01".into());
    let p = run(&[], ms, &Settings::default());
    assert!(codes(&p).contains(&"end_before_start"));
    assert_eq!(p.counts.created, 3);
}

#[rstest]
#[case::fallback_on(true, Some("alan@home.example"), 3)]
#[case::fallback_off(false, None, 2)]
fn email_fallback_personal(#[case] on: bool, #[case] email: Option<&str>, #[case] created: usize) {
    let mut s = Settings::default();
    s.email_fallback_personal = on;
    s.employee_ids = roster_core::settings::EmployeeIds::Generate;
    let mut ms = base();
    ms[2].work_email = None;
    ms[2].personal_email = Some("alan@home.example".into());
    let (p, dir) = sync(&[], ms, &s);
    let alan = dir
        .iter()
        .find(|e| e.source_id.as_deref() == Some("m3"))
        .unwrap();
    assert_eq!(
        (!alan.email.is_empty()).then_some(alan.email.as_str()),
        email
    );
    assert_eq!(p.counts.created + p.counts.skipped, 3);
    assert_eq!(p.counts.created, created.max(3));
}

#[test]
fn secondary_email_is_the_personal_one_when_a_work_email_exists() {
    let mut ms = base();
    ms[1].personal_email = Some("grace@home.example".into());
    let (_, dir) = sync(&[], ms, &Settings::default());
    assert_eq!(
        by_id(&dir, "m2").secondary_email.as_deref(),
        Some("grace@home.example")
    );
}

#[rstest]
#[case::off(false, "15555550100")]
#[case::on(true, "+15555550100")]
fn phone_plus_prefix(#[case] on: bool, #[case] expect: &str) {
    let mut s = Settings::default();
    s.phone_plus_prefix = on;
    let mut ms = base();
    ms[1].phone = Some("15555550100".into());
    let (_, dir) = sync(&[], ms, &s);
    assert_eq!(by_id(&dir, "m2").phone.as_deref(), Some(expect));
}

#[test]
fn exclude_fields_keeps_existing_values() {
    let mut s = Settings::default();
    let (_, dir) = sync(&[], base(), &s);
    s.set("exclude_fields", "last_name,Job Title").unwrap();
    let mut ms = base();
    ms[1].family_name = Some("Changed".into());
    ms[1].fields.insert("job_title", "Admiral");
    let (p, dir2) = sync(&dir, ms, &s);
    assert!(p.entries.is_empty(), "{:?}", p.entries);
    assert_eq!(by_id(&dir2, "m2").last_name.as_deref(), Some("Hopper"));
}

#[test]
fn redact_fields_are_never_stored() {
    let mut s = Settings::default();
    s.set("redact_fields", "date_of_birth,phone").unwrap();
    let mut ms = base();
    ms[1].phone = Some("+15555550100".into());
    let (p, dir) = sync(&[], ms, &s);
    assert!(
        dir.iter()
            .all(|e| e.date_of_birth.is_none() && e.phone.is_none())
    );
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("1990-05-17") && !json.contains("5555550100"));
}

#[test]
fn do_not_import_rules_skip_members() {
    let mut s = Settings::default();
    s.set("do_not_import", "member_type = contractor").unwrap();
    let mut ms = base();
    ms[2].fields.insert("member_type", "Contractor");
    let p = run(&[], ms, &s);
    assert_eq!(p.counts.created, 2);
    assert!(codes(&p).contains(&"do_not_import"));
}

#[test]
fn only_mapped_fields_are_stored_and_custom_fields_map_by_kind() {
    let mut s = Settings::default();
    s.mapping.push(MappedField {
        source_key: "custom:cf_size".into(),
        demographic: "T-shirt".into(),
        kind: FieldKind::Hidden,
        privacy: None,
    });
    s.mapping.push(MappedField {
        source_key: "custom:cf_buddy".into(),
        demographic: "Buddy".into(),
        kind: FieldKind::Associated,
        privacy: None,
    });
    let mut ms = base();
    ms[1].fields.insert("custom:cf_size", "M");
    ms[1].fields.insert("custom:cf_buddy", "m3");
    ms[1].fields.insert("custom:cf_unmapped", "secret");
    ms[2].fields.insert("custom:cf_buddy", "nobody");
    let (p, dir) = sync(&[], ms, &s);
    let g = by_id(&dir, "m2");
    assert_eq!(g.demographics.get("T-shirt"), Some("M"));
    assert_eq!(
        g.demographics.get("Buddy"),
        Some("alan.turing@acme.example")
    );
    assert!(!g.demographics.values().any(|v| v == "secret"));
    assert!(codes(&p).contains(&"associated_unresolved"));
}

#[test]
fn demographic_names_differing_only_by_case_warn() {
    let mut s = Settings::default();
    s.mapping.push(MappedField {
        source_key: "custom:x".into(),
        demographic: "job-title".into(),
        kind: FieldKind::Default,
        privacy: None,
    });
    let p = run(&[], base(), &s);
    assert!(codes(&p).contains(&"demographic_name_clash"));
}

#[test]
fn partial_updates_only_the_given_fields() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].family_name = Some("Murray".into());
    ms[1].fields.insert("job_title", "Admiral");
    let opts = PlanOptions {
        complete: false,
        deactivate_missing: false,
        only_fields: Some(["demographic:Job Title".to_string(), "Job Title".to_string()].into()),
        returning: Default::default(),
    };
    let p = plan(&dir, positions(ms), &[], &Settings::default(), TODAY, &opts);
    assert_eq!(p.entries.len(), 1);
    assert_eq!(p.entries[0].changes.len(), 1, "{:?}", p.entries[0].changes);
    assert_eq!(p.entries[0].changes[0].field, "demographic:Job Title");
}

#[test]
fn an_email_taken_by_another_employee_is_refused() {
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms.pop(); // m3 keeps its email in the directory
    ms[1].work_email = Some("alan.turing@acme.example".into());
    ms[1].source_id = "m2".into();
    let p = run(&dir, ms, &Settings::default());
    // m2's email now matches m3 and its id matches m2: a conflict.
    assert!(codes(&p).contains(&"identifier_conflict"));
}

#[test]
fn tick_applies_due_end_dates_and_rederives_managers() {
    let mut ms = base();
    ms[1].end_date = Some("2026-11-30".into());
    ms[2].end_date = Some("2026-11-30".into());
    let (_, dir) = sync(&[], ms, &Settings::default());
    assert!(roster_core::plan::tick(&dir, TODAY).entries.is_empty());
    let p = roster_core::plan::tick(&dir, date(2026, 11, 30));
    assert_eq!(p.counts.deactivated, 2);
    let ceo = p
        .entries
        .iter()
        .find(|e| e.employee_id() == "m1")
        .expect("the CEO loses both reports");
    assert_eq!(ceo.changes[0].field, "is_manager");
    assert_eq!(ceo.changes[0].rule, Rule::Derived);
}

#[test]
fn rollback_restores_unless_changed_since() {
    use roster_core::rollback::{RecordedChange, plan_rollback};
    let (_, dir) = sync(&[], base(), &Settings::default());
    let mut ms = base();
    ms[1].fields.insert("job_title", "Admiral");
    ms[2].fields.insert("job_title", "Cryptanalyst");
    let (p, mut dir2) = sync(&dir, ms, &Settings::default());
    let recorded: Vec<RecordedChange> = p
        .entries
        .iter()
        .flat_map(|e| {
            e.changes.iter().map(move |c| RecordedChange {
                key: e.key.unwrap(),
                field: c.field.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                created: false,
            })
        })
        .collect();
    // Alan's title changed again after the import.
    for e in dir2.iter_mut().filter(|e| e.employee_id == "m3") {
        e.demographics.insert("Job Title", "Professor");
    }
    let rb = plan_rollback(&recorded, &dir2);
    assert_eq!(rb.restore.len(), 1);
    assert_eq!(rb.restore[0].0.employee_id, "m2");
    assert_eq!(rb.restore[0].0.demographics.get("Job Title"), None);
    assert_eq!(rb.conflicts.len(), 1);
    assert_eq!(rb.conflicts[0].employee_id, "m3");
    assert_eq!(rb.conflicts[0].fields, ["demographic:Job Title"]);
}

// ---- CSV imports (issue #5): the exclusion directive and partial imports --------

fn partial(fields: &[&str]) -> PlanOptions {
    PlanOptions {
        complete: false,
        deactivate_missing: false,
        only_fields: Some(fields.iter().map(|f| f.to_string()).collect()),
        returning: Default::default(),
    }
}

/// `Employee Deactivated` as a CSV row carries it, on an employee in each state.
#[rstest]
#[case::true_on_active(Some(true), None, false, true, Some(DeactivationReason::Excluded))]
#[case::true_on_excluded(
    Some(true),
    Some(DeactivationReason::Excluded),
    false,
    true,
    Some(DeactivationReason::Excluded)
)]
#[case::true_on_ended(
    Some(true),
    Some(DeactivationReason::EndDate),
    false,
    false,
    Some(DeactivationReason::EndDate)
)]
#[case::true_on_missing(
    Some(true),
    Some(DeactivationReason::Missing),
    false,
    false,
    Some(DeactivationReason::Missing)
)]
#[case::false_on_excluded(Some(false), Some(DeactivationReason::Excluded), true, false, None)]
#[case::false_on_missing(Some(false), Some(DeactivationReason::Missing), true, false, None)]
#[case::false_on_active(Some(false), None, true, false, None)]
#[case::none_on_excluded(
    None,
    Some(DeactivationReason::Excluded),
    false,
    true,
    Some(DeactivationReason::Excluded)
)]
fn the_exclusion_directive(
    #[case] directive: Option<bool>,
    #[case] state: Option<DeactivationReason>,
    #[case] active: bool,
    #[case] excluded: bool,
    #[case] reason: Option<DeactivationReason>,
) {
    let (_, mut dir) = sync(&[], base(), &Settings::default());
    for e in dir.iter_mut().filter(|e| e.employee_id == "m3") {
        if let Some(r) = state {
            e.active = false;
            e.deactivation_reason = Some(r);
            e.excluded = r == DeactivationReason::Excluded;
            if r == DeactivationReason::EndDate {
                e.end_date = Some(date(2026, 1, 31));
            }
        }
    }
    let mut ms = base();
    ms[2].exclude = directive;
    ms[2].end_date = dir
        .iter()
        .find(|e| e.employee_id == "m3")
        .and_then(|e| e.end_date)
        .map(|d| d.to_string());
    let p = plan(
        &dir,
        positions(ms),
        &[],
        &Settings::default(),
        TODAY,
        &partial(&["first_name", "active", "excluded", "deactivation_reason"]),
    );
    let all: Vec<_> = p.entries.iter().collect();
    let dir = roster_core::plan::apply(&dir, &all);
    let e = by_id(&dir, "m3");
    assert_eq!(
        (e.active, e.excluded, e.deactivation_reason),
        (active, excluded, reason)
    );
}

#[test]
fn a_partial_import_without_status_leaves_a_deactivated_employee_so() {
    let (_, mut dir) = sync(&[], base(), &Settings::default());
    for e in dir.iter_mut().filter(|e| e.employee_id == "m3") {
        e.active = false;
        e.deactivation_reason = Some(DeactivationReason::Missing);
    }
    let opts = partial(&["first_name"]);
    let p = plan(
        &dir,
        positions(base()),
        &[],
        &Settings::default(),
        TODAY,
        &opts,
    );
    assert!(p.entries.is_empty(), "{:#?}", p.entries);
    // With the status in the file, present and active is restored (DESIGN §6).
    let opts = partial(&["first_name", "active"]);
    let p = plan(
        &dir,
        positions(base()),
        &[],
        &Settings::default(),
        TODAY,
        &opts,
    );
    assert_eq!(p.counts.reactivated, 1);
}

#[test]
fn a_partial_import_clears_a_demographic_it_carries_blank_and_keeps_source_ids() {
    let mut ms = base();
    ms[1].fields.insert("job_title", "Admiral");
    ms[2].fields.insert("job_title", "Cryptanalyst");
    let (_, dir) = sync(&[], ms, &Settings::default());
    let mut ms = base();
    ms[2].fields.insert("job_title", "Cryptanalyst");
    for m in &mut ms {
        m.source_id = format!("csv-{}", m.source_id);
    }
    // Matched by email; the rows' own ids are no source ids.
    let opts = partial(&["Job Title", "demographic:Job Title"]);
    let p = plan(&dir, positions(ms), &[], &Settings::default(), TODAY, &opts);
    assert_eq!(p.entries.len(), 1, "{:#?}", p.entries);
    let e = &p.entries[0];
    assert_eq!(e.employee_id(), "m2");
    assert_eq!(e.changes.len(), 1);
    assert_eq!(e.changes[0].field, "demographic:Job Title");
    assert_eq!(e.changes[0].new, None);
}

/// What `holds_work_email` stands on (the incremental fetch resolves managers by it):
/// whatever the emails and the settings, a record that keeps a secondary email has
/// the member's work email as its email; one that keeps none may hold the personal
/// email (so such a row vouches for nothing).
#[test]
fn a_kept_secondary_email_stands_beside_the_work_email() {
    use roster_core::member::SourceMember;
    use roster_core::normalise::{holds_work_email, normalise};
    let emails = [
        None,
        Some(""),
        Some(" w@acme.example "),
        Some("not an email"),
    ];
    let personals = [None, Some("p@home.example"), Some(" "), Some("bad")];
    let mut personal_in_email = 0;
    for fallback in [true, false] {
        for redact in [false, true] {
            let mut settings = Settings {
                email_fallback_personal: fallback,
                ..Settings::default()
            };
            if redact {
                settings.redact_fields.insert("secondary_email".into());
            }
            for work in emails {
                for personal in personals {
                    let mut m = SourceMember::new("m1", 1);
                    m.given_name = Some("Ada".into());
                    m.family_name = Some("Lovelace".into());
                    m.work_email = work.map(str::to_string);
                    m.personal_email = personal.map(str::to_string);
                    let Some(r) = normalise(m, &settings, date(2026, 1, 1)).0 else {
                        continue;
                    };
                    let email = r.email.clone().unwrap_or_default();
                    if r.secondary_email.is_some() {
                        assert_eq!(
                            Some(email.as_str()),
                            work.map(str::trim),
                            "{work:?} {personal:?}"
                        );
                    }
                    let holds = holds_work_email(&email, false, r.secondary_email.is_some(), false);
                    assert!(!holds || Some(email.as_str()) == work.map(str::trim));
                    if r.secondary_email.is_none() && Some(email.as_str()) == Some("p@home.example")
                    {
                        personal_in_email += 1;
                        assert!(!holds, "a personal email standing in vouches for nothing");
                    }
                }
            }
        }
    }
    assert!(
        personal_in_email > 0,
        "the fallback put a personal email in a record"
    );
}
