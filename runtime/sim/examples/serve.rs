//! Serves a rehearsal state dir until Ctrl-C, for manual testing with kubectl and helm:
//!
//! ```text
//! cargo run -p lfrun-sim --example serve -- [--dir DIR] [--port N] [--scenario S] [--scale X] [--fresh]
//! export KUBECONFIG=DIR/kubeconfig
//! ```
//! Set `RUST_LOG=lfrun_sim=debug` to see every request.

use lfrun_sim::{Sim, SimOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut opts = SimOptions::new(".lfrun/sim");
    opts.serve = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => opts.state_dir = args.next().ok_or("--dir needs a value")?.into(),
            "--port" => opts.port = Some(args.next().ok_or("--port needs a value")?.parse()?),
            "--scenario" => opts.scenario = Some(args.next().ok_or("--scenario needs a value")?),
            "--scale" => opts.time_scale = args.next().ok_or("--scale needs a value")?.parse()?,
            "--fresh" => opts.fresh = true,
            "--apply-faults" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let sim = Sim::start(opts).await?;
    if sim.is_attached() {
        println!(
            "already served at {} (kubeconfig {})",
            sim.kube_url(),
            sim.kubeconfig_path().display()
        );
        return Ok(());
    }
    println!("rehearsal API server at {}", sim.kube_url());
    println!("export KUBECONFIG={}", sim.kubeconfig_path().display());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await?;
    Ok(())
}
