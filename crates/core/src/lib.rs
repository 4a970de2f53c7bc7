#![forbid(unsafe_code)]
//! Roster's pure core: no I/O, no async. Normalise, validate, match, apply the
//! lifecycle rules and guards, and produce a deterministic [`plan::Plan`].

pub mod calendar;
pub mod edits;
pub mod employee;
pub mod feed;
pub mod fields;
pub mod guard;
pub mod import;
pub mod issue;
pub mod member;
pub mod normalise;
pub mod plan;
pub mod privacy;
pub mod retention;
pub mod rollback;
pub mod schedule;
pub mod settings;

pub use employee::Employee;
pub use member::{ManagerRef, SourceMember};
pub use plan::{Plan, PlanOptions, plan};
pub use settings::Settings;
