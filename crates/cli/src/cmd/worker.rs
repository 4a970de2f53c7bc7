//! `roster worker` (the scheduler's loop), `roster autosync` (an integration's
//! schedule) and `roster notify` (webhooks and admin email). The loop itself is
//! `roster_engine::worker::Worker`; this wires the store, the Justworks sources and
//! the notifiers, and prints.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use roster_engine::Engine;
use roster_engine::autosync::AutoSyncState;
use roster_engine::notify::Notifier;
use roster_engine::worker::{PassReport, Worker, WorkerConfig};
use roster_store::jobs::{Job, JobKind};
use secrecy::SecretString;

use crate::args::{AutosyncAction, AutosyncArgs, NotifyAction, NotifyArgs, WorkerArgs};
use crate::ctx::{self, DbPath};
use crate::exit;
use crate::out::print_json;
use roster_wiring as wiring;

fn notifier(a: &WorkerArgs) -> Result<roster_notify::Notifiers> {
    Ok(wiring::notifiers(&wiring::EmailSettings {
        smtp_url: a.smtp_url.clone(),
        from: a.smtp_from.clone(),
        public_url: a.public_url.clone(),
    })?)
}

pub async fn worker(
    db: &DbPath,
    a: WorkerArgs,
    today: Option<jiff::civil::Date>,
    json: bool,
    allow_private_source_urls: bool,
) -> Result<u8> {
    let store = ctx::open_store(db).await?;
    let cipher = ctx::checked_cipher(db, store.as_ref()).await?;
    let policy = ctx::source_policy(db, store.as_ref(), allow_private_source_urls).await?;
    let mut config = WorkerConfig {
        poll: Duration::from_secs(a.poll_secs.max(1)),
        ..WorkerConfig::default()
    }
    .with_lease(jiff::SignedDuration::from_secs(a.lease_secs.max(10) as i64));
    if let Some(id) = &a.id {
        config.id = id.clone();
    }
    let notifier: Arc<dyn Notifier> = Arc::new(notifier(&a)?);
    let worker = Worker::new(
        store,
        ctx::clock(today),
        cipher,
        Arc::new(wiring::JustworksSources::new(policy)),
        notifier,
        config,
    );
    if let Some(addr) = a.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("while listening on {addr} for metrics"))?;
        let bound = listener.local_addr().unwrap_or(addr);
        // The recorder is in place before the worker's first claim.
        let serving = roster_server::metrics::serve_worker(listener, worker.health());
        errln!("roster worker: metrics at http://{bound}/metrics, health at /healthz");
        tokio::spawn(async move {
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    if a.once {
        let report = worker.run_once().await?;
        print_report(&report, json)?;
        if let Some(reason) = worker.health().reason() {
            bail!("the worker stopped: {reason}");
        }
        return Ok(exit::OK);
    }
    errln!(
        "roster worker {} running (every {} s when idle); Ctrl-C or SIGTERM stops it after the running job",
        worker.config().id,
        worker.config().poll.as_secs()
    );
    worker.run(shutdown_signal()).await;
    Ok(exit::OK)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn print_report(r: &PassReport, json: bool) -> Result<()> {
    if json {
        return print_json(r);
    }
    if r.jobs.is_empty() {
        outln!("Nothing due.");
    }
    for j in &r.jobs {
        let what = match (j.kind, j.integration_id) {
            (JobKind::Sync, Some(i)) => format!("auto-sync of integration {i}"),
            (JobKind::Sync, None) => "auto-sync".to_string(),
            (JobKind::Tick, _) => "end dates".to_string(),
        };
        let import = j
            .import_id
            .map(|i| format!(" (import {i})"))
            .unwrap_or_default();
        outln!(
            "account {}: {what}: {}{import}",
            j.account_id,
            j.status.replace('_', " ")
        );
    }
    let d = &r.delivery;
    if d.delivered + d.retried + d.failed > 0 {
        outln!(
            "Notifications: {} delivered, {} to retry, {} given up.",
            d.delivered,
            d.retried,
            d.failed
        );
    }
    Ok(())
}

fn job_line(j: &Job) -> String {
    let what = match j.kind {
        JobKind::Sync => format!(
            "integration {}",
            j.integration_id.map(|i| i.to_string()).unwrap_or_default()
        ),
        JobKind::Tick => "end dates".to_string(),
    };
    let line = format!(
        "{what:<16} {:<7} {:<40} next: {:<22} runs: {}  last: {}",
        AutoSyncState::of(Some(j)).as_str(),
        j.schedule.describe(),
        j.next_run_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "—".into()),
        j.runs,
        match (&j.last_status, j.last_run_at) {
            (Some(s), Some(t)) => format!("{s} at {t}"),
            _ => "never".into(),
        }
    );
    match &j.postponed {
        Some(why) => format!("{line}  postponed: {why}"),
        None => line,
    }
}

pub async fn autosync(engine: &Arc<Engine>, a: AutosyncArgs, json: bool) -> Result<u8> {
    let action = a.action.unwrap_or(AutosyncAction::Status);
    if let AutosyncAction::Status = action {
        let jobs = engine.jobs().await?;
        if json {
            return print_json(&jobs).map(|_| exit::OK);
        }
        if jobs.is_empty() {
            outln!("Auto-sync is off (`roster autosync on --frequency daily --at 02:00`).");
        }
        for j in &jobs {
            outln!("{}", job_line(j));
        }
        return Ok(exit::OK);
    }
    let i = engine.integration(a.integration.integration).await?;
    let job = match action {
        AutosyncAction::On {
            frequency,
            at,
            tz,
            weekday,
            day,
        } => {
            use roster_core::schedule::{Frequency, Schedule, parse_time};
            let schedule = Schedule {
                frequency: Frequency::parse(&frequency, weekday.as_deref(), day)?,
                at: parse_time(&at)?,
                timezone: tz.unwrap_or_else(|| i.settings.timezone.clone()),
            };
            Some(engine.enable_autosync(i.id, schedule).await?)
        }
        AutosyncAction::Off => engine.disable_autosync(i.id).await?,
        AutosyncAction::Pause => Some(engine.pause_autosync(i.id).await?),
        AutosyncAction::Resume => Some(engine.resume_autosync(i.id).await?),
        AutosyncAction::Now => Some(engine.autosync_now(i.id).await?),
        AutosyncAction::Status => None,
    };
    if json {
        return print_json(&job).map(|_| exit::OK);
    }
    match job {
        Some(j) => outln!("{}", job_line(&j)),
        None => outln!("Auto-sync of integration {} is off.", i.id),
    }
    Ok(exit::OK)
}

pub async fn notify(engine: &Arc<Engine>, a: NotifyArgs, json: bool) -> Result<u8> {
    match a.action.unwrap_or(NotifyAction::List) {
        NotifyAction::List => {
            let list = engine.channels().await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            if list.is_empty() {
                outln!(
                    "No notification channels (`roster notify add-webhook URL`, `roster notify add-email ADDRESS`)."
                );
            }
            for c in &list {
                let events = if c.events.is_empty() {
                    "default events".to_string()
                } else {
                    c.events.join(", ")
                };
                outln!(
                    "{:>3}  {:<8} {}  ({events})",
                    c.id,
                    c.kind.as_str(),
                    c.target
                );
            }
        }
        NotifyAction::AddWebhook {
            url,
            secret_file,
            events,
            feed_fields,
            feed_batch,
        } => {
            let secret = match secret_file {
                Some(p) => Some(SecretString::from(
                    std::fs::read_to_string(&p)
                        .with_context(|| format!("while reading {}", p.display()))?
                        .trim()
                        .to_string(),
                )),
                None => None,
            };
            let given = secret.is_some();
            let feed = roster_engine::notify::FeedOptions {
                fields: feed_fields,
                batch_size: feed_batch,
            };
            let hook = engine.add_webhook_with(&url, secret, events, feed).await?;
            if json {
                return print_json(&hook.channel).map(|_| exit::OK);
            }
            outln!(
                "Added webhook {} → {}",
                hook.channel.id,
                hook.channel.target
            );
            if !given {
                use secrecy::ExposeSecret;
                outln!(
                    "Signing secret (shown once; the receiver checks X-Roster-Signature with it):\n  {}",
                    hook.secret.expose_secret()
                );
            }
        }
        NotifyAction::AddEmail { address, events } => {
            let c = engine.add_email(&address, events).await?;
            if json {
                return print_json(&c).map(|_| exit::OK);
            }
            outln!("Added email channel {}.", c.id);
        }
        NotifyAction::Remove { id } => {
            if !engine.remove_channel(id).await? {
                bail!("no notification channel {id}");
            }
            outln!("Removed channel {id}.");
        }
        NotifyAction::Log { limit } => {
            let list = engine.notifications(limit).await?;
            if json {
                return print_json(&list).map(|_| exit::OK);
            }
            for m in &list {
                let state = if let Some(t) = m.message.delivered_at {
                    format!("delivered {t}")
                } else if let Some(t) = m.failed_at {
                    format!("given up {t}")
                } else if let Some(t) = m.next_attempt_at {
                    format!("retry at {t}")
                } else {
                    "pending".to_string()
                };
                outln!(
                    "{:>5}  {:<14} import {:<6} attempts {:<2} {state}{}",
                    m.message.id,
                    m.message.event,
                    m.message
                        .import_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "—".into()),
                    m.attempts,
                    m.last_error
                        .as_deref()
                        .map(|e| format!("  ({e})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(exit::OK)
}
