//! Benchmark (prints figures, asserts nothing):
//!
//! 1. GET round trip against the rehearsal API server with a raw HTTP client, versus
//!    `kubectl get -o json` as a process against the same server;
//! 2. latency from a simulated pod turning Ready to a watch observing the Deployment's
//!    rollout complete.
//!
//! ```text
//! cargo run --release -p lfrun-sim --example bench
//! ```

use futures_util::StreamExt;
use lfrun_sim::{Sim, SimOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let n = samples.len();
    let mean = samples.iter().sum::<Duration>() / n as u32;
    format!(
        "n={n} mean={:.3}ms p50={:.3}ms p99={:.3}ms",
        mean.as_secs_f64() * 1e3,
        samples[n / 2].as_secs_f64() * 1e3,
        samples[(n * 99 / 100).min(n - 1)].as_secs_f64() * 1e3
    )
}

fn kubectl() -> std::path::PathBuf {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tools.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .args(["path", "kubectl"])
        .output()
        .expect("scripts/tools.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().into()
}

/// Streams watch events of `path` into `tx` with their arrival time.
fn watch(http: reqwest::Client, url: String, tx: mpsc::UnboundedSender<(Instant, Value)>) {
    tokio::spawn(async move {
        let resp = http.get(url).send().await.unwrap();
        let mut body = resp.bytes_stream();
        let mut buf = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            let now = Instant::now();
            buf.extend_from_slice(&chunk);
            while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                if let Ok(v) = serde_json::from_slice(&line) {
                    if tx.send((now, v)).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

fn pod_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut opts = SimOptions::new(dir.path());
    opts.scenario = Some("empty".into());
    let sim = Sim::start(opts).await?;
    let base = sim.kube_url().to_string();
    let http = reqwest::Client::new();
    http.post(format!("{base}/api/v1/namespaces"))
        .json(&json!({"metadata": {"name": "bench"}}))
        .send()
        .await?;
    http.post(format!("{base}/api/v1/namespaces/bench/configmaps"))
        .json(&json!({"metadata": {"name": "settings"}, "data": {"a": "1"}}))
        .send()
        .await?;

    // 1. GET round trips
    let url = format!("{base}/api/v1/namespaces/bench/configmaps/settings");
    for _ in 0..200 {
        http.get(&url).send().await?.bytes().await?;
    }
    let mut raw = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        let body = http.get(&url).send().await?.bytes().await?;
        raw.push(t.elapsed());
        assert!(!body.is_empty());
    }
    let kubectl = kubectl();
    let kube_cache = dir.path().join("kube-cache");
    let mut process = Vec::new();
    for i in 0..21 {
        let t = Instant::now();
        let out = tokio::process::Command::new(&kubectl)
            .args(["get", "configmap", "settings", "-n", "bench", "-o", "json"])
            .env("KUBECONFIG", sim.kubeconfig_path())
            .env("KUBECACHEDIR", &kube_cache)
            .output()
            .await?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i > 0 {
            process.push(t.elapsed()); // the first run fills kubectl's discovery cache
        }
    }
    let raw_mean = raw.iter().sum::<Duration>() / raw.len() as u32;
    let process_mean = process.iter().sum::<Duration>() / process.len() as u32;
    println!(
        "GET round trip, raw HTTP client (keep-alive): {}",
        stats(raw)
    );
    println!(
        "GET, `kubectl get -o json` process:            {}",
        stats(process)
    );
    println!(
        "ratio (kubectl process / raw client):          {:.0}x",
        process_mean.as_secs_f64() / raw_mean.as_secs_f64()
    );

    // 2. pod Ready -> rollout complete seen by a watch
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.0"}]}}}
    });
    http.post(format!("{base}/apis/apps/v1/namespaces/bench/deployments"))
        .json(&deployment)
        .send()
        .await?;
    let mut deltas = Vec::new();
    let mut rollouts = Vec::new();
    for i in 1..=30 {
        let (pod_tx, mut pod_rx) = mpsc::unbounded_channel();
        let (dep_tx, mut dep_rx) = mpsc::unbounded_channel();
        let rv: Value = http
            .get(format!("{base}/api/v1/namespaces/bench/pods"))
            .send()
            .await?
            .json()
            .await?;
        let rv = rv["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_string();
        watch(
            http.clone(),
            format!("{base}/api/v1/namespaces/bench/pods?watch=1&resourceVersion={rv}"),
            pod_tx,
        );
        watch(http.clone(), format!("{base}/apis/apps/v1/namespaces/bench/deployments?watch=1&fieldSelector=metadata.name%3Dweb&resourceVersion={rv}"), dep_tx);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let start = Instant::now();
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": format!("nginx:1.{i}")}]}}}});
        let r: Value = http
            .patch(format!(
                "{base}/apis/apps/v1/namespaces/bench/deployments/web"
            ))
            .header("content-type", "application/strategic-merge-patch+json")
            .body(patch.to_string())
            .send()
            .await?
            .json()
            .await?;
        let generation = r["metadata"]["generation"].as_i64().unwrap_or(0);
        let complete = loop {
            let (at, ev) = tokio::time::timeout(Duration::from_secs(30), dep_rx.recv())
                .await?
                .ok_or("watch ended")?;
            let s = &ev["object"]["status"];
            if s["observedGeneration"].as_i64() == Some(generation)
                && s["updatedReplicas"] == 1
                && s["availableReplicas"] == 1
                && s["replicas"] == 1
            {
                break at;
            }
        };
        let mut ready_at = None;
        while let Ok(Some((at, ev))) =
            tokio::time::timeout(Duration::from_millis(50), pod_rx.recv()).await
        {
            let image = ev["object"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or("");
            if image == format!("nginx:1.{i}") && pod_ready(&ev["object"]) {
                ready_at = Some(at);
                break;
            }
        }
        if let Some(ready) = ready_at {
            deltas.push(complete.saturating_duration_since(ready));
        }
        rollouts.push(complete - start);
    }
    println!(
        "pod Ready event -> Deployment rollout complete event (client watches): {}",
        stats(deltas)
    );
    println!(
        "whole rollout (patch -> complete, virtual time at {}x): {}",
        lfrun_sim::clock::DEFAULT_TIME_SCALE,
        stats(rollouts)
    );
    sim.shutdown().await?;
    Ok(())
}
