//! Opening the directory: the store from `--db` (SQLite, or PostgreSQL for a
//! `postgres://` URL), the credentials key, the engine.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use roster_engine::{Cipher, Clock, Engine, FixedClock, SystemClock};
use roster_store::Store;
use roster_store_postgres::PgStore;
use roster_store_sqlite::{Checkpoints, SqliteStore};

/// The account every embedded directory uses.
pub const ACCOUNT: &str = "default";

/// The variable holding the credentials key (base64 of 32 bytes).
pub const SECRET_KEY_VAR: &str = "ROSTER_SECRET_KEY";

/// Where the database lives, as given by `--db`.
#[derive(Clone, Debug)]
pub struct DbPath(pub String);

impl DbPath {
    /// A `postgres://` or `postgresql://` URL: the PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        roster_store_postgres::is_postgres_url(&self.0)
    }

    /// `--db` for messages: a PostgreSQL URL without its password.
    pub fn shown(&self) -> String {
        if !self.is_postgres() {
            return self.0.clone();
        }
        match url::Url::parse(&self.0) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "the PostgreSQL URL given with --db".into(),
        }
    }

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

/// Every store this process opened, closed by [`close_all`] when the command ends.
static OPENED: Mutex<Vec<Arc<dyn Store>>> = Mutex::new(Vec::new());

/// How long closing may wait for queries still running.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The store of a long-running process (`serve`, `worker`) or a command that opens it
/// itself: SQLite checkpoints as it does by default ([`Checkpoints::Automatic`]).
pub async fn open_store(db: &DbPath) -> Result<Arc<dyn Store>> {
    open_store_with(db, Checkpoints::Automatic).await
}

/// The store of one command, closed by [`close_all`] when it ends: SQLite copies its
/// write-ahead log into the file there, once ([`Checkpoints::AtClose`]).
pub async fn open_command_store(db: &DbPath) -> Result<Arc<dyn Store>> {
    open_store_with(db, Checkpoints::AtClose).await
}

async fn open_store_with(db: &DbPath, checkpoints: Checkpoints) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if db.is_postgres() {
        Arc::new(
            PgStore::connect(&db.0)
                .await
                .with_context(|| format!("while opening the directory database {}", db.shown()))?,
        )
    } else {
        Arc::new(
            SqliteStore::open_with(&db.0, checkpoints)
                .await
                .with_context(|| format!("while opening the directory database {}", db.0))?,
        )
    };
    if let Ok(mut opened) = OPENED.lock() {
        opened.push(store.clone());
    }
    Ok(store)
}

/// Close every store opened with [`open_store`]: SQLite checkpoints its WAL into the
/// database file, so the file alone is a complete copy once a command (or `serve`,
/// or `worker`) has finished. Called by `main` after every command.
pub async fn close_all() {
    let stores: Vec<Arc<dyn Store>> = match OPENED.lock() {
        Ok(mut opened) => std::mem::take(&mut *opened),
        Err(_) => return,
    };
    for store in stores {
        match tokio::time::timeout(CLOSE_WAIT, store.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "closing the directory database"),
            Err(_) => tracing::warn!("closing the directory database timed out"),
        }
    }
}

/// The credentials key: `ROSTER_SECRET_KEY`, or (SQLite only) the key file beside
/// the database, created if missing. A PostgreSQL database has no "beside": there
/// the variable is required.
pub fn cipher(db: &DbPath) -> Result<Cipher> {
    cipher_from(db, std::env::var(SECRET_KEY_VAR).ok())
}

fn cipher_from(db: &DbPath, key: Option<String>) -> Result<Cipher> {
    if !db.is_postgres() {
        return Cipher::load_or_create_with(&db.key_file(), key)
            .context("while loading the credentials key");
    }
    let key = key.filter(|k| !k.trim().is_empty()).ok_or_else(|| {
        anyhow!(
            "{SECRET_KEY_VAR} is not set: with a PostgreSQL --db there is no key file beside the \
             database, so the key that encrypts integration credentials must come from \
             {SECRET_KEY_VAR} (32 random bytes in base64, e.g. `openssl rand -base64 32`; keep \
             it with your secrets, the same for every roster sharing the database)"
        )
    })?;
    Cipher::from_base64(&key).with_context(|| format!("while reading {SECRET_KEY_VAR}"))
}

/// The credentials key, checked against the database's key check value (written by
/// the first process whose key fits the secrets already stored): a process with
/// another key than the rest of the fleet refuses to start instead of failing every
/// sync it would run.
pub async fn checked_cipher(db: &DbPath, store: &dyn Store) -> Result<Cipher> {
    let cipher = cipher(db)?;
    roster_engine::verify_key(store, &cipher, jiff::Timestamp::now())
        .await
        .map_err(|e| match e {
            roster_engine::KeyCheckError::WrongKey => {
                let source = match std::env::var(SECRET_KEY_VAR) {
                    Ok(k) if !k.trim().is_empty() => SECRET_KEY_VAR.to_string(),
                    _ => format!("the key file {}", db.key_file().display()),
                };
                anyhow!(
                    "refusing to start: the credentials key ({source}) does not fit the \
                     database {}: its stored credentials were encrypted with another key. \
                     Use the key every other roster process of this database uses.",
                    db.shown()
                )
            }
            other => anyhow::Error::new(other).context("while checking the credentials key"),
        })?;
    Ok(cipher)
}

/// Which addresses Justworks sources may reach from this directory (see
/// `roster_wiring::source_policy`).
pub async fn source_policy(
    db: &DbPath,
    store: &dyn Store,
    allow_private: bool,
) -> Result<roster_justworks::UrlPolicy> {
    roster_wiring::source_policy(store, db.is_postgres(), allow_private)
        .await
        .context("while reading the accounts")
}

pub fn clock(today: Option<jiff::civil::Date>) -> Arc<dyn Clock> {
    match today {
        Some(d) => Arc::new(FixedClock::on(d)),
        None => Arc::new(SystemClock),
    }
}

/// How a command names its account: `--account` (or `ROSTER_ACCOUNT`) given or
/// defaulted, and whether a missing one may be created (`--create-account`).
#[derive(Clone, Debug)]
pub struct AccountArg {
    pub name: String,
    pub given: bool,
    pub create: bool,
}

/// The account a command acts on (issue #18.6):
/// - on a directory holding several accounts, `--account` must be given (a forgotten
///   flag must not act on `default`);
/// - the embedded `default` account is created on first use; another must exist
///   unless `create` (`roster admin create-* --create-account`), so that a typo is an
///   error, not a new account;
/// - an unknown name is refused with the count of accounts; their names only to a
///   caller at a terminal (a script or a remote caller learns nothing of other
///   customers).
pub async fn resolve_account(store: &dyn Store, account: &AccountArg) -> Result<()> {
    let known = store.accounts().await?;
    if !account.given && known.len() > 1 {
        return Err(crate::exit::Exit(
            crate::exit::USAGE,
            format!(
                "this directory holds {} accounts: name the one to act on with --account NAME \
                 (or ROSTER_ACCOUNT)",
                known.len()
            ),
        )
        .into());
    }
    let name = account.name.as_str();
    if name == ACCOUNT || account.create || known.iter().any(|(_, n)| n == name) {
        return Ok(());
    }
    use std::io::IsTerminal;
    let listed = if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let names: Vec<&str> = known.iter().map(|(_, n)| n.as_str()).collect();
        format!(": {}", names.join(", "))
    } else {
        String::new()
    };
    Err(crate::exit::Exit(
        crate::exit::USAGE,
        format!(
            "no account named {name:?} in this directory ({} account(s){listed}); \
             `roster admin create-user|create-token --account {name} --create-account …` \
             creates it",
            known.len()
        ),
    )
    .into())
}

/// The engine of `account` (see [`resolve_account`]) for one command: its store is
/// [`open_command_store`]'s.
pub async fn open_engine(
    db: &DbPath,
    clock: Arc<dyn Clock>,
    account: &AccountArg,
) -> Result<Arc<Engine>> {
    let store = open_command_store(db).await?;
    resolve_account(store.as_ref(), account).await?;
    let account = account.name.as_str();
    let cipher = checked_cipher(db, store.as_ref()).await?;
    Ok(Arc::new(
        Engine::open(store, clock, cipher, account)
            .await
            .context("while opening the account")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_choose_postgres_and_hide_the_password() {
        let pg = DbPath("postgres://roster:s3cret@db.example:5432/roster?sslmode=require".into());
        assert!(pg.is_postgres());
        assert!(DbPath("postgresql://db.example/roster".into()).is_postgres());
        assert!(!DbPath("roster.db".into()).is_postgres());
        assert!(!DbPath("sqlite:roster.db".into()).is_postgres());
        let shown = pg.shown();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example:5432/roster"), "{shown}");
        assert_eq!(DbPath("roster.db".into()).shown(), "roster.db");
    }

    #[test]
    fn postgres_needs_the_secret_key_variable() {
        let pg = DbPath("postgres://localhost/roster".into());
        let err = cipher_from(&pg, None).unwrap_err().to_string();
        assert!(err.contains(SECRET_KEY_VAR), "{err}");
        assert!(cipher_from(&pg, Some("  ".into())).is_err());
        assert!(cipher_from(&pg, Some("not base64".into())).is_err());
        let cipher = cipher_from(&pg, Some(Cipher::generate_base64())).expect("a valid key");
        assert_eq!(cipher.decrypt(&cipher.encrypt(b"x")).unwrap(), b"x");
    }
}
