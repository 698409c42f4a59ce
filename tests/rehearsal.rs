#![allow(dead_code)] // helpers used by some feature files only
//! The rehearsal cluster for tests of the `kube::` primitives.
//!
//! The test process starts the rehearsal API server in-process (`lfrun_sim::Sim`)
//! on its own state dir, then runs the real `lfrun` binary against it over HTTP,
//! with a client config whose `kube.kubeconfig` is the rehearsal's kubeconfig —
//! exactly how lfrun meets a real cluster. The server's request log lets a test
//! count what lfrun sent (e.g. no writes in a dry run).

use std::path::PathBuf;
use std::time::Duration;

use lfrun_sim::{RequestRecord, Sim, SimOptions, Verb};

use crate::test::Test;

pub struct Rehearsal {
    sim: Option<Sim>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Rehearsal {
    /// Starts a fresh rehearsal cluster from `scenario` (e.g. `empty`).
    pub fn start(scenario: &str) -> Rehearsal {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = SimOptions::new(dir.path().join("sim"));
        options.scenario = Some(scenario.to_string());
        options.attach = false;
        let sim = runtime
            .block_on(Sim::start(options))
            .unwrap_or_else(|e| panic!("starting the rehearsal cluster ({scenario}): {e}"));
        Rehearsal {
            sim: Some(sim),
            runtime,
            dir,
        }
    }

    pub fn sim(&self) -> &Sim {
        self.sim.as_ref().expect("running")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.sim().kubeconfig_path().to_path_buf()
    }

    pub fn kube_url(&self) -> String {
        self.sim().kube_url().to_string()
    }

    /// A client config pointing lfrun at this cluster.
    pub fn config(&self) -> String {
        format!(
            "target: azure\nkube:\n  kubeconfig: {}\n",
            self.kubeconfig().display()
        )
    }

    /// A `Test` of `script` against this cluster (`--yes`: destructive steps allowed).
    pub fn test(&self, script: &str) -> Test {
        Test::new()
            .file("cluster.yaml", &self.config())
            .script(script)
            .args(["--config", "cluster.yaml", "--target", "azure"])
    }

    /// Runs `script` and expects success; returns stdout.
    pub fn run(&self, script: &str) -> String {
        self.test(script).arg("--yes").run().stdout
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.runtime
            .block_on(self.sim().requests())
            .expect("request log")
    }

    /// Write requests (anything but GET/HEAD) since the last clear, as `METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.verb == Verb::Write)
            .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
            .collect()
    }

    pub fn clear_requests(&self) {
        if let Some(log) = self.sim().request_log() {
            log.clear();
        }
    }

    /// Moves the virtual clock forward.
    pub fn advance(&self, by: Duration) {
        self.runtime
            .block_on(self.sim().advance_clock(by))
            .expect("advancing the clock");
    }

    /// Adds an image to the rehearsal registry.
    pub fn push_image(&self, image: &str) {
        self.runtime
            .block_on(self.sim().push_image(image))
            .expect("pushing an image");
    }

    /// Applies the scenario's post-deploy faults (after the test deployed what they act on).
    pub fn apply_faults(&self) -> Vec<String> {
        self.runtime
            .block_on(self.sim().apply_faults())
            .expect("applying the scenario's faults")
    }

    /// Runs `kubectl` (or helm) with this cluster's kubeconfig; returns (status, stdout, stderr).
    pub fn tool(&self, binary: &std::path::Path, args: &[&str]) -> (i32, String, String) {
        let out = std::process::Command::new(binary)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.path())
            .env("HELM_CACHE_HOME", self.dir.path().join("helm-cache"))
            .env("HELM_CONFIG_HOME", self.dir.path().join("helm-config"))
            .env("HELM_DATA_HOME", self.dir.path().join("helm-data"))
            .output()
            .expect("running a tool");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            let _ = self.runtime.block_on(sim.shutdown());
        }
    }
}
