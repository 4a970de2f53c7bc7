//! DESIGN §7: what a sync may apply, given its plan, how it was started, the settings
//! and what the admin confirmed.

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::settings::{HoldMode, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// An admin ran it and can confirm.
    Manual,
    /// The scheduler ran it; nobody is there to confirm.
    Automatic,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Automatic => "automatic",
        }
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
