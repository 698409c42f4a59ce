//! Shared test helpers: a rehearsal environment in a temporary dir, a small JSON client,
//! waiting on conditions, and the real kubectl/helm binaries.
#![allow(dead_code)]

use lfrun_sim::{Sim, SimOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

pub struct TestSim {
    pub sim: Sim,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// Starts a fresh rehearsal environment from `scenario` in a temporary dir.
pub async fn start(scenario: &str) -> TestSim {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_in(dir.path(), Some(scenario)).await;
    TestSim {
        sim,
        dir,
        http: reqwest::Client::new(),
    }
}

pub async fn start_in(path: &Path, scenario: Option<&str>) -> Sim {
    let mut opts = SimOptions::new(path);
    opts.scenario = scenario.map(String::from);
    opts.time_scale = 500.0;
    Sim::start(opts)
        .await
        .expect("rehearsal environment starts")
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.kube_url())
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<String>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.header("content-type", content_type).body(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, "", None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, "application/json", Some(body.to_string()))
            .await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, "application/json", Some(body.to_string()))
            .await
    }
    pub async fn patch(&self, path: &str, content_type: &str, body: &str) -> Reply {
        self.send("PATCH", path, content_type, Some(body.to_string()))
            .await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, "", None).await
    }

    /// Polls `path` until `ok(body)` holds (60 s of real time at most).
    pub async fn wait_for(&self, path: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.get(path).await;
            if r.status == 200 && ok(&r.body) {
                return r.body;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; last response {}: {}",
                    r.status, r.body
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.sim.kubeconfig_path().to_path_buf()
    }
}

/// A namespace manifest.
pub fn namespace(name: &str) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A small Deployment.
pub fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}]}
            }
        }
    })
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The Langfuse chart the tests install (`../shared/charts/` beside the clone).
pub fn langfuse_chart() -> PathBuf {
    let p = repo_root().join("../shared/charts/langfuse-1.5.41.tgz");
    assert!(p.exists(), "the Langfuse chart is missing at {}: the tests need ../shared/charts beside the repository", p.display());
    p
}

/// Path of helm3, helm4 or kubectl via scripts/tools.sh; fails the test with the
/// script's message when the binary cannot be found or fetched.
pub fn tool(name: &str) -> PathBuf {
    let script = repo_root().join("scripts/tools.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("path")
        .arg(name)
        .output()
        .expect("run scripts/tools.sh");
    if !out.status.success() {
        panic!(
            "cannot get {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs a tool against the rehearsal cluster (KUBECONFIG set, HOME-independent caches).
pub async fn run(tool_path: &Path, kubeconfig: &Path, args: &[&str], scratch: &Path) -> Output {
    tokio::process::Command::new(tool_path)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HELM_CACHE_HOME", scratch.join("helm-cache"))
        .env("HELM_CONFIG_HOME", scratch.join("helm-config"))
        .env("HELM_DATA_HOME", scratch.join("helm-data"))
        .env("KUBECACHEDIR", scratch.join("kube-cache"))
        .output()
        .await
        .expect("run tool")
}

/// Like `run`, failing the test (with both outputs) when the command fails.
pub async fn run_ok(tool_path: &Path, kubeconfig: &Path, args: &[&str], scratch: &Path) -> String {
    let out = run(tool_path, kubeconfig, args, scratch).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        panic!(
            "{} {} failed:\n{stdout}\n{}",
            tool_path.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
}

/// Minimal values that let the Langfuse chart install (from ../shared/charts/README.md).
pub const LANGFUSE_VALUES: &str = r#"
langfuse:
  salt:
    value: "rehearsal-salt"
  nextauth:
    url: "https://langfuse.example.com"
    secret:
      value: "rehearsal-nextauth-secret"
  encryptionKey:
    value: "0000000000000000000000000000000000000000000000000000000000000000"
  web:
    image:
      repository: lfrunacr.azurecr.io/langfuse-web
      tag: "3.224.1"
  worker:
    image:
      repository: lfrunacr.azurecr.io/langfuse-worker
      tag: "3.224.1"
postgresql:
  auth:
    password: "pg-password"
redis:
  auth:
    password: "redis-password"
clickhouse:
  replicaCount: 1
  auth:
    password: "ch-password"
s3:
  deploy: false
  bucket: langfuse
  endpoint: https://lfrunstorage.blob.core.windows.net
"#;

/// Installs Langfuse with helm 3 into `namespace` and waits for web and worker.
pub async fn install_langfuse(t: &TestSim, helm: &Path, namespace: &str) {
    let values = t.dir.path().join("values.yaml");
    std::fs::write(&values, LANGFUSE_VALUES).unwrap();
    let chart = langfuse_chart();
    run_ok(
        helm,
        &t.kubeconfig(),
        &[
            "install",
            "langfuse",
            chart.to_str().unwrap(),
            "-n",
            namespace,
            "--create-namespace",
            "-f",
            values.to_str().unwrap(),
        ],
        t.dir.path(),
    )
    .await;
    for d in ["langfuse-web", "langfuse-worker"] {
        t.wait_for(
            &format!("/apis/apps/v1/namespaces/{namespace}/deployments/{d}"),
            &format!("{d} available"),
            |d| d["status"]["availableReplicas"].as_i64() == Some(1),
        )
        .await;
    }
}
