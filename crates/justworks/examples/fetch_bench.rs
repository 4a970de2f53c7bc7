//! Fetch throughput of the Justworks connector.
//!
//! ```text
//! cargo run --release -p roster-justworks --example fetch_bench -- \
//!     --members 100000 --runs 3 [--custom-fields] [--rate-limit R]
//! cargo run --release -p roster-justworks --example fetch_bench -- \
//!     --url http://127.0.0.1:8080 --token T --runs 3
//! ```
//!
//! Without `--url` a sandbox with `--members` generated members runs in this
//! process (so its CPU use counts against the connector's); with `--url` and
//! `--token` the fetch goes to a separately started sandbox (or any API host).
//! Prints each run with its wall and CPU time, then the median members/s and MB/s,
//! CPU time, requests per run, and the process's peak RSS (VmHWM). `--help` lists the
//! options.

use std::time::{Duration, Instant};

use roster_bench::{Meter, median, peak_rss_mib};

use anyhow::Context;
use roster_justworks::{Credentials, JustworksConfig, JustworksSource};
use roster_sandbox::{Faults, SandboxConfig};
use roster_source::{FetchRequest, Source};

/// Fetch throughput of the Justworks connector.
#[derive(clap::Parser, Debug)]
#[command(name = "fetch_bench")]
struct Args {
    /// Members of the in-process sandbox.
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// Runs; medians are printed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Also read every member's custom-field values (one request each).
    #[arg(long)]
    custom_fields: bool,
    /// Requests per second (the sandbox's limit and the connector's).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// A separately started sandbox (or any API host) instead of one in this process.
    #[arg(long, requires = "token")]
    url: Option<String>,
    /// The bearer token for --url.
    #[arg(long, requires = "url")]
    token: Option<String>,
    /// The process id of that sandbox, to report its CPU time as well.
    #[arg(long, requires = "url")]
    sandbox_pid: Option<u32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    // Keep the sandbox alive for the whole run.
    let mut _sandbox = None;
    let (base_url, token) = match (&args.url, &args.token) {
        (Some(url), Some(token)) => (url.parse::<url::Url>()?, token.clone()),
        _ => {
            let started = Instant::now();
            let config = SandboxConfig {
                members: args.members,
                faults: Faults {
                    rate_limit_per_sec: args.rate_limit,
                    ..Faults::default()
                },
                ..SandboxConfig::default()
            };
            let sandbox = roster_sandbox::start(config, "127.0.0.1:0".parse()?)
                .await
                .context("while starting the sandbox")?;
            let scopes = roster_sandbox::all_scopes();
            let token = sandbox.mint_token(&scopes);
            let url: url::Url = sandbox.base_url().parse()?;
            eprintln!(
                "sandbox with {} members ready in {:.1}s at {url}",
                args.members,
                started.elapsed().as_secs_f64()
            );
            _sandbox = Some(sandbox);
            (url, token)
        }
    };

    let mut config = JustworksConfig::with_base_url(base_url);
    config.requests_per_second = args.rate_limit;
    config.request_timeout = Duration::from_secs(60);
    let source = JustworksSource::new(config, Credentials::Static(token.into()))?;

    let mut rates = Vec::new();
    let mut throughputs = Vec::new();
    let mut requests = 0;
    let mut cpus = Vec::new();
    for run in 1..=args.runs {
        let meter = Meter::start_with(args.sandbox_pid);
        let snapshot = source
            .fetch(FetchRequest {
                custom_fields: args.custom_fields,
                ..FetchRequest::default()
            })
            .await
            .with_context(|| format!("while fetching (run {run})"))?;
        let usage = meter.stop();
        let secs = usage.wall.as_secs_f64();
        let members = snapshot.members.len();
        let rate = members as f64 / secs;
        let mbps = snapshot.bytes_read as f64 / secs / 1e6;
        println!(
            "run {run}: {members} members, {} rejected, {} requests, {:.1} MB in {usage}: {rate:.0} members/s, {mbps:.1} MB/s{}",
            snapshot.rejected.len(),
            snapshot.requests,
            snapshot.bytes_read as f64 / 1e6,
            meter
                .other()
                .map(|u| format!(", sandbox CPU {:.3} s", u.cpu.total().as_secs_f64()))
                .unwrap_or_default(),
        );
        cpus.push(usage.cpu.total().as_secs_f64());
        rates.push(rate);
        throughputs.push(mbps);
        requests = snapshot.requests;
    }
    println!(
        "median: {:.0} members/s, {:.1} MB/s, CPU {:.3} s, {requests} requests per run, peak RSS {:.0} MiB",
        median(rates),
        median(throughputs),
        median(cpus),
        peak_rss_mib(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
