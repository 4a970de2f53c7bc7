//! `roster users erase WHO [--remove]`: a person's personal data erased, and with
//! `--remove` the record removed entirely (issue #17).

use std::sync::Arc;

use anyhow::Result;
use roster_engine::Engine;

use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};

pub(super) async fn erase(
    engine: &Arc<Engine>,
    who: &str,
    yes: bool,
    remove: bool,
    json: bool,
) -> Result<u8> {
    let e = engine.find(who).await?;
    // Before the confirmation, also with --yes (on standard error: JSON stays clean).
    if let Some(warning) = Engine::erasure_warning(&e) {
        errln!("warning: {warning}.");
    }
    let what = if remove {
        "Erase the personal data of employee {} everywhere Roster keeps it (directory, \
         history, change feed, payloads) and remove the record entirely (its reports \
         follow its manager)? This cannot be undone."
    } else {
        "Erase the personal data of employee {} everywhere Roster keeps it (directory, \
         history, change feed, payloads)? This cannot be undone."
    };
    if must_ask(yes, json, "users erase")? && !confirm(&what.replace("{}", &e.employee_id))? {
        return Err(Exit(exit::DECLINED, "Not erased.".into()).into());
    }
    let done = engine
        .erase_and(who, "roster users erase (command line)", remove)
        .await?;
    if json {
        print_json(&done)?;
        return Ok(exit::OK);
    }
    for emp in &done.employees {
        outln!(
            "Erased: employee {} is now an anonymous record; fields replaced: {}.",
            emp.employee_id,
            emp.fields.join(", ")
        );
    }
    for r in &done.removed {
        outln!(
            "Removed: the record (key {}) is gone; {} report(s) now follow its manager.",
            r.key,
            r.reports_moved.len()
        );
        for m in &r.reports_moved {
            match m.manager_key {
                Some(to) => outln!("  report key {} → manager key {to}", m.key),
                None => outln!("  report key {} → no manager", m.key),
            }
        }
    }
    outln!("Recorded as import {} (kind erasure).", done.import_id);
    Ok(exit::OK)
}
