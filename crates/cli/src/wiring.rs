//! Sources and notifiers from stored integrations: shared with the server.
pub use roster_wiring::*;
