//! `roster migrate-store`: move a directory with its history from SQLite to
//! PostgreSQL (see `roster-migrate`); `roster backup`: copy an SQLite directory.

use anyhow::{Context, Result, bail};
use roster_store::Store;
use roster_store_sqlite::SqliteStore;

use crate::args::{BackupArgs, MigrateStoreArgs};
use crate::ctx::{self, DbPath};
use crate::exit::{self, Exit};
use crate::out::print_json;

/// `roster backup --to FILE`: `VACUUM INTO` a new 0600 file (see
/// [`SqliteStore::backup`]); consistent while other rosters read and write.
pub async fn backup(db: &DbPath, a: BackupArgs, json: bool) -> Result<u8> {
    if db.is_postgres() {
        return Err(Exit(
            exit::USAGE,
            "error: roster backup copies an SQLite directory; for PostgreSQL use pg_dump \
             (e.g. `pg_dump --format=custom --file roster.dump \"$URL\"`, see docs/deploy.md)"
                .into(),
        )
        .into());
    }
    let file = db.file();
    if !file.exists() {
        bail!("--db {}: no such database file", db.0);
    }
    if a.to.exists() {
        let same = std::fs::canonicalize(&a.to).ok() == std::fs::canonicalize(&file).ok();
        if same {
            bail!("--to {} is the database itself", a.to.display());
        }
        if !a.force {
            return Err(Exit(
                exit::USAGE,
                format!(
                    "error: {} exists; pass --force to replace it",
                    a.to.display()
                ),
            )
            .into());
        }
    }
    let store = SqliteStore::open(&db.0)
        .await
        .with_context(|| format!("while opening the directory database {}", db.0))?;
    let copied = store
        .backup(&a.to)
        .await
        .with_context(|| format!("while backing up {} to {}", db.0, a.to.display()));
    store.close().await;
    copied?;
    if json {
        print_json(&serde_json::json!({ "backup": a.to, "key_file": db.key_file() }))?;
    } else {
        outln!("Backed up {} to {}.", db.0, a.to.display());
        outln!(
            "The credentials key is not in the copy: keep {} (or ROSTER_SECRET_KEY) with it, \
             safely apart.",
            db.key_file().display()
        );
    }
    Ok(exit::OK)
}

/// The source holds no integration and no employee in any account.
async fn holds_nothing(from: &DbPath) -> Result<bool> {
    let store = SqliteStore::open(&from.0)
        .await
        .with_context(|| format!("while opening {}", from.0))?;
    let mut empty = true;
    for (account, _) in store.accounts().await? {
        if !store.integrations(account).await?.is_empty()
            || store.count_employees(account, false).await? > 0
        {
            empty = false;
            break;
        }
    }
    store.close().await;
    Ok(empty)
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
    if !args.allow_empty && holds_nothing(&from).await? {
        return Err(Exit(
            exit::USAGE,
            format!(
                "error: --from {} holds no integrations and no employees: nothing would move. \
                 A copy of roster.db taken without its -wal file looks like this; copy with \
                 `roster backup --to FILE` instead. Pass --allow-empty to move it anyway.",
                from.0
            ),
        )
        .into());
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
