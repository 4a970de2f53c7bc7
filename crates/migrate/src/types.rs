//! What the copy's parts share: the decryption port, the tables handled specially,
//! the error, the per-table report, and identifier quoting.

use roster_engine::Cipher;

/// Something that decrypts a secret: one key, or the first of several that fits.
pub trait Decrypt: Sync {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>>;
}

impl Decrypt for Cipher {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.decrypt(data).ok()
    }
}

pub(crate) struct Keys<'a>(pub(crate) &'a [Cipher]);

impl Decrypt for Keys<'_> {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.0.iter().find_map(|k| k.decrypt(data).ok())
    }
}

/// Columns holding data encrypted with the database's credentials key, as
/// (table, column, key column for messages).
pub const ENCRYPTED: &[(&str, &str, &str)] = &[
    ("integrations", "credentials", "id"),
    ("notification_channels", "secret", "id"),
    // The key check value (a constant encrypted with the key): re-encrypted, it
    // checks the target's key.
    ("key_check", "value", "id"),
];

/// Tables whose rows are not copied: they only mean something while a process runs
/// (a sync's lock, an OAuth consent in flight).
pub const TRANSIENT: &[&str] = &["sync_locks", "oauth_states"];

/// Bookkeeping tables of the migration tool itself, never copied.
pub(crate) const INTERNAL: &[&str] = &["_sqlx_migrations"];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("while opening the source: {0}")]
    Source(roster_store::StoreError),
    #[error("while opening the target: {0}")]
    Target(roster_store::StoreError),
    #[error(
        "the schemas differ: the source is at version {source_version}, the target at {target_version}"
    )]
    Versions {
        source_version: i64,
        target_version: i64,
    },
    #[error("the schemas differ: {0}")]
    Schema(String),
    #[error(
        "the target already holds data (table {table} has {rows} rows); moving house needs an empty, freshly migrated database"
    )]
    NotEmpty { table: String, rows: i64 },
    #[error(
        "{table} {key}: the {column} do not decrypt with the source's key (the key file beside the SQLite database, or ROSTER_SECRET_KEY if it was set when the source was written)"
    )]
    Decrypt {
        table: String,
        column: String,
        key: String,
    },
    #[error("verification failed for table {table}: {what}; nothing was committed to the target")]
    Verify { table: String, what: String },
    #[error("database error: {0}")]
    Database(String),
}

pub(crate) fn db(e: sqlx::Error) -> MigrateError {
    MigrateError::Database(e.to_string())
}

/// What was copied, per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// SHA-256 over the table's rows in primary-key order, each value normalised
    /// (encrypted columns by their plaintext); equal on both sides.
    pub checksum: String,
    /// Rows left behind on purpose ([`TRANSIENT`]).
    pub skipped: bool,
}

/// Progress, per table, for a progress line.
pub type Progress<'a> = &'a (dyn Fn(&str, u64) + Sync);
