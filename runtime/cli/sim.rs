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
    /// The rehearsal's docker stand-in (`tools.docker` under --target sim runs this).
    #[command(hide = true)]
    Docker {
        /// docker's own command line: version, build, tag, login, push.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

pub fn sim(command: SimCommand) -> i32 {
    if let SimCommand::Docker { args } = command {
        return lfrun_sim::docker_standin::main(args);
    }
    eprintln!("lfrun sim: not available yet");
    super::EXIT_USAGE
}
