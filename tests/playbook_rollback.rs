//! The rollback playbook (guide §12).

use crate::test::{playbook, Test};

#[test]
fn a_release_stuck_pending_is_rolled_back_to_the_last_deployed_revision() {
    let out = Test::new()
        .args([
            playbook("rollback").as_str(),
            "--scenario",
            "helm-pending-upgrade",
            "--yes",
        ])
        .stdout_has("revision 2: pending-upgrade")
        .stdout_has("helm rollback langfuse to revision 1")
        .stdout_has("PASS pods running and ready")
        .stdout_has("emergency fallback")
        .run();
    let rev3 = out
        .sim_object("v1/Secret", "langfuse/sh.helm.release.v1.langfuse.v3")
        .expect("revision 3");
    assert_eq!(rev3["metadata"]["labels"]["status"], "deployed");
}

#[test]
fn a_named_revision_that_does_not_exist_is_a_clear_error() {
    Test::new()
        .args([
            playbook("rollback").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "rollback.revision=9",
            "--yes",
        ])
        .status(1)
        .stderr_has("no revision 9")
        .run();
}

#[test]
fn the_storage_key_fallback_is_never_automated() {
    let text = std::fs::read_to_string(playbook("rollback")).unwrap();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !code.contains("accessKeyId")
            && !code.contains("secretAccessKey")
            && !code.contains("listKeys")
    );
}
