//! Opening the directory: the store from `--db`, the key beside it, the engine.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use roster_engine::{Cipher, Clock, Engine, FixedClock, SystemClock};
use roster_store::Store;
use roster_store_sqlite::SqliteStore;

/// The account every embedded directory uses.
pub const ACCOUNT: &str = "default";

/// Where the database lives, as given by `--db`.
#[derive(Clone, Debug)]
pub struct DbPath(pub String);

impl DbPath {
    /// The file path (for `sqlite:` URLs, the part after the scheme).
    pub fn file(&self) -> PathBuf {
        let s = self
            .0
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        PathBuf::from(s)
    }

    /// The encryption key file beside the database.
    pub fn key_file(&self) -> PathBuf {
        let f = self.file();
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "roster.db".into());
        f.with_file_name(format!("{name}.key"))
    }
}

pub async fn open_store(db: &DbPath) -> Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&db.0)
        .await
        .with_context(|| format!("while opening the directory database {}", db.0))?;
    Ok(Arc::new(store))
}

pub fn clock(today: Option<jiff::civil::Date>) -> Arc<dyn Clock> {
    match today {
        Some(d) => Arc::new(FixedClock::on(d)),
        None => Arc::new(SystemClock),
    }
}

pub async fn open_engine(db: &DbPath, clock: Arc<dyn Clock>) -> Result<Arc<Engine>> {
    let store = open_store(db).await?;
    let cipher =
        Cipher::load_or_create(&db.key_file()).context("while loading the credentials key")?;
    Ok(Arc::new(
        Engine::open(store, clock, cipher, ACCOUNT)
            .await
            .context("while opening the account")?,
    ))
}
