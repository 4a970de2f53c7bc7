//! `roster serve` and `roster admin` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// A TOML configuration file (`roster default-config` prints an example).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How browsers reach this server (for the OAuth redirect), e.g. https://roster.example.com.
    #[arg(long)]
    pub public_url: Option<String>,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Seconds a request's header may take to arrive, also the idle keep-alive
    /// timeout (default 30).
    #[arg(long, value_name = "SECS")]
    pub header_read_timeout: Option<u64>,
    /// Connections served at once (default 512).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<u32>,
    /// Do not run the embedded worker (auto-syncs, end dates, notifications): run
    /// `roster worker` processes beside the servers instead (docs/deploy.md).
    #[arg(long)]
    pub no_worker: bool,
    /// SMTP server for admin email from the embedded worker (as `roster worker --smtp-url`).
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of admin email, e.g. "Roster <roster@example.com>".
    #[arg(long, env = "ROSTER_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a web user (signs in to the API and the web UI with email and password).
    CreateUser {
        #[arg(long)]
        email: String,
        /// account_admin, employee_data_admin or viewer.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (otherwise a random
        /// one is generated and printed once).
        #[arg(long)]
        password_stdin: bool,
        /// Create the --account if it does not exist (otherwise a name that is not an
        /// account is refused: a typo must not create one).
        #[arg(long)]
        create_account: bool,
    },
    /// Create an API token; it is printed once (only its digest is stored).
    CreateToken {
        /// account_admin, employee_data_admin or viewer.
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "admin")]
        name: String,
        /// Create the --account if it does not exist.
        #[arg(long)]
        create_account: bool,
    },
}
