//! Progress bars on stderr, only when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use roster_engine::{StepFn, SyncStep};
use roster_source::{FetchProgress, ProgressFn};

pub fn fetch_bar(label: &'static str) -> (Option<ProgressBar>, Option<ProgressFn>) {
    if !std::io::stderr().is_terminal() {
        return (None, None);
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} members ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(label);
    let b = bar.clone();
    let f: ProgressFn = Arc::new(move |p: FetchProgress| b.set_position(p.members as u64));
    (Some(bar), Some(f))
}

/// The steps after the fetch on the same bar: planning, then writing.
pub fn step_fn(bar: &Option<ProgressBar>) -> Option<StepFn> {
    let bar = bar.clone()?;
    let f: StepFn = Arc::new(move |step: SyncStep| {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar.set_message(match step {
            SyncStep::Planning { members } => format!("planning {members} members"),
            SyncStep::Applying { entries } => format!("writing {entries} changes"),
        });
    });
    Some(f)
}
