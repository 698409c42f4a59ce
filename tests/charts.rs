#![allow(dead_code)] // helpers used by some feature files only
//! Helpers for tests that drive the real helm binaries with the real Langfuse chart
//! (`../shared/charts/`): a run against the built-in example config with helm and
//! the chart mirror pointed at, and the values the values builder produces.

use std::path::{Path, PathBuf};

use crate::test::{repo_root, shared_dir, tool, Test};

/// `../shared/charts/langfuse-<version>.tgz` (1.5.41, or 2.0.0-nodeps).
pub fn chart(version: &str) -> PathBuf {
    shared_dir()
        .join("charts")
        .join(format!("langfuse-{version}.tgz"))
}

/// The chart mirror directory (`../shared/charts`).
pub fn mirror() -> PathBuf {
    shared_dir().join("charts")
}

/// `helm3` or `helm4`, fetched by scripts/tools.sh.
pub fn helm(which: &str) -> PathBuf {
    tool(which)
}

/// A run with the example client config, helm `which` and the chart mirror, against
/// `--target azure` (no rehearsal needed for rendering).
pub fn with_helm(which: &str) -> Test {
    with_helm_config(which, |c| c)
}

/// Like [`with_helm`], with the example config edited by `edit` (written as `client.yaml`).
pub fn with_helm_config(which: &str, edit: impl Fn(String) -> String) -> Test {
    let example = std::fs::read_to_string(repo_root().join("examples/client.yaml")).unwrap();
    Test::new().file("client.yaml", &edit(example)).args([
        "--config".to_string(),
        "client.yaml".to_string(),
        "--target".to_string(),
        "azure".to_string(),
        "--set".to_string(),
        format!("tools.helm={}", helm(which).display()),
        "--set".to_string(),
        format!("chart.mirror_dir={}", mirror().display()),
    ])
}

/// Runs `lfrun ARGS` in `dir` with PATH and TMPDIR set; returns (status, stdout, stderr)
/// without judging the exit code.
pub fn run_lfrun(dir: &Path, args: &[String], path: &str) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lfrun"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env_remove("LFRUN_CONFIG")
        .output()
        .expect("running lfrun");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// PATH with helm `which` first (for `lfrun lint`, which takes helm from PATH).
pub fn path_with(which: &str) -> String {
    let helm = helm(which);
    // tools.sh keeps the binary as `helm` in its own directory
    let dir = helm
        .parent()
        .unwrap_or(Path::new("/"))
        .display()
        .to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// What `values::build(#{tag: "abc1234", identity_client_id: IDENTITY})` returns for the
/// example config, as YAML (kept in step with `stdlib/values.rhai` by `builder_output_is_good_values`).
pub const IDENTITY: &str = "5b0e2c1a-0000-4000-8000-00000000beef";

pub fn good_values() -> String {
    format!(
        r#"langfuse:
  serviceAccount:
    create: true
    name: langfuse
    annotations:
      azure.workload.identity/client-id: "{IDENTITY}"
  pod:
    labels:
      azure.workload.identity/use: "true"
  nextauth:
    url: https://langfuse.contoso.example
    secret:
      secretKeyRef: {{name: langfuse-secrets, key: nextauth-secret}}
  salt:
    secretKeyRef: {{name: langfuse-secrets, key: salt}}
  encryptionKey:
    secretKeyRef: {{name: langfuse-secrets, key: encryption-key}}
  web:
    image: {{repository: contosolangfuse.azurecr.io/langfuse-web, tag: abc1234}}
  worker:
    image: {{repository: contosolangfuse.azurecr.io/langfuse-worker, tag: abc1234}}
  additionalEnv:
    - name: AUTH_AZURE_AD_CLIENT_ID
      valueFrom: {{secretKeyRef: {{name: langfuse-sso, key: client-id}}}}
    - name: AUTH_AZURE_AD_CLIENT_SECRET
      valueFrom: {{secretKeyRef: {{name: langfuse-sso, key: client-secret}}}}
    - {{name: AUTH_AZURE_AD_TENANT_ID, value: 72f988bf-0000-4000-8000-00000000c0de}}
    - {{name: AUTH_DISABLE_USERNAME_PASSWORD, value: "true"}}
    - {{name: AUTH_AZURE_AD_ALLOW_ACCOUNT_LINKING, value: "true"}}
    - {{name: LANGFUSE_INIT_ORG_ID, value: lfrun}}
    - {{name: LANGFUSE_INIT_PROJECT_ID, value: lfrun-validate}}
    - name: LANGFUSE_INIT_PROJECT_PUBLIC_KEY
      valueFrom: {{secretKeyRef: {{name: langfuse-init, key: public-key}}}}
    - name: LANGFUSE_INIT_PROJECT_SECRET_KEY
      valueFrom: {{secretKeyRef: {{name: langfuse-init, key: secret-key}}}}
  ingress: {{enabled: false}}
postgresql:
  deploy: true
  auth:
    username: postgres
    database: langfuse
    existingSecret: langfuse-db-passwords
    secretKeys: {{adminPasswordKey: postgres-password, userPasswordKey: postgres-password}}
redis:
  deploy: true
  auth: {{existingSecret: langfuse-db-passwords, existingSecretPasswordKey: redis-password}}
clickhouse:
  deploy: true
  auth: {{existingSecret: langfuse-db-passwords, existingSecretKey: clickhouse-password}}
  replicaCount: 1
  resourcesPreset: large
  persistence: {{size: 50Gi}}
s3:
  deploy: false
  storageProvider: azure
  bucket: langfuse
  endpoint: https://contosolangfusest.blob.core.windows.net
  eventUpload: {{prefix: events/}}
  batchExport: {{enabled: true, prefix: exports/}}
  mediaUpload: {{enabled: true, prefix: media/}}
"#
    )
}

/// The guide's §8 reference values (read from the guide itself), placeholders filled.
pub fn guide_values(filled: bool) -> String {
    let guide = std::fs::read_to_string(shared_dir().join("spec/langfuse-aks-guide.md"))
        .expect("reading the guide");
    let start = guide.find("## 8) Reference").expect("guide §8");
    let block = &guide[start..];
    let yaml_start = block.find("```yaml\n").expect("§8 yaml block") + "```yaml\n".len();
    let yaml_end = yaml_start + block[yaml_start..].find("```").expect("end of block");
    let mut yaml = block[yaml_start..yaml_end].to_string();
    if filled {
        for (placeholder, value) in [
            ("<IDENTITY_CLIENT_ID>", IDENTITY),
            ("<LANGFUSE_PUBLIC_URL>", "langfuse.contoso.example"),
            ("<ACR_NAME>", "contosolangfuse"),
            ("<GIT_SHA>", "abc1234"),
            ("<TENANT_ID>", "72f988bf-0000-4000-8000-00000000c0de"),
            ("<DB_PASSWORD>", "db-password-filled"),
            ("<REDIS_PASSWORD>", "redis-password-filled"),
            ("<CH_PASSWORD>", "ch-password-filled"),
            ("<BLOB_CONTAINER>", "langfuse"),
            ("<STORAGE_ACCOUNT>", "contosolangfusest"),
        ] {
            yaml = yaml.replace(placeholder, value);
        }
    }
    yaml
}

/// Kinds of rendered manifests, counted: `[("ConfigMap", 6), …]` sorted by kind.
pub fn kind_counts(kinds: &[String]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for k in kinds {
        *counts.entry(k.clone()).or_default() += 1;
    }
    counts.into_iter().collect()
}
