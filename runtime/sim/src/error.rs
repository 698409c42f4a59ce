//! Errors `Sim::start` and friends return to the lfrun CLI.
//!
//! Every variant names the file or directory involved, because the person reading the
//! message is an operator who has to find that file and fix or delete it.

use std::fmt;
use std::path::PathBuf;

/// Why the rehearsal environment could not be started, loaded or saved.
#[derive(Debug)]
pub enum SimError {
    /// A file or directory under the state dir could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `state.json` (or another persisted file) is not what this version wrote.
    Corrupt { path: PathBuf, message: String },
    /// The scenario named on the command line does not exist or does not parse.
    Scenario { name: String, message: String },
    /// Another process owns the state dir and is not a `sim serve` we can attach to.
    Locked { path: PathBuf, message: String },
    /// The loopback listener could not be bound.
    Bind {
        address: String,
        source: std::io::Error,
    },
    /// A control request to an attached `sim serve` failed.
    Remote { url: String, message: String },
}

impl SimError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::Io {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SimError::Corrupt { path, message } => write!(
                f,
                "{}: {message} (delete it or run `lfrun sim reset` to start afresh)",
                path.display()
            ),
            SimError::Scenario { name, message } => write!(f, "scenario '{name}': {message}"),
            SimError::Locked { path, message } => write!(f, "{}: {message}", path.display()),
            SimError::Bind { address, source } => write!(f, "cannot listen on {address}: {source}"),
            SimError::Remote { url, message } => write!(f, "{url}: {message}"),
        }
    }
}

impl std::error::Error for SimError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimError::Io { source, .. } | SimError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}
