//! Notification events, typed. A run records its events in the outbox as a name
//! (`sync.applied` …) and a JSON payload ([`Event::notification`]); the notifiers
//! read them back with [`Event::decode`] and match on the variant. Payloads carry
//! ids, counts and reasons, never names or emails.

use roster_core::guard::BlockReason;
use roster_core::plan::Counts;
use roster_store::{ImportKind, IntegrationId, Notification};
use serde_json::{Value, json};

/// What a run tells the account's channels.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `sync.applied`: `held` employees were held for approval.
    SyncApplied {
        integration_id: IntegrationId,
        counts: Counts,
        held: usize,
    },
    /// `sync.held`: applied, with privacy-guarded employees held.
    SyncHeld {
        integration_id: IntegrationId,
        held: usize,
    },
    /// `sync.blocked`: a guard blocked it (or it needs the mass change confirmed).
    SyncBlocked {
        integration_id: IntegrationId,
        blocked: Blocked,
    },
    /// `sync.failed`: the fetch failed; nothing was changed.
    SyncFailed {
        integration_id: IntegrationId,
        error: String,
    },
    /// `csv_import.applied`.
    CsvImportApplied {
        integration_id: IntegrationId,
        file: String,
        counts: Counts,
        held: usize,
    },
    /// `csv_import.held`.
    CsvImportHeld {
        integration_id: IntegrationId,
        held: usize,
    },
    /// `csv_import.blocked`.
    CsvImportBlocked {
        integration_id: IntegrationId,
        file: String,
        blocked: Blocked,
    },
    /// `{kind}.applied` of an admin edit, a merge, a tick or a rollback.
    EditApplied { kind: ImportKind, counts: Counts },
}

/// Why a run was blocked, and what it would have done.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocked {
    pub reasons: Vec<BlockReason>,
    /// Privacy-guarded employees; `None` when only the mass change needs confirming.
    pub privacy_employees: Option<usize>,
    /// `MassChange::describe` (empty when it did not fire).
    pub mass_change: String,
    pub counts: Counts,
}

fn reason_str(r: BlockReason) -> &'static str {
    match r {
        BlockReason::Privacy => "privacy",
        BlockReason::MassChange => "mass_change",
    }
}

fn reason_parse(s: &str) -> Option<BlockReason> {
    match s {
        "privacy" => Some(BlockReason::Privacy),
        "mass_change" => Some(BlockReason::MassChange),
        _ => None,
    }
}

impl Blocked {
    fn payload(&self, integration_id: IntegrationId, file: Option<&str>) -> Value {
        let reasons: Vec<&str> = self.reasons.iter().map(|r| reason_str(*r)).collect();
        let mut v = json!({
            "integration_id": integration_id,
            "reasons": reasons,
            "mass_change": self.mass_change,
            "counts": self.counts,
        });
        if let Some(o) = v.as_object_mut() {
            if let Some(f) = file {
                o.insert("file".into(), json!(f));
            }
            if let Some(n) = self.privacy_employees {
                o.insert("privacy_employees".into(), json!(n));
            }
        }
        v
    }

    fn decode(d: &Value) -> Self {
        Self {
            reasons: d["reasons"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .filter_map(reason_parse)
                        .collect()
                })
                .unwrap_or_default(),
            privacy_employees: d["privacy_employees"].as_u64().map(|n| n as usize),
            mass_change: d["mass_change"].as_str().unwrap_or_default().to_string(),
            counts: counts(&d["counts"]),
        }
    }
}

/// Counts as a payload carries them; a count that is not there is 0.
fn counts(c: &Value) -> Counts {
    let n = |k: &str| c[k].as_u64().unwrap_or(0) as usize;
    Counts {
        created: n("created"),
        updated: n("updated"),
        deactivated: n("deactivated"),
        reactivated: n("reactivated"),
        unchanged: n("unchanged"),
        skipped: n("skipped"),
        privacy: n("privacy"),
        errors: n("errors"),
        warnings: n("warnings"),
        erased_left: n("erased_left"),
    }
}

impl Event {
    /// The event's name: what channels subscribe to, and the webhook's
    /// `X-Roster-Event`.
    pub fn name(&self) -> String {
        match self {
            Self::SyncApplied { .. } => "sync.applied".into(),
            Self::SyncHeld { .. } => "sync.held".into(),
            Self::SyncBlocked { .. } => "sync.blocked".into(),
            Self::SyncFailed { .. } => "sync.failed".into(),
            Self::CsvImportApplied { .. } => "csv_import.applied".into(),
            Self::CsvImportHeld { .. } => "csv_import.held".into(),
            Self::CsvImportBlocked { .. } => "csv_import.blocked".into(),
            Self::EditApplied { kind, .. } => format!("{}.applied", kind.as_str()),
        }
    }

    /// The payload, as JSON (the webhook's `data`).
    pub fn payload(&self) -> Value {
        match self {
            Self::SyncApplied {
                integration_id,
                counts,
                held,
            } => json!({ "integration_id": integration_id, "counts": counts, "held": held }),
            Self::SyncHeld {
                integration_id,
                held,
            }
            | Self::CsvImportHeld {
                integration_id,
                held,
            } => json!({ "integration_id": integration_id, "held": held }),
            Self::SyncBlocked {
                integration_id,
                blocked,
            } => blocked.payload(*integration_id, None),
            Self::SyncFailed {
                integration_id,
                error,
            } => json!({ "integration_id": integration_id, "error": error }),
            Self::CsvImportApplied {
                integration_id,
                file,
                counts,
                held,
            } => json!({
                "integration_id": integration_id,
                "file": file,
                "counts": counts,
                "held": held,
            }),
            Self::CsvImportBlocked {
                integration_id,
                file,
                blocked,
            } => blocked.payload(*integration_id, Some(file)),
            Self::EditApplied { counts, .. } => json!({ "counts": counts }),
        }
    }

    /// The outbox row of this event.
    pub fn notification(&self) -> Notification {
        Notification {
            event: self.name(),
            payload: self.payload(),
        }
    }

    /// The event an outbox message holds; `None` for a name this version does not
    /// know or a payload without its integration. Missing counts read as 0.
    pub fn decode(name: &str, payload: &Value) -> Option<Self> {
        let d = payload;
        let (run, what) = name.split_once('.')?;
        let integration_id = || d["integration_id"].as_i64();
        let held = || d["held"].as_u64().unwrap_or(0) as usize;
        let file = || d["file"].as_str().unwrap_or_default().to_string();
        Some(match (run, what) {
            ("sync", "applied") => Self::SyncApplied {
                integration_id: integration_id()?,
                counts: counts(&d["counts"]),
                held: held(),
            },
            ("sync", "held") => Self::SyncHeld {
                integration_id: integration_id()?,
                held: held(),
            },
            ("sync", "blocked") => Self::SyncBlocked {
                integration_id: integration_id()?,
                blocked: Blocked::decode(d),
            },
            ("sync", "failed") => Self::SyncFailed {
                integration_id: integration_id()?,
                error: d["error"].as_str().unwrap_or("unknown").to_string(),
            },
            ("csv_import", "applied") => Self::CsvImportApplied {
                integration_id: integration_id()?,
                file: file(),
                counts: counts(&d["counts"]),
                held: held(),
            },
            ("csv_import", "held") => Self::CsvImportHeld {
                integration_id: integration_id()?,
                held: held(),
            },
            ("csv_import", "blocked") => Self::CsvImportBlocked {
                integration_id: integration_id()?,
                file: file(),
                blocked: Blocked::decode(d),
            },
            (kind, "applied") => match ImportKind::parse(kind)? {
                kind @ (ImportKind::AdminEdit
                | ImportKind::Merge
                | ImportKind::Tick
                | ImportKind::Rollback) => Self::EditApplied {
                    kind,
                    counts: counts(&d["counts"]),
                },
                _ => return None,
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> Counts {
        Counts {
            created: 1,
            updated: 2,
            deactivated: 3,
            privacy: 1,
            ..Counts::default()
        }
    }

    fn blocked(privacy: Option<usize>) -> Blocked {
        Blocked {
            reasons: vec![BlockReason::Privacy, BlockReason::MassChange],
            privacy_employees: privacy,
            mass_change: "would deactivate 3 of 4 active employees".into(),
            counts: counts(),
        }
    }

    /// Every event with the name and payload it has always been stored with.
    fn every_event() -> Vec<(Event, &'static str, Value)> {
        let c = serde_json::to_value(counts()).unwrap();
        vec![
            (
                Event::SyncApplied {
                    integration_id: 4,
                    counts: counts(),
                    held: 1,
                },
                "sync.applied",
                json!({ "integration_id": 4, "counts": c, "held": 1 }),
            ),
            (
                Event::SyncHeld {
                    integration_id: 4,
                    held: 1,
                },
                "sync.held",
                json!({ "integration_id": 4, "held": 1 }),
            ),
            (
                Event::SyncBlocked {
                    integration_id: 4,
                    blocked: blocked(Some(1)),
                },
                "sync.blocked",
                json!({
                    "integration_id": 4,
                    "reasons": ["privacy", "mass_change"],
                    "privacy_employees": 1,
                    "mass_change": "would deactivate 3 of 4 active employees",
                    "counts": c,
                }),
            ),
            (
                Event::SyncBlocked {
                    integration_id: 4,
                    blocked: Blocked {
                        reasons: vec![BlockReason::MassChange],
                        ..blocked(None)
                    },
                },
                "sync.blocked",
                json!({
                    "integration_id": 4,
                    "reasons": ["mass_change"],
                    "mass_change": "would deactivate 3 of 4 active employees",
                    "counts": c,
                }),
            ),
            (
                Event::SyncFailed {
                    integration_id: 4,
                    error: "timed out".into(),
                },
                "sync.failed",
                json!({ "integration_id": 4, "error": "timed out" }),
            ),
            (
                Event::CsvImportApplied {
                    integration_id: 4,
                    file: "users.csv".into(),
                    counts: counts(),
                    held: 0,
                },
                "csv_import.applied",
                json!({ "integration_id": 4, "file": "users.csv", "counts": c, "held": 0 }),
            ),
            (
                Event::CsvImportHeld {
                    integration_id: 4,
                    held: 2,
                },
                "csv_import.held",
                json!({ "integration_id": 4, "held": 2 }),
            ),
            (
                Event::CsvImportBlocked {
                    integration_id: 4,
                    file: "users.csv".into(),
                    blocked: blocked(Some(1)),
                },
                "csv_import.blocked",
                json!({
                    "integration_id": 4,
                    "file": "users.csv",
                    "reasons": ["privacy", "mass_change"],
                    "privacy_employees": 1,
                    "mass_change": "would deactivate 3 of 4 active employees",
                    "counts": c,
                }),
            ),
            (
                Event::EditApplied {
                    kind: ImportKind::AdminEdit,
                    counts: counts(),
                },
                "admin_edit.applied",
                json!({ "counts": c }),
            ),
            (
                Event::EditApplied {
                    kind: ImportKind::Rollback,
                    counts: counts(),
                },
                "rollback.applied",
                json!({ "counts": c }),
            ),
        ]
    }

    #[test]
    fn events_are_stored_as_they_always_were_and_read_back() {
        for (event, name, payload) in every_event() {
            let n = event.notification();
            assert_eq!(
                (n.event.as_str(), &n.payload),
                (name, &payload),
                "{event:?}"
            );
            assert_eq!(Event::decode(name, &payload), Some(event));
        }
    }

    #[test]
    fn unknown_names_and_payloads_without_an_integration_are_not_decoded() {
        assert_eq!(Event::decode("sync.exploded", &json!({})), None);
        assert_eq!(Event::decode("sync.applied", &json!({})), None);
        assert_eq!(Event::decode("unlock.applied", &json!({})), None);
        assert_eq!(Event::decode("nothing", &json!({})), None);
        // Counts missing from a payload read as 0.
        let partial = Event::decode(
            "sync.applied",
            &json!({ "integration_id": 1, "counts": { "updated": 2 } }),
        );
        assert_eq!(
            partial,
            Some(Event::SyncApplied {
                integration_id: 1,
                counts: Counts {
                    updated: 2,
                    ..Counts::default()
                },
                held: 0
            })
        );
    }
}
