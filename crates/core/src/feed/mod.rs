//! The change feed: the directory's history as a stream of events, in order, per
//! account — `employee.created`, `employee.updated`, `employee.deactivated`,
//! `employee.reactivated`, `employee.merged`, `employee.removed` (a tombstone),
//! `employee.deactivation_scheduled`,
//! `employee.start_scheduled`, and one `import.applied` closing each import.
//!
//! **Where it comes from.** An applied import writes entries to the directory: each
//! entry says which employee, by which action, which fields changed from what to
//! what by which rule, and the employee as it is written. [`derive_events`] turns
//! exactly those entries into events ([`Written`] is an entry as derive reads it):
//! the history stays the one record, the feed is a function of it.
//!
//! **Why it cannot disagree with the directory.** The directory is written from the
//! same entries the events are derived from, and every event's field change carries
//! the value the directory was given (`after`) and the value it replaced (`before`).
//! [`apply_event`] sets each field to its `after` and checks `before` against what
//! the replay holds, so a consumer that applies the feed from the beginning holds
//! the directory ([`replay`]); a gap or a reordering is an error, not a silent
//! difference. The property test `crates/core/tests/feed.rs` plays random days of
//! syncs, ticks, admin edits, merges and rollbacks through the planner and shows
//! that replaying every derived event gives the final directory.
//!
//! What the feed carries of an employee: every field the history records — the
//! [`CORE_FIELDS`](crate::employee::CORE_FIELDS), the demographics, `email_edited`
//! and `merged_into` — that is all of [`Employee`](crate::Employee). (Histories
//! written before `email_edited` was recorded lack it: a set email of then shows in
//! the feed as an email change only.)
//!
//! **From the history alone.** [`events_from_history`] derives the same events from
//! the recorded history and today's directory (walking back from today: a create
//! records no values, its row holds them); the store fills the feed of histories
//! written before the feed existed with it, and its contract test checks that the
//! events it wrote equal those. [`rewind`] undoes the feed's last events: the
//! directory as it stood before them (the directory as of a date).
//!
//! Cursors are the store's: [`derive_events`] numbers an import's events from the
//! cursor it is given, and the store gives the next free one of the account (in the
//! transaction that writes the import), so cursors increase strictly per account.
//! Pure: no I/O.

mod derive;
mod history;
mod replay;
mod types;

pub use derive::{Written, derive_events, derive_stored};
pub use history::{HistoryError, RecordedEntry, RecordedImport, events_from_history, rewind};
pub use replay::{Directory, ReplayError, apply_event, replay};
pub use types::{Cursor, Event, EventType, FieldDelta, ImportMeta, Stored};

#[cfg(test)]
mod tests;
