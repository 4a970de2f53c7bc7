//! Creates whose event the import entry keeps (migration 0013): an
//! `employee.created` whose import recorded no changes (every create of a sync or
//! CSV import) is not an `events` row. Its cursor is `import_entries.event_cursor`
//! of the create's entry (the write numbers it with the import's other events, so
//! cursors still increase strictly per account and every import still ends with its
//! `import.applied` row), and it stores no values: the history already holds them,
//! as it does for every create — the employee's row, walked back through the
//! employee's later events ([`roster_core::feed::rewind`]). A first import so writes
//! one integer per create for its feed instead of a row of ≈ 250–500 bytes.
//!
//! The reads merge these with the `events` rows in cursor order ([`merge`]) and
//! then [`fill`] the kept creates' fields. Why that gives the values the write saw:
//! every change to an employee after its create is an event of the feed, with the
//! value it replaced (`before`); undoing them on today's row, newest first, gives
//! the row as its create wrote it (the replay property, read backwards). Erasure
//! scrubs the row and those events alike, so a kept create reads anonymised after
//! an erasure, as a scrubbed `events` row would.
//!
//! An employee whose row is gone (an erasure that removes the row) starts from an
//! empty employee: the event that removes it must carry every field's `before` (the
//! anonymised row), which the walk back then restores.

use std::collections::{BTreeMap, BTreeSet};

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::feed::{Cursor, Event, EventType, FieldDelta, rewind};

use super::{EVENT_SELECT, event_from_row};
use crate::sql::codec::import_kind;
use crate::sql::dialect::Dialect;
use crate::sql::employee;
use crate::sql::query::{Arg, Columns, Executor, Query};
use crate::{AccountId, Result, StoreError};

/// Keys per statement when filling (one list parameter each).
const FILL_CHUNK: usize = 1000;

const KEPT_SELECT: &str =
    "ie.event_cursor, i.finished_at, ie.import_id, i.kind, ie.employee_key, ie.employee_id";

/// Which kept creates to read: after `after` (or from `from`, inclusive), of one
/// employee or all, at most `limit`.
pub(super) struct Range {
    pub after: Cursor,
    pub employee: Option<EmployeeKey>,
    pub limit: Option<i64>,
}

/// The kept creates of `range`, in cursor order, without their fields yet ([`fill`]).
pub(super) async fn read(
    ex: &mut impl Executor,
    account: AccountId,
    range: &Range,
) -> Result<Vec<Event>> {
    let mut args: Vec<Arg> = vec![account.into(), range.after.into()];
    let mut filter = String::new();
    if let Some(key) = range.employee {
        args.push(key.into());
        filter.push_str(&format!(" AND ie.employee_key = ${}", args.len()));
    }
    let mut tail = String::new();
    if let Some(limit) = range.limit {
        args.push(limit.into());
        tail = format!(" LIMIT ${}", args.len());
    }
    let sql = format!(
        "SELECT {KEPT_SELECT} FROM import_entries ie JOIN imports i ON i.id = ie.import_id \
         WHERE ie.account_id = $1 AND ie.event_cursor IS NOT NULL AND ie.event_cursor > $2\
         {filter} ORDER BY ie.event_cursor{tail}"
    );
    let query = args.into_iter().fold(Query::new(sql), Query::bind);
    let mut out = Vec::new();
    ex.for_each(query, &mut |row| {
        out.push(Event {
            cursor: row.int(0, "import_entries.event_cursor")?,
            event_type: EventType::Created,
            at: row.ts(1, "imports.finished_at")?,
            import_id: row.int(2, "import_entries.import_id")?,
            import_kind: import_kind(row.text(3, "imports.kind")?, "imports.kind")?,
            employee_key: Some(row.int(4, "import_entries.employee_key")?),
            employee_id: Some(row.string(5, "import_entries.employee_id")?),
            changes: Vec::new(),
        });
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The first kept create of the imports that finished after `since` (for
/// `events_since`), if any.
pub(super) async fn first_since(
    ex: &mut impl Executor,
    account: AccountId,
    since: jiff::Timestamp,
) -> Result<Option<Cursor>> {
    let row = ex
        .fetch_one(
            Query::new(
                "SELECT MIN(ie.event_cursor) FROM import_entries ie \
                 WHERE ie.account_id = $1 AND ie.event_cursor IS NOT NULL AND ie.import_id IN (\
                     SELECT i.id FROM imports i WHERE i.account_id = $1 AND i.finished_at > $2)",
            )
            .bind(account)
            .bind(since),
        )
        .await?;
    row.opt_int(0, "import_entries.event_cursor")
}

/// `stored` and `kept` (each in cursor order) as one list in cursor order, at most
/// `limit`; the positions of the kept ones.
pub(super) fn merge(
    stored: Vec<Event>,
    kept: Vec<Event>,
    limit: usize,
) -> (Vec<Event>, Vec<usize>) {
    let mut out = Vec::with_capacity((stored.len() + kept.len()).min(limit));
    let mut at = Vec::with_capacity(kept.len().min(limit));
    let mut stored = stored.into_iter().peekable();
    let mut kept = kept.into_iter().peekable();
    while out.len() < limit {
        let take_kept = match (stored.peek(), kept.peek()) {
            (Some(s), Some(k)) => k.cursor < s.cursor,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let next = if take_kept {
            at.push(out.len());
            kept.next()
        } else {
            stored.next()
        };
        match next {
            Some(e) => out.push(e),
            None => break,
        }
    }
    (out, at)
}

/// Give the kept creates at `at` in `events` their fields (and the employee ID the
/// create wrote): each employee's row walked back through its `events` rows.
pub(super) async fn fill(
    ex: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    events: &mut [Event],
    at: &[usize],
) -> Result<()> {
    let keys: BTreeSet<EmployeeKey> = at
        .iter()
        .filter_map(|&i| events.get(i).and_then(|e| e.employee_key))
        .collect();
    let keys: Vec<EmployeeKey> = keys.into_iter().collect();
    let mut created = BTreeMap::new();
    for chunk in keys.chunks(FILL_CHUNK) {
        created.append(&mut as_created(ex, d, account, chunk).await?);
    }
    for &i in at {
        let Some(event) = events.get_mut(i) else {
            continue;
        };
        let Some(e) = event.employee_key.and_then(|k| created.get(&k)) else {
            continue;
        };
        event.employee_id = Some(e.employee_id.clone());
        event.changes = FieldDelta::created(e);
    }
    Ok(())
}

/// The employees `keys` as their creates wrote them: the rows (an empty employee
/// for a row that is gone), then every later change undone. The rows are read
/// before the events: a change committed in between is undone to the value read.
async fn as_created(
    ex: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    keys: &[EmployeeKey],
) -> Result<BTreeMap<EmployeeKey, Employee>> {
    let mut directory: BTreeMap<EmployeeKey, Employee> = keys
        .iter()
        .map(|&key| {
            (
                key,
                Employee {
                    key,
                    ..Employee::default()
                },
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 AND {}",
        employee::select(d, "e"),
        d.key_in("e.key", "$2"),
    );
    let list = || Arg::Ints(keys.to_vec());
    ex.for_each(Query::new(sql).bind(account).bind(list()), &mut |row| {
        let e = employee::read(d, row, 0)?;
        directory.insert(e.key, e);
        Ok(())
    })
    .await?;
    let sql = format!(
        "SELECT {EVENT_SELECT} FROM events ev JOIN imports i ON i.id = ev.import_id \
         WHERE ev.account_id = $1 AND ev.employee_key IS NOT NULL AND {} \
         ORDER BY ev.cursor_no",
        d.key_in("ev.employee_key", "$2"),
    );
    let mut later = Vec::new();
    ex.for_each(Query::new(sql).bind(account).bind(list()), &mut |row| {
        later.push(event_from_row(row)?);
        Ok(())
    })
    .await?;
    rewind(&mut directory, &later)
        .map_err(|e| StoreError::Corrupt(format!("a kept create's history: {e}")))?;
    Ok(directory)
}
