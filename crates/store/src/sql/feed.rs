//! The change feed (`events` table, migration 0009): its events derived in the
//! write's transaction, the reads, and the backfill of a history written before the
//! feed existed.
//!
//! A write derives its import's events from the changeset's entries with
//! [`roster_core::feed::derive_stored`] and inserts them with the import (the
//! adapters' bulk statements, [`EVENT_COLUMNS`]); the first cursor is the account's
//! last plus one, read while the write holds the account's lock (PostgreSQL: its row,
//! `FOR NO KEY UPDATE`; SQLite: the one writer), so cursors increase in commit order.
//! The event's time and import kind are the import's (joined, not copied).
//!
//! `events.changes` holds a JSON list of `[field, before, after, rule]`. An
//! `employee.created` whose import recorded no changes (every create of a sync or
//! CSV import; [`roster_core::feed::Stored`]) is no `events` row since migration
//! 0013: the create's `import_entries` row keeps its cursor and the history its
//! values (`kept.rs`), so the feed costs a first import one integer per create.
//! Such events written before 0013 hold the employee it created (`{"created":
//! [values]}`, `created.rs`), read as [`FieldDelta::created`] of it. All read the
//! same.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use roster_core::employee::EmployeeKey;
use roster_core::feed::{
    Cursor, Event, EventType, FieldDelta, ImportMeta, RecordedEntry, RecordedImport, Stored,
    Written, derive_stored, events_from_history,
};
use roster_core::plan::{Change, Rule};
use roster_core::settings::Settings;

use super::adapter::{Adapter, Begin};
use super::codec::{action, from_json, import_kind, limit, to_json};
use super::dialect::Dialect;
use super::employee::{self, Kind};
use super::query::{Arg, Columns, Executor, Query, Transaction};
use crate::{AccountId, Changeset, EntryRecord, EventQuery, ImportId, ImportStatus, Result};

mod created;
mod kept;

/// The statuses of imports that wrote to the directory (and have events).
const APPLIED: &str = "('applied', 'partially_applied', 'rolled_back')";

/// The columns of an event a write inserts, in the order of [`event_values`].
pub const EVENT_COLUMNS: &[(&str, Kind)] = &[
    ("account_id", Kind::Int),
    ("cursor_no", Kind::Int),
    ("import_id", Kind::Int),
    ("event_type", Kind::Text),
    ("employee_key", Kind::Int),
    ("employee_id", Kind::Text),
    ("changes", Kind::Text),
];

/// A field change as stored: `[field, before, after, rule]` (a 100k first import
/// stores a million of them).
type StoredDelta = (String, Option<String>, Option<String>, Rule);

/// The values of [`EVENT_COLUMNS`] for one event as a write stores it.
pub fn event_values(account: AccountId, stored: Stored<'_>) -> Result<Vec<Arg>> {
    let Stored { event, created } = stored;
    let changes = if let Some(after) = created {
        Some(created::encode(after)?)
    } else if event.changes.is_empty() {
        None
    } else {
        let stored: Vec<StoredDelta> = event
            .changes
            .into_iter()
            .map(|d| (d.field, d.before, d.after, d.rule))
            .collect();
        Some(to_json(&stored)?)
    };
    Ok(vec![
        Arg::Int(Some(account)),
        Arg::Int(Some(event.cursor)),
        Arg::Int(Some(event.import_id)),
        Arg::Text(Some(event.event_type.as_str().to_string())),
        Arg::Int(event.employee_key),
        Arg::Text(event.employee_id),
        Arg::Text(changes),
    ])
}

/// An event's stored `changes` ([`event_values`]) as its field changes (a create
/// stored as its employee comes back as its spelled-out field list).
pub(super) fn read_changes(
    json: Option<&str>,
    key: Option<EmployeeKey>,
) -> Result<Vec<FieldDelta>> {
    const WHAT: &str = "events.changes";
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    if json.starts_with('{') {
        let after = created::decode(json, key.unwrap_or_default())?;
        return Ok(FieldDelta::created(&after));
    }
    let changes: Vec<StoredDelta> = from_json(json, WHAT)?;
    Ok(changes
        .into_iter()
        .map(|(field, before, after, rule)| FieldDelta {
            field,
            before,
            after,
            rule,
        })
        .collect())
}

/// The account's time zone: its first integration's (as `Engine::today` reads it),
/// UTC without one or for an unknown name.
async fn account_zone(tx: &mut impl Executor, account: AccountId) -> Result<TimeZone> {
    let row = tx
        .fetch_optional(
            Query::new(
                "SELECT settings FROM integrations WHERE account_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(account),
        )
        .await?;
    let zone = match row {
        Some(row) => row.json::<Settings>(0, "integrations.settings")?.timezone,
        None => return Ok(TimeZone::UTC),
    };
    Ok(TimeZone::get(&zone).unwrap_or(TimeZone::UTC))
}

/// The import as its events name it: id, kind, time, and its day in the account's
/// time zone.
async fn meta(
    tx: &mut impl Executor,
    account: AccountId,
    id: ImportId,
    kind: crate::ImportKind,
    at: Timestamp,
) -> Result<ImportMeta> {
    let day = at.to_zoned(account_zone(tx, account).await?).date();
    Ok(ImportMeta { id, kind, at, day })
}

/// The account's last cursor (0 before its first event). Inside the write's
/// transaction, after the account is locked.
async fn last_cursor(tx: &mut impl Executor, account: AccountId) -> Result<Cursor> {
    tx.fetch_one(
        Query::new("SELECT COALESCE(MAX(cursor_no), 0) FROM events WHERE account_id = $1")
            .bind(account),
    )
    .await?
    .int(0, "events.cursor_no")
}

/// An import's events as a write stores them.
#[derive(Debug, Default)]
pub struct ImportEvents<'c> {
    /// The `events` rows ([`event_values`]).
    pub events: Vec<Stored<'c>>,
    /// The creates whose event their import entry keeps (`kept.rs`): the key and
    /// the event's cursor, in entry order ([`super::write::split`] takes them).
    pub kept: Vec<(EmployeeKey, Cursor)>,
}

/// In the write's transaction, after [`super::write::record_import`]: the events of
/// the changeset (none unless it applied something), numbered after the account's
/// last. `new_keys` are the keys the creates get, in entry order (as
/// [`super::write::split`] gives them). A create that recorded no changes is kept
/// on its entry ([`ImportEvents::kept`]), every other event is a row.
pub async fn changeset_events<'c>(
    tx: &mut impl Executor,
    account: AccountId,
    import_id: ImportId,
    cs: &'c Changeset,
    new_keys: &[EmployeeKey],
) -> Result<ImportEvents<'c>> {
    if !matches!(
        cs.status,
        ImportStatus::Applied | ImportStatus::PartiallyApplied
    ) {
        return Ok(ImportEvents::default());
    }
    let meta = meta(tx, account, import_id, cs.kind, cs.finished_at).await?;
    let first = last_cursor(tx, account).await? + 1;
    let mut new_keys = new_keys.iter().copied();
    let mut written = Vec::with_capacity(cs.entries.len());
    for e in cs.entries.iter().filter(|e| e.applied) {
        let key = match e.key {
            Some(k) => k,
            None => new_keys.next().ok_or_else(|| {
                crate::StoreError::Database("too few keys for the creates".into())
            })?,
        };
        written.push(written_entry(key, e));
    }
    let mut out = ImportEvents::default();
    for stored in derive_stored(&meta, &written, first) {
        match (stored.created, stored.event.employee_key) {
            (Some(_), Some(key)) => out.kept.push((key, stored.event.cursor)),
            _ => out.events.push(stored),
        }
    }
    Ok(out)
}

fn written_entry(key: EmployeeKey, e: &EntryRecord) -> Written<'_> {
    Written::new(key, e.action, &e.changes, &e.after)
}

pub(super) const EVENT_SELECT: &str = "ev.cursor_no, ev.event_type, i.finished_at, ev.import_id, i.kind, \
     ev.employee_key, ev.employee_id, ev.changes";

pub(super) fn event_from_row(row: &impl Columns) -> Result<Event> {
    let event_type = row.text(1, "events.event_type")?;
    let employee_key = row.opt_int(5, "events.employee_key")?;
    Ok(Event {
        cursor: row.int(0, "events.cursor_no")?,
        event_type: EventType::parse(event_type)
            .ok_or_else(|| super::corrupt("events.event_type"))?,
        at: row.ts(2, "imports.finished_at")?,
        import_id: row.int(3, "events.import_id")?,
        import_kind: import_kind(row.text(4, "imports.kind")?, "imports.kind")?,
        employee_key,
        employee_id: row.opt_string(6, "events.employee_id")?,
        changes: read_changes(row.opt_text(7, "events.changes")?, employee_key)?,
    })
}

pub(super) async fn events<A: Adapter>(
    a: &A,
    account: AccountId,
    q: &EventQuery,
) -> Result<Vec<Event>> {
    let mut args: Vec<Arg> = vec![account.into(), q.after.into(), limit(q.limit).into()];
    let mut filter = String::new();
    if let Some(key) = q.employee {
        args.push(key.into());
        filter.push_str(&format!(" AND ev.employee_key = ${}", args.len()));
    }
    if !q.types.is_empty() {
        let mut marks = Vec::new();
        for t in &q.types {
            args.push(t.as_str().into());
            marks.push(format!("${}", args.len()));
        }
        filter.push_str(&format!(" AND ev.event_type IN ({})", marks.join(", ")));
    }
    let sql = format!(
        "SELECT {EVENT_SELECT} FROM events ev JOIN imports i ON i.id = ev.import_id \
         WHERE ev.account_id = $1 AND ev.cursor_no > $2{filter} ORDER BY ev.cursor_no LIMIT $3"
    );
    let query = args.into_iter().fold(Query::new(sql), Query::bind);
    let mut tx = a.begin(Begin::Snapshot).await?;
    let stored = collect(&mut tx, query).await?;
    let kept = if q.types.is_empty() || q.types.contains(&EventType::Created) {
        let range = kept::Range {
            after: q.after,
            employee: q.employee,
            limit: Some(limit(q.limit)),
        };
        kept::read(&mut tx, account, &range).await?
    } else {
        Vec::new()
    };
    let (mut events, at) = kept::merge(stored, kept, q.limit);
    kept::fill(&mut tx, A::DIALECT, account, &mut events, &at).await?;
    tx.commit().await?;
    Ok(events)
}

async fn collect(ex: &mut impl Executor, q: Query) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    ex.for_each(q, &mut |row| {
        out.push(event_from_row(row)?);
        Ok(())
    })
    .await?;
    Ok(out)
}

pub(super) async fn events_since<A: Adapter>(
    a: &A,
    account: AccountId,
    since: Timestamp,
) -> Result<Vec<Event>> {
    // From the first event of an import that finished after `since`, to the end.
    let mut tx = a.begin(Begin::Snapshot).await?;
    let first = tx
        .fetch_one(
            Query::new(
                "SELECT MIN(e2.cursor_no) FROM events e2 \
                 WHERE e2.account_id = $1 AND e2.import_id IN (\
                     SELECT i2.id FROM imports i2 WHERE i2.account_id = $1 AND i2.finished_at > $2)",
            )
            .bind(account)
            .bind(since),
        )
        .await?
        .opt_int(0, "events.cursor_no")?;
    let kept_first = kept::first_since(&mut tx, account, since).await?;
    let Some(first) = first.into_iter().chain(kept_first).min() else {
        tx.commit().await?;
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {EVENT_SELECT} FROM events ev JOIN imports i ON i.id = ev.import_id \
         WHERE ev.account_id = $1 AND ev.cursor_no >= $2 ORDER BY ev.cursor_no"
    );
    let stored = collect(&mut tx, Query::new(sql).bind(account).bind(first)).await?;
    let range = kept::Range {
        after: first - 1,
        employee: None,
        limit: None,
    };
    let kept = kept::read(&mut tx, account, &range).await?;
    let (mut events, at) = kept::merge(stored, kept, usize::MAX);
    kept::fill(&mut tx, A::DIALECT, account, &mut events, &at).await?;
    tx.commit().await?;
    Ok(events)
}

/// The history as the feed reads it: every import that wrote to the directory, in
/// commit order, with its applied entries.
async fn recorded(tx: &mut impl Executor, account: AccountId) -> Result<Vec<RecordedImport>> {
    let zone = account_zone(tx, account).await?;
    let sql = format!(
        "SELECT i.id, i.kind, i.finished_at, ie.employee_key, ie.action, ie.created, ie.changes \
         FROM imports i LEFT JOIN import_entries ie ON ie.import_id = i.id \
         AND ie.account_id = i.account_id AND ie.applied \
         WHERE i.account_id = $1 AND i.status IN {APPLIED} ORDER BY i.id, ie.seq"
    );
    let mut out: Vec<RecordedImport> = Vec::new();
    tx.for_each(Query::new(sql).bind(account), &mut |row| {
        let id = row.int(0, "imports.id")?;
        if out.last().is_none_or(|r| r.meta.id != id) {
            let at = row.ts(2, "imports.finished_at")?;
            out.push(RecordedImport {
                meta: ImportMeta {
                    id,
                    kind: import_kind(row.text(1, "imports.kind")?, "imports.kind")?,
                    at,
                    day: at.to_zoned(zone.clone()).date(),
                },
                entries: Vec::new(),
            });
        }
        let Some(key) = row.opt_int(3, "import_entries.employee_key")? else {
            return Ok(());
        };
        let changes: Vec<Change> = match row.opt_text(6, "import_entries.changes")? {
            Some(json) => from_json(json, "import_entries.changes")?,
            None => Vec::new(),
        };
        if let Some(last) = out.last_mut() {
            last.entries.push(RecordedEntry {
                key,
                action: action(row.text(4, "import_entries.action")?)?,
                created: row.boolean(5, "import_entries.created")?,
                changes,
            });
        }
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The events the history and today's directory give ([`events_from_history`]),
/// numbered from 1, in one snapshot: what the feed must hold.
pub(super) async fn events_from_the_history<A: Adapter>(
    a: &A,
    account: AccountId,
) -> Result<Vec<Event>> {
    let mut tx = a.begin(Begin::Snapshot).await?;
    let events = history_events(&mut tx, A::DIALECT, account).await?;
    tx.commit().await?;
    Ok(events)
}

async fn history_events(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
) -> Result<Vec<Event>> {
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
        employee::select(d, "e")
    );
    let mut directory = Vec::new();
    tx.for_each(Query::new(sql).bind(account), &mut |row| {
        directory.push(employee::read(d, row, 0)?);
        Ok(())
    })
    .await?;
    let imports = recorded(tx, account).await?;
    events_from_history(&directory, &imports, 1)
        .map_err(|e| crate::StoreError::Corrupt(format!("the history: {e}")))
}

/// Give every account whose history has no events yet (written before the feed
/// existed) the events of its history, each in a write transaction that locks the
/// account and checks again, so that two processes opening the store at once do it
/// once. Runs when an adapter opens the store; cheap when there is nothing to do.
pub async fn backfill<A: Adapter>(a: &A) -> Result<()> {
    let rows = a
        .pool_executor()
        .fetch_all(Query::new(format!(
            "SELECT a.id FROM accounts a \
             WHERE NOT EXISTS (SELECT 1 FROM events ev WHERE ev.account_id = a.id) \
             AND EXISTS (SELECT 1 FROM imports i WHERE i.account_id = a.id AND i.status IN {APPLIED})"
        )))
        .await?;
    for row in rows {
        let account = row.int(0, "accounts.id")?;
        let mut tx = a.begin(Begin::Write).await?;
        tx.fetch_optional(
            Query::new(format!(
                "SELECT id FROM accounts WHERE id = $1{}",
                A::DIALECT.for_no_key_update()
            ))
            .bind(account),
        )
        .await?;
        if last_cursor(&mut tx, account).await? > 0 {
            tx.commit().await?;
            continue;
        }
        let events = history_events(&mut tx, A::DIALECT, account).await?;
        let count = events.len();
        for event in events {
            let values = event_values(
                account,
                Stored {
                    event,
                    created: None,
                },
            )?;
            let names: Vec<&str> = EVENT_COLUMNS.iter().map(|(c, _)| *c).collect();
            let marks: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
            let mut q = Query::new(format!(
                "INSERT INTO events ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            ));
            for v in values {
                q = q.bind(v);
            }
            tx.execute(q).await?;
        }
        tx.commit().await?;
        tracing::info!(
            account,
            events = count,
            "change feed filled from the history"
        );
    }
    Ok(())
}
