//! The command line: every command and its arguments (clap), apart from the code
//! that runs them (`cmd`).

mod csv;
mod migrate;
mod serve;
mod worker;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use roster_core::guard::Confirmations;

pub use csv::{ImportArgs, Mode};
pub use migrate::{BackupArgs, MigrateStoreArgs};
pub use serve::{AdminCommand, ServeArgs};
pub use worker::{AutosyncAction, AutosyncArgs, NotifyAction, NotifyArgs, WorkerArgs};

const AFTER_HELP: &str = "\
Exit codes: 0 ok · 1 error · 2 usage (also: asking without a terminal and without --yes) · 3 blocked by a guard (nothing applied) · \
4 applied with privacy-guarded employees held · 5 a sync is already running · \
6 fetch failed (nothing changed) · 7 a person answered no at the prompt · \
8 the CSV file has errors (nothing applied) · \
141 standard output was closed early (`| head`): output cut short";

#[derive(Parser, Debug)]
#[command(name = "roster", version, about = "Keeps an employee directory in step with Justworks", after_help = AFTER_HELP)]
pub struct Cli {
    /// The directory database (a file path, a sqlite: URL, or a postgres:// URL with ROSTER_SECRET_KEY set).
    #[arg(long, global = true, env = "ROSTER_DB", default_value = "roster.db")]
    pub db: String,
    /// Machine-readable JSON output on read commands.
    #[arg(long, global = true)]
    pub json: bool,
    /// Pretend today is this date (YYYY-MM-DD), for what-if reviews and tests.
    #[arg(long, global = true, env = "ROSTER_TODAY")]
    pub today: Option<jiff::civil::Date>,
    /// The account the command acts on (a shared PostgreSQL directory holds several;
    /// the embedded one is `default`). Required when the directory holds more than
    /// one. `roster admin create-user|create-token --create-account` create it; every
    /// command refuses an account that does not exist.
    #[arg(long, global = true, env = "ROSTER_ACCOUNT", default_value = crate::ctx::ACCOUNT)]
    pub account: String,
    /// Let integrations reach loopback and private addresses (a source inside your
    /// network) on a shared directory (PostgreSQL, or several accounts); a
    /// single-account SQLite directory always may. Link-local and cloud metadata
    /// addresses are refused whatever this says.
    #[arg(
        long,
        global = true,
        env = "ROSTER_ALLOW_PRIVATE_SOURCE_URLS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_private_source_urls: bool,
    /// Log level (error, warn, info, debug); logs go to stderr and carry ids only.
    #[arg(long, global = true, env = "ROSTER_LOG", default_value = "warn")]
    pub log: String,
    /// `--log` (or `ROSTER_LOG`) was given, not defaulted: `roster serve` lets it win
    /// over its configuration file.
    #[arg(skip)]
    pub log_given: bool,
    /// `--db` (or `ROSTER_DB`) was given, not defaulted.
    #[arg(skip)]
    pub db_given: bool,
    /// `--account` (or `ROSTER_ACCOUNT`) was given, not defaulted.
    #[arg(skip)]
    pub account_given: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole story against a built-in Justworks sandbox: connect, setup sync,
    /// first import, then a "next day" with a leaver, a hire and a privacy-guarded change.
    Demo(DemoArgs),
    /// Run a Justworks sandbox server (the Partner API look-alike) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Connect a source.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Read the company, custom fields, member count and sample values (imports nothing).
    SetupSync(IntegrationArg),
    /// List core fields and source fields with sample values; map custom fields.
    Mapping(MappingArgs),
    /// Read and change integration settings.
    Settings(SettingsArgs),
    /// Fetch, plan and show the review; --apply to import.
    Sync(SyncArgs),
    /// Import a users CSV file (full or partial): the same review, guards and history as a sync.
    Import(ImportArgs),
    /// The directory: list, search, show, edit.
    Users(UsersArgs),
    /// The change feed: what changed for whom, in order (`--follow` waits for more).
    Events(EventsArgs),
    /// Import history.
    Imports(ImportsArgs),
    /// Revert an applied import (employees changed since are reported, not touched).
    Rollback(RollbackArgs),
    /// Release an integration's sync lock whose holder is gone (a sync or import
    /// killed on another host); shows the holder and its lease first. A holder on
    /// this host that is no longer running is taken over without this.
    Unlock(UnlockArgs),
    /// Future deactivations and starts.
    Upcoming(UpcomingArgs),
    /// Apply what has come due today (future end dates).
    Tick,
    /// Retention: who is due for anonymisation today (`retention_days` after their
    /// end date) and which fields; nothing changes without --apply. The daily
    /// end-date job of `roster worker` applies it on its own.
    Retention(RetentionArgs),
    /// List or delete integrations.
    Integrations(IntegrationsArgs),
    /// Serve the REST API (and /healthz, /readyz, /metrics) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Print a commented example configuration for `roster serve`.
    DefaultConfig,
    /// Print the API's OpenAPI document (`roster openapi > openapi.json`).
    Openapi,
    /// Bootstrap access: web users and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run due auto-syncs and end dates, and deliver notifications, until stopped.
    Worker(WorkerArgs),
    /// Auto-sync: on (daily, weekly, monthly at a local time), off, pause, resume, status.
    Autosync(AutosyncArgs),
    /// Notification channels (webhooks, admin email) and the delivery log.
    Notify(NotifyArgs),
    /// Move a directory with its history from SQLite to PostgreSQL, verified by
    /// row counts and checksums (stop every roster using the source first).
    MigrateStore(MigrateStoreArgs),
    /// An online, consistent copy of an SQLite directory in a new file (0600), taken
    /// while other rosters use it (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
}

impl Command {
    /// Whether the command may build a Justworks client (its TLS roots are read
    /// ahead, beside the command's start: `roster_justworks::preload_roots`).
    pub fn reaches_justworks(&self) -> bool {
        matches!(
            self,
            Command::Demo(_)
                | Command::Connect(_)
                | Command::SetupSync(_)
                | Command::Sync(_)
                | Command::Serve(_)
                | Command::Worker(_)
        )
    }
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 250)]
    pub members: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Show at most this many employees per review.
    #[arg(long, default_value_t = 12)]
    pub show: usize,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 8899)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 250)]
    pub members: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Load the company from a JSON fixture instead of generating one.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// Answer 429 above this many requests per second.
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Fraction (0–1) of API requests answered with 500/502/503.
    #[arg(long)]
    pub error_rate: Option<f64>,
    /// Added latency per request, in milliseconds.
    #[arg(long)]
    pub latency_ms: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum ConnectCommand {
    /// Connect Justworks: OAuth through your browser, or --token for scripts.
    Justworks(ConnectJustworks),
}

#[derive(Args, Debug)]
pub struct ConnectJustworks {
    /// A Justworks-compatible API base URL (the sandbox, or the real service).
    #[arg(long, default_value = roster_justworks::config::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// The consent page (default: the real Justworks one, or {base-url}/oauth/authorize
    /// when --base-url is given).
    #[arg(long)]
    pub authorize_url: Option<String>,
    /// An access token to use as is (scripts, tests). Skips OAuth.
    #[arg(long, env = "ROSTER_JUSTWORKS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, env = "ROSTER_JUSTWORKS_CLIENT_ID")]
    pub client_id: Option<String>,
    #[arg(long, env = "ROSTER_JUSTWORKS_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Read the client secret from this file.
    #[arg(long)]
    pub client_secret_file: Option<PathBuf>,
    /// Local port for the OAuth redirect (http://127.0.0.1:PORT/callback).
    #[arg(long, default_value_t = 8765)]
    pub redirect_port: u16,
    /// Space- or comma-separated scopes (default: the ones Roster needs, DOB included;
    /// add member.sex:read when a mapping uses sex).
    #[arg(long)]
    pub scopes: Option<String>,
    /// Client-side rate limit, requests per second.
    #[arg(long)]
    pub requests_per_second: Option<u32>,
    #[arg(long, default_value = "Justworks")]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct IntegrationArg {
    /// The integration (default: the first one).
    #[arg(long)]
    pub integration: Option<i64>,
}

#[derive(Args, Debug)]
pub struct MappingArgs {
    #[command(flatten)]
    pub integration: IntegrationArg,
    #[command(subcommand)]
    pub action: Option<MappingAction>,
}

#[derive(Subcommand, Debug)]
pub enum MappingAction {
    /// List core and source fields with sample values (the default).
    List,
    /// Map a source field (e.g. custom:cf_123 or job_title) to a demographic.
    Set {
        source_field: String,
        demographic: String,
        /// default (shown and exported), associated (another employee's ID or email), hidden.
        #[arg(long, default_value = "default")]
        kind: String,
    },
    /// Remove the mapping of a source field.
    Unset { source_field: String },
}

#[derive(Args, Debug)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub integration: IntegrationArg,
    #[command(subcommand)]
    pub action: Option<SettingsAction>,
}

#[derive(Subcommand, Debug)]
pub enum SettingsAction {
    /// Show every setting (the default).
    List,
    Get {
        key: String,
    },
    Set {
        key: String,
        value: String,
    },
}

/// Whether and how a reviewed sync or import is applied (`sync`, `import`).
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Import after the review.
    #[arg(long)]
    pub apply: bool,
    /// Do not ask for confirmation (required to apply without a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Apply privacy-guarded employees too.
    #[arg(long)]
    pub confirm_privacy: bool,
    /// Apply despite the mass-change warning.
    #[arg(long)]
    pub confirm_mass_change: bool,
}

impl ApplyArgs {
    /// The guards these flags confirm.
    pub fn confirmations(&self) -> Confirmations {
        Confirmations {
            privacy: self.confirm_privacy,
            mass_change: self.confirm_mass_change,
        }
    }
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    pub integration: IntegrationArg,
    #[command(flatten)]
    pub run: ApplyArgs,
    /// Deactivate members missing from this full sync, this once.
    #[arg(long)]
    pub deactivate_missing: bool,
    /// Fetch only members updated since the last sync (never deactivates the unread).
    #[arg(long)]
    pub incremental: bool,
    /// Also read per-member custom-field values.
    #[arg(long)]
    pub custom_fields: bool,
    /// Run as the scheduler would (automatic: guards block instead of asking).
    #[arg(long)]
    pub automatic: bool,
    /// Write the plan to this file (.json or .csv).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the user file preview (the users as the sync leaves them) to this CSV.
    #[arg(long)]
    pub preview: Option<PathBuf>,
    /// Show at most this many employees in the review.
    #[arg(long, default_value_t = 50)]
    pub show: usize,
}

#[derive(Args, Debug)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: Option<UsersAction>,
    /// Search employee ID, email and names.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many (default: all).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Include deactivated employees.
    #[arg(long)]
    pub all: bool,
    /// The directory as it stood at the end of this day (YYYY-MM-DD) in the account's
    /// time zone, reconstructed from the history (list, show, export).
    #[arg(long, global = true, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Events after this cursor (default: from the first).
    #[arg(long, default_value_t = 0, value_name = "CURSOR")]
    pub after: i64,
    /// At most this many (default: all; with --follow, per poll).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only events of this type (`employee.created` …); repeat for several.
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
    /// Keep waiting for new events, like `tail -f`, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: seconds between polls.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,
}

#[derive(Subcommand, Debug)]
pub enum UsersAction {
    /// List the directory (the default).
    List,
    /// One employee with their change history.
    Show { who: String },
    /// Set an employee's email (kept by later syncs when override_emails is off).
    SetEmail { who: String, email: String },
    /// Deactivate and keep deactivated in every later sync.
    Exclude { who: String },
    /// Re-include an excluded employee.
    Include { who: String },
    /// Merge a duplicate into the original in one audited step.
    Merge {
        duplicate: String,
        #[arg(long)]
        into: String,
    },
    /// Everything Roster holds about one person (their data-protection access
    /// request) as one JSON document: every field, history entry, change-feed event
    /// and import about them.
    ExportPerson {
        who: String,
        /// Write to this file, readable by its owner only (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Keep a former employee's data past `retention_days` (e.g. a legal hold).
    Hold {
        who: String,
        /// Why (shown to admins, e.g. "legal hold: case 14").
        #[arg(long)]
        reason: String,
    },
    /// Lift a retention hold: retention applies again.
    ReleaseHold { who: String },
    /// The retention holds, with their reasons.
    Holds,
    /// Erase a person's personal data (names, emails, phone, birth date, home
    /// address, personal demographics) everywhere Roster keeps it; the employee stays
    /// as an anonymous record (`Former employee …`), or with `--remove` is removed
    /// entirely (its reports follow its manager). Asks first.
    Erase {
        who: String,
        /// Do not ask (needed without a terminal).
        #[arg(long, short)]
        yes: bool,
        /// Remove the record entirely once anonymised: its reports are re-pointed to
        /// its manager; the change feed gets an `employee.removed` tombstone.
        #[arg(long)]
        remove: bool,
    },
    /// Export the directory as a users CSV file (re-importable with `roster import`).
    Export {
        /// Deactivated employees too (`Employee Deactivated` TRUE).
        #[arg(long)]
        include_deactivated: bool,
        /// Write to this file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ImportsArgs {
    #[command(subcommand)]
    pub action: Option<ImportsAction>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Subcommand, Debug)]
pub enum ImportsAction {
    List,
    /// One import: counts, errors, warnings and the plan.
    Show {
        id: i64,
        #[arg(long, default_value_t = 50)]
        show: usize,
    },
}

#[derive(Args, Debug)]
pub struct RetentionArgs {
    /// Anonymise them now (asks on a terminal; --yes without one).
    #[arg(long)]
    pub apply: bool,
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct RollbackArgs {
    pub id: i64,
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct UnlockArgs {
    /// The integration whose lock to release.
    pub integration: i64,
    /// Do not ask (needed without a terminal).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct UpcomingArgs {
    #[arg(long, default_value_t = 90)]
    pub days: i64,
}

#[derive(Args, Debug)]
pub struct IntegrationsArgs {
    #[command(subcommand)]
    pub action: Option<IntegrationsAction>,
}

#[derive(Subcommand, Debug)]
pub enum IntegrationsAction {
    List,
    /// Remove credentials, mapping, settings and schedule; the directory and history stay.
    Delete {
        id: i64,
        #[arg(long, short)]
        yes: bool,
    },
}
