//! Asking before acting: `--yes`, or a person at a terminal.

use std::io::{IsTerminal, Write};

use anyhow::Result;

use crate::exit::{self, Exit};

/// The one rule of every command that asks before it acts (`sync --apply`,
/// `import --apply`, `rollback`, `integrations delete`): `--yes` answers for the
/// person (`Ok(false)`: do not ask); otherwise a person must be there to ask, which
/// needs a terminal on standard input and no `--json` (`Ok(true)`: ask with
/// [`confirm`]). Without one it is a usage error (exit 2) naming `--yes`, never a
/// "declined" (exit 7 is kept for a person who answered no).
pub fn must_ask(yes: bool, json: bool, what: &str) -> Result<bool> {
    if yes {
        return Ok(false);
    }
    if json || !std::io::stdin().is_terminal() {
        let why = if json {
            "--json output"
        } else {
            "no terminal to ask on"
        };
        return Err(Exit(
            exit::USAGE,
            format!("error: {what} asks for confirmation, and with {why} it needs --yes"),
        )
        .into());
    }
    Ok(true)
}

/// Ask on the terminal (after [`must_ask`] said so); `false` for anything but yes.
pub fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    err!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
