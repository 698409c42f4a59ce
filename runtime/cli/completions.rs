//! `lfrun completions bash|zsh|fish`.

use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = super::Cli::command();
    clap_complete::generate(shell, &mut cmd, "lfrun", &mut std::io::stdout());
    0
}
