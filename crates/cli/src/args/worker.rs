//! `roster worker`, `roster autosync` and `roster notify` arguments.

use clap::{Args, Subcommand};

use super::IntegrationArg;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// One pass (run what is due, deliver notifications) and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes when nothing is due.
    #[arg(long, default_value_t = 15)]
    pub poll_secs: u64,
    /// Seconds a claimed job and its sync lock are leased (renewed while it runs).
    /// A killed worker's job runs again within this lease plus one poll interval
    /// (at once on the same host, where a dead process's sync lock is taken over).
    #[arg(long, default_value_t = 120)]
    pub lease_secs: u64,
    /// This worker's name in leases (default: roster-<random>).
    #[arg(long)]
    pub id: Option<String>,
    /// SMTP server for admin email: smtp://host:25, smtp://host:587?tls=required,
    /// smtps://user:password@host:465.
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of admin email, e.g. "Roster <roster@example.com>".
    #[arg(long, env = "ROSTER_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Base URL of the admin UI, for links to imports in email.
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve /metrics (Prometheus) and /healthz (503 once the worker is unhealthy) on
    /// this address, e.g. 127.0.0.1:9100 (port 0: any free port, printed at start).
    #[arg(long, env = "ROSTER_WORKER_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

#[derive(Args, Debug)]
pub struct AutosyncArgs {
    #[command(flatten)]
    pub integration: IntegrationArg,
    #[command(subcommand)]
    pub action: Option<AutosyncAction>,
}

#[derive(Subcommand, Debug)]
pub enum AutosyncAction {
    /// Show every auto-sync and the daily end-date job (the default).
    Status,
    /// Switch auto-sync on (or change its schedule). Needs an active integration.
    On {
        /// daily, weekly or monthly.
        #[arg(long)]
        frequency: String,
        /// Local time, HH:MM (24-hour).
        #[arg(long)]
        at: String,
        /// IANA time zone (default: the integration's `timezone` setting).
        #[arg(long)]
        tz: Option<String>,
        /// For weekly: mon, tue, wed, thu, fri, sat, sun.
        #[arg(long)]
        weekday: Option<String>,
        /// For monthly: 1–31 (the last day of shorter months).
        #[arg(long)]
        day: Option<i64>,
    },
    /// Switch auto-sync off.
    Off,
    /// Pause: keep the schedule, run nothing until resumed.
    Pause,
    /// Resume at the next scheduled time.
    Resume,
    /// Run it at the next worker pass.
    Now,
}

#[derive(Args, Debug)]
pub struct NotifyArgs {
    #[command(subcommand)]
    pub action: Option<NotifyAction>,
}

#[derive(Subcommand, Debug)]
pub enum NotifyAction {
    /// List channels (the default).
    List,
    /// Send events to a webhook, signed with HMAC-SHA256 (the secret is shown once).
    AddWebhook {
        url: String,
        /// Read the signing secret from this file (default: a random one).
        #[arg(long)]
        secret_file: Option<std::path::PathBuf>,
        /// Only these events (repeatable): sync.applied, sync.held, sync.blocked,
        /// sync.failed, or * for all (default: those four). Change-feed types
        /// (employee.created … import.applied, or employee.* for every employee
        /// event) subscribe the webhook to the change feed from now on: batches of
        /// events in order, each retried until accepted.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Change feed: a field whose before/after values the webhook may receive
        /// (repeatable; default none: field names only).
        #[arg(long = "feed-field", value_name = "FIELD")]
        feed_fields: Vec<String>,
        /// Change feed: events per request at most (default 100).
        #[arg(long, value_name = "N")]
        feed_batch: Option<usize>,
    },
    /// Email an admin (needs `roster worker --smtp-url`).
    AddEmail {
        address: String,
        #[arg(long = "event")]
        events: Vec<String>,
    },
    /// Remove a channel.
    Remove { id: i64 },
    /// Recent notifications with their delivery state.
    Log {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}
