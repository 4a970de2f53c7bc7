//! Runs a sandbox until Ctrl-C (what `roster sandbox` does).
//!
//! `cargo run -p roster-sandbox --example serve -- [PORT] [MEMBERS] [SEED]` (8899 250 7)

use roster_sandbox::{SandboxConfig, serve};

/// A Justworks sandbox on a loopback port, until Ctrl-C.
#[derive(clap::Parser)]
struct Args {
    /// The loopback port.
    #[arg(default_value_t = 8899)]
    port: u16,
    /// Members of the sandbox's company.
    #[arg(default_value_t = 250)]
    members: usize,
    /// The seed of the generated company.
    #[arg(default_value_t = 7)]
    seed: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = <Args as clap::Parser>::parse();
    let config = SandboxConfig {
        members: a.members,
        seed: a.seed,
        ..SandboxConfig::default()
    };
    serve(config, ([127, 0, 0, 1], a.port).into()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_help_and_refuses_unknown_flags() {
        assert_eq!(roster_bench::flags_problem::<super::Args>(), None);
    }
}
