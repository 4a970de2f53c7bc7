//! Command handlers: parse → engine → print.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use roster_core::employee::{CORE_FIELDS, Employee};
use roster_core::guard::{Confirmations, Trigger};
use roster_core::settings::{FieldKind, MappingError, SETTING_KEYS};
use roster_engine::{ChangeOutcome, Engine, EngineError, SyncOptions, SyncStatus};
use roster_justworks::UrlPolicy;
use roster_store::{EmployeeQuery, Integration};
use secrecy::SecretString;

use crate::ctx::{self, DbPath};
use crate::review;
use crate::wiring::{self, StoredConfig};
use crate::{Cli, Command, Exit, exit};

pub async fn run(cli: Cli) -> Result<u8> {
    let db = DbPath(cli.db.clone());
    let account = ctx::AccountArg {
        name: cli.account.clone(),
        given: cli.account_given,
        create: false,
    };
    let json = cli.json;
    match cli.command {
        Command::Demo(args) => crate::demo::run(&db, args, cli.today).await,
        Command::Sandbox(args) => sandbox(args, cli.today).await,
        c @ (Command::Serve(_) | Command::DefaultConfig | Command::Openapi | Command::Admin(_)) => {
            let flags = crate::serve_cmd::GlobalFlags {
                db: cli.db_given.then(|| cli.db.clone()),
                log: cli.log_given.then(|| cli.log.clone()),
                account: account.clone(),
                allow_private_source_urls: cli.allow_private_source_urls,
            };
            crate::serve_cmd::run(&db, c, cli.today, flags, json).await
        }
        Command::Worker(args) => {
            crate::worker_cmd::worker(&db, args, cli.today, json, cli.allow_private_source_urls)
                .await
        }
        Command::MigrateStore(args) => crate::migrate_cmd::migrate_store(args, json).await,
        Command::Backup(args) => crate::migrate_cmd::backup(&db, args, json).await,
        Command::Connect(crate::ConnectCommand::Justworks(args)) => {
            let engine = ctx::open_engine(&db, ctx::clock(cli.today), &account).await?;
            let policy =
                ctx::source_policy(&db, engine.store().as_ref(), cli.allow_private_source_urls)
                    .await?;
            connect_justworks(&engine, args, json, policy).await
        }
        command => {
            let engine = ctx::open_engine(&db, ctx::clock(cli.today), &account).await?;
            let policy =
                ctx::source_policy(&db, engine.store().as_ref(), cli.allow_private_source_urls)
                    .await?;
            dispatch(&engine, command, json, policy).await
        }
    }
}

async fn dispatch(
    engine: &Arc<Engine>,
    command: Command,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    match command {
        Command::SetupSync(a) => setup_sync(engine, a.integration, json, policy).await,
        Command::Mapping(a) => mapping(engine, a, json).await,
        Command::Settings(a) => settings(engine, a, json).await,
        Command::Sync(a) => sync(engine, a, json, policy).await,
        Command::Import(a) => crate::csv_cmd::import(engine, a, json).await,
        Command::Users(a) => users(engine, a, json).await,
        Command::Imports(a) => imports(engine, a, json).await,
        Command::Rollback(a) => rollback(engine, a, json).await,
        Command::Unlock(a) => unlock(engine, a, json).await,
        Command::Upcoming(a) => upcoming(engine, a.days, json).await,
        Command::Tick => {
            let o = engine.tick().await?;
            print_change(&o, json, "Tick")?;
            Ok(exit::OK)
        }
        Command::Integrations(a) => integrations(engine, a, json).await,
        Command::Autosync(a) => crate::worker_cmd::autosync(engine, a, json).await,
        Command::Notify(a) => crate::worker_cmd::notify(engine, a, json).await,
        Command::Demo(_)
        | Command::Sandbox(_)
        | Command::Connect(_)
        | Command::Worker(_)
        | Command::MigrateStore(_)
        | Command::Backup(_)
        | Command::Serve(_)
        | Command::DefaultConfig
        | Command::Openapi
        | Command::Admin(_) => {
            unreachable!("handled in run")
        }
    }
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let mut out = std::io::BufWriter::new(crate::out::stdout());
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// The one rule of every command that asks before it acts (`sync --apply`,
/// `import --apply`, `rollback`, `integrations delete`): `--yes` answers for the
/// person (`Ok(false)`: do not ask); otherwise a person must be there to ask, which
/// needs a terminal on standard input and no `--json` (`Ok(true)`: ask with
/// [`confirm`]). Without one it is a usage error (exit 2) naming `--yes`, never a
/// "declined" (exit 7 is kept for a person who answered no).
pub(crate) fn must_ask(yes: bool, json: bool, what: &str) -> Result<bool> {
    if yes {
        return Ok(false);
    }
    if json || !std::io::stdin().is_terminal() {
        let why = if json {
            "--json output"
        } else {
            "no terminal to ask on"
        };
        return Err(Exit(
            exit::USAGE,
            format!("error: {what} asks for confirmation, and with {why} it needs --yes"),
        )
        .into());
    }
    Ok(true)
}

/// Ask on the terminal (after [`must_ask`] said so); `false` for anything but yes.
pub(crate) fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    err!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

// ---- sandbox ---------------------------------------------------------------

async fn sandbox(args: crate::SandboxArgs, today: Option<jiff::civil::Date>) -> Result<u8> {
    let mut config = roster_sandbox::SandboxConfig {
        seed: args.seed,
        members: args.members,
        fixture: args.fixture,
        ..Default::default()
    };
    if let Some(d) = today {
        config.today = d;
    }
    config.faults.rate_limit_per_sec = args.rate_limit;
    if let Some(r) = args.error_rate {
        config.faults.error_rate = r;
    }
    if let Some(ms) = args.latency_ms {
        config.faults.latency = std::time::Duration::from_millis(ms);
    }
    let addr: std::net::SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .context("while reading --host/--port")?;
    roster_sandbox::serve(config, addr)
        .await
        .context("while running the sandbox")?;
    Ok(exit::OK)
}

// ---- connect ---------------------------------------------------------------

async fn connect_justworks(
    engine: &Arc<Engine>,
    a: crate::ConnectJustworks,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let base = url::Url::parse(&a.base_url).context("--base-url is not a URL")?;
    // The token goes there: refuse an address this directory must not reach.
    roster_justworks::check_url_resolved(&base, policy)
        .await
        .map_err(|e| {
            Exit(
                exit::USAGE,
                format!("--base-url: the source address is not allowed: {e}"),
            )
        })?;
    let mut config = roster_justworks::JustworksConfig::with_base_url(base);
    config.url_policy = policy;
    if a.base_url.trim_end_matches('/') == roster_justworks::config::DEFAULT_BASE_URL {
        config.authorize_url = url::Url::parse(roster_justworks::config::DEFAULT_AUTHORIZE_URL)?;
    }
    if let Some(u) = &a.authorize_url {
        config.authorize_url = url::Url::parse(u).context("--authorize-url is not a URL")?;
    }
    if let Some(s) = &a.scopes {
        config.scopes = s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    let mut stored = StoredConfig {
        base_url: a.base_url.clone(),
        authorize_url: Some(config.authorize_url.to_string()),
        token_url: None,
        client_id: a.client_id.clone().unwrap_or_default(),
        redirect_uri: None,
        scopes: config.scopes.clone(),
        requests_per_second: a.requests_per_second,
        mode: "static".into(),
    };
    let secrets = if let Some(token) = &a.token {
        wiring::static_secrets(&SecretString::from(token.clone()))
    } else {
        let client_id = a.client_id.clone().ok_or_else(|| {
            anyhow!("OAuth needs --client-id (or pass --token for a static token)")
        })?;
        let secret = match (&a.client_secret, &a.client_secret_file) {
            (Some(s), _) => s.clone(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .with_context(|| format!("while reading {}", f.display()))?
                .trim()
                .to_string(),
            (None, None) => bail!("OAuth needs --client-secret or --client-secret-file"),
        };
        let redirect = format!("http://127.0.0.1:{}/callback", a.redirect_port);
        config.client_id = client_id.clone();
        config.client_secret = SecretString::from(secret.clone());
        config.redirect_uri = Some(url::Url::parse(&redirect)?);
        let oauth = roster_justworks::auth::OAuthClient::new(&config)?;
        let state = roster_justworks::auth::new_state();
        let (url, verifier) = oauth.authorize_url(&state, true);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", a.redirect_port))
            .await
            .with_context(|| {
                format!(
                    "while listening for the OAuth redirect on port {}",
                    a.redirect_port
                )
            })?;
        errln!(
            "Open this address in your browser and authorize Roster:\n\n  {url}\n\nWaiting for the redirect on {redirect} …"
        );
        let code = roster_justworks::receive_redirect(listener, &state).await?;
        let tokens = oauth.exchange_code(&code, verifier).await?;
        stored.mode = "oauth".into();
        stored.client_id = client_id;
        stored.redirect_uri = Some(redirect);
        wiring::oauth_secrets(&SecretString::from(secret), &tokens)
    };
    let integration = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            &a.name,
            serde_json::to_value(&stored)?,
            Some(&secrets),
        )
        .await?;
    if json {
        print_json(
            &serde_json::json!({ "integration_id": integration.id, "state": integration.state }),
        )?;
    } else {
        outln!(
            "Connected integration {} ({}). Next: roster setup-sync",
            integration.id,
            integration.name
        );
    }
    Ok(exit::OK)
}

// ---- setup sync, mapping, settings ----------------------------------------------

async fn setup_sync(
    engine: &Arc<Engine>,
    id: Option<i64>,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let i = engine.integration(id).await?;
    let source = wiring::source(engine, &i, policy)?;
    let (bar, progress) = crate::progress::fetch_bar("reading members");
    let report = engine.setup_sync(i.id, &source, progress).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if json {
        return print_json(&report).map(|_| exit::OK);
    }
    outln!("Company: {}", report.company_name);
    outln!("Members: {}", report.member_count);
    for d in &report.diagnostics {
        outln!("Note: {}", d.message);
    }
    outln!("Source fields (sample value):");
    for f in &report.source_fields {
        let label = if f.label != f.key {
            format!(" ({})", f.label)
        } else {
            String::new()
        };
        outln!(
            "  {:<28}{label}  {}",
            f.key,
            f.sample.as_deref().unwrap_or("—")
        );
    }
    outln!("State: needs_finalise. Next: roster sync (review), then roster sync --apply");
    Ok(exit::OK)
}

async fn mapping(engine: &Arc<Engine>, a: crate::MappingArgs, json: bool) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    match a.action.unwrap_or(crate::MappingAction::List) {
        crate::MappingAction::List => {
            if json {
                return print_json(&serde_json::json!({
                    "core_fields": CORE_FIELDS,
                    "mapping": i.settings.mapping,
                    "source_fields": i.source_fields,
                }))
                .map(|_| exit::OK);
            }
            outln!("Core fields (mapped automatically, fixed after the first import):");
            outln!("  {}", CORE_FIELDS.join(", "));
            outln!("Mapped demographics:");
            for m in &i.settings.mapping {
                let sample = i
                    .source_fields
                    .iter()
                    .find(|f| f.key == m.source_key)
                    .and_then(|f| f.sample.clone());
                outln!(
                    "  {:<24} → {:<22} {:<10} sample: {}",
                    m.source_key,
                    m.demographic,
                    format!("{:?}", m.kind).to_lowercase(),
                    sample.as_deref().unwrap_or("—")
                );
            }
            let unmapped: Vec<_> = i
                .source_fields
                .iter()
                .filter(|f| !i.settings.mapping.iter().any(|m| m.source_key == f.key))
                .collect();
            if !unmapped.is_empty() {
                outln!("Other source fields (map with `roster mapping set FIELD DEMOGRAPHIC`):");
                for f in unmapped {
                    outln!(
                        "  {:<24} {:<22} sample: {}",
                        f.key,
                        f.label,
                        f.sample.as_deref().unwrap_or("—")
                    );
                }
            }
            if i.source_fields.is_empty() {
                outln!("(Run `roster setup-sync` to read source fields and sample values.)");
            }
        }
        crate::MappingAction::Set {
            source_field,
            demographic,
            kind,
        } => {
            let kind = FieldKind::parse(&kind)
                .ok_or_else(|| anyhow!("--kind must be default, associated or hidden"))?;
            let warning = match engine
                .set_mapping(i.id, &source_field, &demographic, kind)
                .await
            {
                Err(EngineError::Mapping(e @ MappingError::UnknownField(_))) => {
                    bail!("{e}; `roster mapping` lists them (run `roster setup-sync` first)")
                }
                r => r?.1,
            };
            if let Some(w) = warning {
                errln!("warning: {w}");
            }
            let demographic = demographic.trim();
            outln!("Mapped {source_field} → {demographic}");
        }
        crate::MappingAction::Unset { source_field } => {
            engine.unset_mapping(i.id, &source_field).await?;
            outln!("Unmapped {source_field}");
        }
    }
    Ok(exit::OK)
}

async fn settings(engine: &Arc<Engine>, a: crate::SettingsArgs, json: bool) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    match a.action.unwrap_or(crate::SettingsAction::List) {
        crate::SettingsAction::List => {
            if json {
                let map: serde_json::Map<String, serde_json::Value> = SETTING_KEYS
                    .iter()
                    .map(|(k, _)| {
                        (
                            k.to_string(),
                            serde_json::Value::String(i.settings.get(k).unwrap_or_default()),
                        )
                    })
                    .collect();
                return print_json(&map).map(|_| exit::OK);
            }
            for (k, help) in SETTING_KEYS {
                outln!("{:<28} {:<24} {}", k, i.settings.get(k)?, help);
            }
        }
        crate::SettingsAction::Get { key } => {
            let v = i.settings.get(&key)?;
            if json {
                print_json(&serde_json::json!({ key: v }))?
            } else {
                outln!("{v}")
            }
        }
        crate::SettingsAction::Set { key, value } => {
            let s = engine
                .update_settings(i.id, |s| s.set(&key, &value).map_err(|e| e.to_string()))
                .await?;
            outln!("{key} = {}", s.get(&key)?);
        }
    }
    Ok(exit::OK)
}

// ---- sync ------------------------------------------------------------------

async fn sync(
    engine: &Arc<Engine>,
    a: crate::SyncArgs,
    json: bool,
    policy: UrlPolicy,
) -> Result<u8> {
    let i = engine.integration(a.integration.integration).await?;
    let source = wiring::source(engine, &i, policy)?;
    let trigger = if a.automatic {
        Trigger::Automatic
    } else {
        Trigger::Manual
    };
    let ask = a.apply && must_ask(a.yes, json, "sync --apply")?;
    let (bar, progress) = crate::progress::fetch_bar("fetching");
    let mut opts = SyncOptions {
        trigger: Some(trigger),
        incremental: a.incremental,
        deactivate_missing: a.deactivate_missing,
        apply: false,
        confirm: Confirmations {
            privacy: a.confirm_privacy,
            mass_change: a.confirm_mass_change,
        },
        custom_fields: a.custom_fields,
        progress,
        on_step: crate::progress::step_fn(&bar),
        job: None,
    };
    // With a prompt: review first, ask, then run again with apply (the source may have
    // moved on; the applied plan is the one shown if nothing changed in between).
    if ask {
        let review = engine.sync(i.id, &source, opts.clone()).await?;
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        review::print(
            &review.plan,
            &review.held,
            a.show,
            &mut crate::out::stdout(),
        )?;
        if review.plan.entries.is_empty() {
            outln!("Nothing to apply.");
        }
        if review.plan.mass_change.triggered()
            && !a.confirm_mass_change
            && trigger == Trigger::Manual
        {
            if !confirm("The mass-change guard fired. Apply anyway?")? {
                let id = engine.discard(&review, trigger).await?;
                return Err(Exit(
                    exit::DECLINED,
                    format!("Not applied; recorded as discarded import {id}."),
                )
                .into());
            }
            opts.confirm.mass_change = true;
        }
        if !confirm("Apply this import?")? {
            let id = engine.discard(&review, trigger).await?;
            return Err(Exit(
                exit::DECLINED,
                format!("Not applied; recorded as discarded import {id}."),
            )
            .into());
        }
    }
    opts.apply = a.apply;
    let outcome = engine.sync(i.id, &source, opts).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(path) = &a.out {
        review::export(&outcome.plan, &outcome.held, path)?;
    }
    if let Some(path) = &a.preview {
        let applied = matches!(
            outcome.status,
            SyncStatus::Applied | SyncStatus::PartiallyApplied
        );
        crate::csv_cmd::write_preview(engine, i.id, &outcome.plan, applied, path).await?;
    }
    if json {
        print_json(&outcome)?;
    } else {
        if !a.apply || a.yes {
            for d in &outcome.diagnostics {
                outln!("Note: {}", d.message);
            }
            review::print(
                &outcome.plan,
                &outcome.held,
                a.show,
                &mut crate::out::stdout(),
            )?;
            outln!();
        }
        outln!("{}", review::status_line(&outcome));
        if let Some(path) = &a.out {
            outln!("Plan written to {}", path.display());
        }
        if let Some(path) = &a.preview {
            outln!("User file preview written to {}", path.display());
        }
    }
    Ok(match outcome.status {
        SyncStatus::Blocked | SyncStatus::NeedsConfirmation => exit::BLOCKED,
        SyncStatus::PartiallyApplied => exit::HELD,
        SyncStatus::Reviewed | SyncStatus::Applied => exit::OK,
    })
}

// ---- users -----------------------------------------------------------------

fn print_change(o: &ChangeOutcome, json: bool, what: &str) -> Result<()> {
    if json {
        return print_json(o);
    }
    match o.import_id {
        Some(id) => outln!("{what}: recorded as import {id}."),
        None => outln!("{what}: nothing to change."),
    }
    for e in &o.plan.entries {
        outln!(
            "  {:<10} {}",
            e.action.as_str().to_uppercase(),
            e.employee_id
        );
        for c in &e.changes {
            outln!(
                "{}",
                review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
            );
        }
    }
    for c in &o.conflicts {
        outln!(
            "  NOT ROLLED BACK {}: changed since ({})",
            c.employee_id,
            c.fields.join(", ")
        );
    }
    Ok(())
}

fn user_row(e: &Employee) -> String {
    let status = if e.active {
        "active".to_string()
    } else {
        format!(
            "deactivated ({})",
            e.deactivation_reason.map(|r| r.as_str()).unwrap_or("-")
        )
    };
    format!(
        "{:<14} {:<34} {:<28} {:<10} {}",
        e.employee_id,
        e.email,
        e.display_name(),
        if e.is_manager { "manager" } else { "" },
        status
    )
}

async fn users(engine: &Arc<Engine>, a: crate::UsersArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(crate::UsersAction::List) {
        crate::UsersAction::List => {
            let q = EmployeeQuery {
                search: a.search.clone(),
                include_inactive: a.all,
                limit: a.limit,
                offset: 0,
                after: None,
            };
            let list = engine.employees(&q).await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            for e in &list {
                outln!("{}", user_row(e));
            }
            let total = engine.count_employees(!a.all).await?;
            outln!(
                "{} shown of {} {}",
                list.len(),
                total,
                if a.all {
                    "employees"
                } else {
                    "active employees (--all for deactivated too)"
                }
            );
        }
        crate::UsersAction::Show { who } => {
            let e = engine.find(&who).await?;
            let history = engine.history(e.key).await?;
            if json {
                return print_json(&serde_json::json!({ "employee": e, "history": history }))
                    .map(|_| exit::OK);
            }
            for f in e.field_names() {
                if let Some(v) = e.field(&f) {
                    outln!("{:<28} {}", f, v);
                }
            }
            outln!("History (newest first):");
            for h in &history {
                let from = h
                    .merged_from
                    .as_deref()
                    .map(|m| format!("   [merged record {m}]"))
                    .unwrap_or_default();
                outln!(
                    "  import {} ({}, {}) {}{from}",
                    h.import_id,
                    h.kind.as_str(),
                    h.at,
                    h.action.as_str()
                );
                for c in &h.changes {
                    outln!(
                        "{}",
                        review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
                    );
                }
            }
        }
        crate::UsersAction::SetEmail { who, email } => {
            print_change(&engine.set_email(&who, &email).await?, json, "Email set")?
        }
        crate::UsersAction::Exclude { who } => {
            print_change(&engine.exclude(&who).await?, json, "Excluded")?
        }
        crate::UsersAction::Include { who } => {
            print_change(&engine.include(&who).await?, json, "Included")?
        }
        crate::UsersAction::Merge { duplicate, into } => {
            print_change(&engine.merge(&duplicate, &into).await?, json, "Merged")?
        }
        crate::UsersAction::Export {
            include_deactivated,
            out,
        } => return crate::csv_cmd::export(engine, include_deactivated, out).await,
    }
    Ok(exit::OK)
}

// ---- imports, rollback, upcoming, integrations -----------------------------------

async fn imports(engine: &Arc<Engine>, a: crate::ImportsArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(crate::ImportsAction::List) {
        crate::ImportsAction::List => {
            let list = engine.imports(a.limit).await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            outln!(
                "{:>5}  {:<20} {:<10} {:<10} {:<18} created updated deact. react. skipped",
                "id",
                "finished",
                "kind",
                "trigger",
                "status"
            );
            for s in &list {
                let c = &s.counts;
                outln!(
                    "{:>5}  {:<20} {:<10} {:<10} {:<18} {:>7} {:>7} {:>6} {:>6} {:>7}",
                    s.id,
                    s.finished_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    s.kind.as_str(),
                    s.trigger.as_str(),
                    s.status.as_str(),
                    c.created,
                    c.updated,
                    c.deactivated,
                    c.reactivated,
                    c.skipped
                );
            }
        }
        crate::ImportsAction::Show { id, show } => {
            let r = engine
                .import(id)
                .await?
                .ok_or_else(|| anyhow!("no import {id}"))?;
            if json {
                return print_json(&r).map(|_| exit::OK);
            }
            let s = &r.summary;
            outln!(
                "Import {} — {} ({}), {}",
                s.id,
                s.kind.as_str(),
                s.trigger.as_str(),
                s.status.as_str()
            );
            outln!("Started {}  finished {}", s.started_at, s.finished_at);
            let c = &s.counts;
            outln!(
                "created {} · updated {} · deactivated {} · reactivated {} · unchanged {} · skipped {} · errors {} · warnings {}",
                c.created,
                c.updated,
                c.deactivated,
                c.reactivated,
                c.unchanged,
                c.skipped,
                c.errors,
                c.warnings
            );
            if let Some(file) = r.details.get("file").and_then(|v| v.as_str()) {
                let rows = r.details.get("rows").and_then(|v| v.as_u64()).unwrap_or(0);
                match r.details.get("mode").and_then(|v| v.as_str()) {
                    Some(mode) => outln!("File {file}: {rows} row(s), {mode} import"),
                    None => outln!("File {file}"),
                }
            }
            for err in [r.details.get("error"), r.details.pointer("/extra/error")]
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
            {
                outln!("Error: {err}");
            }
            // A file's issues name their line and column.
            let columns: Option<std::collections::BTreeMap<String, String>> = r
                .details
                .get("columns")
                .and_then(|c| serde_json::from_value(c.clone()).ok());
            if let Some(issues) = r.details.get("issues").and_then(|v| v.as_array()) {
                for i in issues.iter().take(show) {
                    if let Ok(i) = serde_json::from_value::<roster_core::issue::Issue>(i.clone()) {
                        match &columns {
                            Some(c) => outln!("  - {}", roster_csv::describe(&i, c)),
                            None => outln!("  - {i}"),
                        }
                    }
                }
            }
            for (n, e) in r.entries.iter().enumerate() {
                if n >= show {
                    outln!("  … {} more (--show N or --json)", r.entries.len() - show);
                    break;
                }
                let flag = match (e.applied, e.held) {
                    (_, true) => " [held]",
                    (false, false) => " [not applied]",
                    _ => "",
                };
                outln!(
                    "  {:<10} {}{}",
                    e.action.as_str().to_uppercase(),
                    e.employee_id,
                    flag
                );
                for c in &e.changes {
                    outln!(
                        "{}",
                        review::change_line(&c.field, &c.old, &c.new, Some(c.rule.as_str()))
                    );
                }
            }
        }
    }
    Ok(exit::OK)
}

async fn rollback(engine: &Arc<Engine>, a: crate::RollbackArgs, json: bool) -> Result<u8> {
    if must_ask(a.yes, json, "rollback")? && !confirm(&format!("Roll back import {}?", a.id))? {
        return Err(Exit(exit::DECLINED, "Not rolled back.".into()).into());
    }
    let o = engine.rollback(a.id).await?;
    print_change(&o, json, &format!("Rolled back import {}", a.id))?;
    Ok(exit::OK)
}

async fn unlock(engine: &Arc<Engine>, a: crate::UnlockArgs, json: bool) -> Result<u8> {
    let id = a.integration;
    let Some(lock) = engine.sync_lock(id).await? else {
        if json {
            print_json(
                &serde_json::json!({ "integration_id": id, "released": false, "held": false }),
            )?;
        } else {
            outln!("Integration {id} is not locked: nothing to release.");
        }
        return Ok(exit::OK);
    };
    let holder = roster_engine::lock::Holder::parse(&lock.holder);
    let who = match &holder {
        Some(h) => format!("process {} on host {}", h.pid, h.host),
        None => format!("holder {}", lock.holder),
    };
    let now = jiff::Timestamp::now();
    let lease = if lock.until < now {
        format!("its lease ended at {} (it stopped renewing)", lock.until)
    } else {
        format!(
            "its lease runs until {} (renewed while it runs: a live holder keeps it)",
            lock.until
        )
    };
    errln!("Integration {id} is locked by {who}; {lease}.");
    if must_ask(a.yes, json, "unlock")?
        && !confirm(
            "Release it? Its holder's changes will then be refused if it is still running.",
        )?
    {
        return Err(Exit(exit::DECLINED, "Not released.".into()).into());
    }
    let import = engine.unlock(id, &lock).await?;
    if json {
        print_json(&serde_json::json!({
            "integration_id": id,
            "released": import.is_some(),
            "held": true,
            "holder": lock.holder,
            "lease_until": lock.until,
            "import_id": import,
        }))?;
    } else {
        match import {
            Some(i) => {
                outln!("Released the sync lock of integration {id} (recorded as import {i}).")
            }
            None => outln!(
                "The lock changed hands meanwhile: nothing released. Run `roster unlock {id}` again to see its holder."
            ),
        }
    }
    Ok(if import.is_some() {
        exit::OK
    } else {
        exit::RUNNING
    })
}

async fn upcoming(engine: &Arc<Engine>, days: i64, json: bool) -> Result<u8> {
    let list = engine.upcoming(days).await?;
    if json {
        return print_json(&list).map(|_| exit::OK);
    }
    if list.is_empty() {
        outln!("Nothing upcoming in the next {days} days.");
    }
    for u in &list {
        outln!(
            "{}  {:<13} {:<14} {}",
            u.date,
            u.kind.as_str(),
            u.employee_id,
            u.name
        );
    }
    Ok(exit::OK)
}

fn integration_row(i: &Integration) -> String {
    format!(
        "{:>3}  {:<10} {:<20} {:<15} company: {}  members: {}  last sync: {}",
        i.id,
        i.kind,
        i.name,
        i.state.as_str(),
        i.company_name.as_deref().unwrap_or("—"),
        i.member_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "—".into()),
        i.last_sync_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "never".into())
    )
}

async fn integrations(engine: &Arc<Engine>, a: crate::IntegrationsArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(crate::IntegrationsAction::List) {
        crate::IntegrationsAction::List => {
            let list = engine.integrations().await?;
            if json {
                let out: Vec<_> = list
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id, "kind": i.kind, "name": i.name, "state": i.state,
                            "company_name": i.company_name, "member_count": i.member_count,
                            "last_sync_at": i.last_sync_at, "config": i.config,
                        })
                    })
                    .collect();
                return print_json(&out).map(|_| exit::OK);
            }
            for i in &list {
                outln!("{}", integration_row(i));
            }
        }
        crate::IntegrationsAction::Delete { id, yes } => {
            let i = engine.integration(Some(id)).await?;
            if must_ask(yes, json, "integrations delete")?
                && !confirm(&format!(
                    "Delete integration {} ({}) with its credentials, mapping and settings? This cannot be undone.",
                    i.id, i.name
                ))?
            {
                return Err(Exit(exit::DECLINED, "Not deleted.".into()).into());
            }
            engine.delete_integration(id).await?;
            outln!("Deleted integration {id}. The directory and import history are kept.");
        }
    }
    Ok(exit::OK)
}
