//! `lfrun sim serve|reset`: the rehearsal environment on its own.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the rehearsal environment until stopped, for kubectl/helm.
    Serve {
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        scenario: Option<String>,
        /// Also write the kubeconfig here.
        #[arg(long, value_name = "FILE")]
        kubeconfig_out: Option<PathBuf>,
    },
    /// Start the rehearsal state afresh.
    Reset {
        #[arg(long)]
        scenario: Option<String>,
    },
}

pub fn sim(_command: SimCommand) -> i32 {
    eprintln!("lfrun sim: not available yet");
    super::EXIT_USAGE
}
