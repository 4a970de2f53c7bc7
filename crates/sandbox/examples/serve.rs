//! Runs a sandbox until Ctrl-C (what `roster sandbox` does).
//!
//! `cargo run -p roster-sandbox --example serve -- [port] [members] [seed]`

use roster_sandbox::{SandboxConfig, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(8899), |a| a.parse())?;
    let members: usize = args.next().map_or(Ok(250), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(7), |a| a.parse())?;
    let config = SandboxConfig {
        members,
        seed,
        ..SandboxConfig::default()
    };
    serve(config, ([127, 0, 0, 1], port).into()).await?;
    Ok(())
}
