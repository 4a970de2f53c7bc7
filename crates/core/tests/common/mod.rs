#![allow(dead_code)]
use jiff::civil::{Date, date};
use roster_core::employee::Employee;
use roster_core::guard::{Confirmations, Decision, Trigger, decide};
use roster_core::member::{ManagerRef, SourceMember};
use roster_core::plan::{Plan, PlanOptions, apply, plan};
use roster_core::settings::Settings;

pub const TODAY: Date = date(2026, 11, 23);

/// A member with a work email, names, start date and active flag.
pub fn member(id: &str, first: &str, last: &str) -> SourceMember {
    let mut m = SourceMember::new(id, 0);
    m.active = Some(true);
    m.given_name = Some(first.into());
    m.family_name = Some(last.into());
    m.work_email = Some(format!(
        "{}.{}@acme.example",
        first.to_lowercase(),
        last.to_lowercase()
    ));
    m.start_date = Some("2020-01-06".into());
    m.date_of_birth = Some("1990-05-17".into());
    m.member_type = Some("employee".into());
    m.fields.insert("member_type", "employee");
    m
}

pub fn reports_to(mut m: SourceMember, manager: &SourceMember) -> SourceMember {
    m.manager = match &manager.work_email {
        Some(e) => ManagerRef::Resolved {
            source_id: manager.source_id.clone(),
            email: e.clone(),
        },
        None => ManagerRef::NoWorkEmail {
            source_id: manager.source_id.clone(),
        },
    };
    m
}

pub fn positions(mut ms: Vec<SourceMember>) -> Vec<SourceMember> {
    for (i, m) in ms.iter_mut().enumerate() {
        m.position = i + 1;
    }
    ms
}

pub fn full() -> PlanOptions {
    PlanOptions {
        complete: true,
        ..PlanOptions::default()
    }
}

pub fn run(dir: &[Employee], ms: Vec<SourceMember>, s: &Settings) -> Plan {
    plan(dir, positions(ms), &[], s, TODAY, &full())
}

/// Plan and apply everything (a confirmed manual sync).
pub fn sync(dir: &[Employee], ms: Vec<SourceMember>, s: &Settings) -> (Plan, Vec<Employee>) {
    let p = run(dir, ms, s);
    let all: Vec<_> = p.entries.iter().collect();
    let d = apply(dir, &all);
    (p, d)
}

/// Apply what `decide` allows.
pub fn sync_as(
    dir: &[Employee],
    ms: Vec<SourceMember>,
    s: &Settings,
    trigger: Trigger,
    confirm: Confirmations,
) -> (Plan, Decision, Vec<Employee>) {
    let p = run(dir, ms, s);
    let d = decide(&p, trigger, s, confirm);
    let out = match &d {
        Decision::Apply { apply: idx, .. } => {
            let es: Vec<_> = idx.iter().map(|i| &p.entries[*i]).collect();
            apply(dir, &es)
        }
        _ => dir.to_vec(),
    };
    (p, d, out)
}

pub fn by_id<'a>(dir: &'a [Employee], id: &str) -> &'a Employee {
    dir.iter()
        .find(|e| e.employee_id == id)
        .unwrap_or_else(|| panic!("no employee {id}"))
}

pub fn codes(p: &Plan) -> Vec<&'static str> {
    p.issues.iter().map(|i| i.code.as_str()).collect()
}
