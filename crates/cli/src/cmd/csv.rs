//! CSV files: `roster import FILE`, `roster users export`, and the user file preview
//! (`roster sync --preview`, `roster import --preview`). Reading and writing files
//! is `roster-csv`; planning, guards and recording are the engine's.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use roster_core::guard::Trigger;
use roster_core::plan::Plan;
use roster_core::settings::Settings;
use roster_csv::ExportOptions;
use roster_engine::{Engine, ImportOptions, ImportOutcome, SyncStatus};
use roster_wiring::{self as wiring, IntakeError, ReadRequest, UsersFile};

use crate::args::{ImportArgs, Mode};
use crate::exit::{self, Exit};
use crate::out::print_json;
use crate::prompt::{confirm, must_ask};
use crate::review;

fn file_error(
    path: &Path,
    message: impl std::fmt::Display,
    recorded: Option<i64>,
) -> anyhow::Error {
    let note = match recorded {
        Some(id) => format!(" Nothing was applied; recorded as failed import {id}."),
        None => " Nothing was applied.".to_string(),
    };
    Exit(
        exit::FILE_ERRORS,
        format!("error: {}: {message}.{note}", path.display()),
    )
    .into()
}

pub async fn import(engine: &Arc<Engine>, a: ImportArgs, json: bool) -> Result<u8> {
    let ask = a.run.apply && must_ask(a.run.yes, json, "import --apply")?;
    let integration = engine.import_integration(a.integration).await?;
    let file_name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| a.file.display().to_string());
    let request = ReadRequest {
        file_name,
        full: a.mode == Mode::Full,
        delimiter: a.delimiter,
        date_format: a.date_format,
        map: a.map.clone(),
        apply: a.run.apply,
    };
    let opened = File::open(&a.file).map_err(|e| format!("could not open the file: {e}"));
    let UsersFile {
        import: input,
        columns,
    } = match wiring::read_users_file(engine, &integration, opened, &request).await {
        Ok(f) => f,
        Err(IntakeError::Unreadable { message, recorded }) => {
            return Err(file_error(&a.file, message, recorded));
        }
        Err(IntakeError::Engine(e)) => return Err(e.into()),
    };
    let trigger = Trigger::Manual;
    let mut opts = ImportOptions {
        trigger: Some(trigger),
        apply: false,
        confirm: a.run.confirmations(),
        skip_bad_rows: a.skip_bad_rows,
        deactivate_missing: a.deactivate_missing,
    };
    let describe = |i: &roster_core::issue::Issue| roster_csv::describe(i, &columns);

    // With a prompt: review first, ask, then apply the same file.
    let mut reviewed = false;
    if ask {
        let review = engine
            .import_csv(&integration, input.clone(), opts.clone())
            .await?;
        print_review(&review, a.show, &describe)?;
        reviewed = true;
        // A file with bad rows goes straight to the engine, which refuses it.
        if review.bad_rows.is_empty() || a.skip_bad_rows {
            if review.sync.plan.mass_change.triggered() && !a.run.confirm_mass_change {
                if !confirm("The mass-change guard fired. Apply anyway?")? {
                    let id = engine.discard_import(&review, trigger).await?;
                    return Err(declined(id));
                }
                opts.confirm.mass_change = true;
            }
            if !confirm("Apply this import?")? {
                let id = engine.discard_import(&review, trigger).await?;
                return Err(declined(id));
            }
        }
    }
    opts.apply = a.run.apply;
    let outcome = engine.import_csv(&integration, input, opts).await?;
    if let Some(path) = &a.out {
        review::export(&outcome.sync.plan, &outcome.sync.held, path)?;
    }
    if let Some(path) = &a.preview {
        let applied = matches!(
            outcome.sync.status,
            SyncStatus::Applied | SyncStatus::PartiallyApplied
        );
        write_preview(engine, integration.id, &outcome.sync.plan, applied, path).await?;
    }
    if json {
        let mut v = serde_json::to_value(&outcome)?;
        if let Some(o) = v.as_object_mut() {
            let messages: Vec<String> = outcome.sync.plan.issues.iter().map(describe).collect();
            o.insert("messages".into(), serde_json::to_value(messages)?);
        }
        print_json(&v)?;
    } else {
        if !reviewed {
            print_review(&outcome, a.show, &describe)?;
            outln!();
        }
        outln!("{}", status_line(&outcome, a.run.apply));
        if let Some(path) = &a.out {
            outln!("Plan written to {}", path.display());
        }
        if let Some(path) = &a.preview {
            outln!("User file preview written to {}", path.display());
        }
    }
    if outcome.refused {
        return Ok(exit::FILE_ERRORS);
    }
    Ok(match outcome.sync.status {
        SyncStatus::Blocked | SyncStatus::NeedsConfirmation => exit::BLOCKED,
        SyncStatus::PartiallyApplied => exit::HELD,
        SyncStatus::Reviewed | SyncStatus::Applied => exit::OK,
    })
}

fn declined(id: i64) -> anyhow::Error {
    Exit(
        exit::DECLINED,
        format!("Not applied; recorded as discarded import {id}."),
    )
    .into()
}

fn print_review(
    o: &ImportOutcome,
    show: usize,
    describe: &dyn Fn(&roster_core::issue::Issue) -> String,
) -> Result<()> {
    let mut out = std::io::BufWriter::new(crate::out::stdout());
    writeln!(
        out,
        "File {}: {} row(s), {} in error",
        o.file_name,
        o.rows,
        o.bad_rows.len()
    )?;
    for d in &o.sync.diagnostics {
        writeln!(out, "Note: {}", d.message)?;
    }
    review::print_with(&o.sync.plan, &o.sync.held, show, &mut out, describe)?;
    out.flush()?;
    Ok(())
}

fn status_line(o: &ImportOutcome, apply: bool) -> String {
    let bad = o.bad_rows.len();
    if o.refused {
        let id = o
            .sync
            .import_id
            .map(|i| format!(" (recorded as failed import {i})"))
            .unwrap_or_default();
        return format!(
            "NOT APPLIED{id}: {bad} row(s) in error. Fix the file, or re-run with --skip-bad-rows to import the other rows."
        );
    }
    let line = review::status_line(&o.sync);
    if !apply && bad > 0 && !matches!(o.sync.status, SyncStatus::Blocked) {
        format!(
            "{line}\n{bad} row(s) in error: --apply refuses the file until they are fixed, or skips them with --skip-bad-rows."
        )
    } else if apply && bad > 0 {
        format!("{line} {bad} row(s) in error were skipped.")
    } else {
        line
    }
}

fn export_to(
    out: &mut dyn Write,
    employees: &[roster_core::Employee],
    options: &ExportOptions,
) -> Result<usize> {
    let n = roster_csv::export(BufWriter::new(out), employees, options)
        .context("while writing the users file")?;
    Ok(n)
}

/// `roster users export`: the directory as a users file, on stdout or in `out`.
pub async fn export(
    engine: &Arc<Engine>,
    include_deactivated: bool,
    as_of: Option<jiff::civil::Date>,
    out: Option<PathBuf>,
) -> Result<u8> {
    let settings = match engine.integrations().await?.into_iter().next() {
        Some(i) => i.settings,
        None => Settings::default(),
    };
    let directory = match as_of {
        Some(day) => engine.directory_as_of(day).await?,
        None => engine.directory().await?,
    };
    let options = ExportOptions::from_settings(&settings, include_deactivated);
    match out {
        Some(path) => {
            let mut f = File::create(&path)
                .with_context(|| format!("while creating {}", path.display()))?;
            let n = export_to(&mut f, &directory, &options)?;
            f.sync_all()
                .with_context(|| format!("while writing {}", path.display()))?;
            errln!("Exported {n} employee(s) to {}", path.display());
        }
        None => {
            let mut stdout = crate::out::stdout();
            export_to(&mut stdout, &directory, &options)?;
        }
    }
    Ok(exit::OK)
}

/// The user file preview: the directory as the plan leaves it (every planned change
/// applied) in the users-export format of the run's integration, deactivated users
/// included. After an apply, the directory as it now is.
pub async fn write_preview(
    engine: &Arc<Engine>,
    integration: i64,
    plan: &Plan,
    applied: bool,
    path: &Path,
) -> Result<()> {
    let after = engine.directory_after(integration, plan, applied).await?;
    let mut f = File::create(path).with_context(|| format!("while creating {}", path.display()))?;
    export_to(
        &mut f,
        &after.employees,
        &ExportOptions::from_settings(&after.settings, true),
    )?;
    Ok(())
}
