//! Planning time on a synthetic company (`--help` lists the options):
//! `cargo run --release -p roster-core --example plan_bench -- 100000`
//!
//! A first plan of N creates, then a daily plan with 1 % changed; each with wall and
//! CPU time; the peak RSS at the end.
#![allow(clippy::disallowed_macros)] // printing is what an example or test report does

use clap::Parser;
use roster_bench::{Meter, peak_rss_mib};

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
            m.fields.insert("job_title", title);
            m.fields.insert("department", "Eng");
            m.fields.insert("home_country", "US");
            m
        })
        .collect()
}

/// Planning time on a synthetic company.
#[derive(Parser, Debug)]
#[command(name = "plan_bench")]
struct Args {
    /// Members of the company.
    #[arg(default_value_t = 100_000)]
    members: usize,
}

fn main() {
    let n = Args::parse().members;
    let today = jiff::civil::date(2026, 11, 23);
    let s = roster_core::Settings::default();
    let opts = PlanOptions {
        complete: true,
        ..Default::default()
    };
    let ms = members(n, false);
    let t = Meter::start();
    let p = plan(&[], ms, &[], &s, today, &opts);
    println!("first plan: {} ({} created)", t.stop(), p.counts.created);
    let dir = apply(&[], &p.entries.iter().collect::<Vec<_>>());
    drop(p);
    let ms = members(n, true);
    let t = Meter::start();
    let p = plan(&dir, ms, &[], &s, today, &opts);
    println!(
        "daily plan, 1% changed: {} ({} updated)",
        t.stop(),
        p.counts.updated
    );
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
