#![forbid(unsafe_code)]
//! `roster`: keeps an employee directory in step with Justworks.
//!
//! The CLI parses, wires and prints; the rules live in `roster-core` and the
//! sequencing in `roster-engine`.

#[macro_use]
mod out;
mod args;
mod cmd;
mod ctx;
mod exit;
mod progress;
mod prompt;
mod redirect;
mod review;

use std::process::ExitCode;

use args::{Cli, Command};
use exit::{Exit, code_of};

/// Planning and applying allocate many small strings; mimalloc frees them much faster
/// than glibc's allocator (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. mimalloc asks for them
/// (`MADV_HUGEPAGE`), and then every fresh 2 MiB of a sync's short-lived records costs
/// the kernel a zeroed (sometimes compacted) huge page: a third of a 100k daily sync's
/// CPU went to `clear_page_erms` (docs/benchmarks.md, issue #15, "Session 8"). With
/// 4 KiB pages the same sync spends about half the system time.
/// Best effort: a kernel without the setting runs the process as before.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// mimalloc (v3) gives freed memory back to the system a second after it is freed
/// (`purge_delay`, 1,000 ms). A 1M first import frees and allocates hundreds of MiB
/// within that second at the plan's end, so the freed pages were still resident at
/// its peak: 1.54–1.67 GiB max RSS (docs/benchmarks.md, issue #15, "Session 11").
/// Given back within 10 ms (sessions 11–23), what one step of a sync frees was
/// faulted in again by the next (a 100k first import took 127k page faults, 92k with
/// 250 ms: ≈ 50 ms; "Session 24"). A quarter of a second keeps the 1M first import's
/// peak at 1.35–1.37 GiB (five runs; 10 ms: 1.34–1.35), where half a second let it
/// reach 1.54 GiB in one run of three. mimalloc reads its options
/// from the environment once, as the process loads, and setting one from Rust would
/// take `unsafe`: so a `roster` started without the setting runs itself again with it
/// (`exec`: the same process id, arguments and environment otherwise). A value the
/// caller set is kept. Best effort: when the binary cannot be run again (removed
/// while running, say), this process goes on with mimalloc's default.
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "250");

fn with_allocator_settings() {
    #[cfg(unix)]
    if std::env::var_os(PURGE_DELAY.0).is_none() {
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        // Returns only when the program could not be run.
        let _ = again.args(args).env(PURGE_DELAY.0, PURGE_DELAY.1).exec();
    }
}

fn main() -> ExitCode {
    with_allocator_settings();
    without_huge_pages();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli =
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let given = |id: &str| {
        !matches!(
            matches.value_source(id),
            None | Some(clap::parser::ValueSource::DefaultValue)
        )
    };
    cli.log_given = given("log");
    cli.db_given = given("db");
    cli.account_given = given("account");
    if cli.command.reaches_justworks() {
        roster_justworks::preload_roots();
    }
    // `roster serve` sets up its own logging from its configuration.
    let serving = matches!(cli.command, Command::Serve(_));
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    if !serving {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            // Colour codes only for a person at a terminal, not in log files.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .init();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: could not start the runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let result = rt.block_on(async {
        let result = cmd::run(cli).await;
        ctx::close_all().await;
        result
    });
    // Whatever still runs in the background stops here, before the exit code is decided.
    drop(rt);
    if let Some(e) = out::failure() {
        errln!("error: could not write to standard output: {e}");
        if matches!(result, Ok(exit::OK)) {
            return ExitCode::from(exit::ERROR);
        }
    }
    match result {
        // The reader of standard output went away (`roster … | head -1`): the command
        // finished, its output was cut short.
        Ok(exit::OK) if out::closed() => ExitCode::from(out::CLOSED_EXIT),
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = code_of(&e);
            match e.downcast_ref::<Exit>() {
                Some(Exit(_, msg)) if !msg.is_empty() => errln!("{msg}"),
                Some(_) => {}
                None => errln!("error: {e:#}"),
            }
            if code == exit::RUNNING {
                errln!(
                    "hint: a running sync or import renews its lock and releases it when it ends. \
                     One killed on this machine is taken over at once; one killed elsewhere \
                     holds it until its lease ends ({} minutes after its last renewal), or until \
                     `roster unlock INTEGRATION` releases it (it shows the holder first).",
                    roster_engine::LEASE.as_mins()
                );
            }
            ExitCode::from(code)
        }
    }
}
