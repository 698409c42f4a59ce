//! The install playbook end to end on the rehearsal environment: a fresh install,
//! idempotency, plan mode, interruption, and a customised copy from `lfrun init`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::test::{playbook, Test};

fn encryption_key(out: &crate::test::Output) -> String {
    let secret = out
        .sim_object("v1/Secret", "langfuse/langfuse-secrets")
        .expect("langfuse-secrets exists");
    secret["data"]["encryption-key"]
        .as_str()
        .expect("encryption-key")
        .to_string()
}

#[test]
fn fresh_install_then_second_run_changes_nothing_and_keeps_the_key() {
    let first = Test::new()
        .arg(playbook("install"))
        .stdout_has("[1] §0 Prerequisites")
        .stdout_has("PASS helm ≥ 3.14")
        .stdout_has("~ changed create namespace langfuse")
        .stdout_has("~ changed create secret langfuse/langfuse-secrets")
        .stdout_has("~ changed docker push contosolangfuse.azurecr.io/langfuse-web:rehearsal")
        .stdout_has("~ changed helm install langfuse (chart 1.5.41)")
        .stdout_has("PASS rollout Deployment langfuse-web")
        .stdout_has("PASS trace lands under events/ in Blob")
        .stdout_has("PASS presigned media upload and download")
        .stdout_lacks("FAIL")
        .run();
    let key = encryption_key(&first);
    let second = Test::in_dir(first.dir)
        .arg(playbook("install"))
        .stdout_has("Summary: nothing changed")
        .stdout_has("= kept secret langfuse/langfuse-secrets")
        .stdout_has("= kept helm release langfuse")
        .stdout_lacks("~ changed")
        .run();
    assert_eq!(
        encryption_key(&second),
        key,
        "the encryption key must never be regenerated"
    );
}

#[test]
fn dry_run_on_a_fresh_cluster_plans_and_writes_nothing() {
    let out = Test::new()
        .args([playbook("install").as_str(), "--dry-run"])
        .stdout_has("Plan (nothing was changed):")
        .stdout_has("create namespace langfuse")
        .stdout_has("helm install langfuse")
        .run();
    let writes: Vec<_> = out
        .sim_requests()
        .into_iter()
        .filter(|r| r["verb"] == "write")
        .collect();
    assert!(
        writes.is_empty(),
        "a dry run wrote to the cluster: {writes:?}"
    );
    assert!(out.sim_object("v1/Namespace", "langfuse").is_none());
}

/// Starts an install and kills it (with `signal`) once its stdout shows `marker`.
fn interrupted_install(marker: &str, signal: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lfrun"))
        .arg(playbook("install"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains(marker) {
            Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the install should have been interrupted"
    );
    dir
}

#[test]
fn install_killed_during_secrets_finishes_when_run_again() {
    let dir = interrupted_install("[5] §5", "-KILL");
    Test::in_dir(dir)
        .args([playbook("install").as_str(), "--yes"])
        .stdout_has("PASS pods running and ready")
        .stdout_lacks("FAIL")
        .run();
}

#[test]
fn install_interrupted_during_helm_finishes_when_run_again() {
    let dir = interrupted_install("[7] §7", "-INT");
    Test::in_dir(dir)
        .args([playbook("install").as_str(), "--yes"])
        .stdout_has("PASS presigned media upload and download")
        .stdout_lacks("FAIL")
        .run();
}

#[test]
fn customised_copy_from_init_runs_without_recompiling() {
    let init = Test::new().args(["init", "mine"]).run();
    let install = init.path("mine/playbooks/install.rhai");
    let text = std::fs::read_to_string(&install).unwrap();
    let edited = text.replace(
        "// §0 — tools and access before anything is touched.",
        "step(\"Change window\", || info(\"    change window CHG-1234 confirmed\"));\n\n// §0 — tools and access before anything is touched.",
    );
    assert_ne!(text, edited, "the marker comment is in the playbook");
    std::fs::write(&install, edited).unwrap();
    // the client's stdlib copy overrides the built-in one too
    let naming = init.path("mine/stdlib/naming.rhai");
    let naming_text = std::fs::read_to_string(&naming).unwrap();
    std::fs::write(
        &naming,
        naming_text.replace(
            "fn sso_secret() {\n    \"langfuse-sso\"",
            "fn sso_secret() {\n    \"contoso-sso\"",
        ),
    )
    .unwrap();
    Test::in_dir(init.dir)
        .args([
            "mine/playbooks/install.rhai",
            "--config",
            "mine/client.yaml",
        ])
        .stdout_has("[1] Change window")
        .stdout_has("change window CHG-1234 confirmed")
        .stdout_has("create secret langfuse/contoso-sso")
        .run();
}

#[test]
fn missing_role_stops_install_at_section_2_unless_creation_is_asked_for() {
    let refused = Test::new()
        .args([
            playbook("install").as_str(),
            "--scenario",
            "missing-delegator-role",
        ])
        .status(1)
        .stdout_has("FAIL role Storage Blob Delegator")
        .stderr_has("error[forbidden]")
        .stderr_has("--create-missing")
        .stdout_lacks("[5] §5")
        .run();
    Test::in_dir(refused.dir)
        .args([playbook("install").as_str(), "--create-missing"])
        .stdout_has("~ changed")
        .stdout_has("PASS role Storage Blob Delegator")
        .stdout_has("PASS presigned media upload and download")
        .stdout_lacks("FAIL")
        .run();
}
