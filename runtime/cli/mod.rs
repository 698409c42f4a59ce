//! The command line: `lfrun <script>` runs a script; subcommands check, explain,
//! initialise and rehearse.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::OutputMode;

mod check;
mod completions;
mod doc;
mod init;
mod lint;
mod repl;
mod run;
mod session;
mod sim;
mod target;

/// Exit code of a run whose script failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code for bad usage, a bad config, or anything stopping the run before it starts.
pub const EXIT_USAGE: i32 = 2;
/// Exit code after Ctrl-C.
pub const EXIT_CANCELLED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "lfrun",
    version,
    about = "Runs Rhai playbooks that install, upgrade, repair and roll back Langfuse on AKS",
    long_about = "Runs Rhai playbooks that install, upgrade, repair and roll back Langfuse on AKS.\n\n\
        `lfrun install` runs the built-in install playbook; `lfrun path/to/script.rhai` runs a file.\n\
        Without a config, the run uses the example config and the rehearsal environment (--target sim).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Flags shared by everything that evaluates scripts (runs and the REPL).
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Client config file (YAML). Default: the built-in example config, on the rehearsal target.
    #[arg(long, short = 'c', env = "LFRUN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key: --set namespace=langfuse (numbers and booleans are typed).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Where to run: sim (the rehearsal environment) or azure.
    #[arg(long, value_parser = ["sim", "azure"])]
    pub target: Option<String>,
    /// Rehearsal scenario to start from (a name like `clickhouse-disk-full`, or a YAML file).
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Extra directory searched for `import`ed modules (before the built-in stdlib).
    #[arg(long, value_name = "DIR")]
    pub stdlib: Vec<PathBuf>,
    /// More output: -v shows tool output live, -vv traces lfrun itself.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputMode::Text, global = true)]
    pub output: OutputMode,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// A script file, or the name of a built-in playbook (install, upgrade, validate, …).
    pub script: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Plan only: list what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm destructive actions (deletes, rollbacks, PVC patches, restarts) without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow Azure primitives to create missing resources (default: verify and report).
    #[arg(long)]
    pub create_missing: bool,
    /// Journal location: a directory, or a .jsonl file (default .lfrun/journal/).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile scripts without running them; report syntax errors and missing imports.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        #[arg(long, value_name = "DIR")]
        stdlib: Vec<PathBuf>,
    },
    /// Interactive shell with the same primitives, config and target as a run.
    Repl {
        #[command(flatten)]
        common: CommonArgs,
        /// Confirm destructive actions without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Plan instead of acting.
        #[arg(long)]
        dry_run: bool,
    },
    /// The primitive reference, generated from the engine.
    Doc {
        /// Machine-readable JSON.
        #[arg(long)]
        json: bool,
        /// Write `.d.rhai` definition files for the Rhai language server into DIR.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
    /// Write editable copies of the playbooks, the stdlib and an example config into DIR.
    Init {
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Check a values file against the guide's hard constraints (and a chart, when given).
    Lint(lint::LintArgs),
    /// The rehearsal environment: serve it for kubectl/helm, or reset it.
    Sim {
        #[command(subcommand)]
        command: sim::SimCommand,
    },
}

/// Parses the command line, runs, and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    crate::logging::init(match &cli.command {
        Some(Command::Repl { common, .. }) => common.verbose,
        _ => cli.run.common.verbose,
    });
    match cli.command {
        None => match cli.run.script.clone() {
            Some(script) => run::run(&script, &cli.run),
            None => {
                eprintln!("lfrun: give a script or playbook to run, e.g. `lfrun install` (see `lfrun --help`)");
                EXIT_USAGE
            }
        },
        Some(Command::Check { files, stdlib }) => check::check(&files, &stdlib),
        Some(Command::Repl {
            common,
            yes,
            dry_run,
        }) => repl::repl(&common, yes, dry_run),
        Some(Command::Doc { json, definitions }) => doc::doc(json, definitions.as_deref()),
        Some(Command::Init { dir, force }) => init::init(&dir, force),
        Some(Command::Completions { shell }) => completions::completions(shell),
        Some(Command::Lint(args)) => lint::lint(&args),
        Some(Command::Sim { command }) => sim::sim(command),
    }
}

/// Prints a failure that stops lfrun before a script runs.
pub(crate) fn print_failure(failure: &crate::error::Failure) {
    eprintln!(
        "error[{}]: {}",
        failure.kind,
        crate::secret::redact(&failure.message)
    );
    if !failure.hint.is_empty() {
        eprintln!("   = hint: {}", crate::secret::redact(&failure.hint));
    }
}
