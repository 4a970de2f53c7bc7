//! `roster users export-person`, `hold`, `release-hold`, `holds`, and `roster
//! retention` (issue #17).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use roster_engine::{Engine, PersonExport};

use roster_core::guard::Trigger;

use crate::args::RetentionArgs;
use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};

/// Write `doc` to `path`, readable and writable by its owner only (0600), also when
/// the file was there before with wider permissions.
fn write_private(path: &Path, doc: &PersonExport) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .with_context(|| format!("while creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("while making {} private", path.display()))?;
    }
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, doc)?;
    writeln!(w)?;
    let file = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("while writing {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("while writing {}", path.display()))?;
    Ok(())
}

pub(super) async fn export_person(
    engine: &Arc<Engine>,
    who: &str,
    out: Option<PathBuf>,
) -> Result<u8> {
    let doc = engine.person_export(who).await?;
    match out {
        Some(path) => {
            write_private(&path, &doc)?;
            errln!(
                "Wrote everything held about employee {} ({} history entries, {} events, {} imports) to {} (readable by you only).",
                doc.employee.employee_id,
                doc.history.len(),
                doc.events.len(),
                doc.imports.len(),
                path.display()
            );
        }
        None => print_json(&doc)?,
    }
    Ok(exit::OK)
}

pub(super) async fn hold(engine: &Arc<Engine>, who: &str, reason: &str, json: bool) -> Result<u8> {
    let hold = engine.hold_retention(who, reason).await?;
    if json {
        return print_json(&hold).map(|_| exit::OK);
    }
    outln!(
        "Retention hold on {who} since {}: retention leaves them alone until `roster users release-hold {who}`.",
        hold.since
    );
    Ok(exit::OK)
}

pub(super) async fn release_hold(engine: &Arc<Engine>, who: &str, json: bool) -> Result<u8> {
    let released = engine.release_retention(who).await?;
    if json {
        return print_json(&serde_json::json!({ "released": released })).map(|_| exit::OK);
    }
    if released {
        outln!("Retention hold on {who} lifted: retention applies to them again.");
    } else {
        outln!("{who} had no retention hold.");
    }
    Ok(exit::OK)
}

pub(super) async fn holds(engine: &Arc<Engine>, json: bool) -> Result<u8> {
    let list = engine.retention_holds().await?;
    if json {
        let rows: Vec<_> = list
            .iter()
            .map(|(h, e)| {
                serde_json::json!({
                    "employee_id": e.employee_id,
                    "name": e.display_name(),
                    "reason": h.reason,
                    "since": h.since,
                })
            })
            .collect();
        return print_json(&rows).map(|_| exit::OK);
    }
    if list.is_empty() {
        outln!("No retention holds.");
    }
    for (h, e) in &list {
        outln!(
            "{:<14} {:<28} since {}  {}",
            e.employee_id,
            e.display_name(),
            h.since,
            h.reason
        );
    }
    Ok(exit::OK)
}

/// `roster retention [--apply [--yes]]`: like `sync`, a review unless `--apply`.
pub(super) async fn retention(engine: &Arc<Engine>, a: RetentionArgs, json: bool) -> Result<u8> {
    let review = engine.retention(Trigger::Manual, true).await?;
    let Some(days) = review.retention_days else {
        if json {
            return print_json(&review).map(|_| exit::OK);
        }
        outln!("Retention is off (`roster settings set retention_days 730` turns it on).");
        return Ok(exit::OK);
    };
    let outcome = if a.apply && !review.due.is_empty() {
        let question = format!(
            "Anonymise {} former employee(s) now? This cannot be undone.",
            review.due.len()
        );
        if must_ask(a.yes, json, "retention --apply")? && !confirm(&question)? {
            return Err(Exit(exit::DECLINED, "Nothing anonymised.".into()).into());
        }
        engine.retention(Trigger::Manual, false).await?
    } else {
        review
    };
    if json {
        return print_json(&outcome).map(|_| exit::OK);
    }
    let today = outcome.today.map(|d| d.to_string()).unwrap_or_default();
    match (outcome.import_id, outcome.due.is_empty()) {
        (_, true) => outln!("Retention ({days} days): nobody is due on {today}."),
        (Some(id), false) => outln!(
            "Retention ({days} days): {} former employee(s) anonymised, recorded as import {id}.",
            outcome.due.len()
        ),
        (None, false) => outln!(
            "Retention ({days} days): {} former employee(s) due on {today} (nothing changed; --apply anonymises them):",
            outcome.due.len()
        ),
    }
    for (d, fields) in &outcome.due {
        outln!(
            "  {:<14} {:<28} ended {}, due {}: {}",
            d.employee_id,
            d.name,
            d.end_date,
            d.due_on,
            fields.join(", ")
        );
    }
    for d in &outcome.skipped {
        outln!(
            "  SKIPPED {} ({}): a pending review would change them; apply or discard it first.",
            d.employee_id,
            d.name
        );
    }
    Ok(exit::OK)
}
