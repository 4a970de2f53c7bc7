//! `roster imports` and `roster rollback`.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use roster_engine::Engine;

use super::users::print_change;
use crate::args::{ImportsAction, ImportsArgs, RollbackArgs};
use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};
use crate::review;

pub(super) async fn imports(engine: &Arc<Engine>, a: ImportsArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(ImportsAction::List) {
        ImportsAction::List => {
            let list = engine.imports(a.limit).await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            outln!(
                "{:>5}  {:<20} {:<10} {:<10} {:<18} created updated deact. react. skipped",
                "id",
                "finished",
                "kind",
                "trigger",
                "status"
            );
            for s in &list {
                let c = &s.counts;
                outln!(
                    "{:>5}  {:<20} {:<10} {:<10} {:<18} {:>7} {:>7} {:>6} {:>6} {:>7}",
                    s.id,
                    s.finished_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    s.kind.as_str(),
                    s.trigger.as_str(),
                    s.status.as_str(),
                    c.created,
                    c.updated,
                    c.deactivated,
                    c.reactivated,
                    c.skipped
                );
            }
        }
        ImportsAction::Show { id, show } => {
            let r = engine
                .import(id)
                .await?
                .ok_or_else(|| anyhow!("no import {id}"))?;
            if json {
                return print_json(&r).map(|_| exit::OK);
            }
            let s = &r.summary;
            outln!(
                "Import {} — {} ({}), {}",
                s.id,
                s.kind.as_str(),
                s.trigger.as_str(),
                s.status.as_str()
            );
            outln!("Started {}  finished {}", s.started_at, s.finished_at);
            let c = &s.counts;
            outln!(
                "created {} · updated {} · deactivated {} · reactivated {} · unchanged {} · skipped {} · errors {} · warnings {}",
                c.created,
                c.updated,
                c.deactivated,
                c.reactivated,
                c.unchanged,
                c.skipped,
                c.errors,
                c.warnings
            );
            if let Some(file) = r.details.get("file").and_then(|v| v.as_str()) {
                let rows = r.details.get("rows").and_then(|v| v.as_u64()).unwrap_or(0);
                match r.details.get("mode").and_then(|v| v.as_str()) {
                    Some(mode) => outln!("File {file}: {rows} row(s), {mode} import"),
                    None => outln!("File {file}"),
                }
            }
            for err in [r.details.get("error"), r.details.pointer("/extra/error")]
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
            {
                outln!("Error: {err}");
            }
            // A file's issues name their line and column.
            let columns: Option<std::collections::BTreeMap<String, String>> = r
                .details
                .get("columns")
                .and_then(|c| serde_json::from_value(c.clone()).ok());
            if let Some(issues) = r.details.get("issues").and_then(|v| v.as_array()) {
                for i in issues.iter().take(show) {
                    if let Ok(i) = serde_json::from_value::<roster_core::issue::Issue>(i.clone()) {
                        match &columns {
                            Some(c) => outln!("  - {}", roster_csv::describe(&i, c)),
                            None => outln!("  - {i}"),
                        }
                    }
                }
            }
            for (n, e) in r.entries.iter().enumerate() {
                if n >= show {
                    outln!("  … {} more (--show N or --json)", r.entries.len() - show);
                    break;
                }
                let flag = match (e.applied, e.held) {
                    (_, true) => " [held]",
                    (false, false) => " [not applied]",
                    _ => "",
                };
                outln!(
                    "  {:<10} {}{}",
                    e.action.as_str().to_uppercase(),
                    e.employee_id,
                    flag
                );
                for c in &e.changes {
                    outln!(
                        "{}",
                        review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
                    );
                }
            }
        }
    }
    Ok(exit::OK)
}

pub(super) async fn rollback(engine: &Arc<Engine>, a: RollbackArgs, json: bool) -> Result<u8> {
    if must_ask(a.yes, json, "rollback")? && !confirm(&format!("Roll back import {}?", a.id))? {
        return Err(Exit(exit::DECLINED, "Not rolled back.".into()).into());
    }
    let o = engine.rollback(a.id).await?;
    print_change(&o, json, &format!("Rolled back import {}", a.id))?;
    Ok(exit::OK)
}
