//! Printing a plan for an admin to review, and exporting it as JSON or CSV.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use roster_core::issue::{Issue, Severity};
use roster_core::plan::{Action, Plan};
use roster_engine::{SyncOutcome, SyncStatus};

fn show(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("∅")
}

/// One field change as a review line: `field  old → new  (rule)`.
pub fn change_line(
    field: &str,
    old: &Option<String>,
    new: &Option<String>,
    rule: Option<&str>,
) -> String {
    let rule = rule.map(|r| format!("   ({r})")).unwrap_or_default();
    format!(
        "             {field:<22} {} → {}{rule}",
        show(old),
        show(new)
    )
}

/// The counts line block.
pub fn counts(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    let c = &plan.counts;
    writeln!(
        out,
        "  created {:>6}   updated {:>6}   deactivated {:>6}   reactivated {:>6}",
        c.created, c.updated, c.deactivated, c.reactivated
    )?;
    writeln!(
        out,
        "  unchanged {:>4}   skipped {:>6}   privacy-guarded {:>2}   errors {:>3}   warnings {:>3}",
        c.unchanged, c.skipped, c.privacy, c.errors, c.warnings
    )?;
    if c.erased_left > 0 {
        writeln!(
            out,
            "  {} erased people still in the source, left erased",
            c.erased_left
        )?;
    }
    Ok(())
}

/// Full review: guard warnings first, counts, per-employee changes, issues.
pub fn print(
    plan: &Plan,
    held: &[usize],
    limit: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    print_with(plan, held, limit, out, &|i: &Issue| i.to_string())
}

/// [`print`] of a sync's outcome, whose plan may keep only the entries a review
/// shows ([`SyncOutcome::omitted`] counts the others).
pub fn print_outcome(o: &SyncOutcome, limit: usize, out: &mut impl Write) -> std::io::Result<()> {
    print_all(&o.plan, o.omitted, &o.held, limit, out, &|i: &Issue| {
        i.to_string()
    })
}

/// [`print`], with issues worded by `issue` (a CSV import names line and column).
pub fn print_with(
    plan: &Plan,
    held: &[usize],
    limit: usize,
    out: &mut impl Write,
    issue: &dyn Fn(&Issue) -> String,
) -> std::io::Result<()> {
    print_all(plan, 0, held, limit, out, issue)
}

/// The review of `plan` and `omitted` entries after those it keeps.
fn print_all(
    plan: &Plan,
    omitted: usize,
    held: &[usize],
    limit: usize,
    out: &mut impl Write,
    issue: &dyn Fn(&Issue) -> String,
) -> std::io::Result<()> {
    if plan.mass_change.triggered() {
        writeln!(
            out,
            "!! MASS CHANGE: this sync {}.",
            plan.mass_change.describe()
        )?;
        writeln!(
            out,
            "!! Check the source before applying; a manual sync needs --confirm-mass-change."
        )?;
    }
    if plan.counts.privacy > 0 {
        writeln!(
            out,
            "!! PRIVACY GUARD: {} employee(s) change two or more of name, date of birth and email at once.",
            plan.counts.privacy
        )?;
        writeln!(
            out,
            "!! They are held unless you confirm them with --confirm-privacy."
        )?;
    }
    counts(plan, out)?;
    let held: HashSet<usize> = held.iter().copied().collect();
    let total = plan.entries.len() + omitted;
    if total > 0 {
        writeln!(out)?;
    }
    for (i, e) in plan.entries.iter().enumerate().take(limit) {
        let mut flags = String::new();
        if e.privacy {
            flags.push_str(if held.contains(&i) {
                "  [privacy: HELD]"
            } else {
                "  [privacy]"
            });
        }
        if let Some(d) = &e.possible_duplicate_of {
            flags.push_str(&format!("  [possible duplicate of {d}]"));
        }
        let name = e.after.display_name();
        writeln!(
            out,
            "  {:<10} {} {}{}",
            e.action.as_str().to_uppercase(),
            e.employee_id(),
            name,
            flags
        )?;
        if e.action == Action::Create {
            let changes = e.all_changes();
            let brief: Vec<String> = changes
                .iter()
                .filter(|c| {
                    matches!(
                        c.field.as_str(),
                        "email" | "start_date" | "manager_email" | "end_date"
                    )
                })
                .map(|c| format!("{}={}", c.field, show(&c.new)))
                .collect();
            writeln!(out, "             {}", brief.join("  "))?;
        } else {
            for c in &e.changes {
                writeln!(
                    out,
                    "{}",
                    change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
                )?;
            }
        }
    }
    if total > limit {
        writeln!(
            out,
            "  … {} more (use --show N, or --out plan.csv for all)",
            total - limit
        )?;
    }
    let problems: Vec<_> = plan
        .issues
        .iter()
        .filter(|i| i.severity != Severity::Info)
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
        writeln!(out, "  Issues:")?;
        for (n, i) in problems.iter().enumerate() {
            if n >= limit {
                writeln!(
                    out,
                    "  … {} more issues (see --out plan.json)",
                    problems.len() - limit
                )?;
                break;
            }
            writeln!(out, "  - {}", issue(i))?;
        }
    }
    Ok(())
}

pub fn status_line(o: &SyncOutcome) -> String {
    let id = o
        .import_id
        .map(|i| format!(" as import {i}"))
        .unwrap_or_default();
    match o.status {
        SyncStatus::Reviewed => {
            "Reviewed only: nothing was changed. Run with --apply to import.".to_string()
        }
        SyncStatus::Applied => format!("Applied{id}: {} employee(s) changed.", o.applied.len()),
        SyncStatus::PartiallyApplied => format!(
            "Applied{id}: {} employee(s) changed; {} held by the privacy guard (re-run with --apply --confirm-privacy to push them through).",
            o.applied.len(),
            o.held.len()
        ),
        SyncStatus::Blocked => format!("BLOCKED{id}: nothing was applied; admins are notified."),
        SyncStatus::NeedsConfirmation => format!(
            "NOT APPLIED{id}: the mass-change guard needs confirmation (--confirm-mass-change)."
        ),
    }
}

/// Write the plan to `path`: `.csv` gives one row per field change (through
/// [`roster_csv::Writer`], formulas neutralised), anything else JSON.
pub fn export(plan: &Plan, held: &[usize], path: &Path) -> Result<()> {
    let held: HashSet<usize> = held.iter().copied().collect();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let f = std::fs::File::create(path)
            .with_context(|| format!("while creating {}", path.display()))?;
        let mut w = roster_csv::Writer::new(std::io::BufWriter::new(f));
        w.row([
            "action",
            "employee_id",
            "source_id",
            "field",
            "old",
            "new",
            "rule",
            "privacy",
            "held",
        ])?;
        for (i, e) in plan.entries.iter().enumerate() {
            for c in e.all_changes() {
                w.row([
                    e.action.as_str(),
                    e.employee_id(),
                    e.source_id().unwrap_or(""),
                    &c.field,
                    c.old.as_deref().unwrap_or(""),
                    c.new.as_deref().unwrap_or(""),
                    c.rule.as_str(),
                    if e.privacy { "true" } else { "false" },
                    if held.contains(&i) { "true" } else { "false" },
                ])?;
            }
        }
        w.finish()
            .with_context(|| format!("while writing {}", path.display()))?;
    } else {
        let f = std::fs::File::create(path)
            .with_context(|| format!("while creating {}", path.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(f), plan)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use roster_core::employee::Employee;
    use roster_core::guard::Decision;
    use roster_core::plan::{Change, Counts, Entry, MassChange, Rule};
    use roster_engine::Timings;

    use super::*;

    fn entry(i: usize) -> Entry {
        let id = format!("E{i}");
        let (action, changes) = if i.is_multiple_of(2) {
            (Action::Create, Vec::new())
        } else {
            let change = Change {
                field: "last_name".into(),
                old: Some("Old".into()),
                new: Some("New".into()),
                rule: Rule::Source,
            };
            (Action::Update, vec![change])
        };
        Entry {
            action,
            key: (!i.is_multiple_of(2)).then_some(i as i64),
            changes,
            after: Employee {
                employee_id: id,
                source_id: Some(format!("m{i}")),
                first_name: Some(format!("Ada{i}")),
                email: format!("ada{i}@example.com"),
                ..Employee::default()
            },
            privacy: i == 1,
            id_change: false,
            possible_duplicate_of: (i == 2).then(|| "E9".to_string()),
        }
    }

    fn plan(entries: Vec<Entry>) -> Plan {
        Plan {
            today: jiff::civil::date(2026, 12, 4),
            complete: true,
            counts: Counts {
                created: 3,
                updated: 2,
                ..Counts::default()
            },
            entries,
            issues: Vec::new(),
            mass_change: MassChange::default(),
        }
    }

    fn text(print: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        print(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The review of an outcome that keeps only the entries shown reads as the
    /// review of the whole plan, whatever the limit.
    #[test]
    fn a_review_of_the_entries_kept_reads_as_the_whole_plans() {
        let whole = plan((0..5).map(entry).collect());
        let held = [1];
        for limit in [0, 1, 2, 4, 5, 9] {
            let kept = whole.entries.iter().take(limit).cloned().collect();
            let outcome = SyncOutcome {
                integration_id: 1,
                import_id: Some(2),
                status: SyncStatus::PartiallyApplied,
                plan: plan(kept),
                decision: Decision::Apply {
                    apply: vec![0, 2, 3, 4],
                    held: held.to_vec(),
                },
                applied: vec![0, 2, 3, 4],
                held: held.to_vec(),
                diagnostics: Vec::new(),
                members_fetched: 5,
                bytes_read: 0,
                requests: 0,
                timings: Timings::default(),
                omitted: 5 - limit.min(5),
            };
            let expected = text(|out| print(&whole, &held, limit, out));
            assert_eq!(text(|out| print_outcome(&outcome, limit, out)), expected);
            assert_eq!(expected.contains("E0"), limit > 0, "{expected}");
        }
        let review = text(|out| print(&whole, &held, 2, out));
        assert!(review.contains("… 3 more"), "{review}");
        assert!(review.contains("[privacy: HELD]"), "{review}");
    }
}
