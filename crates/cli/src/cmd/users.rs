//! `roster users` (list, show, edit, export), `roster upcoming` and `roster tick`.

use std::sync::Arc;

use anyhow::Result;
use roster_engine::Engine;

use crate::exit::{self};
use crate::out::print_json;
use roster_core::employee::Employee;
use roster_engine::ChangeOutcome;
use roster_store::EmployeeQuery;

use crate::args::{UsersAction, UsersArgs};
use crate::review;

pub(super) fn print_change(o: &ChangeOutcome, json: bool, what: &str) -> Result<()> {
    if json {
        return print_json(o);
    }
    match o.import_id {
        Some(id) => outln!("{what}: recorded as import {id}."),
        None => outln!("{what}: nothing to change."),
    }
    for e in &o.plan.entries {
        outln!(
            "  {:<10} {}",
            e.action.as_str().to_uppercase(),
            e.employee_id()
        );
        for c in &e.changes {
            outln!(
                "{}",
                review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
            );
        }
    }
    for c in &o.conflicts {
        outln!(
            "  NOT ROLLED BACK {}: changed since ({})",
            c.employee_id,
            c.fields.join(", ")
        );
    }
    for c in &o.erased {
        outln!(
            "  NOT RESTORED {}: erased since ({})",
            c.employee_id,
            c.fields.join(", ")
        );
    }
    for key in &o.removed {
        outln!("  NOT RESTORED employee key {key}: removed since");
    }
    Ok(())
}

fn user_row(e: &Employee) -> String {
    let status = if e.active {
        "active".to_string()
    } else {
        format!(
            "deactivated ({})",
            e.deactivation_reason.map(|r| r.as_str()).unwrap_or("-")
        )
    };
    format!(
        "{:<14} {:<34} {:<28} {:<10} {}",
        e.employee_id,
        e.email,
        e.display_name(),
        if e.is_manager { "manager" } else { "" },
        status
    )
}

pub(super) async fn users(engine: &Arc<Engine>, mut a: UsersArgs, json: bool) -> Result<u8> {
    let action = a.action.take().unwrap_or(UsersAction::List);
    if a.as_of.is_some()
        && !matches!(
            action,
            UsersAction::List | UsersAction::Show { .. } | UsersAction::Export { .. }
        )
    {
        anyhow::bail!("--as-of reads the past: it applies to list, show and export only");
    }
    match action {
        UsersAction::List if a.as_of.is_some() => {
            let day = a.as_of.unwrap_or_default();
            return list_as_of(engine, &a, day, json).await;
        }
        UsersAction::List => {
            let q = EmployeeQuery {
                search: a.search.clone(),
                include_inactive: a.all,
                limit: a.limit,
                offset: 0,
                after: None,
            };
            let list = engine.employees(&q).await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            for e in &list {
                outln!("{}", user_row(e));
            }
            let total = engine.count_employees(!a.all).await?;
            outln!(
                "{} shown of {} {}",
                list.len(),
                total,
                if a.all {
                    "employees"
                } else {
                    "active employees (--all for deactivated too)"
                }
            );
        }
        UsersAction::Show { who } if a.as_of.is_some() => {
            let day = a.as_of.unwrap_or_default();
            let e = engine.find_as_of(&who, day).await?;
            if json {
                return print_json(&serde_json::json!({ "employee": e, "as_of": day }))
                    .map(|_| exit::OK);
            }
            outln!("As of the end of {day}:");
            for f in e.field_names() {
                if let Some(v) = e.field(&f) {
                    outln!("{:<28} {}", f, v);
                }
            }
        }
        UsersAction::Show { who } => {
            let e = engine.find(&who).await?;
            let history = engine.history(e.key).await?;
            if json {
                return print_json(&serde_json::json!({ "employee": e, "history": history }))
                    .map(|_| exit::OK);
            }
            for f in e.field_names() {
                if let Some(v) = e.field(&f) {
                    outln!("{:<28} {}", f, v);
                }
            }
            outln!("History (newest first):");
            for h in &history {
                let from = h
                    .merged_from
                    .as_deref()
                    .map(|m| format!("   [merged record {m}]"))
                    .unwrap_or_default();
                outln!(
                    "  import {} ({}, {}) {}{from}",
                    h.import_id,
                    h.kind.as_str(),
                    h.at,
                    h.action.as_str()
                );
                for c in &h.changes {
                    outln!(
                        "{}",
                        review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
                    );
                }
            }
        }
        UsersAction::SetEmail { who, email } => {
            print_change(&engine.set_email(&who, &email).await?, json, "Email set")?
        }
        UsersAction::Exclude { who } => {
            print_change(&engine.exclude(&who).await?, json, "Excluded")?
        }
        UsersAction::Include { who } => {
            print_change(&engine.include(&who).await?, json, "Included")?
        }
        UsersAction::Merge { duplicate, into } => {
            print_change(&engine.merge(&duplicate, &into).await?, json, "Merged")?
        }
        UsersAction::Erase { who, yes, remove } => {
            return super::erase::erase(engine, &who, yes, remove, json).await;
        }
        UsersAction::Export {
            include_deactivated,
            out,
        } => return super::csv::export(engine, include_deactivated, a.as_of, out).await,
        UsersAction::ExportPerson { who, out } => {
            return super::privacy::export_person(engine, &who, out).await;
        }
        UsersAction::Hold { who, reason } => {
            return super::privacy::hold(engine, &who, &reason, json).await;
        }
        UsersAction::ReleaseHold { who } => {
            return super::privacy::release_hold(engine, &who, json).await;
        }
        UsersAction::Holds => return super::privacy::holds(engine, json).await,
    }
    Ok(exit::OK)
}

/// `roster users --as-of DAY`: the directory as it stood then, filtered as the
/// list is (search, --all, --limit).
async fn list_as_of(
    engine: &Arc<Engine>,
    a: &UsersArgs,
    day: jiff::civil::Date,
    json: bool,
) -> Result<u8> {
    let past = engine.directory_as_of(day).await?;
    let shown: Vec<&Employee> = past.iter().filter(|e| a.all || e.active).collect();
    let total = shown.len();
    let list: Vec<&Employee> = shown
        .into_iter()
        .filter(|e| a.search.as_deref().is_none_or(|n| e.matches(n)))
        .take(a.limit.unwrap_or(usize::MAX))
        .collect();
    if json {
        return print_json(&list).map(|_| exit::OK);
    }
    for e in &list {
        outln!("{}", user_row(e));
    }
    outln!(
        "{} shown of {} {} as of the end of {day}",
        list.len(),
        total,
        if a.all {
            "employees"
        } else {
            "active employees"
        }
    );
    Ok(exit::OK)
}

pub(super) async fn upcoming(engine: &Arc<Engine>, days: i64, json: bool) -> Result<u8> {
    let list = engine.upcoming(days).await?;
    if json {
        return print_json(&list).map(|_| exit::OK);
    }
    if list.is_empty() {
        outln!("Nothing upcoming in the next {days} days.");
    }
    for u in &list {
        outln!(
            "{}  {:<13} {:<14} {}",
            u.date,
            u.kind.as_str(),
            u.employee_id,
            u.name
        );
    }
    Ok(exit::OK)
}
