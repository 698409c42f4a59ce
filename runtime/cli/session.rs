//! Setting up everything a script evaluates in: config, target, journal, async
//! runtime, run context and engine. Shared by runs and the REPL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{Engine, Scope};

use super::target::{self, TargetGuard};
use super::CommonArgs;
use crate::config::Config;
use crate::context::{RunContext, Settings};
use crate::embedded;
use crate::error::Failure;
use crate::journal::Journal;
use crate::report::Reporter;
use crate::resolver::ModuleFinder;

/// Keys that are valid at the top of a config even when the example does not show them.
const EXTRA_KNOWN_KEYS: [&str; 4] = ["engine", "kube", "network", "tools"];

pub struct Session {
    pub run: Arc<RunContext>,
    pub engine: Engine,
    pub target: TargetGuard,
    // dropped last: everything above may still hold handles into it
    pub runtime: tokio::runtime::Runtime,
}

pub struct SessionOptions<'a> {
    pub common: &'a CommonArgs,
    pub dry_run: bool,
    pub yes: bool,
    pub create_missing: bool,
    pub journal: Option<&'a Path>,
    pub script_path: Option<&'a Path>,
}

impl Session {
    pub fn open(opts: SessionOptions) -> Result<Session, Failure> {
        let reporter = Reporter::new(opts.common.output, opts.common.verbose);
        let config = load_config(opts.common)?;
        for warning in config.unknown_keys(&known_keys()) {
            reporter.warn(warning);
        }
        let target = opts
            .common
            .target
            .clone()
            .or_else(|| config.get_str("target"))
            .unwrap_or_else(|| "sim".into());
        if target != "sim" && target != "azure" {
            return Err(Failure::config(format!(
                "target in {}: `{target}` is not sim or azure",
                config.source
            )));
        }
        if opts.common.scenario.is_some() && target != "sim" {
            return Err(Failure::config(
                "--scenario applies to the rehearsal target only (--target sim)",
            ));
        }
        let settings = Settings {
            dry_run: opts.dry_run,
            yes: opts.yes,
            target: target.clone(),
            create_missing: opts.create_missing,
            verbosity: opts.common.verbose,
            ..Settings::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("lfrun-io")
            .build()
            .map_err(|e| Failure::config(format!("cannot start the async runtime: {e}")))?;
        let run_id = crate::context::new_run_id();
        let journal_place = opts
            .journal
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".lfrun/journal"));
        let journal = Journal::open(&journal_place, &run_id)?;
        let (environment, guard) = target::prepare(
            &target,
            &config,
            opts.common.scenario.clone(),
            runtime.handle().clone(),
            reporter.clone(),
        )?;
        let run = RunContext::new(
            settings,
            config,
            reporter,
            Some(journal),
            runtime.handle().clone(),
            environment,
            run_id,
        );
        let finder = ModuleFinder::new(opts.script_path, &opts.common.stdlib);
        let engine = crate::engine::build(&run, finder);
        Ok(Session {
            run,
            engine,
            target: guard,
            runtime,
        })
    }

    /// The scope a script starts with: the config as `config`.
    pub fn scope(&self) -> Scope<'static> {
        self.run.config.script_scope()
    }

    /// Stops the target (flushing rehearsal state).
    pub fn finish(self) {
        let Session {
            target, runtime, ..
        } = self;
        target.shutdown(runtime.handle());
        runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    }
}

pub fn load_config(common: &CommonArgs) -> Result<Config, Failure> {
    let mut config = match &common.config {
        Some(path) => Config::from_file(path)?,
        None => Config::from_yaml(
            embedded::example_config(),
            "examples/client.yaml (built in)",
            None,
        )?,
    };
    for assignment in &common.set {
        config.apply_set(assignment)?;
    }
    Ok(config)
}

/// Top-level keys of the documented example config, plus the advanced ones.
pub fn known_keys() -> Vec<String> {
    let example =
        Config::from_yaml(embedded::example_config(), "example", None).unwrap_or_default();
    let mut keys = example.top_level_keys();
    keys.extend(EXTRA_KNOWN_KEYS.iter().map(|s| s.to_string()));
    keys
}
