//! `roster sync`: review, ask, apply; the plan and user file preview on request.

use std::sync::Arc;

use anyhow::Result;
use roster_engine::Engine;

use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};
use roster_core::guard::Trigger;
use roster_engine::{SyncOptions, SyncStatus};
use roster_justworks::UrlPolicy;
use roster_wiring as wiring;

use crate::args::SyncArgs;
use crate::review;

pub(super) async fn sync(
    engine: &Arc<Engine>,
    a: SyncArgs,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    let source = wiring::source(engine, &i, policy)?;
    let trigger = if a.automatic {
        Trigger::Automatic
    } else {
        Trigger::Manual
    };
    let ask = a.run.apply && must_ask(a.run.yes, json, "sync --apply")?;
    let (bar, progress) = crate::progress::fetch_bar("fetching");
    let mut opts = SyncOptions {
        trigger: Some(trigger),
        incremental: a.incremental,
        deactivate_missing: a.deactivate_missing,
        apply: false,
        confirm: a.run.confirmations(),
        custom_fields: a.custom_fields,
        progress,
        on_step: crate::progress::step_fn(&bar),
        job: None,
    };
    // With a prompt: review first, ask, then run again with apply (the source may have
    // moved on; the applied plan is the one shown if nothing changed in between).
    if ask {
        let review = engine.sync(i.id, &source, opts.clone()).await?;
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        review::print(
            &review.plan,
            &review.held,
            a.show,
            &mut crate::out::stdout(),
        )?;
        if review.plan.entries.is_empty() {
            outln!("Nothing to apply.");
        }
        if review.plan.mass_change.triggered()
            && !a.run.confirm_mass_change
            && trigger == Trigger::Manual
        {
            if !confirm("The mass-change guard fired. Apply anyway?")? {
                let id = engine.discard(&review, trigger).await?;
                return Err(Exit(
                    exit::DECLINED,
                    format!("Not applied; recorded as discarded import {id}."),
                )
                .into());
            }
            opts.confirm.mass_change = true;
        }
        if !confirm("Apply this import?")? {
            let id = engine.discard(&review, trigger).await?;
            return Err(Exit(
                exit::DECLINED,
                format!("Not applied; recorded as discarded import {id}."),
            )
            .into());
        }
    }
    opts.apply = a.run.apply;
    // The text review shows at most `--show` entries: an applied sync keeps no
    // more of its plan (the write takes the others by move). JSON, `--out` and
    // `--preview` need the whole plan.
    let outcome = if json || a.out.is_some() || a.preview.is_some() {
        engine.sync(i.id, &source, opts).await?
    } else {
        engine.sync_showing(i.id, &source, opts, a.show).await?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(path) = &a.out {
        review::export(&outcome.plan, &outcome.held, path)?;
    }
    if let Some(path) = &a.preview {
        let applied = matches!(
            outcome.status,
            SyncStatus::Applied | SyncStatus::PartiallyApplied
        );
        super::csv::write_preview(engine, i.id, &outcome.plan, applied, path).await?;
    }
    // The directory is done with: its close (the log copied into the file and
    // synced) runs while the outcome is printed, and the command returns after both.
    let closing = tokio::spawn(crate::ctx::close_all());
    let printed = print(&outcome, &a, json);
    let _ = closing.await;
    printed?;
    Ok(match outcome.status {
        SyncStatus::Blocked | SyncStatus::NeedsConfirmation => exit::BLOCKED,
        SyncStatus::PartiallyApplied => exit::HELD,
        SyncStatus::Reviewed | SyncStatus::Applied => exit::OK,
    })
}

/// The outcome of `roster sync`: JSON, or the review and its status line.
fn print(outcome: &roster_engine::SyncOutcome, a: &SyncArgs, json: bool) -> Result<()> {
    if json {
        print_json(outcome)?;
    } else {
        if !a.run.apply || a.run.yes {
            for d in &outcome.diagnostics {
                outln!("Note: {}", d.message);
            }
            review::print_outcome(outcome, a.show, &mut crate::out::stdout())?;
            outln!();
        }
        outln!("{}", review::status_line(outcome));
        if let Some(path) = &a.out {
            outln!("Plan written to {}", path.display());
        }
        if let Some(path) = &a.preview {
            outln!("User file preview written to {}", path.display());
        }
    }
    Ok(())
}
