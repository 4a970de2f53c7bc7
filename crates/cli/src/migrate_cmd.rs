//! `roster migrate-store`: move a directory with its history from SQLite to
//! PostgreSQL (see `roster-migrate`).

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::commands::print_json;
use crate::ctx::{self, DbPath};
use crate::exit;

#[derive(Args, Debug)]
pub struct MigrateStoreArgs {
    /// The SQLite database to copy (a path or a sqlite: URL); it is only read.
    #[arg(long)]
    pub from: String,
    /// The PostgreSQL database to fill (postgres://…); it must be empty. Its
    /// credentials key comes from ROSTER_SECRET_KEY.
    #[arg(long)]
    pub to: String,
}

pub async fn migrate_store(args: MigrateStoreArgs, json: bool) -> Result<u8> {
    let from = DbPath(args.from);
    let to = DbPath(args.to);
    if from.is_postgres() {
        bail!(
            "--from must be an SQLite database (a path or sqlite: URL); moving from PostgreSQL is not supported"
        );
    }
    if !to.is_postgres() {
        bail!("--to must be a PostgreSQL URL (postgres://…)");
    }
    if !from.file().exists() {
        bail!("--from {}: no such database file", from.0);
    }
    // The source's secrets were encrypted with its key file, or with
    // ROSTER_SECRET_KEY when that was set: try both (the file first).
    let mut source_keys = Vec::new();
    if let Ok(text) = std::fs::read_to_string(from.key_file()) {
        source_keys.push(
            roster_engine::Cipher::from_base64(&text)
                .with_context(|| format!("while reading {}", from.key_file().display()))?,
        );
    }
    let target_key = ctx::cipher(&to)?;
    source_keys.push(target_key.clone());
    let show = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = move |table: &str, rows: u64| {
        if show {
            err!("\r  copying {table}: {rows} rows          ");
        }
    };
    let reports =
        roster_migrate::sqlite_to_postgres(&from.0, &source_keys, &to.0, &target_key, &progress)
            .await
            .with_context(|| format!("moving {} to {}", from.0, to.shown()))?;
    if show {
        errln!();
    }
    if json {
        let tables: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "table": r.table, "rows": r.rows, "checksum": r.checksum, "skipped": r.skipped,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "verified": true, "tables": tables }))?;
    } else {
        outln!("Copied {} to {} and verified it:", from.0, to.shown());
        for r in &reports {
            if r.skipped {
                outln!(
                    "  {:<20} not copied (only meaningful while a sync runs)",
                    r.table
                );
            } else {
                outln!(
                    "  {:<20} {:>9} rows  sha256 {}",
                    r.table,
                    r.rows,
                    &r.checksum[..16.min(r.checksum.len())]
                );
            }
        }
        outln!(
            "Point roster at the new database: --db {} (with ROSTER_SECRET_KEY set).",
            to.shown()
        );
    }
    Ok(exit::OK)
}
