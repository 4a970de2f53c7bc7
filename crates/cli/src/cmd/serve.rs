//! `roster serve`, `roster default-config`, `roster openapi` and `roster admin`
//! (bootstrap web users and API tokens). The server itself is `roster-server`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result, anyhow, bail};
use roster_server::config::Layer;
use roster_server::{AppState, ServerConfig};
use roster_store::access::{NewApiToken, Role};

use crate::args::{AdminCommand, Command, ServeArgs};
use crate::ctx::{self, DbPath};
use crate::exit;

/// The global flags `roster serve` takes as its top configuration layer: only those
/// given (on the command line or in `ROSTER_DB` / `ROSTER_LOG`), so that a default
/// never hides the configuration file's value.
pub struct GlobalFlags {
    pub db: Option<String>,
    pub log: Option<String>,
    /// `--account`: the account `roster admin` acts on.
    pub account: ctx::AccountArg,
    /// `--allow-private-source-urls` was given (or its variable set).
    pub allow_private_source_urls: bool,
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s.trim())
        .ok_or_else(|| anyhow!("--role must be account_admin, employee_data_admin or viewer"))
}

pub async fn run(
    db: &DbPath,
    command: Command,
    today: Option<jiff::civil::Date>,
    flags: GlobalFlags,
    json: bool,
) -> Result<u8> {
    match command {
        Command::Serve(args) => serve(args, today, flags).await,
        Command::DefaultConfig => {
            out!("{}", roster_server::DEFAULT_CONFIG);
            Ok(exit::OK)
        }
        Command::Openapi => {
            out!("{}", roster_server::openapi_json());
            Ok(exit::OK)
        }
        Command::Admin(cmd) => admin(db, cmd, today, &flags.account, json).await,
        _ => Err(anyhow!("not a server command")),
    }
}

async fn serve(
    args: ServeArgs,
    today: Option<jiff::civil::Date>,
    flags: GlobalFlags,
) -> Result<u8> {
    let mut layers = Vec::new();
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("while reading {}", path.display()))?;
        layers.push((
            "config file",
            Layer::from_toml(&text).with_context(|| format!("in {}", path.display()))?,
        ));
    }
    layers.push(("environment", Layer::from_env(|k| std::env::var(k).ok())?));
    layers.push((
        "flags",
        Layer {
            listen: args.listen.clone(),
            db: flags.db,
            log: flags.log,
            public_url: args.public_url.clone(),
            secure_cookies: args.secure_cookies.then_some(true),
            header_read_timeout_secs: args.header_read_timeout,
            max_connections: args.max_connections,
            allow_private_source_urls: flags.allow_private_source_urls.then_some(true),
            ..Layer::default()
        },
    ));
    let config = ServerConfig::resolve(&layers)?;
    // `main` leaves logging to us for `serve`, so that the configured level applies.
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
    let db = DbPath(config.db.clone());
    let store = ctx::open_store(&db).await?;
    let cipher = ctx::checked_cipher(&db, store.as_ref()).await?;
    let policy = ctx::source_policy(&db, store.as_ref(), config.allow_private_source_urls).await?;
    let mut state =
        AppState::new(store, ctx::clock(today), cipher, config.clone()).with_source_policy(policy);
    if let Some(handle) = roster_server::metrics::install() {
        state = state.with_metrics(handle);
    }
    // The embedded worker runs what is due from the same database (the jobs table,
    // claimed with leases: any number of servers and workers may share it).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = if args.no_worker {
        None
    } else {
        let notifiers = roster_wiring::notifiers(&roster_wiring::EmailSettings {
            smtp_url: args.smtp_url.clone(),
            from: args.smtp_from.clone(),
            public_url: Some(config.public_url.clone()),
        })?;
        let worker = roster_engine::worker::Worker::new(
            state.store.clone(),
            state.clock.clone(),
            state.cipher.clone(),
            std::sync::Arc::new(roster_wiring::JustworksSources::new(policy)),
            std::sync::Arc::new(notifiers),
            roster_engine::worker::WorkerConfig::default(),
        );
        let mut stopped = stopped.clone();
        Some(tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        }))
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("while listening on {}", config.listen))?;
    errln!(
        "roster serve: http://{} (web UI at /, API under /api/v1, OpenAPI at /api/v1/openapi.json){}; Ctrl-C stops",
        listener.local_addr().unwrap_or(config.listen),
        if worker.is_some() {
            ", with a worker"
        } else {
            ""
        }
    );
    let shutdown = async move {
        roster_server::shutdown_signal().await;
        let _ = stop.send(true);
    };
    roster_server::serve_on(listener, state, shutdown).await?;
    if let Some(worker) = worker {
        // The worker finishes the job it is running, then stops.
        let _ = worker.await;
    }
    Ok(exit::OK)
}

async fn admin(
    db: &DbPath,
    cmd: AdminCommand,
    today: Option<jiff::civil::Date>,
    account: &ctx::AccountArg,
    json: bool,
) -> Result<u8> {
    let store = ctx::open_store(db).await?;
    let now = ctx::clock(today).now();
    let create = match &cmd {
        AdminCommand::CreateUser { create_account, .. }
        | AdminCommand::CreateToken { create_account, .. } => *create_account,
    };
    let mut wanted = account.clone();
    wanted.create = create;
    ctx::resolve_account(store.as_ref(), &wanted).await?;
    let account = wanted.name.as_str();
    match cmd {
        AdminCommand::CreateUser {
            email,
            role: r,
            password_stdin,
            ..
        } => {
            let role = role(&r)?;
            if !roster_core::normalise::valid_email(email.trim()) {
                bail!("--email is not a valid email address");
            }
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("while reading the password from standard input")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (roster_server::auth::random_secret(), true)
            };
            if password_stdin && std::io::stdin().is_terminal() {
                errln!("(the password was echoed; prefer piping it in)");
            }
            let hash = roster_server::auth::hash_password(&password)?;
            let account = store.ensure_account(account).await?;
            let user = store
                .create_user(roster_store::access::NewUser {
                    account_id: account,
                    email: email.trim().to_string(),
                    role,
                    password_hash: hash,
                    created_at: now,
                })
                .await
                .map_err(|e| match e {
                    roster_store::StoreError::Conflict(_) => {
                        anyhow!("a web user with this email already exists")
                    }
                    other => other.into(),
                })?;
            if json {
                crate::out::print_json(&serde_json::json!({
                    "id": user.id, "account_id": account, "role": role.as_str(),
                    "password": generated.then_some(&password),
                }))?;
            } else {
                outln!("Created web user {} ({}).", user.id, role.as_str());
                if generated {
                    outln!("Password (shown once): {password}");
                }
            }
        }
        AdminCommand::CreateToken { role: r, name, .. } => {
            let role = role(&r)?;
            let account = store.ensure_account(account).await?;
            let token = roster_server::auth::new_api_token();
            let t = store
                .create_api_token(NewApiToken {
                    account_id: account,
                    name,
                    role,
                    digest: roster_server::auth::digest(&token),
                    created_at: now,
                })
                .await?;
            if json {
                crate::out::print_json(&serde_json::json!({
                    "id": t.id, "account_id": account, "role": role.as_str(), "token": token,
                }))?;
            } else {
                outln!(
                    "Created API token {} ({}). It is shown once; keep it secret:",
                    t.id,
                    role.as_str()
                );
                outln!("{token}");
            }
        }
    }
    Ok(exit::OK)
}
