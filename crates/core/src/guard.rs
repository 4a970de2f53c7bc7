//! DESIGN §7, every guard rule: which entries of a plan are privacy-guarded, the
//! mass-change finding, and what a sync may apply, given its plan, how it was started,
//! the settings and what the admin confirmed.
//!
//! The planner calls the first two; `decide` reads the plan. This module uses only the
//! plan's types (`plan::types`), never the planner, so there is no cycle.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::normalise::email_key;
use crate::plan::types::{Action, Change, Entry, MassChange, Plan};
use crate::settings::{HoldMode, Settings};

/// The privacy guard: two or more of name, date of birth and email change at once
/// (when `privacy_guard` is on). Such an entry waits for an admin.
pub(crate) fn privacy_guarded(settings: &Settings, changes: &[Change]) -> bool {
    let touched_field = |f: &str| changes.iter().any(|c| c.field == f);
    let categories = [
        touched_field("first_name") || touched_field("last_name"),
        touched_field("date_of_birth"),
        changes.iter().any(|c| {
            c.field == "email" && c.old.as_deref().map(email_key) != c.new.as_deref().map(email_key)
        }),
    ];
    settings.privacy_guard && categories.iter().filter(|b| **b).count() >= 2
}

/// The mass-change guard: a plan that deactivates at least `mass_deactivation_min`
/// (and at least one) and more than `mass_deactivation_percent` of the employees
/// active before, or changes the employee ID of more than `mass_id_change_percent` of
/// the `matched` ones (directory employees a member matched).
pub(crate) fn mass_change(
    active_before: usize,
    matched: usize,
    entries: &[Entry],
    settings: &Settings,
) -> MassChange {
    let deactivations = entries
        .iter()
        .filter(|e| e.action == Action::Deactivate)
        .count();
    let id_changes = entries.iter().filter(|e| e.id_change).count();
    MassChange {
        deactivations,
        active_before,
        id_changes,
        matched,
        deactivation_triggered: deactivations >= settings.mass_deactivation_min.max(1)
            && (deactivations as f64)
                > settings.mass_deactivation_percent / 100.0 * active_before as f64,
        id_change_triggered: id_changes > 0
            && (id_changes as f64) > settings.mass_id_change_percent / 100.0 * matched as f64,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Trigger {
    /// An admin ran it and can confirm.
    Manual,
    /// The scheduler ran it; nobody is there to confirm.
    Automatic,
}

impl Trigger {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the admin confirmed for a manual sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmations {
    /// Apply the privacy-guarded employees too.
    pub privacy: bool,
    /// Apply despite the mass-change warning.
    pub mass_change: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum BlockReason {
    Privacy,
    MassChange,
}

/// The verdict on a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Decision {
    /// Apply the entries at `apply`; hold those at `held` for approval.
    Apply { apply: Vec<usize>, held: Vec<usize> },
    /// Apply nothing.
    Blocked { reasons: Vec<BlockReason> },
    /// A manual sync needs the admin to confirm the mass change first.
    NeedsConfirmation,
}

/// Decide what may be applied. A privacy-guarded entry is applied only by a manual
/// sync with `confirm.privacy`.
pub fn decide(
    plan: &Plan,
    trigger: Trigger,
    settings: &Settings,
    confirm: Confirmations,
) -> Decision {
    let privacy: Vec<usize> = plan.privacy_entries().map(|(i, _)| i).collect();
    let mass = plan.mass_change.triggered();
    let split = |hold: bool| {
        let (held, apply): (Vec<usize>, Vec<usize>) =
            (0..plan.entries.len()).partition(|i| hold && plan.entries[*i].privacy);
        Decision::Apply { apply, held }
    };
    match trigger {
        Trigger::Automatic => {
            let mut reasons = Vec::new();
            if !privacy.is_empty() && settings.hold_mode == HoldMode::BlockSync {
                reasons.push(BlockReason::Privacy);
            }
            if mass {
                reasons.push(BlockReason::MassChange);
            }
            if reasons.is_empty() {
                split(true)
            } else {
                Decision::Blocked { reasons }
            }
        }
        Trigger::Manual => {
            if mass && !confirm.mass_change {
                Decision::NeedsConfirmation
            } else {
                split(!confirm.privacy)
            }
        }
    }
}
