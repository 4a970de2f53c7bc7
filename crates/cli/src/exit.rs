//! Exit codes (documented in the README and `roster --help`), the error that
//! carries one, and the code of any other error.

pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
/// Usage error (clap's own code).
pub const USAGE: u8 = 2;
/// A guard blocked the sync, or the mass-change guard needs confirmation: nothing applied.
pub const BLOCKED: u8 = 3;
/// Applied, but privacy-guarded employees were held for confirmation.
pub const HELD: u8 = 4;
/// Another sync of this integration is running.
pub const RUNNING: u8 = 5;
/// Fetching from the source failed: nothing was changed.
pub const FETCH_FAILED: u8 = 6;
/// A person answered no at the confirmation prompt (no terminal and no `--yes` is
/// [`USAGE`]).
pub const DECLINED: u8 = 7;
/// A CSV file has errors (rows in error without --skip-bad-rows, or the file as a
/// whole): nothing was applied.
pub const FILE_ERRORS: u8 = 8;

/// An error that carries its exit code.
#[derive(Debug)]
pub struct Exit(pub u8, pub String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}

/// The exit code of a command's error.
pub fn code_of(e: &anyhow::Error) -> u8 {
    if let Some(Exit(code, _)) = e.downcast_ref::<Exit>() {
        return *code;
    }
    for cause in e.chain() {
        if let Some(roster_engine::EngineError::Store(roster_store::StoreError::SyncRunning(_))) =
            cause.downcast_ref::<roster_engine::EngineError>()
        {
            return RUNNING;
        }
        if let Some(roster_engine::EngineError::Source(_)) =
            cause.downcast_ref::<roster_engine::EngineError>()
        {
            return FETCH_FAILED;
        }
    }
    ERROR
}
