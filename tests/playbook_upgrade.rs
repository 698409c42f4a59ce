//! The upgrade playbook (guide §11): new images tagged with the git SHA, helm upgrade
//! in values-file and reuse-values mode, rollouts awaited, automatic rollback.

use std::path::Path;
use std::process::Command;

use crate::test::{playbook, repo_root, Output, Test};

/// A one-commit git repository standing in for the client's Langfuse fork; returns its short SHA.
fn fork(dir: &Path) -> String {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    std::fs::create_dir_all(dir.join("web")).unwrap();
    std::fs::create_dir_all(dir.join("worker")).unwrap();
    std::fs::write(dir.join("web/Dockerfile"), "FROM node:20\n").unwrap();
    std::fs::write(dir.join("worker/Dockerfile"), "FROM node:20\n").unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "fork"]);
    git(&["rev-parse", "--short", "HEAD"])
}

fn web_image(out: &Output) -> String {
    let d = out
        .sim_object("apps/v1/Deployment", "langfuse/langfuse-web")
        .expect("langfuse-web");
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn upgrade_builds_the_fork_at_its_sha_and_rolls_out() {
    let test = Test::new();
    let sha = fork(&test.dir().join("fork"));
    let out = test
        .args([
            playbook("upgrade").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "images.source_dir=fork",
        ])
        .stdout_has(&format!(
            "docker push contosolangfuse.azurecr.io/langfuse-web:{sha}"
        ))
        .stdout_has("helm upgrade langfuse")
        .stdout_has("PASS rollout langfuse-web")
        .stdout_has("PASS rollout langfuse-worker")
        .stdout_has("PASS presigned media upload and download")
        .run();
    assert_eq!(
        web_image(&out),
        format!("contosolangfuse.azurecr.io/langfuse-web:{sha}")
    );
}

#[test]
fn reuse_values_mode_changes_only_the_image_tags() {
    let test = Test::new();
    let sha = fork(&test.dir().join("fork"));
    let out = test
        .args([
            playbook("upgrade").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "images.source_dir=fork",
            "--set",
            "upgrade.mode=reuse",
        ])
        .stdout_has("PASS rollout langfuse-web")
        .run();
    assert!(web_image(&out).ends_with(&format!(":{sha}")));
    let web = out
        .sim_object("apps/v1/Deployment", "langfuse/langfuse-web")
        .unwrap();
    let env = web["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
    assert!(
        env.contains("NEXTAUTH_URL"),
        "the deployed values were kept: {env}"
    );
}

#[test]
fn failed_rollout_is_rolled_back_to_the_previous_revision() {
    let test = Test::new();
    fork(&test.dir().join("fork"));
    let scenario = repo_root().join("tests/fixtures/scenarios/web-never-ready.yaml");
    let out = test
        .args([
            playbook("upgrade").as_str(),
            "--scenario",
            scenario.to_str().unwrap(),
            "--set",
            "images.source_dir=fork",
            "--set",
            "upgrade.rollout_timeout=60",
            "--yes",
        ])
        .status(1)
        .stderr_has("rolling back to revision 1")
        .stdout_has("helm rollback langfuse to revision 1")
        .run();
    let history = out.sim_object("v1/Secret", "langfuse/sh.helm.release.v1.langfuse.v3");
    assert!(
        history.is_some(),
        "the rollback is revision 3 of the release"
    );
}
