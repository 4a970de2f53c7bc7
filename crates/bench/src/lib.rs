#![forbid(unsafe_code)]
//! What the benchmark examples report besides wall time: the CPU time (user +
//! system) a process used, so that a reader sees whether both cores worked (CPU /
//! wall ≈ cores busy), and its peak resident memory. Read from Linux's `/proc`
//! (`stat` in clock ticks of 1/100 s, `status` for `VmHWM`); elsewhere nothing is
//! known and zeros are reported.

use std::fmt;
use std::time::{Duration, Instant};

/// Linux reports CPU times in `/proc/<pid>/stat` in USER_HZ ticks, 100 per second
/// on every architecture Roster runs on.
const TICKS_PER_SEC: u64 = 100;

/// CPU time used so far by a process (its threads included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    pub user: Duration,
    pub sys: Duration,
}

impl Cpu {
    /// This process's CPU time.
    pub fn now() -> Cpu {
        Cpu::of("self")
    }

    /// The CPU time of process `pid` (e.g. a separately started sandbox); zero when
    /// it cannot be read.
    pub fn of_pid(pid: u32) -> Cpu {
        Cpu::of(&pid.to_string())
    }

    fn of(pid: &str) -> Cpu {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
            .unwrap_or_default()
    }

    pub fn total(&self) -> Duration {
        self.user + self.sys
    }

    fn since(&self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }
}

/// utime and stime of a `/proc/<pid>/stat` line (fields 14 and 15; the command
/// name in parentheses may hold spaces, so fields are counted after its `)`).
fn parse_stat(line: &str) -> Option<Cpu> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let ticks = |v: Option<&str>| -> Option<Duration> {
        let t: u64 = v?.parse().ok()?;
        Some(Duration::from_millis(t * 1000 / TICKS_PER_SEC))
    };
    Some(Cpu {
        user: ticks(fields.next())?,
        sys: ticks(fields.next())?,
    })
}

/// Wall time and CPU time over a stretch of work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub wall: Duration,
    pub cpu: Cpu,
}

impl Usage {
    /// Cores busy on average: CPU time / wall time.
    pub fn cores(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 {
            self.cpu.total().as_secs_f64() / wall
        } else {
            0.0
        }
    }
}

impl fmt::Display for Usage {
    /// `1.234 s wall, CPU 1.800 s (user 1.500 + sys 0.300, 1.46 cores)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.3} s wall, CPU {:.3} s (user {:.3} + sys {:.3}, {:.2} cores)",
            self.wall.as_secs_f64(),
            self.cpu.total().as_secs_f64(),
            self.cpu.user.as_secs_f64(),
            self.cpu.sys.as_secs_f64(),
            self.cores()
        )
    }
}

/// Measures wall and CPU time from its start: of this process, and of another
/// one when given (a sandbox in its own process).
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    started: Instant,
    cpu: Cpu,
    other: Option<(u32, Cpu)>,
}

impl Meter {
    pub fn start() -> Meter {
        Meter::start_with(None)
    }

    /// Also measures process `other` (its CPU time; the wall time is shared).
    pub fn start_with(other: Option<u32>) -> Meter {
        Meter {
            started: Instant::now(),
            cpu: Cpu::now(),
            other: other.map(|pid| (pid, Cpu::of_pid(pid))),
        }
    }

    /// This process's usage since the start.
    pub fn stop(&self) -> Usage {
        Usage {
            wall: self.started.elapsed(),
            cpu: Cpu::now().since(self.cpu),
        }
    }

    /// The other process's usage since the start, if one is measured.
    pub fn other(&self) -> Option<Usage> {
        let (pid, cpu) = self.other?;
        Some(Usage {
            wall: self.started.elapsed(),
            cpu: Cpu::of_pid(pid).since(cpu),
        })
    }
}

/// Peak resident set size of this process in MiB (`VmHWM`); 0 when unknown.
pub fn peak_rss_mib() -> f64 {
    peak_rss_mib_of("self")
}

/// Peak resident set size of process `pid` in MiB; 0 when unknown.
pub fn peak_rss_mib_of(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The median of `values` (the mean of the middle two for an even count); 0 for
/// none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// What is wrong with a benchmark example's flags (`A`, its clap arguments), if
/// anything: the definition must be consistent (clap's own checks), `--help` must
/// print the usage, and an unknown flag must be refused, so that a mistyped option
/// is an error and not a silently different benchmark. Each example runs it in a
/// test of its own (`test = true` in its package's manifest).
pub fn flags_problem<A: clap::CommandFactory>() -> Option<String> {
    use clap::error::ErrorKind;
    let command = A::command();
    command.clone().debug_assert();
    let name = command.get_name().to_string();
    match command
        .clone()
        .try_get_matches_from([name.as_str(), "--help"])
    {
        Err(e) if e.kind() == ErrorKind::DisplayHelp && e.to_string().contains("Usage:") => {}
        Err(e) => return Some(format!("{name} --help: {e}")),
        Ok(_) => return Some(format!("{name} --help did not print the usage")),
    }
    match command.try_get_matches_from([name.as_str(), "--no-such-flag"]) {
        Err(e) if e.kind() == ErrorKind::UnknownArgument => None,
        Err(e) => Some(format!("{name} --no-such-flag: another error: {e}")),
        Ok(_) => Some(format!("{name} took --no-such-flag")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (tokio (rt) x) S 1 2 3 4 5 6 7 8 9 10 250 37 0 0 20 0";
        let cpu = parse_stat(line).expect("parses");
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.sys, Duration::from_millis(370));
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_uses_cpu_and_memory() {
        let meter = Meter::start();
        let mut x = 0u64;
        while meter.stop().cpu.total() < Duration::from_millis(30) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let usage = meter.stop();
        assert!(usage.cpu.total() >= Duration::from_millis(30));
        assert!(usage.to_string().contains(" s wall, CPU "), "{usage}");
        assert!(peak_rss_mib() > 0.0);
    }

    #[test]
    fn flags_are_checked() {
        /// A benchmark.
        #[derive(clap::Parser)]
        struct Good {
            #[arg(long, default_value_t = 1)]
            runs: usize,
        }
        assert_eq!(flags_problem::<Good>(), None);

        /// One that takes any argument as a name.
        #[derive(clap::Parser)]
        struct Lenient {
            #[arg(allow_hyphen_values = true, num_args = 0..)]
            names: Vec<String>,
        }
        let problem = flags_problem::<Lenient>().expect("a lenient benchmark is flagged");
        assert!(problem.contains("--no-such-flag"), "{problem}");
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
