//! The feed's types: an event, its type and its field changes.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::employee::{Employee, EmployeeKey};
use crate::import::{ImportId, ImportKind};
use crate::plan::{Change, Rule};

/// An event's position in its account's feed: strictly increasing, assigned by the
/// store.
pub type Cursor = i64;

/// What an event says happened.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
    Display,
    AsRefStr,
)]
pub enum EventType {
    /// An employee entered the directory; `changes` holds every field it has.
    #[serde(rename = "employee.created")]
    #[strum(serialize = "employee.created")]
    Created,
    /// Fields changed; the employee stayed active or stayed inactive.
    #[serde(rename = "employee.updated")]
    #[strum(serialize = "employee.updated")]
    Updated,
    /// The employee became inactive (end date, missing, excluded, rolled back).
    #[serde(rename = "employee.deactivated")]
    #[strum(serialize = "employee.deactivated")]
    Deactivated,
    /// The employee became active again.
    #[serde(rename = "employee.reactivated")]
    #[strum(serialize = "employee.reactivated")]
    Reactivated,
    /// The employee was merged into another (its `merged_into` is set and it is
    /// deactivated); the original gets its own `employee.updated`.
    #[serde(rename = "employee.merged")]
    #[strum(serialize = "employee.merged")]
    Merged,
    /// The employee's record was removed entirely (`users erase --remove`, issue
    /// #17): a tombstone. `changes` holds every field the (anonymised) record had,
    /// each from its value (`before`) to nothing; a consumer drops the employee.
    #[serde(rename = "employee.removed")]
    #[strum(serialize = "employee.removed")]
    Removed,
    /// An active employee got an end date after the import's day. Repeats the
    /// `end_date` change the employee's other event of the import carries.
    #[serde(rename = "employee.deactivation_scheduled")]
    #[strum(serialize = "employee.deactivation_scheduled")]
    DeactivationScheduled,
    /// The employee got a start date after the import's day. Repeats the
    /// `start_date` change the employee's other event of the import carries.
    #[serde(rename = "employee.start_scheduled")]
    #[strum(serialize = "employee.start_scheduled")]
    StartScheduled,
    /// Closes an import's events (one per applied import, also when it changed
    /// nobody).
    #[serde(rename = "import.applied")]
    #[strum(serialize = "import.applied")]
    ImportApplied,
}

impl EventType {
    /// The name, as stored, sent and filtered on (`employee.created` …).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// From the name `as_str` gives.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// The event changes the directory: a consumer rebuilding it applies its
    /// changes. The scheduled events repeat a change another event of the same
    /// import carries, and `import.applied` names no employee.
    pub fn changes_directory(self) -> bool {
        !matches!(
            self,
            Self::DeactivationScheduled | Self::StartScheduled | Self::ImportApplied
        )
    }
}

/// One field's change, as the history recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDelta {
    /// A directory field (`email`, `end_date` …), `demographic:<name>` or
    /// `merged_into`.
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub rule: Rule,
}

impl From<&Change> for FieldDelta {
    fn from(c: &Change) -> Self {
        Self {
            field: c.field.clone(),
            before: c.old.clone(),
            after: c.new.clone(),
            rule: c.rule,
        }
    }
}

impl From<Change> for FieldDelta {
    fn from(c: Change) -> Self {
        Self {
            field: c.field,
            before: c.old,
            after: c.new,
            rule: c.rule,
        }
    }
}

impl FieldDelta {
    /// A create's field changes: every field of `after` from empty
    /// ([`Change::created`]), as an `employee.created` event lists them.
    pub fn created(after: &Employee) -> Vec<FieldDelta> {
        Change::created(after)
            .into_iter()
            .map(FieldDelta::from)
            .collect()
    }
}

/// An event as a write stores it ([`derive_stored`](super::derive_stored)): an
/// `employee.created` whose import recorded no changes names the employee it
/// created (`created`, `event.changes` empty) rather than a change per field; its
/// changes are [`FieldDelta::created`] of it, spelled out when the event is read
/// ([`Stored::into_event`]). The store keeps such an event as its cursor on the
/// create's history entry and reads the values from the history (the employee's
/// row walked back, [`rewind`](super::rewind)): a 100k first import so stores no
/// event row per create, and the feed reads the same either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored<'a> {
    pub event: Event,
    pub created: Option<&'a Employee>,
}

impl Stored<'_> {
    /// The event as it is read: a kept employee's fields spelled out.
    pub fn into_event(self) -> Event {
        let mut event = self.event;
        if let Some(after) = self.created {
            event.changes = FieldDelta::created(after);
        }
        event
    }
}

/// The import whose entries become events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMeta {
    pub id: ImportId,
    pub kind: ImportKind,
    /// When it was written (the import's `finished_at`): every event's time.
    pub at: Timestamp,
    /// Its day in the account's time zone: end and start dates after it are
    /// scheduled.
    pub day: Date,
}

/// One event of the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub cursor: Cursor,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub at: Timestamp,
    pub import_id: ImportId,
    pub import_kind: ImportKind,
    /// The employee's stable key (the id SCIM uses); `None` for `import.applied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_key: Option<EmployeeKey>,
    /// The employee ID after the import; `None` for `import.applied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// The fields changed, in display order (core fields, `merged_into`,
    /// demographics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldDelta>,
}
