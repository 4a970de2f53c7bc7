//! `roster users erase WHO`: a person's personal data erased (issue #17).

use std::sync::Arc;

use anyhow::Result;
use roster_engine::Engine;

use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};

pub(super) async fn erase(engine: &Arc<Engine>, who: &str, yes: bool, json: bool) -> Result<u8> {
    let e = engine.find(who).await?;
    if must_ask(yes, json, "users erase")?
        && !confirm(&format!(
            "Erase the personal data of employee {} everywhere Roster keeps it (directory, \
             history, change feed, payloads)? This cannot be undone.",
            e.employee_id
        ))?
    {
        return Err(Exit(exit::DECLINED, "Not erased.".into()).into());
    }
    let done = engine
        .erase(who, "roster users erase (command line)")
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
    outln!("Recorded as import {} (kind erasure).", done.import_id);
    Ok(exit::OK)
}
