//! Sources from stored integrations: shared with the CLI and the worker.
pub use roster_wiring::*;
