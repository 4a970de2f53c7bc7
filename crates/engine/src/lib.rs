#![forbid(unsafe_code)]
//! One sync run and every other change to the directory: Source + Store + Clock →
//! fetch, plan, guard, apply, record. No rules of its own: those live in
//! `roster-core`; this crate sequences them and records what happened.

pub mod autosync;
pub mod clock;
pub mod crypto;
mod engine;
mod import;
pub mod keycheck;
pub mod lock;
pub mod notify;
#[cfg(feature = "testing")]
pub mod testing;
pub mod worker;

pub use clock::{Clock, FixedClock, SystemClock};
pub use crypto::{Cipher, CryptoError};
pub use engine::*;
pub use import::*;
pub use keycheck::{KeyCheck, KeyCheckError, verify_key};
