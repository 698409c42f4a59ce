//! Choosing the target: the real Azure environment from the config, or the
//! rehearsal environment started in-process (or attached to `lfrun sim serve`).
//!
//! This is the only place that knows about `lfrun-sim`. It turns what the
//! rehearsal reports into an ordinary [`Environment`], which is all primitives see.

use crate::config::Config;
use crate::environment::{Environment, LazyEnvironment};
use crate::error::Failure;
use crate::report::Reporter;

/// Keeps the rehearsal environment alive for the run and stops it afterwards.
#[derive(Default)]
pub struct TargetGuard {}

impl TargetGuard {
    pub fn shutdown(self, _runtime: &tokio::runtime::Handle) {}
}

pub fn prepare(
    target: &str,
    config: &Config,
    _scenario: Option<String>,
    _runtime: tokio::runtime::Handle,
    _reporter: Reporter,
) -> Result<(LazyEnvironment, TargetGuard), Failure> {
    if target == "azure" {
        return Ok((
            LazyEnvironment::ready(Environment::from_config(config)?),
            TargetGuard::default(),
        ));
    }
    let starter = Box::new(|| -> Result<Environment, Failure> {
        Err(Failure::config(
            "the rehearsal environment is not built yet",
        ))
    });
    Ok((LazyEnvironment::new(starter), TargetGuard::default()))
}
