//! Planning time on a synthetic company: `cargo run --release -p roster-core --example plan_bench -- 100000`
use std::time::Instant;

// The `roster` binary's allocator, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use roster_core::member::{ManagerRef, SourceMember};
use roster_core::plan::{PlanOptions, apply, plan};

fn members(n: usize, changed: bool) -> Vec<SourceMember> {
    (0..n)
        .map(|i| {
            let mut m = SourceMember::new(format!("mbr_{i:08}"), i + 1);
            m.active = Some(true);
            m.given_name = Some(format!("First{i}"));
            m.family_name = Some(format!("Last{i}"));
            m.work_email = Some(format!("p{i}@acme.example"));
            m.date_of_birth = Some("1990-01-01".into());
            m.start_date = Some("2020-01-01".into());
            if i > 0 {
                let b = (i - 1) / 8;
                m.manager = ManagerRef::Resolved {
                    source_id: format!("mbr_{b:08}"),
                    email: format!("p{b}@acme.example"),
                };
            }
            let title = if changed && i % 100 == 0 {
                "Changed"
            } else {
                "Engineer"
            };
            m.fields.insert("job_title".into(), title.into());
            m.fields.insert("department".into(), "Eng".into());
            m.fields.insert("home_country".into(), "US".into());
            m
        })
        .collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let today = jiff::civil::date(2026, 11, 23);
    let s = roster_core::Settings::default();
    let opts = PlanOptions {
        complete: true,
        ..Default::default()
    };
    let t = Instant::now();
    let p = plan(&[], members(n, false), &[], &s, today, &opts);
    println!(
        "first plan: {:.3} s ({} created)",
        t.elapsed().as_secs_f64(),
        p.counts.created
    );
    let dir = apply(&[], &p.entries.iter().collect::<Vec<_>>());
    drop(p);
    let ms = members(n, true);
    let t = Instant::now();
    let p = plan(&dir, ms, &[], &s, today, &opts);
    println!(
        "daily plan, 1% changed: {:.3} s ({} updated)",
        t.elapsed().as_secs_f64(),
        p.counts.updated
    );
}
