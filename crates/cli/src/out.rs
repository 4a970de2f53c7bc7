//! Standard output that a closed pipe cannot crash.
//!
//! `println!` panics when standard output is a pipe whose reader has gone
//! (`roster imports show 1 | head -1`): Rust ignores SIGPIPE, so the write fails with
//! `BrokenPipe` and the macro turns that into a panic with a backtrace hint. Every
//! line the CLI prints goes through [`stdout`] instead ([`outln!`], [`out!`]; clippy
//! refuses `println!` in this crate): once the reader has gone, further output is
//! dropped, the command finishes what it was doing (an apply is not cut in half,
//! the database is closed and checkpointed), and `roster` exits 141 — what a
//! shell reports for a program stopped by SIGPIPE — unless the command failed
//! with its own code. Any other write error (a full disk behind `> file`) is kept
//! and reported as an error when the command ends.
//!
//! Messages to standard error go through [`errln!`] and [`err!`], which drop what
//! cannot be written (`2>&1 | head -1` closes both).
//!
//! Restoring the default SIGPIPE action at start-up would also stop the panic, but
//! it kills the process on the spot: mid-transaction, without closing the database,
//! and also on a socket write to a peer that has gone (the server, the worker).

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code when the reader of standard output went away (128 + SIGPIPE).
pub const CLOSED_EXIT: u8 = 141;

static CLOSED: AtomicBool = AtomicBool::new(false);
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Standard output: a closed pipe swallows the rest (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

/// The process's standard output, behind the closed-pipe rule.
pub fn stdout() -> Stdout {
    Stdout
}

/// The reader of standard output went away during the command.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// The first write error other than a closed pipe, if any.
pub fn failure() -> Option<String> {
    FAILED.lock().ok().and_then(|f| f.clone())
}

/// Remember a write error of [`outln!`]/[`out!`] (they cannot return it).
pub fn record(e: io::Error) {
    if let Ok(mut f) = FAILED.lock()
        && f.is_none()
    {
        *f = Some(e.to_string());
    }
}

fn swallow_closed<T>(r: io::Result<T>, done: T) -> io::Result<T> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(done)
        }
        r => r,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if closed() {
            return Ok(buf.len());
        }
        swallow_closed(io::stdout().lock().write(buf), buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if closed() {
            return Ok(());
        }
        swallow_closed(io::stdout().lock().write_all(buf), ())
    }

    fn flush(&mut self) -> io::Result<()> {
        if closed() {
            return Ok(());
        }
        swallow_closed(io::stdout().lock().flush(), ())
    }
}

/// `println!` through [`stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        if let Err(e) = ::std::writeln!($crate::out::stdout(), $($arg)*) {
            $crate::out::record(e);
        }
    }};
}

/// `print!` through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        if let Err(e) = ::std::write!($crate::out::stdout(), $($arg)*) {
            $crate::out::record(e);
        }
    }};
}

/// `eprintln!` that cannot panic: a message to a standard error that has gone
/// (`roster … 2>&1 | head -1`) has nowhere else to go and is dropped.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that cannot panic (see [`errln!`]).
macro_rules! err {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stderr(), $($arg)*);
    }};
}

/// Print `v` as pretty JSON on standard output (`--json`).
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(stdout());
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_swallowed_and_remembered_other_errors_are_not() {
        let closed_pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(swallow_closed(Err(closed_pipe), 3).unwrap(), 3);
        assert!(closed());
        let full = io::Error::other("no space left on device");
        assert!(swallow_closed::<()>(Err(full), ()).is_err());
    }
}
