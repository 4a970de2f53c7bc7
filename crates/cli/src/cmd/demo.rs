//! `roster demo`: the whole story against a built-in sandbox, in one command.
//!
//! Day 1: connect, setup sync, review and apply the first import.
//! Day 2: a leaver, a future leaver, a hire, a manager change, an email change and a
//! name + date-of-birth change. The automatic sync is blocked by the privacy guard; the
//! admin's manual sync applies the rest and holds the guarded employee; confirming
//! pushes it through. The database stays behind for the other commands.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use jiff::civil::Date;
use roster_core::guard::{Confirmations, Trigger};
use roster_engine::{Engine, FixedClock, SyncOptions, SyncOutcome};
use roster_sandbox::{NameChange, SandboxConfig};
use secrecy::SecretString;
use serde_json::Value;

use crate::args::DemoArgs;
use crate::ctx::{ACCOUNT, DbPath};
use crate::{exit, review};
use roster_wiring::{self as wiring, StoredConfig};

/// The name that marks a demo integration: only such a database is replaced.
pub const DEMO_NAME: &str = "Justworks sandbox (demo)";

async fn prepare_db(db: &DbPath) -> Result<()> {
    let file = db.file();
    if !file.exists() {
        return Ok(());
    }
    {
        let store = crate::ctx::open_store(db).await?;
        let account = store.ensure_account(ACCOUNT).await?;
        let integrations = store.integrations(account).await?;
        let employees = store.count_employees(account, false).await?;
        if integrations.iter().any(|i| i.name != DEMO_NAME)
            || (integrations.is_empty() && employees > 0)
        {
            bail!(
                "{} holds a directory that is not a demo; run the demo with --db another-file.db",
                file.display()
            );
        }
        // Closed before its files go: a pool left open would, on its own close,
        // remove the new database's WAL by name.
        store
            .close()
            .await
            .context("while closing the old demo database")?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("while removing the old demo database {}", p.display()))?;
        }
    }
    Ok(())
}

fn heading(text: &str) {
    outln!("\n━━ {text} ━━");
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn work_email(m: &Value) -> Option<&str> {
    m.get("emails")?.as_array()?.iter().find_map(|e| {
        (e.get("type")?.as_str()?.eq_ignore_ascii_case("work"))
            .then(|| e.get("address")?.as_str())
            .flatten()
    })
}

fn show(o: &SyncOutcome, limit: usize) -> Result<()> {
    review::print(&o.plan, &o.held, limit, &mut crate::out::stdout())?;
    outln!("→ {}", review::status_line(o));
    Ok(())
}

pub async fn run(db: &DbPath, args: DemoArgs, today: Option<Date>) -> Result<u8> {
    prepare_db(db).await?;
    let day1 = today.unwrap_or_else(|| jiff::Zoned::now().date());
    let config = SandboxConfig {
        seed: args.seed,
        members: args.members,
        today: day1,
        ..Default::default()
    };
    let sandbox = roster_sandbox::start(config, "127.0.0.1:0".parse()?)
        .await
        .context("while starting the sandbox")?;
    let handle = sandbox.handle();

    let clock = Arc::new(FixedClock::on(day1));
    let store = crate::ctx::open_store(db).await?;
    let cipher = crate::ctx::checked_cipher(db, store.as_ref()).await?;
    let engine = Arc::new(Engine::open(store, clock.clone(), cipher, ACCOUNT).await?);

    heading(&format!("Day 1 ({day1}): connect Justworks"));
    outln!(
        "Sandbox serving the Justworks Partner API at {}",
        sandbox.base_url()
    );
    let integration = connect(&engine, db, &sandbox).await?;

    heading("Setup sync: company, fields and sample values (no employee data imported)");
    // The demo's own sandbox, on loopback.
    let source = wiring::source(
        &engine,
        &integration,
        roster_justworks::UrlPolicy::default(),
    )?;
    setup(&engine, &integration, &source).await?;

    heading("First sync: review, then import");
    let manual = |apply: bool, confirm_privacy: bool| SyncOptions {
        trigger: Some(Trigger::Manual),
        apply,
        confirm: Confirmations {
            privacy: confirm_privacy,
            mass_change: false,
        },
        custom_fields: true,
        ..SyncOptions::default()
    };
    let first = engine
        .sync(integration.id, &source, manual(true, false))
        .await?;
    show(&first, args.show)?;

    // ---- day 2 ----
    let day2 = day1.tomorrow().map_err(|e| anyhow!("{e}"))?;
    clock.set_date(day2);
    handle.set_today(day2);
    heading(&format!("Day 2 ({day2}): what happened in Justworks"));
    day2_changes(&handle, day2)?;

    heading("Day 2: the automatic daily sync");
    let auto = engine
        .sync(
            integration.id,
            &source,
            SyncOptions {
                trigger: Some(Trigger::Automatic),
                apply: true,
                custom_fields: true,
                ..SyncOptions::default()
            },
        )
        .await?;
    show(&auto, args.show)?;

    heading("Day 2: the admin reviews and imports by hand (the guarded employee is held)");
    let held = engine
        .sync(integration.id, &source, manual(true, false))
        .await?;
    show(&held, args.show)?;

    heading("Day 2: the admin confirms the privacy-guarded change");
    let confirmed = engine
        .sync(integration.id, &source, manual(true, true))
        .await?;
    show(&confirmed, args.show)?;

    sandbox.shutdown().await.ok();
    finish(&engine, db, confirmed.import_id).await?;
    Ok(exit::OK)
}

/// Connect the sandbox with a static token (stored encrypted, as `roster connect` does).
async fn connect(
    engine: &Engine,
    db: &DbPath,
    sandbox: &roster_sandbox::RunningSandbox,
) -> Result<roster_store::Integration> {
    let token = sandbox.mint_token(&roster_sandbox::all_scopes());
    let stored = StoredConfig {
        base_url: sandbox.base_url(),
        authorize_url: None,
        token_url: None,
        client_id: String::new(),
        redirect_uri: None,
        scopes: Vec::new(),
        requests_per_second: None,
        mode: "static".into(),
    };
    let integration = engine
        .connect(
            roster_store::IntegrationKind::Justworks,
            DEMO_NAME,
            serde_json::to_value(&stored)?,
            Some(&wiring::static_secrets(&SecretString::from(token))),
        )
        .await?;
    let key = if db.is_postgres() {
        format!("with the key in {}", crate::ctx::SECRET_KEY_VAR)
    } else {
        format!("in {}", db.key_file().display())
    };
    outln!(
        "Connected integration {} (token stored encrypted {key}).",
        integration.id
    );
    Ok(integration)
}

/// The setup sync, shown; the first custom field is mapped to its label.
async fn setup(
    engine: &Engine,
    integration: &roster_store::Integration,
    source: &dyn roster_source::Source,
) -> Result<()> {
    let setup = engine.setup_sync(integration.id, source, None).await?;
    outln!(
        "Company {:?}: {} members, {} source fields.",
        setup.company_name,
        setup.member_count,
        setup.source_fields.len()
    );
    for f in setup
        .source_fields
        .iter()
        .filter(|f| f.key.starts_with("custom:") || f.key == "job_title" || f.key == "department")
    {
        outln!(
            "  {:<22} {:<16} sample: {}",
            f.key,
            f.label,
            f.sample.as_deref().unwrap_or("—")
        );
    }
    let map_custom = setup
        .source_fields
        .iter()
        .find(|f| f.key.starts_with("custom:"));
    if let Some(f) = map_custom {
        let (key, label) = (f.key.clone(), f.label.clone());
        engine
            .update_settings(integration.id, |s| {
                s.mapping.push(roster_core::settings::MappedField {
                    source_key: key.clone(),
                    demographic: label.clone(),
                    kind: roster_core::settings::FieldKind::Default,
                    privacy: None,
                });
                Ok(())
            })
            .await?;
        outln!("Mapped custom field {key} → demographic {label:?}.");
    }
    Ok(())
}

/// What happens in Justworks on day 2: a leaver today, one later, a hire, a new
/// manager, a new work email and a privacy-guarded change.
fn day2_changes(handle: &roster_sandbox::SandboxHandle, day2: Date) -> Result<()> {
    let members: Vec<Value> = handle
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .filter(|m| {
            m.get("active").and_then(Value::as_bool) == Some(true)
                && m.get("employment_termination_date").is_none()
        })
        .filter(|m| m.get("manager").is_some() && work_email(m).is_some())
        .collect();
    if members.len() < 8 {
        bail!("the demo company is too small; use --members 50 or more");
    }
    let id = |i: usize| str_at(&members[i], &["id"]).unwrap_or_default().to_string();
    let name = |i: usize| {
        format!(
            "{} {}",
            str_at(&members[i], &["name", "given_name"]).unwrap_or(""),
            str_at(&members[i], &["name", "family_name"]).unwrap_or("")
        )
    };
    let ctl =
        |r: Result<Value, roster_sandbox::ControlError>| r.map_err(|e| anyhow!("sandbox: {e}"));
    ctl(handle.terminate(&id(0), day2))?;
    outln!("- {} leaves today ({} {day2}).", name(0), id(0));
    let later = day2.checked_add(jiff::Span::new().days(30))?;
    ctl(handle.terminate(&id(1), later))?;
    outln!("- {} will leave on {later}.", name(1));
    let hired = ctl(handle.hire_random())?;
    outln!(
        "- {} {} is hired.",
        str_at(&hired, &["name", "given_name"]).unwrap_or(""),
        str_at(&hired, &["name", "family_name"]).unwrap_or("")
    );
    let new_manager = str_at(&members[3], &["manager", "id"]).map(str::to_string);
    let old_manager = str_at(&members[2], &["manager", "id"]).map(str::to_string);
    let target = if new_manager != old_manager {
        new_manager
    } else {
        Some(id(5))
    };
    ctl(handle.set_manager(&id(2), target.as_deref()))?;
    outln!("- {} gets a new manager.", name(2));
    let email = format!(
        "{}.renamed@{}",
        id(4),
        work_email(&members[4])
            .and_then(|e| e.split('@').nth(1))
            .unwrap_or("example.com")
    );
    ctl(handle.set_work_email(&id(4), Some(&email)))?;
    outln!("- {} gets a new work email.", name(4));
    let change = NameChange {
        family_name: Some("Okonkwo-Smith".into()),
        date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
        ..NameChange::default()
    };
    ctl(handle.set_name_and_dob(&id(6), &change))?;
    outln!(
        "- {} changes last name and date of birth at once (privacy-guarded).",
        name(6)
    );
    Ok(())
}

/// The upcoming changes, and what to try next.
async fn finish(engine: &Engine, db: &DbPath, last_import: Option<i64>) -> Result<()> {
    let upcoming = engine.upcoming(60).await?;
    heading("Upcoming");
    for u in &upcoming {
        outln!(
            "{}  {:<13} {:<14} {}",
            u.date,
            u.kind.as_str(),
            u.employee_id,
            u.name
        );
    }
    let active = engine.count_employees(true).await?;
    heading("Done");
    outln!(
        "The directory ({active} active employees) is in {}. Try:",
        if db.is_postgres() {
            db.shown()
        } else {
            db.file().display().to_string()
        }
    );
    for c in [
        "roster users --limit 10",
        "roster imports",
        &format!("roster imports show {}", last_import.unwrap_or(1)),
        "roster upcoming",
        "roster settings",
        "roster mapping",
    ] {
        outln!(
            "  cargo run --release -- {}",
            c.trim_start_matches("roster ")
        );
    }
    Ok(())
}
