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
//! Prints each run, then the median members/s and MB/s, requests per run, and the
//! process's peak RSS (VmHWM).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use roster_justworks::{Credentials, JustworksConfig, JustworksSource};
use roster_sandbox::{Faults, SandboxConfig};
use roster_source::{FetchRequest, Source};

struct Args {
    members: usize,
    runs: usize,
    custom_fields: bool,
    rate_limit: Option<u32>,
    url: Option<String>,
    token: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        members: 100_000,
        runs: 3,
        custom_fields: false,
        rate_limit: None,
        url: None,
        token: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--members" => args.members = value("--members")?.parse()?,
            "--runs" => args.runs = value("--runs")?.parse()?,
            "--custom-fields" => args.custom_fields = true,
            "--rate-limit" => args.rate_limit = Some(value("--rate-limit")?.parse()?),
            "--url" => args.url = Some(value("--url")?),
            "--token" => args.token = Some(value("--token")?),
            "-h" | "--help" => {
                println!(
                    "fetch_bench [--members N] [--runs N] [--custom-fields] [--rate-limit R] [--url URL --token T]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    if args.url.is_some() != args.token.is_some() {
        bail!("--url and --token go together");
    }
    Ok(args)
}

/// Peak resident set size of this process in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
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
    for run in 1..=args.runs {
        let started = Instant::now();
        let snapshot = source
            .fetch(FetchRequest {
                custom_fields: args.custom_fields,
                ..FetchRequest::default()
            })
            .await
            .with_context(|| format!("while fetching (run {run})"))?;
        let secs = started.elapsed().as_secs_f64();
        let members = snapshot.members.len();
        let rate = members as f64 / secs;
        let mbps = snapshot.bytes_read as f64 / secs / 1e6;
        println!(
            "run {run}: {members} members, {} rejected, {} requests, {:.1} MB in {secs:.3}s: {rate:.0} members/s, {mbps:.1} MB/s",
            snapshot.rejected.len(),
            snapshot.requests,
            snapshot.bytes_read as f64 / 1e6,
        );
        rates.push(rate);
        throughputs.push(mbps);
        requests = snapshot.requests;
    }
    println!(
        "median: {:.0} members/s, {:.1} MB/s, {requests} requests per run, peak RSS {} MiB",
        median(rates),
        median(throughputs),
        peak_rss_kib().map_or_else(|| "?".to_owned(), |k| (k / 1024).to_string()),
    );
    Ok(())
}
