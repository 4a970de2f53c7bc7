//! `roster migrate-store` and `roster backup` arguments.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct MigrateStoreArgs {
    /// The SQLite database to copy (a path or a sqlite: URL); it is only read.
    #[arg(long)]
    pub from: String,
    /// The PostgreSQL database to fill (postgres://…); it must be empty. Its
    /// credentials key comes from ROSTER_SECRET_KEY.
    #[arg(long)]
    pub to: String,
    /// Move a source that holds no integration and no employee (without it such a
    /// source is refused: it is usually a copy of roster.db taken without its -wal file).
    #[arg(long)]
    pub allow_empty: bool,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The new file to write (refused if it exists, unless --force).
    #[arg(long)]
    pub to: PathBuf,
    /// Replace --to if it exists.
    #[arg(long)]
    pub force: bool,
}
