//! `lfrun sim serve|reset`: the rehearsal environment on its own.
//!
//! `serve` keeps the same state a playbook run uses (`.lfrun/sim/` in the working
//! directory) until Ctrl-C, so kubectl and helm can look at what a playbook did; runs
//! started meanwhile attach to it. `reset` starts the state afresh.

use std::path::PathBuf;

use clap::Subcommand;
use lfrun_sim::SimOptions;

use super::session::load_config;
use super::target::{start_rehearsal, SIM_STATE_DIR};
use super::{print_failure, CommonArgs, EXIT_USAGE};
use crate::error::Failure;
use crate::report::Reporter;

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the rehearsal environment until stopped, for kubectl/helm.
    Serve {
        /// Port of the Kubernetes API on 127.0.0.1 (default: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// Start from this scenario (name or YAML file) instead of the saved state.
        #[arg(long)]
        scenario: Option<String>,
        /// Client config whose names the rehearsal's Azure uses (default: the example).
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Also write the kubeconfig here.
        #[arg(long, value_name = "FILE")]
        kubeconfig_out: Option<PathBuf>,
    },
    /// Start the rehearsal state afresh.
    Reset {
        /// Start from this scenario (name or YAML file); default `healthy`.
        #[arg(long)]
        scenario: Option<String>,
        /// Client config whose names the rehearsal's Azure uses (default: the example).
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List the shipped scenarios.
    Scenarios,
    /// The rehearsal's docker stand-in (`tools.docker` under --target sim runs this).
    #[command(hide = true)]
    Docker {
        /// docker's own command line: version, build, tag, login, push.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

pub fn sim(command: SimCommand) -> i32 {
    let result = match command {
        SimCommand::Docker { args } => return lfrun_sim::docker_standin::main(args),
        SimCommand::Scenarios => {
            for name in lfrun_sim::scenario_names() {
                println!("{name}");
            }
            return 0;
        }
        SimCommand::Serve {
            port,
            scenario,
            config,
            kubeconfig_out,
        } => serve(port, scenario, config, kubeconfig_out),
        SimCommand::Reset { scenario, config } => reset(scenario, config),
    };
    match result {
        Ok(()) => 0,
        Err(f) => {
            print_failure(&f);
            EXIT_USAGE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::config(format!("cannot start the async runtime: {e}")))
}

fn client_config(config: Option<PathBuf>) -> Result<crate::config::Config, Failure> {
    load_config(&CommonArgs {
        config,
        ..CommonArgs::default()
    })
}

fn serve(
    port: Option<u16>,
    scenario: Option<String>,
    config: Option<PathBuf>,
    kubeconfig_out: Option<PathBuf>,
) -> Result<(), Failure> {
    let config = client_config(config)?;
    let runtime = runtime()?;
    let reporter = Reporter::new(crate::report::OutputMode::Text, 0);
    let opts = SimOptions {
        port,
        scenario,
        serve: true,
        attach: false,
        ..SimOptions::new(SIM_STATE_DIR)
    };
    let rehearsal = start_rehearsal(&config, opts, runtime.handle(), &reporter)?;
    let kubeconfig = std::fs::canonicalize(rehearsal.sim.kubeconfig_path())
        .unwrap_or_else(|_| rehearsal.sim.kubeconfig_path().to_path_buf());
    if let Some(out) = &kubeconfig_out {
        std::fs::copy(&kubeconfig, out).map_err(|e| {
            Failure::config(format!(
                "cannot write the kubeconfig to {}: {e}",
                out.display()
            ))
        })?;
    }
    println!("rehearsal Kubernetes API at {}", rehearsal.sim.kube_url());
    println!(
        "point kubectl and helm at it:\n    export KUBECONFIG={}",
        kubeconfig_out.as_ref().unwrap_or(&kubeconfig).display()
    );
    println!(
        "    kubectl get pods -n {}",
        config
            .get_str("langfuse.namespace")
            .unwrap_or_else(|| "langfuse".into())
    );
    println!("playbook runs in this directory use this server while it runs; Ctrl-C stops it");
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    let sim = std::sync::Arc::try_unwrap(rehearsal.sim)
        .map_err(|_| Failure::config("the rehearsal is still in use"))?;
    runtime
        .block_on(sim.shutdown())
        .map_err(|e| Failure::config(format!("saving the rehearsal state failed: {e}")))?;
    println!("stopped; the state is kept in {SIM_STATE_DIR}");
    Ok(())
}

fn reset(scenario: Option<String>, config: Option<PathBuf>) -> Result<(), Failure> {
    let config = client_config(config)?;
    let runtime = runtime()?;
    let reporter = Reporter::new(crate::report::OutputMode::Text, 0);
    let name = scenario.unwrap_or_else(|| "healthy".into());
    let opts = SimOptions {
        scenario: Some(name.clone()),
        ..SimOptions::new(SIM_STATE_DIR)
    };
    let rehearsal = start_rehearsal(&config, opts, runtime.handle(), &reporter)?;
    let sim = std::sync::Arc::try_unwrap(rehearsal.sim)
        .map_err(|_| Failure::config("the rehearsal is still in use"))?;
    runtime
        .block_on(sim.shutdown())
        .map_err(|e| Failure::config(format!("saving the rehearsal state failed: {e}")))?;
    println!("the rehearsal in {SIM_STATE_DIR} starts from scenario `{name}`");
    Ok(())
}
