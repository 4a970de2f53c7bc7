#![forbid(unsafe_code)]
//! One sync run and every other change to the directory: Source + Store + Clock →
//! fetch, plan, guard, apply, record. No rules of its own: those live in
//! `roster-core`; this crate sequences them and records what happened.

pub mod autosync;
pub mod clock;
pub mod crypto;
mod edits;
mod engine;
mod erasure;
pub mod event;
mod feed;
mod import;
mod integrations;
pub mod keycheck;
mod known;
pub mod lock;
pub mod notify;
mod outcome;
mod privacy;
pub mod record;
mod setup;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;
pub mod worker;

pub use clock::{Clock, FixedClock, SystemClock};
pub use crypto::{Cipher, CryptoError};
pub use edits::{Milestone, MilestoneKind, Upcoming, UpcomingKind};
pub use engine::*;
pub use event::Event;
pub use import::*;
pub use keycheck::{KeyCheck, KeyCheckError, verify_key};
pub use outcome::*;
pub use privacy::{ExportedImport, PERSON_EXPORT_FORMAT, PersonExport, RetentionOutcome};
