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
            e.employee_id
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

pub(super) async fn users(engine: &Arc<Engine>, a: UsersArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(UsersAction::List) {
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
        UsersAction::Export {
            include_deactivated,
            out,
        } => return super::csv::export(engine, include_deactivated, out).await,
    }
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
