//! `roster sandbox`: the Justworks sandbox server until Ctrl-C.

use anyhow::{Context, Result};

use crate::args::SandboxArgs;
use crate::exit;

pub async fn sandbox(args: SandboxArgs, today: Option<jiff::civil::Date>) -> Result<u8> {
    let mut config = roster_sandbox::SandboxConfig {
        seed: args.seed,
        members: args.members,
        fixture: args.fixture,
        ..Default::default()
    };
    if let Some(d) = today {
        config.today = d;
    }
    config.faults.rate_limit_per_sec = args.rate_limit;
    if let Some(r) = args.error_rate {
        config.faults.error_rate = r;
    }
    if let Some(ms) = args.latency_ms {
        config.faults.latency = std::time::Duration::from_millis(ms);
    }
    let addr: std::net::SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .context("while reading --host/--port")?;
    roster_sandbox::serve(config, addr)
        .await
        .context("while running the sandbox")?;
    Ok(exit::OK)
}
