//! `roster events`: the change feed, in cursor order; `--follow` polls for more
//! until Ctrl-C. With `--json`, one event a line (JSON lines, for piping).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use roster_engine::Engine;
use roster_store::{EventQuery, EventType, FeedEvent};

use crate::args::EventsArgs;
use crate::exit;

/// Events per read when no `--limit` is given.
const PAGE: usize = 1000;

fn print(e: &FeedEvent, json: bool) -> Result<()> {
    if json {
        let line = serde_json::to_string(e)?;
        outln!("{line}");
        return Ok(());
    }
    let who = e
        .employee_id
        .clone()
        .unwrap_or_else(|| format!("import {}", e.import_id));
    let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
    outln!(
        "{:>7}  {}  {:<32} {:<14} {}",
        e.cursor,
        e.at,
        e.event_type.as_str(),
        who,
        fields.join(", ")
    );
    Ok(())
}

/// Ctrl-C (SIGINT), listened for from now on: a Ctrl-C while a read runs ends
/// the follow after it rather than killing the process.
#[cfg(unix)]
fn interrupted() -> Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut s = signal(SignalKind::interrupt())?;
    Ok(async move {
        s.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupted() -> Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

pub(super) async fn events(engine: &Arc<Engine>, a: EventsArgs, json: bool) -> Result<u8> {
    let mut types = Vec::new();
    for t in &a.types {
        match EventType::parse(t) {
            Some(t) => types.push(t),
            None => bail!(
                "--type {t:?} is not an event type (employee.created, employee.updated, \
                 employee.deactivated, employee.reactivated, employee.merged, employee.removed, \
                 employee.deactivation_scheduled, employee.start_scheduled, import.applied)"
            ),
        }
    }
    if !(a.interval > 0.0 && a.interval <= 3600.0) {
        bail!("--interval must be more than 0 and at most 3600 seconds");
    }
    let mut left = a.limit.filter(|_| !a.follow);
    let mut query = EventQuery {
        after: a.after.max(0),
        limit: PAGE,
        types,
        employee: None,
    };
    let ctrl_c = interrupted()?;
    tokio::pin!(ctrl_c);
    loop {
        query.limit = match (left, a.follow) {
            (Some(n), _) => n.min(PAGE),
            (None, true) => a.limit.unwrap_or(PAGE).clamp(1, PAGE),
            (None, false) => PAGE,
        };
        if query.limit == 0 {
            break;
        }
        let page = engine.events(&query).await?;
        for e in &page {
            print(e, json)?;
        }
        let _ = crate::out::stdout().flush();
        if crate::out::closed() {
            break;
        }
        if let Some(n) = left.as_mut() {
            *n -= page.len();
        }
        if let Some(last) = page.last() {
            query.after = last.cursor;
        }
        if page.len() == query.limit {
            continue;
        }
        if !a.follow {
            break;
        }
        tokio::select! {
            _ = &mut ctrl_c => break,
            () = tokio::time::sleep(Duration::from_secs_f64(a.interval)) => {}
        }
    }
    Ok(exit::OK)
}
