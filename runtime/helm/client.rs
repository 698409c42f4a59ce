//! Running helm against the run's environment.
//!
//! [`Helm`] is the detected binary plus the environment (kubeconfig, context,
//! extra tool environment). Every read goes through here: history, status,
//! values, rendering, chart metadata. Changes are in `deploy.rs`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value as Json;

use super::archive::ChartArchive;
use super::args;
use super::binary::HelmBinary;
use super::chart::ChartSource;
use super::output::{self, Revision, Status};
use super::values_file::ValuesFile;
use crate::environment::Environment;
use crate::error::Failure;
use crate::process::Command;
use crate::report::Reporter;

/// How long a read-only helm command may take.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The helm binary and the environment it acts on.
#[derive(Clone)]
pub struct Helm {
    pub binary: HelmBinary,
    pub env: Arc<Environment>,
    pub reporter: Option<Reporter>,
}

/// A helm binary path with the environment it runs with.
type BinaryKey = (PathBuf, BTreeMap<String, String>);

/// Binaries already checked in this process, so `helm version` runs once per run.
fn detected() -> &'static Mutex<HashMap<BinaryKey, HelmBinary>> {
    static DETECTED: OnceLock<Mutex<HashMap<BinaryKey, HelmBinary>>> = OnceLock::new();
    DETECTED.get_or_init(Default::default)
}

impl Helm {
    /// The helm of `env` (`tools.helm`, else `helm` on PATH), detected once per process.
    pub async fn for_environment(
        env: Arc<Environment>,
        reporter: Option<Reporter>,
    ) -> Result<Helm, Failure> {
        let key = (env.tool("helm"), env.tool_env.clone());
        let known = detected()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let binary = match known {
            Some(b) => b,
            None => {
                let b = HelmBinary::detect(key.0.clone(), key.1.clone()).await?;
                detected()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, b.clone());
                b
            }
        };
        Ok(Helm {
            binary,
            env,
            reporter,
        })
    }

    pub fn major(&self) -> u32 {
        self.binary.version.major
    }

    /// A helm command acting on the cluster, in `namespace`.
    pub fn cluster_command(&self, args: Vec<String>, namespace: &str) -> Command {
        self.binary
            .command()
            .args(args)
            .args(args::cluster(&self.env, namespace))
    }

    /// A helm command that does not touch the cluster.
    pub fn local_command(&self, args: Vec<String>) -> Command {
        self.binary.command().args(args)
    }

    pub async fn run(&self, command: Command) -> Result<Captured, Failure> {
        let out = command.output(self.reporter.as_ref()).await?;
        Ok(Captured { command, out })
    }

    /// The release's history, oldest first; `None` when the release does not exist.
    pub async fn history(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<Option<Vec<Revision>>, Failure> {
        let command = self
            .cluster_command(args::history(release), namespace)
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        if captured.out.code != 0 {
            if output::is_release_not_found(&captured.out.stderr) {
                return Ok(None);
            }
            return Err(captured.failure());
        }
        output::history(&captured.out.stdout).map(Some)
    }

    pub async fn status(&self, release: &str, namespace: &str) -> Result<Status, Failure> {
        let command = self
            .cluster_command(args::status(release), namespace)
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        if captured.out.code != 0 {
            if output::is_release_not_found(&captured.out.stderr) {
                return Err(not_found(release, namespace));
            }
            return Err(captured.failure());
        }
        output::status(&captured.out.stdout)
    }

    /// The values the release was given (user-supplied, not the chart's defaults).
    pub async fn get_values(&self, release: &str, namespace: &str) -> Result<Json, Failure> {
        let command = self
            .cluster_command(args::get_values(release), namespace)
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        if captured.out.code != 0 {
            if output::is_release_not_found(&captured.out.stderr) {
                return Err(not_found(release, namespace));
            }
            return Err(captured.failure());
        }
        output::values(&captured.out.stdout)
    }

    /// Renders the chart with `values` (secrets exposed: the file is helm's only).
    pub async fn template(
        &self,
        release: &str,
        namespace: &str,
        chart: &ChartSource,
        values: &Json,
    ) -> Result<Vec<Json>, Failure> {
        let file = ValuesFile::write(values)?;
        let command = self
            .local_command(args::template(
                release,
                namespace,
                &chart.args(),
                file.path(),
            ))
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        drop(file);
        if captured.out.code != 0 {
            return Err(captured.failure().with_hint(
                "the chart refused these values: the message is helm's own, quoting the chart template that failed",
            ));
        }
        output::manifests(&captured.out.stdout)
    }

    /// `helm show values|chart CHART` as text.
    pub async fn show(&self, what: &str, chart: &ChartSource) -> Result<String, Failure> {
        let command = self
            .local_command(args::show(what, &chart.args()))
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        if captured.out.code != 0 {
            return Err(captured.failure());
        }
        Ok(captured.out.stdout)
    }

    /// The chart's archive (pulled into a temporary directory when it is remote), read.
    pub async fn read_archive(&self, chart: &ChartSource) -> Result<ChartArchive, Failure> {
        let dir = tempfile::tempdir()
            .map_err(|e| Failure::config(format!("cannot create a temporary directory: {e}")))?;
        let path = self.archive(chart, dir.path()).await?;
        ChartArchive::read(&path)
    }

    /// A local archive of `chart`: the path itself, or `helm pull` into `dir`.
    pub async fn archive(
        &self,
        chart: &ChartSource,
        dir: &std::path::Path,
    ) -> Result<PathBuf, Failure> {
        if let ChartSource::Local(path) = chart {
            return Ok(path.clone());
        }
        let command = self
            .local_command(args::pull(&chart.args(), dir))
            .timeout(READ_TIMEOUT);
        let captured = self.run(command).await?;
        if captured.out.code != 0 {
            return Err(captured.failure());
        }
        let pulled = std::fs::read_dir(dir)
            .ok()
            .and_then(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|e| e == "tgz"))
            })
            .ok_or_else(|| {
                Failure::not_found(format!(
                    "helm pull left no archive for {}",
                    chart.describe()
                ))
            })?;
        Ok(pulled)
    }
}

/// A finished helm command with what it printed.
pub struct Captured {
    pub command: Command,
    pub out: crate::process::Output,
}

impl Captured {
    /// `tool_failed` with helm's stderr tail.
    pub fn failure(&self) -> Failure {
        self.command.failure(&self.out)
    }
}

/// The failure for a release that does not exist.
pub fn not_found(release: &str, namespace: &str) -> Failure {
    Failure::not_found(format!(
        "helm release {release} does not exist in namespace {namespace}"
    ))
    .with_hint("install it first (the install playbook), or check langfuse.release and langfuse.namespace in the config")
}
