//! Pages through a large sandbox over loopback and reports members per second.
//!
//! `cargo run --release -p roster-sandbox --example paging_throughput -- [members] [scopes]`
//! (defaults: 100000 members, all member scopes; `--help`). Each page's envelope is parsed and its
//! items are split (not decoded), so the number measures the sandbox and the HTTP path.

use std::time::Instant;

use roster_sandbox::{SandboxConfig, start};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A page with the items left unparsed (a client would parse them into its own type;
/// parse cost is the client's, not the sandbox's).
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
    next_cursor: Option<String>,
}

/// Pages through a large sandbox over loopback.
#[derive(clap::Parser, Debug)]
#[command(name = "paging_throughput")]
struct Args {
    /// Members of the sandbox.
    #[arg(default_value_t = 100_000)]
    members: usize,
    /// `basic` for member.basic:read only; anything else for every member scope.
    #[arg(default_value = "all")]
    scopes: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = <Args as clap::Parser>::parse();
    let members = args.members;
    let full = args.scopes != "basic";
    let t = Instant::now();
    let sandbox = start(
        SandboxConfig {
            members,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    println!("generated {members} members in {:?}", t.elapsed());
    let scopes: &[&str] = if full {
        &[
            "member.detail:read",
            "member.dob:read",
            "member.sex:read",
            "member.employment:read",
        ]
    } else {
        &["member.basic:read"]
    };
    let token = sandbox.mint_token(scopes);
    let client = reqwest::Client::new();
    let meter = roster_bench::Meter::start();
    let (mut count, mut pages, mut bytes) = (0usize, 0usize, 0usize);
    let mut cursor = String::new();
    loop {
        let body = client
            .get(format!(
                "{}/v1/members?limit=100&cursor={cursor}",
                sandbox.base_url()
            ))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        bytes += body.len();
        let page: Page = serde_json::from_slice(&body)?;
        count += page.items.len();
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = c,
            None => break,
        }
    }
    let usage = meter.stop();
    let secs = usage.wall.as_secs_f64();
    println!(
        "{count} members in {pages} pages, {:.1} MiB, {usage}: {:.0} members/s",
        bytes as f64 / (1 << 20) as f64,
        count as f64 / secs
    );
    sandbox.shutdown().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
