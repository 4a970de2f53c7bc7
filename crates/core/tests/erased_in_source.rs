//! An erased (anonymised) person the source still lists (issue #17): while they are
//! inactive there (a leaver), the planner leaves the anonymous record alone — no
//! personal value of theirs is planned back, not even as a report's manager email —
//! and counts them (`erased_left`); active there (re-hired, or erased while still
//! employed), the record is filled from the source again, under the privacy guard.
#![allow(clippy::unwrap_used)] // a test panics on what must not fail

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use roster_core::SourceMember;
use roster_core::employee::{DeactivationReason, Employee};
use roster_core::plan::{Action, Plan, PlanOptions, Rule, apply, plan};
use roster_core::privacy::{PERSONAL_FIELDS, anonymise};
use roster_core::settings::{EmployeeIds, Settings};

/// The CEO, two reports, and a leaver (m4, ended a month ago, inactive in the
/// source) who managed m3 until then (the source still names them as m3's manager).
fn company() -> Vec<SourceMember> {
    let ceo = member("m1", "Ada", "Lovelace");
    let a = reports_to(member("m2", "Grace", "Hopper"), &ceo);
    let mut leaver = reports_to(member("m4", "Edsger", "Dijkstra"), &ceo);
    leaver.active = Some(false);
    leaver.end_date = Some("2026-10-23".into());
    leaver.phone = Some("+1 555 0104".into());
    let b = reports_to(member("m3", "Alan", "Turing"), &leaver);
    vec![ceo, a, b, leaver]
}

/// `dir` with the employee `id` anonymised as the store does it: the row, and
/// every other row naming its email (as manager) re-pointed to the neutral email.
/// The `returning` map the engine would give for it (source id → key).
fn erase(dir: &[Employee], id: &str, s: &Settings) -> (Vec<Employee>, PlanOptions) {
    let e = by_id(dir, id).clone();
    let a = anonymise(
        &e,
        &s.personal_demographics(),
        &s.generated_id_prefix,
        Rule::Erasure,
    );
    let out = dir
        .iter()
        .map(|o| {
            if o.key == e.key {
                return a.after.clone();
            }
            let mut o = o.clone();
            if o.manager_email.as_deref() == Some(e.email.as_str()) {
                o.manager_email = Some(a.after.email.clone());
            }
            o
        })
        .collect();
    let options = PlanOptions {
        returning: BTreeMap::from([(e.source_id.clone().unwrap(), e.key)]),
        ..full()
    };
    (out, options)
}

/// Every personal value of `e` (its personal fields, as text).
fn personal_values(e: &Employee) -> Vec<String> {
    PERSONAL_FIELDS
        .iter()
        .filter_map(|f| e.field(f))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Every value the plan would write, lower case, as one text.
fn planned_text(p: &Plan) -> String {
    serde_json::to_string(&p.entries).unwrap().to_lowercase()
}

#[test]
fn an_erased_leaver_still_in_the_source_is_left_erased() {
    let s = Settings::default();
    let (_, dir) = sync(&[], company(), &s);
    let leaver = by_id(&dir, "m4").clone();
    assert!(!leaver.active);
    assert_eq!(
        by_id(&dir, "m3").manager_email.as_deref(),
        Some("edsger.dijkstra@acme.example")
    );
    let (erased, options) = erase(&dir, "m4", &s);
    let p = plan(&erased, positions(company()), &[], &s, TODAY, &options);
    assert!(p.entries.is_empty(), "{:#?}", p.entries);
    assert_eq!(p.counts.erased_left, 1);
    assert_eq!(p.counts.created, 0);
    let text = planned_text(&p);
    for v in personal_values(&leaver) {
        assert!(!text.contains(&v.to_lowercase()), "{v} planned back");
    }
    // Without the digest's match (no `returning`), the member would be created
    // anew, with every erased value: the match is what keeps them out.
    let blind = plan(&erased, positions(company()), &[], &s, TODAY, &full());
    assert_eq!(blind.counts.created, 1);
    assert_eq!(blind.counts.erased_left, 0);
    // The counts say so in JSON too; a plan without any leaves the field out.
    let counts = serde_json::to_value(&p.counts).unwrap();
    assert_eq!(counts["erased_left"], 1);
    assert!(
        serde_json::to_value(&blind.counts)
            .unwrap()
            .get("erased_left")
            .is_none()
    );
}

#[test]
fn a_leaver_erased_while_active_is_deactivated_and_nothing_else() {
    let s = Settings::default();
    // m4 still employed at the erasure…
    let mut ms = company();
    ms[3].active = Some(true);
    ms[3].end_date = None;
    let (_, dir) = sync(&[], ms, &s);
    assert!(by_id(&dir, "m4").active);
    let original = by_id(&dir, "m4").clone();
    let (erased, options) = erase(&dir, "m4", &s);
    // … and gone from the source's active list since.
    let p = plan(&erased, positions(company()), &[], &s, TODAY, &options);
    assert_eq!(p.counts.erased_left, 1);
    let key = original.key;
    let entry = p.entries.iter().find(|e| e.key == Some(key)).unwrap();
    assert_eq!(entry.action, Action::Deactivate);
    let fields: Vec<&str> = entry.changes.iter().map(|c| c.field.as_str()).collect();
    // (No longer active, no longer a manager: m3 reported to them.)
    assert_eq!(
        fields,
        ["end_date", "active", "deactivation_reason", "is_manager"]
    );
    assert_eq!(
        entry.after.deactivation_reason,
        Some(DeactivationReason::EndDate)
    );
    assert!(!entry.privacy);
    let text = planned_text(&p);
    for v in personal_values(&original) {
        assert!(!text.contains(&v.to_lowercase()), "{v} planned back");
    }
}

#[test]
fn an_erased_person_active_in_the_source_comes_back_under_the_privacy_guard() {
    let s = Settings::default();
    let mut ms = company();
    ms[3].active = Some(true);
    ms[3].end_date = None;
    let (_, dir) = sync(&[], ms.clone(), &s);
    let original = by_id(&dir, "m4").clone();
    let (erased, options) = erase(&dir, "m4", &s);
    let p = plan(&erased, positions(ms), &[], &s, TODAY, &options);
    assert_eq!(p.counts.erased_left, 0);
    assert_eq!(p.counts.created, 0, "no duplicate");
    let entry = p
        .entries
        .iter()
        .find(|e| e.key == Some(original.key))
        .unwrap();
    assert!(entry.privacy, "names and email at once: held for review");
    assert_eq!(entry.after.email, original.email);
    assert_eq!(entry.after.first_name, original.first_name);
    assert_eq!(entry.after.source_id, original.source_id);
    // Applied (the admin confirmed), the record is whole again and stays so.
    let all: Vec<_> = p.entries.iter().collect();
    let back = apply(&erased, &all);
    let again = plan(&back, positions(company_active()), &[], &s, TODAY, &full());
    assert!(again.entries.is_empty(), "{:#?}", again.entries);
}

fn company_active() -> Vec<SourceMember> {
    let mut ms = company();
    ms[3].active = Some(true);
    ms[3].end_date = None;
    ms
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whoever is erased among leavers the source still lists, in either employee-ID
    /// mode and with or without end dates: no personal value of theirs is planned
    /// back, the anonymous record is not changed but for its status, and each of
    /// them is counted as left erased.
    #[test]
    fn no_personal_value_of_an_erased_leaver_is_planned_back(
        leavers in prop::collection::vec((any::<bool>(), any::<bool>()), 1..5),
        erased_mask in 1u8..16,
        generate in any::<bool>(),
    ) {
        let mut s = Settings::default();
        if generate {
            s.employee_ids = EmployeeIds::Generate;
        }
        let ceo = member("m0", "Ada", "Lovelace");
        let mut ms = vec![ceo.clone()];
        for (i, (ended, manages)) in leavers.iter().enumerate() {
            let mut m = reports_to(member(&format!("l{i}"), &format!("Leaver{i}"), &format!("Person{i}")), &ceo);
            m.active = Some(false);
            if *ended {
                m.end_date = Some("2026-09-01".into());
            }
            m.phone = Some(format!("+1 555 01{i:02}"));
            ms.push(m.clone());
            if *manages {
                ms.push(reports_to(member(&format!("r{i}"), &format!("Report{i}"), &format!("Of{i}")), &m));
            }
        }
        let mut on_missing = s.clone();
        on_missing.set("on_missing", "deactivate").unwrap();
        let (_, dir) = sync(&[], ms.clone(), &on_missing);
        let mut erased = dir.clone();
        let mut returning = BTreeMap::new();
        let mut originals = Vec::new();
        for i in 0..leavers.len() {
            if erased_mask & (1 << i) == 0 {
                continue;
            }
            let e = dir.iter().find(|e| e.source_id.as_deref() == Some(&format!("l{i}"))).unwrap().clone();
            let (next, options) = erase(&erased, &e.employee_id, &s);
            erased = next;
            returning.extend(options.returning);
            originals.push(e);
        }
        let options = PlanOptions { returning, ..full() };
        let p = plan(&erased, positions(ms), &[], &on_missing, TODAY, &options);
        prop_assert_eq!(p.counts.erased_left, originals.len());
        prop_assert_eq!(p.counts.created, 0);
        let text = planned_text(&p);
        for o in &originals {
            for v in personal_values(o) {
                prop_assert!(!text.contains(&v.to_lowercase()), "{} planned back", v);
            }
            if let Some(entry) = p.entries.iter().find(|e| e.key == Some(o.key)) {
                for c in &entry.changes {
                    prop_assert!(
                        ["active", "deactivation_reason", "end_date", "is_manager"].contains(&c.field.as_str()),
                        "{} planned for an erased record", c.field
                    );
                }
            }
        }
    }
}
