//! Progress bars on stderr, only when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
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
